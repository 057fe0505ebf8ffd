/**
 * "Lock endpoint": the first step after "Resolve rollout" (which is read-only) and before anything changes. It
 * takes the endpoint's lock (the endpoint's record in the active-rollouts table, lambdas/shared/rollout-record.ts)
 * so that one rollout at a time runs on an endpoint: EventBridge delivers an approval event at least once,
 * SageMaker may send several events for one approval, and two versions may be approved minutes apart.
 *
 * The queue, as the state machine runs it (every answer is one `decision`):
 * - The lock is free, expired (`expiresAt` passed: the holder's execution cannot still be running) or already
 *   this rollout's. Before keeping it, the plan is checked against what the endpoint serves:
 *   - ALREADY_LIVE: blue is this very model package version (a duplicate event delivered after the first
 *     rollout finished): the lock is released and the execution ends, changing nothing.
 *   - SUPERSEDED: blue is a higher version of the same group (an approval that waited in the queue while a newer
 *     one rolled out): the lock is released and the execution ends; an endpoint is never rolled back to an older
 *     version because its approval was queued.
 *   - REPLAN: this execution waited in the queue (`previous.decision` is WAIT), so the plan's blue is what the
 *     endpoint served before the other rollout: the lock is kept, and the state machine runs "Resolve rollout"
 *     again, then this step (which finds the lock its own: ACQUIRED, or ALREADY_LIVE/SUPERSEDED on the new plan).
 *     The state machine must then pass a `previous` whose decision is not WAIT (e.g. this REPLAN answer).
 *   - ACQUIRED: the rollout goes on, holding the lock until "Release rollout" deletes it.
 * - Another rollout holds the lock and it has not expired:
 *   - DUPLICATE: it rolls out the same model package (a duplicate event while the first rollout runs): this
 *     execution ends, changing nothing.
 *   - WAIT: another package: the state machine waits `waitSeconds` (policy.queue.pollSeconds) and calls this
 *     step again with this answer as `previous`; the wait counts from the execution's start (`waitingSince`). Once it has
 *     waited policy.queue.maxWaitSeconds, the step throws EndpointLocked naming the holder (0 s: it never waits).
 *
 * - The plan says the endpoint is busy (`plan.endpointBusy`: Updating, Creating, RollingBack, or more than one
 *   variant) although nobody holds the lock: the lock is given back and the answer is WAIT as above (a second
 *   approval that arrives while another rollout changes the endpoint is planned from a busy endpoint, and waits).
 *
 * The lock expires an hour after the execution's own timeout (execution start + executionTimeoutSeconds of the
 * target's policy, which counts the queue's wait), so a lock whose execution was stopped without releasing it
 * frees the endpoint by itself at the latest then; DynamoDB's TTL deletes the item later still.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { hashConfig, putRolloutHeader, type RolloutHeader } from '../shared/audit-trail';
import { findTarget, type DeploymentTarget, type RolloutConfig } from '../shared/config';
import { EndpointLocked, TargetNotConfigured } from '../shared/errors';
import { executionTimeoutSeconds } from '../shared/execution-time';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink, type RolloutTrigger } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from '../shared/metrics';
import { packageVersionOfVariant } from '../shared/names';
import { RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import { acquireEndpointLock, deleteActiveRollout, type EndpointLock } from '../shared/rollout-record';
import { trafficStepPercents } from '../shared/traffic';

export const STEP = 'lock-endpoint';

/** What "Lock endpoint" answers; see the file header for the queue each one drives. */
export const LOCK_DECISIONS = ['ACQUIRED', 'REPLAN', 'WAIT', 'DUPLICATE', 'ALREADY_LIVE', 'SUPERSEDED'] as const;
export type LockDecision = (typeof LOCK_DECISIONS)[number];

/** How long a lock outlives its execution's timeout: room for the last release and for clock skew. */
export const LOCK_EXPIRY_MARGIN_SECONDS = 3600;

const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

export const LockEndpointInputSchema = z.object({
  plan: RolloutPlanSchema,
  /** The previous answer of this step (`{}` before the first): a WAIT carries when the wait began. */
  previous: z
    .object({
      decision: z.enum(LOCK_DECISIONS, { error: `must be one of ${LOCK_DECISIONS.join(', ')}` }).optional(),
      waitingSince: isoDateTime.nullable().optional(),
    })
    .default({}),
  /** `$$.Execution.StartTime`: the lock's expiry counts from it. */
  executionStartTime: isoDateTime,
});
export type LockEndpointInput = z.input<typeof LockEndpointInputSchema>;
export type ParsedLockEndpointInput = z.infer<typeof LockEndpointInputSchema>;

/** The rollout that holds the endpoint (DUPLICATE, WAIT). */
export interface LockHolder {
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly modelPackageArn: string;
}

export interface LockEndpointResult {
  readonly decision: LockDecision;
  /** WAIT: seconds until the next attempt; 0 otherwise. */
  readonly waitSeconds: number;
  /** WAIT: when this rollout began waiting (the first refusal); null otherwise (the state machine selects it always). */
  readonly waitingSince: string | null;
  readonly message: string;
  readonly holder?: LockHolder;
}

export interface LockEndpointDependencies {
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  /** The deployment targets (from the function's environment): the target's policy bounds the lock's life. */
  readonly config: RolloutConfig;
  readonly logger: StepLogger;
  /** Where the rollout's start is recorded (audit header, Rollout Started, RolloutsStarted metric); absent: not recorded. */
  readonly lifecycle?: LifecycleSink;
}

export async function lockEndpoint(input: ParsedLockEndpointInput, deps: LockEndpointDependencies): Promise<LockEndpointResult> {
  const { plan, previous } = input;
  const target = findTarget(deps.config, plan.modelPackage.groupName);
  if (!target) {
    throw new TargetNotConfigured(
      `No deployment target is configured for model package group "${plan.modelPackage.groupName}": the lock's lifetime of endpoint ` +
        `${plan.endpointName} cannot be computed.`,
    );
  }
  const nowMs = Date.now();
  const expiresAt = lockExpiresAt(input.executionStartTime, executionTimeoutSeconds(target.policy, trafficStepPercents(target.policy.traffic)));
  const attempt = await acquireEndpointLock(
    deps.dynamo,
    deps.table,
    {
      endpointName: plan.endpointName,
      deploymentId: plan.deploymentId,
      executionArn: plan.executionArn,
      modelPackageArn: plan.modelPackage.arn,
      lockedAt: new Date(nowMs).toISOString(),
      expiresAt,
      plan,
    },
    Math.floor(nowMs / 1000),
  );

  if (!attempt.acquired) {
    const holder = holderOf(attempt.holder);
    if (holder.modelPackageArn === plan.modelPackage.arn) {
      return done(deps, 'DUPLICATE', {
        holder,
        message:
          `Endpoint ${plan.endpointName} is already being rolled out to model package ${plan.modelPackage.arn} by execution ` +
          `${holder.executionArn} (deployment ${holder.deploymentId}): this execution is a duplicate and changes nothing.`,
      });
    }
    const held = `endpoint ${plan.endpointName} is locked by execution ${holder.executionArn} (deployment ${holder.deploymentId}, model package ${holder.modelPackageArn})`;
    return waitInQueue(plan, previous.waitingSince ?? input.executionStartTime, nowMs, held, target.policy.queue, deps, holder);
  }

  const blueVersion = plan.blue && !plan.firstDeployment ? packageVersionOfVariant(plan.blue.variantName) : undefined;
  if (blueVersion !== undefined && blueVersion >= plan.modelPackage.version) {
    await release(plan, deps);
    const decision: LockDecision = blueVersion === plan.modelPackage.version ? 'ALREADY_LIVE' : 'SUPERSEDED';
    const serves = `Endpoint ${plan.endpointName} already serves version ${blueVersion} of ${plan.modelPackage.groupName} (variant ${plan.blue!.variantName})`;
    return done(deps, decision, {
      message:
        decision === 'ALREADY_LIVE'
          ? `${serves}, the version this execution was to deploy: nothing to do (a duplicate approval event after the first rollout ended).`
          : `${serves}, newer than version ${plan.modelPackage.version}: this approval is superseded and is not rolled out (the endpoint ` +
            'is never rolled back to an older version because its approval waited).',
    });
  }
  if (previous.decision === 'WAIT') {
    return done(deps, 'REPLAN', {
      message:
        `Endpoint ${plan.endpointName} locked for deployment ${plan.deploymentId} after waiting since ${previous.waitingSince ?? 'an earlier attempt'}: ` +
        'the endpoint may have changed meanwhile, so the rollout is planned again.',
    });
  }
  if (plan.endpointBusy !== undefined) {
    // Nobody holds the lock, yet the endpoint is mid-change (a rollout's reconciler still cleaning up, an update
    // made outside this system): no plan can be made from it. Give the lock back and wait like the queue does.
    await release(plan, deps);
    return waitInQueue(plan, previous.waitingSince ?? input.executionStartTime, nowMs, `endpoint ${plan.endpointName} is busy: ${plan.endpointBusy}`, target.policy.queue, deps);
  }
  const acquired = done(deps, 'ACQUIRED', {
    message: `Endpoint ${plan.endpointName} locked for deployment ${plan.deploymentId} (model package ${plan.modelPackage.arn}) until ${new Date(expiresAt * 1000).toISOString()}.`,
  });
  // Only now does the rollout start: every other answer ends or waits without having begun.
  if (deps.lifecycle) await recordRolloutStarted(plan, target, new Date(nowMs).toISOString(), deps.lifecycle);
  return acquired;
}

/** How the validation verdict becomes a decision, as the header records it. */
export function validationDecisionMode(plan: RolloutPlan): 'HUMAN_APPROVAL' | 'AUTOMATIC' {
  return plan.validation.requireHumanApproval ? 'HUMAN_APPROVAL' : 'AUTOMATIC';
}

/** The audit trail's header of a rollout that has just taken its endpoint's lock. */
export function rolloutHeader(plan: RolloutPlan, target: DeploymentTarget, startedAt: string): RolloutHeader {
  // Plans made before the trigger was recorded came from an approval: deploy did not exist without it.
  const trigger: RolloutTrigger = plan.trigger ?? { kind: 'MODEL_REGISTRY_APPROVAL' };
  const blue = plan.firstDeployment ? undefined : plan.blue;
  return {
    ref: rolloutRef(plan),
    startedAt,
    trigger,
    policy: {
      trafficMode: plan.traffic.mode,
      stepPercents: plan.traffic.stepPercents,
      bakeSeconds: plan.policy.bakeSeconds,
      stepBakeSeconds: plan.policy.stepBakeSeconds,
      rollbackWindowSeconds: plan.policy.rollbackWindowSeconds,
      validationDecision: validationDecisionMode(plan),
    },
    // The target as this function's configuration holds it (defaults applied): what this rollout was deployed with.
    configHash: hashConfig(target),
    ...(blue ? { blueVariantName: blue.variantName, blueModelName: blue.modelName } : {}),
    greenVariantName: plan.green.variantName,
    instanceType: plan.green.instanceType,
    instanceCount: plan.green.instanceCount,
    firstDeployment: plan.firstDeployment,
  };
}

/**
 * Writes the audit header, then Rollout Started, then counts the start. A retried call finds the header already
 * written (conditional put) and records nothing more, so one rollout is one start. Never throws: a header that
 * cannot be written is logged (and counted by the sink) and the event still goes out.
 */
async function recordRolloutStarted(plan: RolloutPlan, target: DeploymentTarget, startedAt: string, sink: LifecycleSink): Promise<void> {
  const header = rolloutHeader(plan, target, startedAt);
  if (sink.dynamo && sink.auditTable) {
    try {
      if (!(await putRolloutHeader(sink.dynamo, sink.auditTable, header))) {
        sink.logger.info('Rollout already recorded as started by an earlier attempt: not recorded again', { deploymentId: plan.deploymentId });
        return;
      }
    } catch (error) {
      const log = sink.logger.error ?? sink.logger.warn;
      log.call(sink.logger, 'Rollout header not written to the audit trail: kept in this log line', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        header,
      });
      try {
        sink.onFailure?.('RolloutStarted', 'audit', error);
      } catch {
        // Counting the failure must not fail the step either.
      }
    }
  }
  await recordLifecycleEvent(
    sink,
    header.ref,
    {
      type: 'RolloutStarted',
      trigger: header.trigger,
      trafficMode: header.policy.trafficMode,
      stepPercents: header.policy.stepPercents,
      ...(header.blueVariantName ? { blueVariantName: header.blueVariantName } : {}),
      greenVariantName: header.greenVariantName,
      instanceType: header.instanceType,
      configHash: header.configHash,
    },
    { at: startedAt },
  );
  publishRolloutMetrics(plan.endpointName, [{ name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 }]);
}

/** Epoch seconds at which the lock of an execution started at `executionStartTime` expires. */
export function lockExpiresAt(executionStartTime: string, timeoutSeconds: number): number {
  return Math.floor(Date.parse(executionStartTime) / 1000) + timeoutSeconds + LOCK_EXPIRY_MARGIN_SECONDS;
}

async function release(plan: RolloutPlan, deps: LockEndpointDependencies): Promise<void> {
  if (!(await deleteActiveRollout(deps.dynamo, deps.table, plan.endpointName, plan.deploymentId))) {
    // Only if another rollout took the lock in between (this one's expired): that lock is left alone.
    deps.logger.warn('The lock was no longer this rollout\'s when it was to be released: left in place', { table: deps.table });
  }
}

/** WAIT (or EndpointLocked once the queue's time is up) while `held` says why the endpoint is not available. */
function waitInQueue(
  plan: RolloutPlan,
  /** When the wait began: the first refusal's time, carried by `previous`, else the execution's start. */
  since: string,
  nowMs: number,
  held: string,
  queue: { readonly maxWaitSeconds: number; readonly pollSeconds: number },
  deps: LockEndpointDependencies,
  holder?: LockHolder,
): LockEndpointResult {
  const maxWaitSeconds = plan.policy.lockWaitSeconds ?? queue.maxWaitSeconds;
  const pollSeconds = plan.policy.lockPollSeconds ?? queue.pollSeconds;
  const waitedSeconds = Math.max(0, (nowMs - Date.parse(since)) / 1000);
  if (waitedSeconds >= maxWaitSeconds) {
    throw new EndpointLocked(
      `Gave up waiting after ${Math.floor(waitedSeconds)} s (policy.queue.maxWaitSeconds ${maxWaitSeconds}): ${held}. ` +
        `Model package ${plan.modelPackage.arn} was not rolled out and nothing was changed; approve it again once that rollout has ended.`,
    );
  }
  // The last wait ends when the queue's time is up, so the final attempt happens at maxWaitSeconds, not a poll later.
  const waitSeconds = Math.max(1, Math.min(pollSeconds, Math.ceil(maxWaitSeconds - waitedSeconds)));
  return done(deps, 'WAIT', {
    ...(holder ? { holder } : {}),
    waitSeconds,
    waitingSince: since,
    message: `Waiting: ${held}; next attempt in ${waitSeconds} s (waited ${Math.floor(waitedSeconds)} of ${maxWaitSeconds} s).`,
  });
}

function holderOf(lock: EndpointLock): LockHolder {
  return { deploymentId: lock.deploymentId, executionArn: lock.executionArn, modelPackageArn: lock.modelPackageArn };
}

function done(
  deps: LockEndpointDependencies,
  decision: LockDecision,
  result: { readonly message: string; readonly holder?: LockHolder; readonly waitSeconds?: number; readonly waitingSince?: string },
): LockEndpointResult {
  deps.logger.info(`Lock endpoint: ${decision}`, { decision, ...result });
  return { decision, waitSeconds: 0, waitingSince: null, ...result };
}

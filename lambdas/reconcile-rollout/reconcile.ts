/**
 * "Reconcile endpoint": after a rollout execution ended FAILED, TIMED_OUT or ABORTED without its failure path (a
 * state-machine timeout, a console Stop, an uncatchable runtime error), puts the endpoint back the way the
 * failure path would have. The reconciler state machine (state-machines/reconcile.asl.json) calls this in a Wait
 * loop; each call looks at the world and does at most one step (level-triggered), so it is safe to run twice and
 * two reconcilers of the same event may overlap:
 * - NOTHING_TO_DO: the execution holds no endpoint lock. The lock is taken before any change, so it changed
 *   nothing, or it (or another reconciler) already cleaned up and released. Nothing is restored; but an execution
 *   that ended after "Release rollout*" and before "Summarize rollout" left its rollout without an outcome: the
 *   audit trail has its header and nothing else. Then the rollout is concluded here, with the outcome the
 *   endpoint shows (`outcomeFromEndpoint`), and the message says so.
 * - WAIT: SageMaker is busy, or a restore step (weights back, back to blue's config, deletion of an endpoint a
 *   first deployment created) was just requested.
 * - DONE: blue serves as before (or there was nothing to restore); green's configs and model are deleted, the
 *   rollout's alarms and its lock released.
 * - KEPT_GREEN: the execution stopped after "Remove blue variant": green serves alone, the promotion completed.
 *   Nothing is rolled back; blue's retired config and model and the transition config are deleted, the lock
 *   released.
 * - BLUE_UNHEALTHY: green carries traffic that blue cannot take back: traffic stays on green, the alarms and the
 *   lock are released, and an operator must act.
 * The restore itself is restore-blue's logic, not a copy: RollbackFailed (an endpoint that changed outside the
 * rollout, or one that cannot be restored) propagates, and the lock is kept for the operator.
 *
 * Once DONE, KEPT_GREEN or BLUE_UNHEALTHY is reached (the lock released), the rollout is concluded as the
 * execution's "Summarize rollout" would have: lifecycle events (Rollout Rolled Back when blue was restored, Cleanup
 * Completed for what this call removed), then `concludeRollout` with the outcome the world shows: DONE is ABORTED
 * (blue serves, green is gone), KEPT_GREEN is PROMOTED (green serves alone, blue is retired: the promotion had
 * completed when the execution stopped), BLUE_UNHEALTHY is ROLLBACK_BLOCKED (traffic left on green).
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DescribeEndpointOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { deleteResources, type DeleteResourcesResult } from '../delete-resources/delete';
import { releaseRollout, type ReleaseRolloutResult } from '../release-rollout/release';
import { restoreBlue, RestoreBlueInputSchema, type RestoreBlueResult } from '../restore-blue/restore';
import type { RolloutHeader, RolloutOfExecution } from '../shared/audit-trail';
import { BlueUnhealthy, describeError, ReconcileTimedOut } from '../shared/errors';
import { executionEndedErrorName, ExecutionEndedEventSchema, type ExecutionEndedEvent } from '../shared/execution-events';
import { failureMessage } from '../shared/failure';
import { rolloutRef, type LifecycleEvent, type LifecycleSink, type ResourceRef, type RolloutOutcome } from '../shared/lifecycle-events';
import { planLogKeys, type StepLogger } from '../shared/logger';
import { parseInput, type RolloutPlan } from '../shared/plan';
import type { EndpointLock } from '../shared/rollout-record';
import { concludeRollout, cutText, type ConcludingEvent } from '../shared/rollout-summary';
import { describeEndpointIfExists, ENDPOINT_IN_PROGRESS_STATUSES, endpointState } from '../shared/sagemaker';
import { millisecondsSince, nowIso } from '../shared/time';

export const STEP = 'reconcile-rollout';

export const RECONCILE_ACTIONS = ['NOTHING_TO_DO', 'WAIT', 'DONE', 'KEPT_GREEN', 'BLUE_UNHEALTHY'] as const;
export type ReconcileAction = (typeof RECONCILE_ACTIONS)[number];

/** The shortest wait between two passes, whatever the plan's poll interval. */
export const MIN_WAIT_SECONDS = 5;
/** The reconcile loop ends in ReconcileTimedOut after this many times the plan's endpointUpdateTimeoutSeconds. */
export const RECONCILE_TIMEOUT_FACTOR = 3;

export { ReconcileTimedOut };

export const ReconcileRolloutInputSchema = z.object({
  /** The status change event, or what "Keep event" kept of it. */
  event: ExecutionEndedEventSchema,
  /** The previous call's result (`{}` on the first call); extra fields (waitSeconds, message) are ignored. */
  previous: z
    .looseObject({
      action: z.string({ error: 'must be a string' }).optional(),
      since: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }).optional(),
      passes: z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be >= 0').optional(),
    })
    .default({}),
});
export type ReconcileRolloutInput = z.infer<typeof ReconcileRolloutInputSchema>;

export interface ReconcileResult {
  readonly action: ReconcileAction;
  /** How long the state machine waits before the next pass (meaningful with WAIT). */
  readonly waitSeconds: number;
  /** When reconciling began (the first call's time): the loop's bound counts from here. */
  readonly since: string;
  /** Calls so far, this one included. */
  readonly passes: number;
  /** What this call saw and did. */
  readonly message: string;
  /** The locked endpoint (absent with NOTHING_TO_DO). */
  readonly endpointName?: string;
}

/**
 * What the reconciler reads of the endpoint's lock: the plan the failure path needs, what "Hold blue's capacity" did,
 * and when the lock was taken (the rollout's start, should the audit trail have no header).
 */
export type ReconcilableLock = Pick<EndpointLock, 'endpointName' | 'deploymentId' | 'executionArn' | 'plan' | 'blueCapacity'> &
  Partial<Pick<EndpointLock, 'lockedAt'>>;

export interface ReconcileRolloutDependencies {
  /** The lock the execution holds, if any (`findLockByExecution` on the active-rollouts table). */
  readonly findLock: (executionArn: string) => Promise<ReconcilableLock | undefined>;
  readonly sageMaker: SageMakerClient;
  readonly autoScaling: ApplicationAutoScalingClient;
  /** Probes blue before traffic goes back to it. */
  readonly runtime: SageMakerRuntimeClient;
  /** Reads the probe's payload. */
  readonly s3: S3Client;
  /** Deletes the rollout's alarms. */
  readonly cloudWatch: CloudWatchClient;
  /** Deletes the lock (the active-rollouts table). */
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly logger: StepLogger;
  /**
   * Where the rollout's lifecycle events go (the history table and the bus), for the endpoint named. Absent: the
   * rollout is not concluded (no events, outcome, tags or metrics).
   */
  readonly lifecycle?: (endpointName: string) => LifecycleSink;
  /**
   * The rollout the execution ran, from the audit trail (`findRolloutByExecution` on the history table), looked
   * for when the execution holds no lock. Absent (no history table): an execution without a lock is left as it is.
   */
  readonly findRollout?: (executionArn: string) => Promise<RolloutOfExecution | undefined>;
}

export async function reconcile(input: ReconcileRolloutInput, deps: ReconcileRolloutDependencies): Promise<ReconcileResult> {
  const { detail } = input.event;
  const { previous } = input;
  const since = previous.since ?? nowIso();
  const passes = (previous.passes ?? 0) + 1;
  const execution = `Execution ${detail.executionArn} (${detail.status})`;

  const lock = await deps.findLock(detail.executionArn);
  if (!lock) {
    const message =
      previous.action === undefined
        ? `Nothing to reconcile: ${execution} holds no endpoint lock: it changed nothing, or it cleaned up and released.`
        : `Nothing left to reconcile: ${execution} no longer holds an endpoint lock (released by this or another reconciler).`;
    const concluded = await concludeReleasedRollout(input.event, deps);
    return { action: 'NOTHING_TO_DO', waitSeconds: MIN_WAIT_SECONDS, since, passes, message: concluded ? `${message} ${concluded}` : message };
  }

  // The lock's plan is re-validated: a record written by another version of the code must not be guessed at.
  const restoreInput = parseInput(
    RestoreBlueInputSchema,
    {
      plan: lock.plan,
      failure: failureOf(input.event),
      previous: { since, ...(previous.action !== undefined ? { action: previous.action } : {}) },
      blueCapacity: lock.blueCapacity ?? { held: false },
    },
    STEP,
  );
  const { plan } = restoreInput;
  deps.logger.info('The execution holds the endpoint lock: reconciling', { ...planLogKeys(plan), since, passes });
  const answer = (action: ReconcileAction, message: string): ReconcileResult => ({
    action,
    waitSeconds: Math.max(MIN_WAIT_SECONDS, plan.policy.pollIntervalSeconds),
    since,
    passes,
    message,
    endpointName: plan.endpointName,
  });

  const limitSeconds = plan.policy.endpointUpdateTimeoutSeconds * RECONCILE_TIMEOUT_FACTOR;
  if (millisecondsSince(since) / 1000 > limitSeconds) {
    throw new ReconcileTimedOut(
      `Endpoint ${plan.endpointName} was not reconciled within ${limitSeconds} s (${RECONCILE_TIMEOUT_FACTOR} x endpointUpdateTimeoutSeconds, ` +
        `since ${since}, ${passes - 1} passes, last ${previous.action ?? 'none'}) after ${execution}. It still holds the endpoint's lock: ` +
        'the endpoint needs an operator.',
    );
  }

  // Stopped after "Remove blue variant": the promotion completed, green is kept.
  if (!plan.firstDeployment) {
    const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
    if (endpoint && servesGreenAlone(endpoint, plan)) {
      const retired = {
        endpointName: plan.endpointName,
        endpointConfigNames: [plan.blue?.endpointConfigName, plan.green.transitionEndpointConfigName].filter(isName),
        modelNames: [plan.blue?.modelName].filter(isName),
      };
      const cleanup = await deleteResources(retired, { sageMaker: deps.sageMaker, logger: deps.logger });
      const released = await release(plan, deps);
      const result = answer(
        'KEPT_GREEN',
        `${execution} ended after blue's removal: endpoint ${plan.endpointName} serves green ${plan.green.variantName} alone, the promotion ` +
          `completed and is kept. ${cleanupSummary(cleanup)} The rollout's alarms and lock are released.`,
      );
      await conclude(input.event, lock, plan, deps, {
        outcome: 'PROMOTED',
        reason: result.message,
        events: cleanupEvent(removedResources(retired, cleanup, released)),
      });
      return result;
    }
    if (endpoint && updatingTowardsGreenAlone(endpoint, plan)) {
      return answer('WAIT', `Waiting: ${endpointState(endpoint)}, moving to green ${plan.green.variantName} alone (blue's removal).`);
    }
  }

  let restored: RestoreBlueResult;
  try {
    // Only what restore-blue needs: the reconciler records the rollback itself, with the execution's status.
    restored = await restoreBlue(restoreInput, { sageMaker: deps.sageMaker, autoScaling: deps.autoScaling, runtime: deps.runtime, s3: deps.s3, logger: deps.logger });
  } catch (error) {
    if (!(error instanceof BlueUnhealthy)) throw error;
    const released = await release(plan, deps);
    const result = answer(
      'BLUE_UNHEALTHY',
      `${error.message} Endpoint ${plan.endpointName}: green ${plan.green.variantName} keeps serving and stays provisioned; the rollout's ` +
        'alarms and lock are released. An operator must act: repair blue and move traffic back, or promote green.',
    );
    await conclude(input.event, lock, plan, deps, {
      outcome: 'ROLLBACK_BLOCKED',
      reason: result.message,
      events: cleanupEvent(removedResources(undefined, undefined, released)),
    });
    return result;
  }
  if (restored.action === 'WAIT') return answer('WAIT', restored.message);
  if (restored.action !== 'DONE') return answer('WAIT', `${restored.action}: ${restored.message}`);

  const green = {
    endpointName: plan.endpointName,
    endpointConfigNames: [plan.green.transitionEndpointConfigName, plan.green.finalEndpointConfigName],
    modelNames: [plan.green.modelName],
  };
  const cleanup = await deleteResources(green, { sageMaker: deps.sageMaker, logger: deps.logger });
  const released = await release(plan, deps);
  const result = answer('DONE', `${restored.message} ${cleanupSummary(cleanup)} The rollout's alarms and lock are released.`);
  // Blue serves again; what left the endpoint with green: its variant, or the whole endpoint a first deployment created.
  const restoredAway: ResourceRef[] = plan.firstDeployment
    ? previous.action !== undefined
      ? [{ kind: 'endpoint', name: plan.endpointName }]
      : []
    : [{ kind: 'variant', name: plan.green.variantName }];
  const rolledBack: ConcludingEvent = {
    event: {
      type: 'RolledBack',
      error: executionError(input.event),
      reason: cutText(restored.message, MAX_EVENT_REASON_CHARS),
      ...(restoredAway.length ? { resourcesRemoved: restoredAway } : {}),
    },
    // One rollback per rollout: restore-blue records it under the same discriminator if it got that far.
    discriminator: 'restored',
  };
  await conclude(input.event, lock, plan, deps, {
    outcome: 'ABORTED',
    reason: result.message,
    events: [rolledBack, ...cleanupEvent(removedResources(green, cleanup, released))],
  });
  return result;
}

/** What the rollout's record says ended it: the execution's error (States.Timeout, States.Runtime, ...) or its status (ABORTED). */
function executionError(event: ExecutionEndedEvent): string {
  return event.detail.error || event.detail.status;
}

/** Bound of the Rollout Rolled Back event's reason (restore-blue's bound too). */
const MAX_EVENT_REASON_CHARS = 500;

/** Records what is left to record and concludes the rollout; never throws (the endpoint is reconciled already). */
async function conclude(
  event: ExecutionEndedEvent,
  lock: ReconcilableLock,
  plan: RolloutPlan,
  deps: ReconcileRolloutDependencies,
  what: { readonly outcome: RolloutOutcome; readonly reason: string; readonly events: readonly ConcludingEvent[] },
): Promise<void> {
  if (!deps.lifecycle) return;
  try {
    const sink = deps.lifecycle(plan.endpointName);
    const { detail } = event;
    const startedAt = lock.lockedAt ?? (typeof detail.startDate === 'number' ? new Date(detail.startDate).toISOString() : nowIso());
    await concludeRollout(
      { ...(sink.dynamo && sink.auditTable ? { dynamo: sink.dynamo, auditTable: sink.auditTable } : {}), sageMaker: deps.sageMaker, sink, logger: deps.logger },
      {
        ref: rolloutRef(plan),
        outcome: what.outcome,
        error: executionError(event),
        reason: `The execution ended ${detail.status}${detail.error ? ` (${detail.error})` : ''} without its failure path; reconciled: ${what.reason}`,
        startedAt,
        endedAt: nowIso(),
        greenVariantName: plan.green.variantName,
        facts: plan.trigger ? { trigger: plan.trigger } : {},
        events: what.events,
      },
    );
  } catch (error) {
    // concludeRollout never throws; a sink that cannot be built must not undo a reconciled endpoint either.
    deps.logger.warn('Rollout not concluded after reconciling', { error: (error as Error).message });
  }
}

/**
 * An execution without a lock that ended after releasing the endpoint and before "Summarize rollout": the audit
 * trail has its header and no outcome. Concludes the rollout with the outcome the endpoint shows and says so (the
 * sentence appended to NOTHING_TO_DO's message); undefined when there is nothing to conclude (no history table,
 * no header: the execution never locked, or an outcome already recorded). A trail that cannot be read is logged
 * and left alone: nothing is restored here, so the reconciler must not fail for it. DescribeEndpoint errors do
 * propagate (the reconciler state machine retries throttling): guessing the outcome would record a wrong one.
 */
async function concludeReleasedRollout(event: ExecutionEndedEvent, deps: ReconcileRolloutDependencies): Promise<string | undefined> {
  if (!deps.findRollout || !deps.lifecycle) return undefined;
  const { detail } = event;
  let found: RolloutOfExecution | undefined;
  try {
    found = await deps.findRollout(detail.executionArn);
  } catch (error) {
    deps.logger.warn('Audit trail not read: a rollout stopped before its summary would stay without an outcome', {
      executionArn: detail.executionArn,
      error: describeError(error),
    });
    return undefined;
  }
  if (!found || found.outcome) return undefined;

  const { header } = found;
  const endpoint = await describeEndpointIfExists(deps.sageMaker, header.ref.endpointName);
  const { outcome, state } = outcomeFromEndpoint(endpoint, header);
  const reason =
    `The execution ended ${detail.status}${detail.error ? ` (${detail.error})` : ''} after releasing the endpoint, before its summary; ` +
    `concluded by the reconciler from the endpoint's state: ${state}.`;
  try {
    const sink = deps.lifecycle(header.ref.endpointName);
    await concludeRollout(
      { ...(sink.dynamo && sink.auditTable ? { dynamo: sink.dynamo, auditTable: sink.auditTable } : {}), sageMaker: deps.sageMaker, sink, logger: deps.logger },
      {
        ref: header.ref,
        outcome,
        error: executionError(event),
        reason,
        startedAt: header.startedAt,
        endedAt: nowIso(),
        greenVariantName: header.greenVariantName,
        facts: { trigger: header.trigger },
      },
    );
  } catch (error) {
    // concludeRollout never throws; a sink that cannot be built must not fail a reconciler with nothing to restore.
    deps.logger.warn('Rollout not concluded', { error: (error as Error).message });
    return undefined;
  }
  deps.logger.info('Concluded a rollout stopped before its summary', { ...header.ref, outcome });
  return `Rollout ${header.ref.deploymentId} had released endpoint ${header.ref.endpointName} but was not summarized: concluded ${outcome} from the endpoint's state (${state}).`;
}

/**
 * What a released endpoint shows of how its rollout ended: green alone is PROMOTED; blue alone (or, for a first
 * deployment, no endpoint or no green) is ROLLED_BACK; anything else (both, neither, another variant) is ABORTED.
 */
export function outcomeFromEndpoint(
  endpoint: DescribeEndpointOutput | undefined,
  header: Pick<RolloutHeader, 'greenVariantName' | 'blueVariantName' | 'firstDeployment'>,
): { readonly outcome: RolloutOutcome; readonly state: string } {
  if (!endpoint) {
    return {
      outcome: header.firstDeployment ? 'ROLLED_BACK' : 'ABORTED',
      state: header.firstDeployment ? 'the endpoint this first deployment created is gone' : 'the endpoint does not exist',
    };
  }
  const variants = (endpoint.ProductionVariants ?? []).map((v) => v.VariantName ?? '');
  const serving = `${endpointState(endpoint)}, serving ${variants.length ? variants.join(', ') : 'no variant'}`;
  const servesAlone = (name: string | undefined) => name !== undefined && variants.length === 1 && variants[0] === name;
  if (servesAlone(header.greenVariantName)) return { outcome: 'PROMOTED', state: `${serving}: green ${header.greenVariantName} alone` };
  if (servesAlone(header.blueVariantName)) return { outcome: 'ROLLED_BACK', state: `${serving}: blue ${header.blueVariantName} alone` };
  if (header.firstDeployment && !variants.includes(header.greenVariantName)) return { outcome: 'ROLLED_BACK', state: `${serving}: no green ${header.greenVariantName}` };
  return { outcome: 'ABORTED', state: `${serving}: neither green ${header.greenVariantName} nor blue ${header.blueVariantName ?? '(none)'} alone` };
}

/** What this call removed: the configs and models deleted (by their kind), and the rollout's alarms. */
function removedResources(
  asked: { readonly endpointConfigNames: readonly string[]; readonly modelNames: readonly string[] } | undefined,
  cleanup: DeleteResourcesResult | undefined,
  released: ReleaseRolloutResult,
): ResourceRef[] {
  const configs = new Set(asked?.endpointConfigNames ?? []);
  return [
    ...(cleanup?.deleted ?? []).map((name): ResourceRef => ({ kind: configs.has(name) ? 'endpoint-config' : 'model', name })),
    ...released.deletedAlarms.map((name): ResourceRef => ({ kind: 'alarm', name })),
  ];
}

function cleanupEvent(removed: readonly ResourceRef[]): ConcludingEvent[] {
  const event: LifecycleEvent = { type: 'CleanupCompleted', resourcesRemoved: removed };
  return removed.length ? [{ event, discriminator: 'reconciler' }] : [];
}

/** What the failure path is told: `ExecutionAborted` etc., and why, on one line. */
function failureOf(event: ExecutionEndedEvent): { Error: string; Cause: string } {
  const { detail } = event;
  const why = [detail.error, detail.cause ? failureMessage(detail.cause) : undefined].filter(isName).join(': ');
  return {
    Error: executionEndedErrorName(detail.status),
    Cause: `Execution ${detail.executionArn} ended ${detail.status} without its failure path${why ? ` (${why})` : ''}.`,
  };
}

/** The endpoint serves green as its only variant: blue was removed. */
function servesGreenAlone(endpoint: DescribeEndpointOutput, plan: RolloutPlan): boolean {
  const variants = endpoint.ProductionVariants ?? [];
  return endpoint.EndpointStatus === 'InService' && variants.length === 1 && variants[0]?.VariantName === plan.green.variantName;
}

/**
 * SageMaker is moving the endpoint to green alone (retire-blue's UpdateEndpoint to the final config), or is
 * working on an endpoint that already runs green alone (a capacity change): its end decides, so wait.
 */
function updatingTowardsGreenAlone(endpoint: DescribeEndpointOutput, plan: RolloutPlan): boolean {
  if (!ENDPOINT_IN_PROGRESS_STATUSES.has(endpoint.EndpointStatus ?? '')) return false;
  const finalConfig = plan.green.finalEndpointConfigName;
  const variants = endpoint.ProductionVariants ?? [];
  return (
    endpoint.PendingDeploymentSummary?.EndpointConfigName === finalConfig ||
    endpoint.EndpointConfigName === finalConfig ||
    (variants.length === 1 && variants[0]?.VariantName === plan.green.variantName)
  );
}

/** Deletes the rollout's own alarms and its lock (only if the lock is still this deployment's). */
function release(plan: RolloutPlan, deps: ReconcileRolloutDependencies): Promise<ReleaseRolloutResult> {
  return releaseRollout({ plan }, { cloudWatch: deps.cloudWatch, dynamo: deps.dynamo, table: deps.table, logger: deps.logger });
}

function cleanupSummary(cleanup: DeleteResourcesResult): string {
  const deleted = cleanup.deleted.length ? `Deleted ${cleanup.deleted.join(', ')}.` : 'Nothing to delete.';
  const retained = cleanup.retained.map((r) => `${r.name} (${r.reason})`);
  return retained.length ? `${deleted} Kept ${retained.join(', ')}.` : deleted;
}

const isName = (value: string | null | undefined): value is string => typeof value === 'string' && value.length > 0;

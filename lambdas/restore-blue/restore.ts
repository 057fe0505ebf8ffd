/**
 * The failure path: gives blue back what it had before the rollout, one step per call. The state machine
 * calls this in a Wait loop until it answers DONE, so each call looks at the endpoint, does at most one
 * mutation, and says what it did:
 * - WAIT: SageMaker (or Application Auto Scaling) is still working on the endpoint.
 * - RESTORING_WEIGHTS: traffic had moved to green; once blue answers a probe, blue gets its weight back in
 *   place (seconds, no redeploy).
 * - UPDATING: green carries nothing; green's auto scaling is released, then the endpoint goes back to blue's
 *   config (green leaves).
 * - DELETING: first deployment; the endpoint this rollout created is deleted.
 * - DONE: blue serves as before (or there was nothing to restore); blue's scale-in, if this rollout held it,
 *   is resumed.
 * It never leaves the endpoint without a variant of weight > 0, never deletes an endpoint it did not create,
 * and never touches an endpoint that changed outside this rollout: those end in RollbackFailed (an operator).
 * It never moves traffic onto a blue that cannot serve it: that ends in BlueUnhealthy, traffic left on green.
 * On DONE, and only then, the rollback is recorded as a lifecycle event (`RolledBack`, preceded by `ApprovalDecided`
 * when an operator rejected the rollout): after blue serves again, so the event states what happened, and never
 * failing the restore (recordLifecycleEvent does not throw).
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { isConcurrentUpdateError, releaseVariantScaling, resumeScaleIn } from '../shared/autoscaling';
import { checkBlueServes } from '../shared/blue-health';
import { BlueUnhealthy, describeError, RollbackFailed, RolloutRejected } from '../shared/errors';
import { failureMessage, joinSentences } from '../shared/failure';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink, type ResourceRef } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { requireBlue, RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import {
  describeEndpointIfExists,
  ENDPOINT_BROKEN_STATUSES,
  ENDPOINT_IN_PROGRESS_STATUSES,
  endpointState,
  findVariant,
  isEndpointBusyError,
  isNotFoundError,
  listAllTags,
  tagValue,
} from '../shared/sagemaker';
import { DEPLOYMENT_ID_TAG } from '../shared/tags';
import { millisecondsSince, nowIso } from '../shared/time';

export const STEP = 'restore-blue';

export const RESTORE_ACTIONS = ['WAIT', 'RESTORING_WEIGHTS', 'UPDATING', 'DELETING', 'DONE'] as const;
export type RestoreAction = (typeof RESTORE_ACTIONS)[number];

export const RestoreBlueInputSchema = z.object({
  plan: RolloutPlanSchema,
  /** What the Catch caught. */
  failure: z.object({
    Error: z.string({ error: 'must be a string' }),
    Cause: z.string({ error: 'must be a string' }).optional(),
  }),
  /** The previous call's result (`{}` on the first call). */
  previous: z
    .object({
      since: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }).optional(),
      action: z.string({ error: 'must be a string' }).optional(),
    })
    .default({}),
  /** What "Hold blue's capacity" did (`$.blueCapacity`): a scale-in it held is resumed once blue is restored. */
  blueCapacity: z
    .object({
      held: z.boolean({ error: 'must be a boolean' }),
      previouslySuspended: z.boolean({ error: 'must be a boolean' }).optional(),
    })
    .default({ held: false }),
});
export type RestoreBlueInput = z.infer<typeof RestoreBlueInputSchema>;

export interface RestoreBlueResult {
  readonly action: RestoreAction;
  /** When the restore began (the first call's time): its timeout counts from here. */
  readonly since: string;
  /** The original failure's Error (the execution fails with it once blue is restored). */
  readonly error: string;
  /** The original failure's message, one line; on DONE followed by what was restored. */
  readonly cause: string;
  /** What this call saw and did. */
  readonly message: string;
}

/** Statuses in which SageMaker is still working on the endpoint: nothing to do but wait. */
const WAIT_STATUSES: ReadonlySet<string> = new Set([...ENDPOINT_IN_PROGRESS_STATUSES, 'Deleting']);

export interface RestoreBlueDependencies {
  readonly sageMaker: SageMakerClient;
  readonly autoScaling: ApplicationAutoScalingClient;
  /** Probes blue before traffic goes back to it. */
  readonly runtime: SageMakerRuntimeClient;
  /** Reads the probe's payload (a dataset or a model package sample in S3). */
  readonly s3: S3Client;
  readonly logger: StepLogger;
  /** Where `RolledBack` (and a rejection's `ApprovalDecided`) go once blue is restored; absent: nothing is recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** One call's answer, with what the rollback removed when the answer is DONE (for the `RolledBack` event). */
interface RestoreStep {
  readonly result: RestoreBlueResult;
  readonly removed: readonly ResourceRef[];
}

export async function restoreBlue(input: RestoreBlueInput, deps: RestoreBlueDependencies): Promise<RestoreBlueResult> {
  const step = await restoreOnce(input, deps);
  if (step.result.action === 'DONE' && deps.lifecycle) await recordRollback(input, step.removed, deps.lifecycle);
  return step.result;
}

async function restoreOnce(input: RestoreBlueInput, deps: RestoreBlueDependencies): Promise<RestoreStep> {
  const { plan, failure, previous, blueCapacity } = input;
  const since = previous.since ?? nowIso();
  const failureText = failureMessage(failure.Cause);
  const respond = (action: RestoreAction, message: string, removed: readonly ResourceRef[] = []): RestoreStep => ({
    result: {
      action,
      since,
      error: failure.Error,
      cause: action === 'DONE' ? joinSentences(failureText, message) : failureText,
      message,
    },
    removed,
  });
  /**
   * A first call that finds blue's config serving means green never got onto the endpoint (the rollout failed
   * before, or SageMaker reverted the update that added it): nothing was removed. After earlier calls, green left.
   */
  const greenRemoved: readonly ResourceRef[] = previous.action === undefined ? [] : [{ kind: 'variant', name: plan.green.variantName }];

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) {
    // An endpoint this rollout created, seen by an earlier call and gone now: the rollback deleted it.
    const removed: ResourceRef[] = plan.firstDeployment && previous.action !== undefined ? [{ kind: 'endpoint', name: plan.endpointName }] : [];
    return respond('DONE', nothingToRestore(plan, previous.action), removed);
  }

  const timedOut = (): boolean => millisecondsSince(since) / 1000 > plan.policy.endpointUpdateTimeoutSeconds;
  /** Every outcome but DONE (waiting or acting) is bounded by the policy's update timeout. */
  const withinTimeout = (): void => {
    if (!timedOut()) return;
    throw new RollbackFailed(
      `Blue was not restored within ${plan.policy.endpointUpdateTimeoutSeconds} s (since ${since}): ${endpointState(endpoint)}. ` +
        `The endpoint needs an operator. Original failure: ${failure.Error}: ${failureText}`,
    );
  };
  /** A mutation refused because the endpoint just became busy or vanished: the next call sees why. */
  const mutate = async (action: RestoreAction, message: string, call: () => Promise<unknown>): Promise<RestoreStep> => {
    try {
      await call();
    } catch (error) {
      if (!isEndpointBusyError(error) && !isNotFoundError(error, 'endpoint')) throw error;
      deps.logger.warn('Endpoint changed before the restore call: waiting', { action, error: (error as Error).message });
      return respond('WAIT', `Waiting: the endpoint changed before ${action} could start (${(error as Error).message}).`);
    }
    return respond(action, message);
  };

  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (WAIT_STATUSES.has(status)) {
    withinTimeout();
    return respond('WAIT', `Waiting: ${endpointState(endpoint)}.`);
  }

  if (plan.firstDeployment) {
    const tags = await listAllTags(deps.sageMaker, endpoint.EndpointArn ?? '');
    const owner = tagValue(tags, DEPLOYMENT_ID_TAG);
    if (owner !== plan.deploymentId) {
      return respond(
        'DONE',
        `Endpoint ${plan.endpointName} was not created by this rollout (${DEPLOYMENT_ID_TAG} is ${owner ?? 'not set'}, ` +
          `not ${plan.deploymentId}): left untouched.`,
      );
    }
    withinTimeout();
    return mutate('DELETING', `Deleting endpoint ${plan.endpointName}, which this rollout created (${status}).`, () =>
      deps.sageMaker.send(new DeleteEndpointCommand({ EndpointName: plan.endpointName })),
    );
  }

  const blue = requireBlue(plan, STEP);
  if (ENDPOINT_BROKEN_STATUSES.has(status)) {
    throw new RollbackFailed(
      `Blue cannot be restored: ${endpointState(endpoint)}. Only DeleteEndpoint is possible now, and this system never ` +
        `deletes an endpoint it did not create. Original failure: ${failure.Error}: ${failureText}`,
    );
  }
  if (status === 'InService' && endpoint.EndpointConfigName === blue.endpointConfigName) {
    const restored = `Blue restored: endpoint ${plan.endpointName} serves variant ${blue.variantName} alone on config ${blue.endpointConfigName}; green removed.`;
    if (!blueCapacity.held) return respond('DONE', restored, greenRemoved);
    try {
      const resumed = await resumeScaleIn(deps.autoScaling, plan.endpointName, blue.variantName);
      return respond('DONE', resumed ? `${restored} Blue's dynamic scale-in, held for the rollout, resumed.` : restored, greenRemoved);
    } catch (error) {
      // Blue serves: a scale-in left suspended does not undo the restore. Retried while time remains.
      if (isConcurrentUpdateError(error) && !timedOut()) {
        return respond('WAIT', `Waiting: blue's scale-in cannot be resumed yet (${describeError(error)}).`);
      }
      deps.logger.warn("Blue's scale-in could not be resumed", { error: describeError(error) });
      return respond(
        'DONE',
        `${restored} Blue's dynamic scale-in is still suspended (resuming it failed: ${describeError(error)}): an operator must resume it.`,
        greenRemoved,
      );
    }
  }
  if (status === 'InService' && endpoint.EndpointConfigName === plan.green.transitionEndpointConfigName) {
    withinTimeout();
    return restoreFromTransition(plan, endpoint, { mutate, respond }, deps);
  }
  if (status === 'InService') {
    throw new RollbackFailed(
      `Blue cannot be restored: ${endpointState(endpoint)}, neither blue's config ${blue.endpointConfigName} nor the transition ` +
        `config ${plan.green.transitionEndpointConfigName}. It changed outside this rollout and is not touched. ` +
        `Original failure: ${failure.Error}: ${failureText}`,
    );
  }
  // A status this code does not know: wait (bounded by the timeout) rather than act on a guess.
  withinTimeout();
  return respond('WAIT', `Waiting: ${endpointState(endpoint)}.`);
}

type Mutate = (action: RestoreAction, message: string, call: () => Promise<unknown>) => Promise<RestoreStep>;
type Respond = (action: RestoreAction, message: string) => RestoreStep;

/**
 * On the transition config. If green carries traffic, the fastest safe step is weights back in place
 * (blue's original weight, green 0), once blue answers a probe; the next call, once InService again, removes
 * green. Otherwise green's auto scaling (given on promotion) is released, and the endpoint returns to blue's
 * config, keeping blue's live instance count (RetainAllVariantProperties) but not its weight (blue's config's
 * weight applies, as before the rollout).
 */
async function restoreFromTransition(
  plan: RolloutPlan,
  endpoint: DescribeEndpointOutput,
  answer: { readonly mutate: Mutate; readonly respond: Respond },
  deps: RestoreBlueDependencies,
): Promise<RestoreStep> {
  const blue = requireBlue(plan, STEP);
  const greenVariantName = plan.green.variantName;
  const greenLive = findVariant(endpoint.ProductionVariants, greenVariantName);
  if ((greenLive?.CurrentWeight ?? 0) > 0) {
    // Green serves; moving its traffic to a blue that cannot serve would turn a degraded rollout into an outage.
    const health = await checkBlueServes(
      { endpoint, endpointName: plan.endpointName, blueVariantName: blue.variantName, payloads: plan.payloads },
      { runtime: deps.runtime, s3: deps.s3 },
    );
    if (!health.healthy) {
      throw new BlueUnhealthy(
        `Blue cannot take the traffic back: ${health.reason}. Traffic stays on green, which serves it; the rollout stops for an operator.`,
      );
    }
    // Blue must come back with a weight > 0 even if it somehow started at 0: the endpoint is never left unserved.
    const blueWeight = blue.weight > 0 ? blue.weight : 1;
    return answer.mutate(
      'RESTORING_WEIGHTS',
      `Green carried traffic (weight ${greenLive?.CurrentWeight}): blue answered its probe on ${health.instanceCount} ` +
        `${health.instanceCount === 1 ? 'instance' : 'instances'}; restoring blue ${blue.variantName} to weight ${blueWeight} and green to 0.`,
      () =>
        deps.sageMaker.send(
          new UpdateEndpointWeightsAndCapacitiesCommand({
            EndpointName: plan.endpointName,
            DesiredWeightsAndCapacities: [
              { VariantName: blue.variantName, DesiredWeight: blueWeight },
              { VariantName: greenVariantName, DesiredWeight: 0 },
            ],
          }),
        ),
    );
  }
  // An UpdateEndpoint that removes an autoscaled variant fails: green's scaling goes first (idempotent).
  let greenScaling: { released: boolean; policyNames: string[] };
  try {
    greenScaling = await releaseVariantScaling(deps.autoScaling, plan.endpointName, greenVariantName);
  } catch (error) {
    if (!isConcurrentUpdateError(error)) throw error;
    return answer.respond('WAIT', `Waiting: green's auto scaling cannot be released yet (${describeError(error)}).`);
  }
  if (greenScaling.released) deps.logger.info("Green's auto scaling released before its removal", { ...greenScaling });
  const released = greenScaling.released ? ` Green's auto scaling was released first.` : '';
  return answer.mutate(
    'UPDATING',
    `Returning endpoint ${plan.endpointName} to blue's config ${blue.endpointConfigName} (green leaves, blue keeps its instance count).${released}`,
    () =>
      deps.sageMaker.send(
        new UpdateEndpointCommand({
          EndpointName: plan.endpointName,
          EndpointConfigName: blue.endpointConfigName,
          RetainAllVariantProperties: true,
          ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
        }),
      ),
  );
}

/** Why a missing endpoint means there is nothing (more) to restore. */
function nothingToRestore(plan: RolloutPlan, previousAction: string | undefined): string {
  if (!plan.firstDeployment) return `Nothing to restore: endpoint ${plan.endpointName} no longer exists.`;
  // An earlier call saw the endpoint (and deleted it, or waited for its deletion): it is gone now.
  if (previousAction !== undefined) return `Endpoint ${plan.endpointName}, created by this rollout, was deleted.`;
  return `Nothing to restore: endpoint ${plan.endpointName} was never created.`;
}

/** The longest `reason` a rollback's lifecycle events carry (the full cause is in the execution's history). */
export const MAX_EVENT_REASON_CHARS = 500;

/** `text` cut to `max` characters (code points, so no surrogate pair is split), `…` marking the cut. */
function cut(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

/**
 * Who asked for the rollback, read from the failure's cause: the alarm or the operator for AlarmTriggered and
 * RollbackRequested (undefined for other errors, or a cause in no known form). The causes are written by
 * `taskFailureCause` (rollback.ts: the task failure on-alarm and the operator's `rollback` send), by
 * `rollbackRequestError` (a check that finds the request in the lock) and by `firingAlarmsError` (a check that
 * finds an alarm in ALARM; the first alarm named).
 */
export function rollbackRequester(error: string, cause: string): string | undefined {
  const patterns: Record<string, readonly RegExp[]> = {
    AlarmTriggered: [/^Alarms? "([^"]+)"/, /^Alarm (.+?) went to ALARM at /],
    RollbackRequested: [/^Operator (.+?) requested a rollback at /, /^(.+?) asked for a rollback at /],
  };
  for (const pattern of patterns[error] ?? []) {
    const by = pattern.exec(cause)?.[1]?.trim();
    if (by) return by;
  }
  return undefined;
}

/**
 * An operator's rejection as `reject` writes its cause (cli/decision.ts rejectionCause: `Rejected by <by>: <reason>`).
 * A name with ": " in it cannot be told from the reason: the first ": " ends the name.
 */
export function rejectionOf(cause: string): { readonly by: string; readonly reason: string } | undefined {
  const match = /^Rejected by (.+?): (.*)$/s.exec(cause);
  return match ? { by: match[1]!.trim(), reason: match[2]!.trim() } : undefined;
}

/** `ApprovalDecided` (an operator's rejection), then `RolledBack`, at the same instant so the trail keeps that order. */
async function recordRollback(input: RestoreBlueInput, removed: readonly ResourceRef[], sink: LifecycleSink): Promise<void> {
  const { plan, failure } = input;
  const ref = rolloutRef(plan);
  const at = nowIso();
  const cause = failureMessage(failure.Cause);
  if (failure.Error === RolloutRejected.name) {
    const rejection = rejectionOf(cause);
    if (!rejection) sink.logger.warn('A rejection whose cause names no operator: recorded as by "unknown"', { cause });
    const reason = cut(rejection?.reason ?? cause, MAX_EVENT_REASON_CHARS);
    await recordLifecycleEvent(
      sink,
      ref,
      { type: 'ApprovalDecided', decision: 'REJECTED', by: rejection?.by ?? 'unknown', ...(reason ? { reason } : {}) },
      { at, discriminator: 'rejected' },
    );
  }
  const requestedBy = rollbackRequester(failure.Error, cause);
  await recordLifecycleEvent(
    sink,
    ref,
    {
      type: 'RolledBack',
      error: failure.Error,
      reason: cut(cause, MAX_EVENT_REASON_CHARS),
      ...(requestedBy ? { requestedBy } : {}),
      resourcesRemoved: removed,
    },
    { at, discriminator: 'restored' },
  );
}

/**
 * The failure path: gives blue back what it had before the rollout, one step per call. The state machine
 * calls this in a Wait loop until it answers DONE, so each call looks at the endpoint, does at most one
 * mutation, and says what it did:
 * - WAIT: SageMaker is still working on the endpoint.
 * - RESTORING_WEIGHTS: traffic had moved to green; blue gets its weight back in place (seconds, no redeploy).
 * - UPDATING: green carries nothing; the endpoint goes back to blue's config (green leaves).
 * - DELETING: first deployment; the endpoint this rollout created is deleted.
 * - DONE: blue serves as before (or there was nothing to restore).
 * It never leaves the endpoint without a variant of weight > 0, never deletes an endpoint it did not create,
 * and never touches an endpoint that changed outside this rollout: those end in RollbackFailed (an operator).
 */
import {
  DeleteEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { RollbackFailed } from '../shared/errors';
import { failureMessage, joinSentences } from '../shared/failure';
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

export async function restoreBlue(
  input: RestoreBlueInput,
  deps: { readonly sageMaker: SageMakerClient; readonly logger: StepLogger },
): Promise<RestoreBlueResult> {
  const { plan, failure, previous } = input;
  const since = previous.since ?? nowIso();
  const failureText = failureMessage(failure.Cause);
  const respond = (action: RestoreAction, message: string): RestoreBlueResult => ({
    action,
    since,
    error: failure.Error,
    cause: action === 'DONE' ? joinSentences(failureText, message) : failureText,
    message,
  });

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) return respond('DONE', nothingToRestore(plan, previous.action));

  /** Every outcome but DONE (waiting or acting) is bounded by the policy's update timeout. */
  const withinTimeout = (): void => {
    const elapsedSeconds = millisecondsSince(since) / 1000;
    if (elapsedSeconds <= plan.policy.endpointUpdateTimeoutSeconds) return;
    throw new RollbackFailed(
      `Blue was not restored within ${plan.policy.endpointUpdateTimeoutSeconds} s (since ${since}): ${endpointState(endpoint)}. ` +
        `The endpoint needs an operator. Original failure: ${failure.Error}: ${failureText}`,
    );
  };
  /** A mutation refused because the endpoint just became busy or vanished: the next call sees why. */
  const mutate = async (action: RestoreAction, message: string, call: () => Promise<unknown>): Promise<RestoreBlueResult> => {
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
    return respond(
      'DONE',
      `Blue restored: endpoint ${plan.endpointName} serves variant ${blue.variantName} alone on config ${blue.endpointConfigName}; green removed.`,
    );
  }
  if (status === 'InService' && endpoint.EndpointConfigName === plan.green.transitionEndpointConfigName) {
    withinTimeout();
    return restoreFromTransition(plan, endpoint, mutate, deps.sageMaker);
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

type Mutate = (action: RestoreAction, message: string, call: () => Promise<unknown>) => Promise<RestoreBlueResult>;

/**
 * On the transition config. If green carries traffic, the fastest safe step is weights back in place
 * (blue's original weight, green 0); the next call, once InService again, removes green. Otherwise the
 * endpoint returns to blue's config, keeping blue's live instance count (RetainAllVariantProperties) but
 * not its weight (blue's config's weight applies, as before the rollout).
 */
function restoreFromTransition(plan: RolloutPlan, endpoint: DescribeEndpointOutput, mutate: Mutate, sageMaker: SageMakerClient): Promise<RestoreBlueResult> {
  const blue = requireBlue(plan, STEP);
  const greenLive = findVariant(endpoint.ProductionVariants, plan.green.variantName);
  if ((greenLive?.CurrentWeight ?? 0) > 0) {
    // Blue must come back with a weight > 0 even if it somehow started at 0: the endpoint is never left unserved.
    const blueWeight = blue.weight > 0 ? blue.weight : 1;
    return mutate(
      'RESTORING_WEIGHTS',
      `Green carried traffic (weight ${greenLive?.CurrentWeight}): restoring blue ${blue.variantName} to weight ${blueWeight} and green to 0.`,
      () =>
        sageMaker.send(
          new UpdateEndpointWeightsAndCapacitiesCommand({
            EndpointName: plan.endpointName,
            DesiredWeightsAndCapacities: [
              { VariantName: blue.variantName, DesiredWeight: blueWeight },
              { VariantName: plan.green.variantName, DesiredWeight: 0 },
            ],
          }),
        ),
    );
  }
  return mutate(
    'UPDATING',
    `Returning endpoint ${plan.endpointName} to blue's config ${blue.endpointConfigName} (green leaves, blue keeps its instance count).`,
    () =>
      sageMaker.send(
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

/**
 * Gives green its share of the traffic in place (UpdateEndpointWeightsAndCapacities: no fleet redeploy,
 * blue stays provisioned for a fast rollback). Only on the transition config, where both variants live.
 * Only weights are sent, never a DesiredInstanceCount: blue's capacity (held by "Hold blue's capacity") and
 * green's are left to their instance counts and auto scaling. An endpoint that is Updating (another weight
 * change, an auto scaling activity) is busy, not broken: EndpointBusy, which the state machine retries.
 * A rollback an alarm or an operator asked for while this step ran (recorded in the endpoint's lock) wins: the
 * step fails with it instead of giving green back the share the rollback just took away.
 * Once the weights are requested (by this call, or by an earlier attempt that this retry finds done), the
 * `TrafficShifted` lifecycle event says so; recording it never fails the step.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateEndpointWeightsAndCapacitiesCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { rollbackRequestError } from '../shared/alarms';
import { z } from 'zod';
import { EndpointBusy, EndpointNotReady } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { requireBlue, RolloutPlanSchema } from '../shared/plan';
import { describeEndpointIfExists, ENDPOINT_BROKEN_STATUSES, endpointState, findVariant, isEndpointBusyError } from '../shared/sagemaker';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
import { getActiveRollout } from '../shared/rollout-record';
import { nowIso } from '../shared/time';
import { weightsEqual, weightsForGreenShare } from '../shared/traffic';

export const STEP = 'shift-traffic';

export const ShiftTrafficInputSchema = z.object({
  plan: RolloutPlanSchema,
  greenShare: z.number({ error: 'must be a number' }).gt(0, 'must be > 0').lte(1, 'must be <= 1'),
});
export type ShiftTrafficInput = z.infer<typeof ShiftTrafficInputSchema>;

export interface ShiftTrafficResult {
  /** The config the weights were set on (the transition config): check-endpoint waits for it. */
  readonly requestedEndpointConfigName: string;
  readonly requestedAt: string;
  /** Green's share of the traffic that was requested. */
  readonly greenShare: number;
}

export interface ShiftTrafficDependencies {
  readonly sageMaker: SageMakerClient;
  /** The active-rollouts table, read for a rollback requested while the step runs. */
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly logger: StepLogger;
  /** Where the `TrafficShifted` event goes; absent: nothing is recorded. */
  readonly lifecycle?: LifecycleSink;
}

export async function shiftTraffic(input: ShiftTrafficInput, deps: ShiftTrafficDependencies): Promise<ShiftTrafficResult> {
  const { plan, greenShare } = input;
  const blue = requireBlue(plan, STEP);
  const configName = plan.green.transitionEndpointConfigName;
  const result: ShiftTrafficResult = { requestedEndpointConfigName: configName, requestedAt: nowIso(), greenShare };
  if (blue.weight === 0 && greenShare < 1) {
    throw new EndpointNotReady(`Blue ${blue.variantName} had weight 0: green cannot get ${greenShare} of the traffic without changing blue.`);
  }
  const weights = weightsForGreenShare(blue.weight, greenShare);

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) throw new EndpointNotReady(`Endpoint ${plan.endpointName} does not exist: no traffic to shift.`);
  if (endpoint.EndpointConfigName !== configName) {
    throw new EndpointNotReady(`Traffic can only shift on the transition config ${configName}, but ${endpointState(endpoint)}.`);
  }
  const blueLive = findVariant(endpoint.ProductionVariants, blue.variantName);
  const greenLive = findVariant(endpoint.ProductionVariants, plan.green.variantName);
  if (!blueLive || !greenLive) {
    throw new EndpointNotReady(
      `Endpoint ${plan.endpointName} on ${configName} lacks ${blueLive ? `green ${plan.green.variantName}` : `blue ${blue.variantName}`}.`,
    );
  }
  const desiredBlue = blueLive.DesiredWeight ?? blueLive.CurrentWeight;
  const desiredGreen = greenLive.DesiredWeight ?? greenLive.CurrentWeight;
  if (
    desiredBlue !== undefined &&
    desiredGreen !== undefined &&
    weightsEqual(desiredBlue, weights.blueWeight) &&
    weightsEqual(desiredGreen, weights.greenWeight)
  ) {
    deps.logger.info('Endpoint already has these desired weights: not requested again', { status: endpoint.EndpointStatus, ...weights });
    // An earlier attempt requested them and may have stopped before recording it (the audit put is idempotent).
    await recordTrafficShifted(plan, greenShare, deps);
    return result;
  }
  // Last thing before the call: on-alarm may have set blue's weights back since the previous step's check.
  const record = await getActiveRollout(deps.dynamo, deps.table, plan.endpointName);
  if (record?.deploymentId === plan.deploymentId && record.rollbackRequest) throw rollbackRequestError(record.rollbackRequest);
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (status !== 'InService') {
    const message = `Weights cannot change now: ${endpointState(endpoint)}.`;
    // Failed and the like do not pass by waiting; Updating (and other work in progress) does.
    throw ENDPOINT_BROKEN_STATUSES.has(status) ? new EndpointNotReady(message) : new EndpointBusy(message);
  }
  try {
    await deps.sageMaker.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: plan.endpointName,
        DesiredWeightsAndCapacities: [
          { VariantName: blue.variantName, DesiredWeight: weights.blueWeight },
          { VariantName: plan.green.variantName, DesiredWeight: weights.greenWeight },
        ],
      }),
    );
  } catch (error) {
    // The endpoint became Updating between DescribeEndpoint and this call (auto scaling, another change).
    if (isEndpointBusyError(error)) throw new EndpointBusy(`Weights cannot change now: endpoint ${plan.endpointName} became busy (${(error as Error).message}).`);
    throw error;
  }
  deps.logger.info('Weights requested', { ...weights, greenShare });
  await recordTrafficShifted(plan, greenShare, deps);
  return result;
}

/** Green's share as a percent (whole percents in practice; two decimals kept for any other share). */
function sharePercent(share: number): number {
  return Math.round(share * 10_000) / 100;
}

/** `TrafficShifted`, one per traffic step (the discriminator is green's percent). Never throws. */
async function recordTrafficShifted(plan: ShiftTrafficInput['plan'], greenShare: number, deps: ShiftTrafficDependencies): Promise<void> {
  if (!deps.lifecycle) return;
  const greenPercent = sharePercent(greenShare);
  const bluePercent = sharePercent(1 - greenShare);
  await recordLifecycleEvent(deps.lifecycle, rolloutRef(plan), { type: 'TrafficShifted', greenPercent, bluePercent }, { discriminator: String(greenPercent) });
}

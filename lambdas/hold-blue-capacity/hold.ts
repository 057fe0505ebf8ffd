/**
 * Before the first traffic step: an autoscaled blue whose traffic drains would scale in (its invocations fall
 * towards 0) and could then no longer take the traffic back in one weight change. Its dynamic scale-in is
 * suspended for the rollout (scale-out, scheduled scaling and min/max stay as they are). The result says
 * whether this step suspended it, so that only a suspension this rollout made is resumed after a rollback. It is
 * also recorded on the endpoint's lock (`blueCapacity`): an execution stopped before its own restore leaves blue's
 * scale-in suspended, and the reconciler reads there what to resume.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { holdScaleIn, variantResourceId } from '../shared/autoscaling';
import type { StepLogger } from '../shared/logger';
import { PlanInputSchema, type RolloutPlan } from '../shared/plan';
import { recordBlueCapacityHold } from '../shared/rollout-record';

export const STEP = 'hold-blue-capacity';

export const HoldBlueCapacityInputSchema = PlanInputSchema;
export type HoldBlueCapacityInput = z.infer<typeof HoldBlueCapacityInputSchema>;

/** The state keeps `held` and `previouslySuspended` as `$.blueCapacity` (restore-blue reads them). */
export interface HoldBlueCapacityResult {
  /** True when this step suspended blue's scale-in (and a rollback must resume it). */
  readonly held: boolean;
  /** True when blue's scale-in was already suspended before the rollout (left as it was). */
  readonly previouslySuspended: boolean;
  /** False when the endpoint's lock is not this rollout's, so the hold could not be recorded there (a warning is logged). */
  readonly recorded: boolean;
  readonly message: string;
}

export interface HoldBlueCapacityDependencies {
  readonly autoScaling: ApplicationAutoScalingClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table (the endpoint's lock). */
  readonly table: string;
  readonly logger: StepLogger;
}

export async function holdBlueCapacity(plan: RolloutPlan, deps: HoldBlueCapacityDependencies): Promise<HoldBlueCapacityResult> {
  // A first deployment has no blue; the ASL skips this step then, and a stray call changes nothing.
  if (plan.firstDeployment || !plan.blue) {
    return {
      held: false,
      previouslySuspended: false,
      recorded: false,
      message: `First deployment of endpoint ${plan.endpointName}: there is no blue to hold.`,
    };
  }
  const blueVariantName = plan.blue.variantName;
  const resourceId = variantResourceId(plan.endpointName, blueVariantName);
  const { held, previouslySuspended } = await holdScaleIn(deps.autoScaling, plan.endpointName, blueVariantName);
  const message = held
    ? `Suspended dynamic scale-in of blue ${blueVariantName} (${resourceId}) while its traffic drains; a rollback resumes it.`
    : previouslySuspended
      ? `Blue ${blueVariantName}'s dynamic scale-in was already suspended before this rollout: left as it is.`
      : `Blue ${blueVariantName} is not autoscaled (no scalable target ${resourceId}): nothing to hold.`;
  deps.logger.info(message, { held, previouslySuspended, resourceId });
  // Recorded after the hold (its outcome is only known then); the state's $.blueCapacity carries it as well.
  const recorded = await recordBlueCapacityHold(deps.dynamo, deps.table, plan.endpointName, plan.deploymentId, { held, previouslySuspended });
  if (!recorded) {
    // Not fatal: this execution's own restore still reads $.blueCapacity; only a reconciler would miss it.
    deps.logger.warn(`The lock of endpoint ${plan.endpointName} in table ${deps.table} is not this rollout's: blue's capacity hold was not recorded there`, {
      held,
      previouslySuspended,
    });
  }
  return { held, previouslySuspended, recorded, message };
}

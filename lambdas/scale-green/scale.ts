/**
 * On promotion (green passed the 100% bake and serves everything): if blue is autoscaled, green gets the same
 * auto scaling, a scalable target with blue's min and max and a copy of each of blue's policies, so the
 * endpoint keeps scaling once blue is removed. Green's scale-in is not suspended (blue's was only held for the
 * rollout). Registration needs the endpoint InService: while it is Updating the step fails with EndpointBusy,
 * which the state machine retries.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { copyScaling, variantResourceId } from '../shared/autoscaling';
import { EndpointBusy, EndpointNotReady } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { PlanInputSchema, type RolloutPlan } from '../shared/plan';
import { describeEndpointIfExists, ENDPOINT_BROKEN_STATUSES, endpointState, findVariant } from '../shared/sagemaker';

export const STEP = 'scale-green';

export const ScaleGreenInputSchema = PlanInputSchema;
export type ScaleGreenInput = z.infer<typeof ScaleGreenInputSchema>;

export interface ScaleGreenResult {
  /** True when blue was autoscaled and green now has its scalable target and policies. */
  readonly copied: boolean;
  /** Green's scaling policies (copies of blue's), empty when nothing was copied. */
  readonly policyNames: string[];
  readonly message: string;
}

export async function scaleGreen(
  plan: RolloutPlan,
  deps: { readonly sageMaker: SageMakerClient; readonly autoScaling: ApplicationAutoScalingClient; readonly logger: StepLogger },
): Promise<ScaleGreenResult> {
  if (plan.firstDeployment || !plan.blue) {
    return { copied: false, policyNames: [], message: `First deployment of endpoint ${plan.endpointName}: there is no blue whose auto scaling green could take.` };
  }
  const blueVariantName = plan.blue.variantName;
  const greenVariantName = plan.green.variantName;

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) throw new EndpointNotReady(`Endpoint ${plan.endpointName} does not exist: green cannot be given auto scaling.`);
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (status !== 'InService') {
    const message = `Green cannot be registered for auto scaling now: ${endpointState(endpoint)}, and registration needs InService.`;
    throw ENDPOINT_BROKEN_STATUSES.has(status) ? new EndpointNotReady(message) : new EndpointBusy(message);
  }
  if (!findVariant(endpoint.ProductionVariants, greenVariantName)) {
    throw new EndpointNotReady(`Green ${greenVariantName} is not on ${endpointState(endpoint)}: it cannot be given auto scaling.`);
  }

  const { copied, policyNames } = await copyScaling(deps.autoScaling, plan.endpointName, blueVariantName, greenVariantName);
  const greenResourceId = variantResourceId(plan.endpointName, greenVariantName);
  const message = copied
    ? `Green ${greenVariantName} registered for auto scaling (${greenResourceId}) with blue's min and max and ` +
      `${policyNames.length} ${policyNames.length === 1 ? 'policy' : 'policies'} copied from blue${policyNames.length > 0 ? ` (${policyNames.join(', ')})` : ''}.`
    : `Blue ${blueVariantName} is not autoscaled: green ${greenVariantName} keeps its fixed instance count.`;
  deps.logger.info(message, { copied, policyNames, resourceId: greenResourceId });
  return { copied, policyNames, message };
}

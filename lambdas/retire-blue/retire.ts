/**
 * Releases blue once green serves everything: an endpoint config with green alone (at the instance count it
 * runs with now, so an autoscaled green keeps its capacity) and UpdateEndpoint to it. Refuses unless green
 * carries the traffic and blue carries none: the variant that serves is never the one removed. An autoscaled
 * blue's scaling policies and scalable target are removed first: an UpdateEndpoint that removes an autoscaled
 * variant fails.
 * Once the UpdateEndpoint that removes blue is requested (by this call or an earlier attempt), blue's variant (and
 * its scalable target, when this call deregistered it) is recorded as a `CleanupCompleted` lifecycle event: the
 * other cleanups (delete-resources, release-rollout) report configs, models and alarms, not variants.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { type CreateEndpointConfigInput, type DescribeEndpointConfigOutput, type ProductionVariantSummary, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { releaseVariantScaling, variantResourceId } from '../shared/autoscaling';
import { EndpointNotReady } from '../shared/errors';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink, type ResourceRef } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { definedOnly } from '../shared/objects';
import { requireBlue, type RolloutPlan, PlanInputSchema } from '../shared/plan';
import {
  createEndpointConfigUnlessExists,
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  endpointState,
  findVariant,
  endpointUpdateAlreadyRequested,
  type EndpointUpdateRequest,
  requestEndpointUpdate,
  type ConfigVisibilityRetryOptions,
} from '../shared/sagemaker';
import { rolloutTags } from '../shared/tags';
import { nowIso } from '../shared/time';

export const STEP = 'retire-blue';

export const RetireBlueInputSchema = PlanInputSchema;
export type RetireBlueInput = z.infer<typeof RetireBlueInputSchema>;

/** The final config (green alone) was requested. */
export type RetireBlueResult = EndpointUpdateRequest;

export interface RetireBlueDependencies {
  readonly sageMaker: SageMakerClient;
  readonly autoScaling: ApplicationAutoScalingClient;
  readonly logger: StepLogger;
  /** How UpdateEndpoint waits for the just-created final config. @default 4 attempts, 2 s apart */
  readonly configVisibility?: ConfigVisibilityRetryOptions;
  /** Where `CleanupCompleted` (blue's variant) goes; absent: nothing is recorded. */
  readonly lifecycle?: LifecycleSink;
}

export async function retireBlue(plan: RolloutPlan, deps: RetireBlueDependencies): Promise<RetireBlueResult> {
  const blue = requireBlue(plan, STEP);
  const { transitionEndpointConfigName, finalEndpointConfigName } = plan.green;
  const result: RetireBlueResult = { requestedEndpointConfigName: finalEndpointConfigName, requestedAt: nowIso() };

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) throw new EndpointNotReady(`Endpoint ${plan.endpointName} does not exist: there is no blue to retire.`);
  if (endpointUpdateAlreadyRequested(endpoint, transitionEndpointConfigName, finalEndpointConfigName)) {
    deps.logger.info('UpdateEndpoint to the final config already requested: not called again', { status: endpoint.EndpointStatus });
    // The earlier attempt that requested it may have stopped before recording it.
    await recordBlueRemoved(plan, blue.variantName, [], deps);
    return result;
  }
  if (endpoint.EndpointStatus !== 'InService' || endpoint.EndpointConfigName !== transitionEndpointConfigName) {
    throw new EndpointNotReady(`Blue cannot be retired: ${endpointState(endpoint)}, not InService on the transition config ${transitionEndpointConfigName}.`);
  }
  const greenLive = findVariant(endpoint.ProductionVariants, plan.green.variantName);
  const blueLive = findVariant(endpoint.ProductionVariants, blue.variantName);
  if (!greenLive || !((greenLive.CurrentWeight ?? 0) > 0) || (blueLive !== undefined && !carriesNoTraffic(blueLive))) {
    throw new EndpointNotReady(
      `Blue cannot be retired: green ${plan.green.variantName} has weight ${greenLive?.CurrentWeight ?? 'none'} and blue ` +
        `${blue.variantName} has weight ${blueLive?.CurrentWeight ?? 'none'}; green must carry the traffic and blue none.`,
    );
  }

  const transitionConfig = await describeEndpointConfigIfExists(deps.sageMaker, transitionEndpointConfigName);
  if (!transitionConfig) throw new EndpointNotReady(`The transition config ${transitionEndpointConfigName} no longer exists: green cannot be copied.`);
  const configOutcome = await createEndpointConfigUnlessExists(
    deps.sageMaker,
    finalEndpointConfigInput(plan, transitionConfig, greenLive),
  );
  deps.logger.info(`Final endpoint config ${configOutcome}`, { endpointConfigName: finalEndpointConfigName });
  // Idempotent: a retry finds the policies and target already gone.
  const blueScaling = await releaseVariantScaling(deps.autoScaling, plan.endpointName, blue.variantName);
  if (blueScaling.released) deps.logger.info("Blue's auto scaling released before its removal", { ...blueScaling });
  const outcome = await requestEndpointUpdate(deps.sageMaker, plan.endpointName, finalEndpointConfigName, deps.configVisibility);
  deps.logger.info(`UpdateEndpoint to the final config ${outcome}`, { endpointConfigName: finalEndpointConfigName });
  const scalingRemoved: ResourceRef[] = blueScaling.released
    ? [{ kind: 'scalable-target', name: variantResourceId(plan.endpointName, blue.variantName) }]
    : [];
  await recordBlueRemoved(plan, blue.variantName, scalingRemoved, deps);
  return result;
}

/** `CleanupCompleted` for blue's variant leaving the endpoint (once per rollout: discriminator `blue-variant`). Never throws. */
async function recordBlueRemoved(plan: RolloutPlan, blueVariantName: string, alsoRemoved: readonly ResourceRef[], deps: RetireBlueDependencies): Promise<void> {
  if (!deps.lifecycle) return;
  await recordLifecycleEvent(
    deps.lifecycle,
    rolloutRef(plan),
    { type: 'CleanupCompleted', resourcesRemoved: [{ kind: 'variant', name: blueVariantName }, ...alsoRemoved] },
    { discriminator: 'blue-variant' },
  );
}

/** Green's variant from the transition config, alone, at its live instance count and weight 1. */
export function finalEndpointConfigInput(
  plan: RolloutPlan,
  transitionConfig: DescribeEndpointConfigOutput,
  greenLive: ProductionVariantSummary,
): CreateEndpointConfigInput {
  const greenConfigured = findVariant(transitionConfig.ProductionVariants, plan.green.variantName);
  if (!greenConfigured) {
    throw new EndpointNotReady(`The transition config ${plan.green.transitionEndpointConfigName} has no variant ${plan.green.variantName}.`);
  }
  return {
    EndpointConfigName: plan.green.finalEndpointConfigName,
    ProductionVariants: [
      {
        ...greenConfigured,
        InitialInstanceCount:
          greenLive.CurrentInstanceCount ?? greenLive.DesiredInstanceCount ?? greenConfigured.InitialInstanceCount ?? plan.green.instanceCount,
        InitialVariantWeight: 1,
      },
    ],
    ...definedOnly({ DataCaptureConfig: transitionConfig.DataCaptureConfig, KmsKeyId: transitionConfig.KmsKeyId }),
    Tags: rolloutTags(plan.deploymentId, plan.modelPackage.arn),
  };
}

function carriesNoTraffic(variant: ProductionVariantSummary): boolean {
  return (variant.CurrentWeight ?? 0) === 0 && (variant.DesiredWeight ?? 0) === 0;
}

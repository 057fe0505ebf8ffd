/**
 * Puts green on the endpoint: CreateModel, then either (first deployment) an endpoint config with green
 * alone and CreateEndpoint, or an endpoint config with blue as it runs now plus green at weight 0 and
 * UpdateEndpoint to it. Blue keeps all the traffic. Step Functions may run this again after a partial
 * success, so every call is skipped or absorbed when an earlier attempt already made it.
 */
import {
  CreateEndpointCommand,
  type ContainerDefinition,
  type CreateEndpointConfigInput,
  type CreateModelInput,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type ProductionVariant,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { CapacityUnavailable, EndpointNotReady } from '../shared/errors';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink, type ResourceRef } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { definedOnly } from '../shared/objects';
import { requireBlue, type BlueVariant, type Container, type RolloutPlan, PlanInputSchema } from '../shared/plan';
import {
  createEndpointConfigUnlessExists,
  createModelUnlessExists,
  createUnlessExists,
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  endpointState,
  findVariant,
  endpointUpdateAlreadyRequested,
  type EndpointUpdateRequest,
  requestEndpointUpdate,
  whenEndpointConfigVisible,
  type ConfigVisibilityRetryOptions,
} from '../shared/sagemaker';
import { rolloutTags } from '../shared/tags';
import { nowIso } from '../shared/time';

export const STEP = 'provision-green';

export const ProvisionGreenInputSchema = PlanInputSchema;
export type ProvisionGreenInput = z.infer<typeof ProvisionGreenInputSchema>;

/** The transition config (or, on a first deployment, the final one) was requested. */
export type ProvisionGreenResult = EndpointUpdateRequest;

export interface ProvisionGreenDependencies {
  readonly sageMaker: SageMakerClient;
  readonly logger: StepLogger;
  /** How CreateEndpoint/UpdateEndpoint wait for a just-created endpoint config. @default 4 attempts, 2 s apart */
  readonly configVisibility?: ConfigVisibilityRetryOptions;
  /** Where Green Provisioned is recorded; absent: not recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** What one step of provisioning requested, and what this call created (an earlier attempt's resources are not listed). */
interface Provisioned {
  readonly requestedEndpointConfigName: string;
  readonly created: readonly ResourceRef[];
}

export async function provisionGreen(plan: RolloutPlan, deps: ProvisionGreenDependencies): Promise<ProvisionGreenResult> {
  // A broken plan is refused before anything is created.
  const blue = plan.firstDeployment ? undefined : requireBlue(plan, STEP);
  const modelOutcome = await createModelUnlessExists(deps.sageMaker, greenModelInput(plan));
  deps.logger.info(`Green model ${modelOutcome}`, { modelName: plan.green.modelName });
  const provisioned = blue ? await addGreenBesideBlue(plan, blue, deps) : await createEndpointWithGreen(plan, deps);
  const result = { requestedEndpointConfigName: provisioned.requestedEndpointConfigName, requestedAt: nowIso() };
  if (deps.lifecycle) {
    const resourcesCreated: ResourceRef[] = [
      ...(modelOutcome === 'created' ? [{ kind: 'model' as const, name: plan.green.modelName }] : []),
      ...provisioned.created,
    ];
    // Keyed by instance type: a retry finds its event already recorded (and publishes it again), a capacity fallback's attempt is another event.
    await recordLifecycleEvent(
      deps.lifecycle,
      rolloutRef(plan),
      {
        type: 'GreenProvisioned',
        greenVariantName: plan.green.variantName,
        instanceType: plan.green.instanceType,
        instanceCount: plan.green.instanceCount,
        resourcesCreated,
      },
      { at: result.requestedAt, discriminator: plan.green.instanceType },
    );
  }
  return result;
}

/** CreateModel input: one container as PrimaryContainer, several as Containers (an inference pipeline). */
export function greenModelInput(plan: RolloutPlan): CreateModelInput {
  const containers = plan.modelPackage.containers.map(containerDefinition);
  return {
    ModelName: plan.green.modelName,
    ExecutionRoleArn: plan.modelExecutionRoleArn,
    ...(containers.length === 1 ? { PrimaryContainer: containers[0] } : { Containers: containers }),
    Tags: rolloutTags(plan.deploymentId, plan.modelPackage.arn),
  };
}

function containerDefinition(container: Container): ContainerDefinition {
  return {
    Image: container.image,
    ...definedOnly({ ModelDataUrl: container.modelDataUrl, Environment: container.environment }),
  };
}

/** Green's production variant at `weight`, with the compute the target configures. */
export function greenProductionVariant(plan: RolloutPlan, weight: number): ProductionVariant {
  const { green } = plan;
  return {
    VariantName: green.variantName,
    ModelName: green.modelName,
    InstanceType: green.instanceType as ProductionVariant['InstanceType'],
    InitialInstanceCount: green.instanceCount,
    InitialVariantWeight: weight,
    ...definedOnly({
      VolumeSizeInGB: green.volumeSizeInGB,
      ModelDataDownloadTimeoutInSeconds: green.modelDataDownloadTimeoutInSeconds,
      ContainerStartupHealthCheckTimeoutInSeconds: green.containerStartupHealthCheckTimeoutInSeconds,
    }),
  };
}

/**
 * The transition config: blue's variant copied as it is (every field, so GPU settings, routing and AMI
 * survive), at the instance count and weight it runs with now (an UpdateEndpoint resets variants to their
 * initial values), the config's data capture and KMS key, and green at weight 0.
 */
export function transitionEndpointConfigInput(
  plan: RolloutPlan,
  blue: BlueVariant,
  blueConfig: DescribeEndpointConfigOutput,
): CreateEndpointConfigInput {
  const blueVariant = findVariant(blueConfig.ProductionVariants, blue.variantName);
  if (!blueVariant) {
    throw new EndpointNotReady(
      `Blue's endpoint config ${blue.endpointConfigName} has no variant ${blue.variantName}: blue cannot be copied.`,
    );
  }
  return {
    EndpointConfigName: plan.green.transitionEndpointConfigName,
    ProductionVariants: [
      { ...blueVariant, InitialInstanceCount: Math.max(1, blue.instanceCount), InitialVariantWeight: blue.weight },
      greenProductionVariant(plan, 0),
    ],
    ...definedOnly({ DataCaptureConfig: blueConfig.DataCaptureConfig, KmsKeyId: blueConfig.KmsKeyId }),
    Tags: rolloutTags(plan.deploymentId, plan.modelPackage.arn),
  };
}

/** First deployment: green alone at weight 1 on a new endpoint. Returns the config requested and what was created. */
async function createEndpointWithGreen(plan: RolloutPlan, deps: ProvisionGreenDependencies): Promise<Provisioned> {
  const configName = plan.green.finalEndpointConfigName;
  const tags = rolloutTags(plan.deploymentId, plan.modelPackage.arn);
  const configOutcome = await createEndpointConfigUnlessExists(deps.sageMaker, {
    EndpointConfigName: configName,
    ProductionVariants: [greenProductionVariant(plan, 1)],
    Tags: tags,
  });
  deps.logger.info(`Endpoint config ${configOutcome}`, { endpointConfigName: configName });
  const createdConfig: ResourceRef[] = configOutcome === 'created' ? [{ kind: 'endpoint-config', name: configName }] : [];

  const existing = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (existing) {
    assertCreatedByThisRollout(existing, configName);
    deps.logger.info('Endpoint already created by an earlier attempt: not created again', { status: existing.EndpointStatus });
    return { requestedEndpointConfigName: configName, created: createdConfig };
  }
  const endpointOutcome = await whenEndpointConfigVisible(
    () =>
      createUnlessExists('endpoint', () =>
        deps.sageMaker.send(new CreateEndpointCommand({ EndpointName: plan.endpointName, EndpointConfigName: configName, Tags: tags })),
      ),
    deps.configVisibility,
  ).catch((error: unknown) => {
    throw asCapacityUnavailable(error, plan, 'CreateEndpoint');
  });
  if (endpointOutcome === 'existing') {
    // Created between our Describe and our Create: ours only if it runs our config.
    const raced = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
    if (raced) assertCreatedByThisRollout(raced, configName);
  }
  deps.logger.info(`Endpoint ${endpointOutcome}`, { endpointConfigName: configName });
  return {
    requestedEndpointConfigName: configName,
    created: [...createdConfig, ...(endpointOutcome === 'created' ? [{ kind: 'endpoint' as const, name: plan.endpointName }] : [])],
  };
}

/** An endpoint found on a first deployment is ours only if it runs (or is being created on) this rollout's config. */
function assertCreatedByThisRollout(endpoint: DescribeEndpointOutput, configName: string): void {
  if (endpoint.EndpointConfigName === configName || endpoint.PendingDeploymentSummary?.EndpointConfigName === configName) return;
  throw new EndpointNotReady(
    `The rollout planned a first deployment, but ${endpointState(endpoint)}: it was created outside this rollout and is not touched.`,
  );
}

/** Blue and green side by side, blue keeping all the traffic. Returns the config requested and what was created. */
async function addGreenBesideBlue(plan: RolloutPlan, blue: BlueVariant, deps: ProvisionGreenDependencies): Promise<Provisioned> {
  const configName = plan.green.transitionEndpointConfigName;
  const blueConfig = await describeEndpointConfigIfExists(deps.sageMaker, blue.endpointConfigName);
  if (!blueConfig) {
    throw new EndpointNotReady(`Blue's endpoint config ${blue.endpointConfigName} no longer exists: blue cannot be copied.`);
  }
  const configOutcome = await createEndpointConfigUnlessExists(deps.sageMaker, transitionEndpointConfigInput(plan, blue, blueConfig));
  deps.logger.info(`Transition endpoint config ${configOutcome}`, { endpointConfigName: configName });
  const created: ResourceRef[] = configOutcome === 'created' ? [{ kind: 'endpoint-config', name: configName }] : [];

  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  if (!endpoint) throw new EndpointNotReady(`Endpoint ${plan.endpointName} no longer exists: green cannot be added beside blue.`);
  if (endpointUpdateAlreadyRequested(endpoint, blue.endpointConfigName, configName)) {
    deps.logger.info('UpdateEndpoint to the transition config already requested: not called again', { status: endpoint.EndpointStatus });
    return { requestedEndpointConfigName: configName, created };
  }
  if (endpoint.EndpointStatus !== 'InService' || endpoint.EndpointConfigName !== blue.endpointConfigName) {
    const pendingConfigName = endpoint.PendingDeploymentSummary?.EndpointConfigName;
    throw new EndpointNotReady(
      `Green cannot be added: ${endpointState(endpoint)}${pendingConfigName ? ` (updating to ${pendingConfigName})` : ''}, ` +
        `but the rollout planned from InService on ${blue.endpointConfigName}: the endpoint changed outside this rollout.`,
    );
  }
  const outcome = await requestEndpointUpdate(deps.sageMaker, plan.endpointName, configName, deps.configVisibility).catch((error: unknown) => {
    throw asCapacityUnavailable(error, plan, 'UpdateEndpoint');
  });
  deps.logger.info(`UpdateEndpoint to the transition config ${outcome}`, { endpointConfigName: configName });
  return { requestedEndpointConfigName: configName, created };
}

/**
 * SageMaker's refusal for quota (`ResourceLimitExceeded`) as CapacityUnavailable, naming green's instance type, so
 * the state machine tries the next instance type; any other error unchanged. Nothing was changed on the endpoint.
 */
export function asCapacityUnavailable(error: unknown, plan: RolloutPlan, operation: 'CreateEndpoint' | 'UpdateEndpoint'): unknown {
  if (!(error instanceof Error) || error.name !== 'ResourceLimitExceeded') return error;
  return new CapacityUnavailable(
    `${operation} refused green's ${plan.green.instanceCount} x ${plan.green.instanceType} on endpoint ${plan.endpointName}: ` +
      `ResourceLimitExceeded: ${error.message}`,
  );
}

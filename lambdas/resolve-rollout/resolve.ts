/**
 * Plans a rollout from an approval event: checks the event, the model package and the endpoint, and decides
 * names, blue (what serves now) and green (what will). Read-only: every rejection leaves AWS unchanged.
 */
import type {
  DescribeEndpointOutput,
  DescribeModelPackageOutput,
  ModelPackageContainerDefinition,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { findTarget, type DeploymentTarget, type RolloutConfig } from '../shared/config';
import { ConfigurationError, EndpointNotReady, ModelPackageInvalid, ModelPackageNotApproved, TargetNotConfigured } from '../shared/errors';
import { ModelPackageStateChangeEventSchema } from '../shared/events';
import type { StepLogger } from '../shared/logger';
import { definedOnly } from '../shared/objects';
import { deploymentIdFor, rolloutNames, type RolloutNames } from '../shared/names';
import { parseS3Uri } from '../shared/payloads';
import {
  parseInput,
  RolloutPlanSchema,
  type BlueVariant,
  type Container,
  type PayloadSource,
  type PlannedTrigger,
  type RolloutPlan,
} from '../shared/plan';
import {
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  describeModelPackageIfExists,
  failureReasonSuffix,
  findVariant,
  variantList,
} from '../shared/sagemaker';
import { compilePath } from '../shared/score-path';
import { trafficStepPercents } from '../shared/traffic';

export const STEP = 'resolve-rollout';

/** Longest `deployedBy`: a user name or an e-mail address (the operator CLI's --by limit). */
export const MAX_DEPLOYED_BY_CHARS = 128;

/**
 * The approval event as this step reads it: the event's `id` (the trigger's eventId) and, on an event the operator's
 * `deploy` command sent, the top-level `deployedBy` (SageMaker's events never carry it: it is beside `detail`, which
 * stays exactly as SageMaker sends it).
 */
export const ApprovalEventInputSchema = ModelPackageStateChangeEventSchema.extend({
  id: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
  deployedBy: z
    .string({ error: 'must be a string (the operator who ran deploy)' })
    .min(1, 'must not be empty')
    .max(MAX_DEPLOYED_BY_CHARS, `must be at most ${MAX_DEPLOYED_BY_CHARS} characters`)
    .optional(),
});

/** What the "Resolve rollout" state passes: the raw event and the execution's ARN. */
export const ResolveRolloutInputSchema = z.object({
  event: ApprovalEventInputSchema,
  executionArn: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
});
export type ResolveRolloutInput = z.infer<typeof ResolveRolloutInputSchema>;

export interface ResolveRolloutDependencies {
  readonly sageMaker: SageMakerClient;
  /** The deployment targets (from the function's environment). */
  readonly config: RolloutConfig;
  readonly logger: StepLogger;
}

/** The plan of the rollout `input` asks for, validated against RolloutPlanSchema. */
export async function resolveRollout(input: ResolveRolloutInput, deps: ResolveRolloutDependencies): Promise<RolloutPlan> {
  const { detail } = input.event;
  const packageArn = detail.ModelPackageArn;
  if (detail.ModelApprovalStatus !== 'Approved') {
    throw new ModelPackageNotApproved(
      `Model package ${packageArn} changed to ${detail.ModelApprovalStatus}, not Approved: nothing to deploy.`,
    );
  }
  const target = findTarget(deps.config, detail.ModelPackageGroupName);
  if (!target) {
    const configured = deps.config.targets.map((t) => t.modelPackageGroupName).join(', ');
    throw new TargetNotConfigured(
      `No deployment target is configured for model package group "${detail.ModelPackageGroupName}" (configured groups: ${configured}).`,
    );
  }

  const modelPackage = await describeModelPackageIfExists(deps.sageMaker, packageArn);
  if (!modelPackage) throw new ModelPackageInvalid(`Model package ${packageArn} does not exist.`);
  checkPackageMatchesEvent(modelPackage, input);
  if (modelPackage.ModelApprovalStatus !== 'Approved') {
    // Events can arrive late or twice: the package's current status decides, not the event's.
    throw new ModelPackageNotApproved(
      `Model package ${packageArn} is ${modelPackage.ModelApprovalStatus ?? 'without an approval status'} now, not Approved ` +
        `(the event is stale): nothing to deploy.`,
    );
  }
  const containers = deployableContainers(modelPackage, target);
  const payloads = payloadSource(modelPackage, target);
  checkResponsePaths(target);

  const deploymentId = deploymentIdFor(input.executionArn);
  const names = rolloutNames({
    modelPackageGroupName: detail.ModelPackageGroupName,
    modelPackageVersion: detail.ModelPackageVersion,
    endpointName: target.endpointName,
    deploymentId,
  });

  const endpoint = await describeEndpointIfExists(deps.sageMaker, target.endpointName);
  // Mid-change (usually another rollout): planned without blue; "Lock endpoint" queues it and it plans again later.
  const endpointBusy = endpoint ? busyReason(endpoint) : undefined;
  const blue = endpoint && !endpointBusy ? await blueOf(deps.sageMaker, endpoint, names) : undefined;
  if (endpointBusy) deps.logger.info('Endpoint busy: the rollout waits in the endpoint queue', { endpointBusy });
  else deps.logger.info(endpoint ? 'Endpoint found: green goes beside blue' : 'Endpoint not found: first deployment', { blue });

  const plan: RolloutPlan = {
    deploymentId,
    executionArn: input.executionArn,
    endpointName: target.endpointName,
    modelPackage: {
      arn: packageArn,
      groupName: detail.ModelPackageGroupName,
      version: detail.ModelPackageVersion,
      containers,
    },
    modelExecutionRoleArn: target.modelExecutionRoleArn,
    firstDeployment: endpoint === undefined,
    ...(blue ? { blue } : {}),
    ...(endpointBusy ? { endpointBusy } : {}),
    green: {
      variantName: names.greenVariantName,
      modelName: names.greenModelName,
      transitionEndpointConfigName: names.transitionEndpointConfigName,
      finalEndpointConfigName: names.finalEndpointConfigName,
      instanceType: target.green.instanceType,
      // Only when there are some: a plan without fallbacks stays as it was.
      ...(target.green.fallbackInstanceTypes.length > 0 ? { fallbackInstanceTypes: [...target.green.fallbackInstanceTypes] } : {}),
      instanceCount: target.green.initialInstanceCount,
      ...definedOnly({
        volumeSizeInGB: target.green.volumeSizeInGB,
        modelDataDownloadTimeoutInSeconds: target.green.modelDataDownloadTimeoutInSeconds,
        containerStartupHealthCheckTimeoutInSeconds: target.green.containerStartupHealthCheckTimeoutInSeconds,
      }),
    },
    policy: {
      bakeSeconds: target.policy.bakeSeconds,
      stepBakeSeconds: target.policy.traffic.stepBakeSeconds,
      rollbackWindowSeconds: target.policy.rollbackWindowSeconds,
      endpointUpdateTimeoutSeconds: target.policy.endpointUpdateTimeoutSeconds,
      pollIntervalSeconds: target.policy.pollIntervalSeconds,
      lockWaitSeconds: target.policy.queue.maxWaitSeconds,
      lockPollSeconds: target.policy.queue.pollSeconds,
    },
    traffic: { mode: target.policy.traffic.mode, stepPercents: trafficStepPercents(target.policy.traffic) },
    alarms: target.policy.alarms,
    payloads,
    validation: target.policy.validation,
    trigger: rolloutTrigger(input.event, modelPackage),
  };
  // The plan is the contract with the ASL and every later step: a plan that breaks it fails here, named.
  return parseInput(RolloutPlanSchema, plan, `${STEP}: planned rollout`);
}

/**
 * Who started the rollout: the operator named by `deployedBy` (an event the `deploy` command sent), else the Model
 * Registry approval by whoever last modified the package (the approval is that modification): its IAM identity,
 * else its Studio user profile; unknown when DescribeModelPackage names neither.
 */
export function rolloutTrigger(event: ResolveRolloutInput['event'], modelPackage: DescribeModelPackageOutput): PlannedTrigger {
  const eventId = event.id;
  if (event.deployedBy !== undefined) return { kind: 'OPERATOR_DEPLOY', by: event.deployedBy, ...definedOnly({ eventId }) };
  const modifiedBy = modelPackage.LastModifiedBy;
  const by = modifiedBy?.IamIdentity?.Arn || modifiedBy?.UserProfileName || undefined;
  return { kind: 'MODEL_REGISTRY_APPROVAL', ...definedOnly({ by, eventId }) };
}

/** The event names the package by ARN, group and version; names are built from the latter, so they must agree. */
function checkPackageMatchesEvent(modelPackage: DescribeModelPackageOutput, input: ResolveRolloutInput): void {
  const { detail } = input.event;
  const { ModelPackageGroupName: group, ModelPackageVersion: version } = modelPackage;
  if ((group !== undefined && group !== detail.ModelPackageGroupName) || (version !== undefined && version !== detail.ModelPackageVersion)) {
    throw new ModelPackageInvalid(
      `Model package ${detail.ModelPackageArn} is version ${version} of group "${group}", but the event says version ` +
        `${detail.ModelPackageVersion} of "${detail.ModelPackageGroupName}".`,
    );
  }
}

/**
 * Where smoke check, warm-up and validation get their requests, in order of preference: the golden dataset,
 * the policy's sample payload, the package's SamplePayloadUrl (only from a bucket the policy lists: the
 * functions are granted those buckets and no others). Content type: the sample payload's, else the package's
 * first SupportedContentTypes, else application/json.
 */
function payloadSource(modelPackage: DescribeModelPackageOutput, target: DeploymentTarget): PayloadSource {
  const { validation, samplePayload } = target.policy;
  const contentType = samplePayload?.contentType ?? modelPackage.InferenceSpecification?.SupportedContentTypes?.[0] ?? 'application/json';
  if (validation.datasetS3Uri) return { kind: 'dataset', s3Uri: validation.datasetS3Uri, contentType };
  if (samplePayload) return { kind: 'inline', body: samplePayload.body, contentType };

  const arn = modelPackage.ModelPackageArn;
  const url = modelPackage.SamplePayloadUrl;
  if (!url) {
    throw new ModelPackageInvalid(
      `Model package ${arn}: no payload for validation: set policy.validation.datasetS3Uri or policy.samplePayload ` +
        `(the package has no SamplePayloadUrl either).`,
    );
  }
  const location = parseS3Uri(url);
  if (!location) throw new ModelPackageInvalid(`Model package ${arn}: SamplePayloadUrl ${url} is not an S3 location.`);
  if (!validation.samplePayloadBuckets.includes(location.bucket)) {
    const allowed = validation.samplePayloadBuckets.length > 0 ? validation.samplePayloadBuckets.join(', ') : 'none';
    throw new ModelPackageInvalid(
      `Model package ${arn}: its SamplePayloadUrl ${url} is in bucket ${location.bucket}, which is not in ` +
        `policy.validation.samplePayloadBuckets (${allowed}): the rollout functions may not read it. Add the bucket there, ` +
        `or set policy.validation.datasetS3Uri or policy.samplePayload.`,
    );
  }
  return { kind: 'model-package-sample', s3Uri: `s3://${location.bucket}/${location.key}`, contentType };
}

/** The score and prediction paths are compiled once here, so a path beyond the supported subset fails before anything is created. */
function checkResponsePaths(target: DeploymentTarget): void {
  const { scorePath, predictionPath } = target.policy.validation;
  for (const [field, path] of [
    ['scorePath', scorePath],
    ['predictionPath', predictionPath],
  ] as const) {
    try {
      compilePath(path);
    } catch (error) {
      throw new ConfigurationError(`Target ${target.modelPackageGroupName}: policy.validation.${field}: ${(error as Error).message}`);
    }
  }
}

/** The package's containers as CreateModel will need them; anything this system cannot deploy is rejected here. */
function deployableContainers(modelPackage: DescribeModelPackageOutput, target: DeploymentTarget): Container[] {
  const arn = modelPackage.ModelPackageArn;
  const spec = modelPackage.InferenceSpecification;
  if (!spec) throw new ModelPackageInvalid(`Model package ${arn} has no InferenceSpecification: there is no container to deploy.`);
  const containers = spec.Containers ?? [];
  if (containers.length === 0) {
    throw new ModelPackageInvalid(`Model package ${arn} has no containers (InferenceSpecification.Containers is empty).`);
  }
  const supported = spec.SupportedRealtimeInferenceInstanceTypes ?? [];
  if (supported.length > 0 && !supported.includes(target.green.instanceType as (typeof supported)[number])) {
    throw new ModelPackageInvalid(
      `Model package ${arn} does not support instance type ${target.green.instanceType} for real-time inference ` +
        `(InferenceSpecification.SupportedRealtimeInferenceInstanceTypes: ${supported.join(', ')}).`,
    );
  }
  return containers.map((container, index) => toContainer(container, `InferenceSpecification.Containers[${index}]`, arn));
}

function toContainer(container: ModelPackageContainerDefinition, where: string, arn: string | undefined): Container {
  if (!container.Image) throw new ModelPackageInvalid(`Model package ${arn}: ${where}.Image is missing.`);
  if (!container.ModelDataUrl && container.ModelDataSource) {
    // Uncompressed model data (ModelDataSource) is not carried by the plan: deploying without it would
    // start a container with no model.
    throw new ModelPackageInvalid(`Model package ${arn}: ${where} gives its model data as ModelDataSource, which this system does not deploy (only ModelDataUrl).`);
  }
  return {
    image: container.Image,
    ...definedOnly({ modelDataUrl: container.ModelDataUrl, environment: container.Environment }),
  };
}

/** Blue: the endpoint's one live variant, as its endpoint config defines it and as it runs now. */
/** Statuses in which an endpoint is changing and will settle by itself: a rollout waits for them. */
const SETTLING_STATUSES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'RollingBack']);

/**
 * Why the endpoint cannot be planned from now but will be later (another rollout changes it): settling, or
 * InService with more than one variant (green beside blue). Undefined when it can be planned or must be refused
 * (Failed, SystemUpdating, OutOfService, Deleting: blueOf names why).
 */
export function busyReason(endpoint: DescribeEndpointOutput): string | undefined {
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (SETTLING_STATUSES.has(status)) return `endpoint ${endpoint.EndpointName} is ${status}`;
  const variants = endpoint.ProductionVariants ?? [];
  if (status === 'InService' && variants.length > 1) {
    return `endpoint ${endpoint.EndpointName} serves ${variants.length} variants (${variantList(endpoint)}): another rollout is in progress`;
  }
  return undefined;
}

async function blueOf(sageMaker: SageMakerClient, endpoint: DescribeEndpointOutput, names: RolloutNames): Promise<BlueVariant> {
  const endpointName = endpoint.EndpointName;
  if (endpoint.EndpointStatus !== 'InService') {
    throw new EndpointNotReady(
      `Endpoint ${endpointName} is ${endpoint.EndpointStatus}${failureReasonSuffix(endpoint)}, not InService: a rollout starts from an InService endpoint.`,
    );
  }
  const liveVariants = endpoint.ProductionVariants ?? [];
  if (liveVariants.length !== 1) {
    throw new EndpointNotReady(
      `Endpoint ${endpointName} has ${liveVariants.length} production variants (${variantList(endpoint)}): a rollout starts from one live variant.`,
    );
  }
  const live = liveVariants[0]!;
  const variantName = live.VariantName ?? '';
  if (variantName === names.greenVariantName) {
    throw new EndpointNotReady(`Endpoint ${endpointName} already serves a variant named ${variantName}, the name planned for green.`);
  }

  const endpointConfigName = endpoint.EndpointConfigName ?? '';
  const endpointConfig = await describeEndpointConfigIfExists(sageMaker, endpointConfigName);
  if (!endpointConfig) {
    throw new EndpointNotReady(`Endpoint ${endpointName} runs endpoint config ${endpointConfigName}, which no longer exists: blue cannot be copied.`);
  }
  const unsupported = [
    endpointConfig.AsyncInferenceConfig ? 'asynchronous inference (AsyncInferenceConfig)' : undefined,
    (endpointConfig.ShadowProductionVariants ?? []).length > 0 ? 'shadow variants (ShadowProductionVariants)' : undefined,
    (endpointConfig.ProductionVariants ?? []).some((v) => v.ServerlessConfig) ? 'a serverless variant (ServerlessConfig)' : undefined,
  ].filter((feature): feature is string => feature !== undefined);
  if (unsupported.length > 0) {
    throw new EndpointNotReady(
      `Endpoint ${endpointName}'s config ${endpointConfigName} uses ${unsupported.join(' and ')}, which blue/green rollouts do not support.`,
    );
  }
  const configured = findVariant(endpointConfig.ProductionVariants, variantName);
  if (!configured?.ModelName) {
    throw new EndpointNotReady(
      `Endpoint ${endpointName}'s config ${endpointConfigName} has no model for its live variant ${variantName}: blue cannot be copied.`,
    );
  }
  return {
    variantName,
    modelName: configured.ModelName,
    endpointConfigName,
    ...definedOnly({ instanceType: configured.InstanceType }),
    // Autoscaling may have moved blue away from its config's initial count and weight: the live values count.
    instanceCount: live.CurrentInstanceCount ?? live.DesiredInstanceCount ?? configured.InitialInstanceCount ?? 1,
    weight: live.CurrentWeight ?? live.DesiredWeight ?? configured.InitialVariantWeight ?? 1,
  };
}

/**
 * Input schemas of the simulated SageMaker operations, written from the SageMaker API model: required
 * members, length limits, patterns, ranges and enums. Members the simulation does not model are
 * accepted as opaque values (`z.unknown()`) so AWS-valid requests are not rejected for carrying them;
 * the operations reject the few whose behaviour would matter (see sagemaker.ts).
 */
import { z } from 'zod';

/** Endpoint, endpoint config, variant, container host and model package group names. */
export const RESOURCE_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const MODEL_NAME_PATTERN = /^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const TAG_PATTERN = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const ROLE_ARN_PATTERN = /^arn:aws[a-z\-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const URL_PATTERN = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const IMAGE_PATTERN = /^[\S]+$/;
const ENVIRONMENT_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VERSIONED_ARN_OR_NAME_PATTERN =
  /^(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\/[0-9]{1,9})?$/;
const SAGEMAKER_ARN_PATTERN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:.+$/;
/** The API model enumerates instance types; a shape check keeps the simulation free of that list. */
const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9-]+\.[a-z0-9]+$/;

const resourceName = z.string().max(63).regex(RESOURCE_NAME_PATTERN);
const modelName = z.string().max(63).regex(MODEL_NAME_PATTERN);

const tagKey = z.string().min(1).max(128).regex(TAG_PATTERN);
const tag = z.object({
  Key: tagKey,
  Value: z.string().max(256).regex(TAG_PATTERN),
});
const tagList = z.array(tag).max(50);
export type ParsedTag = z.output<typeof tag>;

const environment = z.record(z.string(), z.string().max(1024)).superRefine((variables, context) => {
  const keys = Object.keys(variables);
  if (keys.length > 100) context.addIssue({ code: 'custom', message: 'Member must have length less than or equal to 100' });
  for (const key of keys) {
    if (key.length > 1024 || !ENVIRONMENT_KEY_PATTERN.test(key)) {
      context.addIssue({
        code: 'custom',
        path: [key],
        message: `Map key must satisfy constraint: [Member must have length less than or equal to 1024, Member must satisfy regular expression pattern: ${ENVIRONMENT_KEY_PATTERN.source}]`,
      });
    }
  }
});

const containerDefinition = z.object({
  ContainerHostname: resourceName.optional(),
  Image: z.string().max(255).regex(IMAGE_PATTERN).optional(),
  ImageConfig: z.unknown().optional(),
  Mode: z.enum(['SingleModel', 'MultiModel']).optional(),
  ModelDataUrl: z.string().max(1024).regex(URL_PATTERN).optional(),
  ModelDataSource: z.unknown().optional(),
  AdditionalModelDataSources: z.unknown().optional(),
  Environment: environment.optional(),
  ModelPackageName: z.string().min(1).max(176).regex(VERSIONED_ARN_OR_NAME_PATTERN).optional(),
  InferenceSpecificationName: resourceName.optional(),
  MultiModelConfig: z.unknown().optional(),
});
export type ParsedContainerDefinition = z.output<typeof containerDefinition>;

export const createModelInput = z.object({
  ModelName: modelName,
  PrimaryContainer: containerDefinition.optional(),
  Containers: z.array(containerDefinition).max(15).optional(),
  InferenceExecutionConfig: z.object({ Mode: z.enum(['Serial', 'Direct']) }).optional(),
  // Optional in the current API model (some model types run without a role); this project treats it as
  // required, as every real-time endpoint model it deploys needs one to pull its image and model data.
  ExecutionRoleArn: z.string().min(20).max(2048).regex(ROLE_ARN_PATTERN),
  Tags: tagList.optional(),
  VpcConfig: z.unknown().optional(),
  EnableNetworkIsolation: z.boolean().optional(),
});

export const modelNameInput = z.object({ ModelName: modelName });

const productionVariant = z.object({
  VariantName: resourceName,
  // The API model makes these optional for inference-component and serverless endpoints, which the
  // simulation does not model: for instance-based variants AWS requires them.
  ModelName: modelName,
  InitialInstanceCount: z.int().min(1),
  InstanceType: z.string().regex(INSTANCE_TYPE_PATTERN),
  InitialVariantWeight: z.number().min(0).optional(),
  AcceleratorType: z.string().optional(),
  CoreDumpConfig: z.unknown().optional(),
  ServerlessConfig: z.unknown().optional(),
  VolumeSizeInGB: z.int().min(1).max(512).optional(),
  ModelDataDownloadTimeoutInSeconds: z.int().min(60).max(3600).optional(),
  ContainerStartupHealthCheckTimeoutInSeconds: z.int().min(60).max(3600).optional(),
  EnableSSMAccess: z.boolean().optional(),
  ManagedInstanceScaling: z.unknown().optional(),
  RoutingConfig: z.object({ RoutingStrategy: z.enum(['LEAST_OUTSTANDING_REQUESTS', 'RANDOM']) }).optional(),
  InferenceAmiVersion: z.string().optional(),
});
export type ParsedProductionVariant = z.output<typeof productionVariant>;

export const createEndpointConfigInput = z.object({
  EndpointConfigName: resourceName,
  ProductionVariants: z.array(productionVariant).min(1).max(10),
  DataCaptureConfig: z.unknown().optional(),
  Tags: tagList.optional(),
  KmsKeyId: z.string().max(2048).regex(/^[a-zA-Z0-9:/_-]*$/).optional(),
  AsyncInferenceConfig: z.unknown().optional(),
  ExplainerConfig: z.unknown().optional(),
  ShadowProductionVariants: z.unknown().optional(),
  ExecutionRoleArn: z.string().min(20).max(2048).regex(ROLE_ARN_PATTERN).optional(),
  VpcConfig: z.unknown().optional(),
  EnableNetworkIsolation: z.boolean().optional(),
});

export const endpointConfigNameInput = z.object({ EndpointConfigName: resourceName });

export const createEndpointInput = z.object({
  EndpointName: resourceName,
  EndpointConfigName: resourceName,
  DeploymentConfig: z.unknown().optional(),
  Tags: tagList.optional(),
});

export const endpointNameInput = z.object({ EndpointName: resourceName });

export const updateEndpointInput = z.object({
  EndpointName: resourceName,
  EndpointConfigName: resourceName,
  RetainAllVariantProperties: z.boolean().optional(),
  ExcludeRetainedVariantProperties: z
    .array(z.object({ VariantPropertyType: z.enum(['DesiredInstanceCount', 'DesiredWeight', 'DataCaptureConfig']) }))
    .max(3)
    .optional(),
  DeploymentConfig: z.unknown().optional(),
  RetainDeploymentConfig: z.boolean().optional(),
});

export const updateEndpointWeightsAndCapacitiesInput = z.object({
  EndpointName: resourceName,
  DesiredWeightsAndCapacities: z
    .array(
      z.object({
        VariantName: resourceName,
        DesiredWeight: z.number().min(0).optional(),
        DesiredInstanceCount: z.int().min(0).optional(),
        ServerlessUpdateConfig: z.unknown().optional(),
      }),
    )
    .min(1),
});

export const describeModelPackageInput = z.object({
  ModelPackageName: z.string().min(1).max(176).regex(VERSIONED_ARN_OR_NAME_PATTERN),
});

const resourceArn = z.string().max(256).regex(SAGEMAKER_ARN_PATTERN);

export const listTagsInput = z.object({
  ResourceArn: resourceArn,
  NextToken: z.string().max(8192).optional(),
  MaxResults: z.int().min(50).optional(),
});

export const addTagsInput = z.object({ ResourceArn: resourceArn, Tags: tagList });

export const deleteTagsInput = z.object({ ResourceArn: resourceArn, TagKeys: z.array(tagKey).min(1).max(50) });


/** ModelPackageArn (UpdateModelPackage): a package's full ARN, versioned or not. */
const MODEL_PACKAGE_ARN_PATTERN = /^arn:aws(-cn|-us-gov|-iso-f)?:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package\/[\S]{1,2048}$/;
/**
 * CustomerMetadataKey/Value patterns as the API model writes them (and AWS prints them in its messages). The `${1,n}`
 * quantifies the end anchor, which Java accepts and JavaScript does not: it matches as CUSTOMER_METADATA_CHARACTERS.
 */
const CUSTOMER_METADATA_KEY_MODEL_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}$';
const CUSTOMER_METADATA_VALUE_MODEL_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,256}$';
const CUSTOMER_METADATA_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** CustomerMetadataMap: 1 to 50 entries per request. */
export const MAX_CUSTOMER_METADATA_PROPERTIES = 50;

/** The constraint texts AWS lists for a CustomerMetadataKey or Value, in its order. */
function customerMetadataConstraints(maxLength: number, modelPattern: string): string {
  return `[Member must have length less than or equal to ${maxLength}, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${modelPattern}]`;
}

function isCustomerMetadataString(value: string, maxLength: number): boolean {
  return value.length >= 1 && value.length <= maxLength && CUSTOMER_METADATA_CHARACTERS.test(value);
}

const customerMetadataKey = z
  .string()
  .min(1)
  .max(128)
  .refine((value) => CUSTOMER_METADATA_CHARACTERS.test(value), {
    message: `Member must satisfy regular expression pattern: ${CUSTOMER_METADATA_KEY_MODEL_PATTERN}`,
  });

const customerMetadataMap = z.record(z.string(), z.string()).superRefine((properties, context) => {
  const entries = Object.entries(properties);
  if (entries.length < 1) context.addIssue({ code: 'custom', message: 'Member must have length greater than or equal to 1' });
  if (entries.length > MAX_CUSTOMER_METADATA_PROPERTIES) {
    context.addIssue({ code: 'custom', message: `Member must have length less than or equal to ${MAX_CUSTOMER_METADATA_PROPERTIES}` });
  }
  // AWS reports a map's bad keys or values once, on the map, listing the member's constraints.
  if (entries.some(([key]) => !isCustomerMetadataString(key, 128))) {
    context.addIssue({ code: 'custom', message: `Map keys must satisfy constraint: ${customerMetadataConstraints(128, CUSTOMER_METADATA_KEY_MODEL_PATTERN)}` });
  }
  if (entries.some(([, value]) => !isCustomerMetadataString(value, 256))) {
    context.addIssue({ code: 'custom', message: `Map values must satisfy constraint: ${customerMetadataConstraints(256, CUSTOMER_METADATA_VALUE_MODEL_PATTERN)}` });
  }
});

export const updateModelPackageInput = z.object({
  ModelPackageArn: z.string().min(1).max(2048).regex(MODEL_PACKAGE_ARN_PATTERN),
  ModelApprovalStatus: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).optional(),
  ApprovalDescription: z.string().max(1024).optional(),
  CustomerMetadataProperties: customerMetadataMap.optional(),
  CustomerMetadataPropertiesToRemove: z.array(customerMetadataKey).optional(),
  AdditionalInferenceSpecificationsToAdd: z.array(z.unknown()).min(1).max(15).optional(),
  InferenceSpecification: z.unknown().optional(),
  SourceUri: z.string().max(1024).optional(),
  ModelCard: z.unknown().optional(),
  ModelLifeCycle: z.unknown().optional(),
  ClientToken: z.string().min(1).max(36).regex(/^[a-zA-Z0-9-]+$/).optional(),
});

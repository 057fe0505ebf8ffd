/**
 * Realistic inputs and SageMaker responses for the handler tests: one target (fraud-detector to
 * fraud-detector-prod on ml.g5.xlarge), a plan resolved from version 7, blue = version 6 of an earlier rollout.
 */
import {
  SageMakerServiceException,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type EndpointStatus,
  type ProductionVariant,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
  type GetObjectCommandInput,
  type PutObjectCommandInput,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';
import { sdkStreamMixin } from '@smithy/core/serde';
import { AlarmPolicySchema, TARGETS_ENV, ValidationPolicySchema, type RolloutConfigInput, type ValidationPolicy } from '../../../lambdas/shared/config';
import { deploymentIdFor, rolloutNames } from '../../../lambdas/shared/names';
import type { BlueVariant, PayloadSource, RolloutPlan } from '../../../lambdas/shared/plan';
import { rolloutTags } from '../../../lambdas/shared/tags';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const sageMakerArn = (type: string, name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${type}/${name.toLowerCase()}`;

export const GROUP = 'fraud-detector';
export const VERSION = 7;
export const ENDPOINT = 'fraud-detector-prod';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/fraud-detector-sagemaker-execution`;
export const PACKAGE_ARN = sageMakerArn('model-package', `${GROUP}/${VERSION}`);
export const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:sagemaker-blue-green-rollout:0f1e2d3c-approval-7`;
export const DEPLOYMENT_ID = deploymentIdFor(EXECUTION_ARN);
export const NAMES = rolloutNames({ modelPackageGroupName: GROUP, modelPackageVersion: VERSION, endpointName: ENDPOINT, deploymentId: DEPLOYMENT_ID });
export const IMAGE = `763104351884.dkr.ecr.${REGION}.amazonaws.com/pytorch-inference:2.3.0-gpu-py311`;
export const MODEL_DATA_URL = `s3://fraud-models-${ACCOUNT}/fraud-detector/7/model.tar.gz`;

/** The policy's sample payload. */
export const SAMPLE_BODY = '{"features": [0.31, 1.2, 5.0, 0.0]}';

/** The configuration as a user writes it (defaults not applied). */
export const TARGET_CONFIG: RolloutConfigInput = {
  targets: [
    {
      modelPackageGroupName: GROUP,
      endpointName: ENDPOINT,
      modelExecutionRoleArn: ROLE_ARN,
      green: {
        instanceType: 'ml.g5.xlarge',
        initialInstanceCount: 2,
        volumeSizeInGB: 100,
        modelDataDownloadTimeoutInSeconds: 1200,
        containerStartupHealthCheckTimeoutInSeconds: 600,
      },
      policy: {
        bakeSeconds: 3600,
        endpointUpdateTimeoutSeconds: 3600,
        pollIntervalSeconds: 30,
        samplePayload: { body: SAMPLE_BODY, contentType: 'application/json' },
      },
    },
  ],
};

/** Puts `config` where the handlers read it (the function's environment). */
export function useTargets(config: RolloutConfigInput = TARGET_CONFIG): void {
  process.env[TARGETS_ENV] = JSON.stringify(config);
}

/** Blue: version 6, deployed by an earlier rollout, autoscaled to 3 instances. */
export const BLUE: BlueVariant = {
  variantName: 'v6-0a1b2c3d',
  modelName: 'fraud-detector-v6-0a1b2c3d',
  endpointConfigName: 'fraud-detector-prod-v6-0a1b2c3d',
  instanceType: 'ml.g5.xlarge',
  instanceCount: 3,
  weight: 1,
};

/** The inline payload source resolve-rollout plans from TARGET_CONFIG's samplePayload. */
export const INLINE_PAYLOADS: PayloadSource = { kind: 'inline', body: SAMPLE_BODY, contentType: 'application/json' };
export const DATASET_URI = 's3://fraud-detector-ml-artifacts/golden/fraud-detector.jsonl';
export const DATASET_PAYLOADS: PayloadSource = { kind: 'dataset', s3Uri: DATASET_URI, contentType: 'application/json' };
/** The artifacts bucket the validation steps write to (env ARTIFACTS_BUCKET). */
export const ARTIFACTS_BUCKET = `sagemaker-blue-green-artifacts-${ACCOUNT}`;

/** The validation policy with its defaults, changed by `overrides` (a partial policy, as a user writes it). */
export function validationPolicy(overrides: Record<string, unknown> = {}): ValidationPolicy {
  return ValidationPolicySchema.parse(overrides);
}

/**
 * A GetObject Body as the SDK returns it in Node (a Readable with the SDK's stream mixin), delivered in chunks
 * of `chunkSize` bytes so readers are tested across chunk boundaries.
 */
export function s3Body(content: string | Uint8Array, chunkSize = 64): ReturnType<typeof sdkStreamMixin> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) chunks.push(bytes.subarray(offset, offset + chunkSize));
  return sdkStreamMixin(Readable.from(chunks));
}

/** A plan as resolve-rollout makes it for an endpoint that serves blue. */
export function makePlan(overrides: Partial<RolloutPlan> = {}): RolloutPlan {
  return {
    deploymentId: DEPLOYMENT_ID,
    executionArn: EXECUTION_ARN,
    endpointName: ENDPOINT,
    modelPackage: {
      arn: PACKAGE_ARN,
      groupName: GROUP,
      version: VERSION,
      containers: [{ image: IMAGE, modelDataUrl: MODEL_DATA_URL, environment: { SAGEMAKER_PROGRAM: 'inference.py' } }],
    },
    modelExecutionRoleArn: ROLE_ARN,
    firstDeployment: false,
    blue: BLUE,
    green: {
      variantName: NAMES.greenVariantName,
      modelName: NAMES.greenModelName,
      transitionEndpointConfigName: NAMES.transitionEndpointConfigName,
      finalEndpointConfigName: NAMES.finalEndpointConfigName,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      volumeSizeInGB: 100,
      modelDataDownloadTimeoutInSeconds: 1200,
      containerStartupHealthCheckTimeoutInSeconds: 600,
    },
    policy: { bakeSeconds: 3600, stepBakeSeconds: 300, rollbackWindowSeconds: 600, endpointUpdateTimeoutSeconds: 3600, pollIntervalSeconds: 30 },
    traffic: { mode: 'CANARY', stepPercents: [10, 100] },
    alarms: AlarmPolicySchema.parse({}),
    payloads: INLINE_PAYLOADS,
    validation: validationPolicy(),
    ...overrides,
  };
}

/** A plan for an endpoint that does not exist yet. */
export function makeFirstDeploymentPlan(): RolloutPlan {
  const { blue: _blue, ...plan } = makePlan({ firstDeployment: true });
  return plan;
}

/** A SageMaker ValidationException as the SDK raises it (SageMaker's only signal for missing/existing/busy). */
export function validationException(message: string): SageMakerServiceException {
  return new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

/** Another SDK error (what the ASL's Retry matches by name). */
export function serviceError(name: string, message = `${name} (simulated)`): SageMakerServiceException {
  return new SageMakerServiceException({ name, $fault: 'server', message, $metadata: { httpStatusCode: 500 } });
}

export const errors = {
  endpointNotFound: (name = ENDPOINT) => validationException(`Could not find endpoint "${sageMakerArn('endpoint', name)}".`),
  endpointConfigNotFound: (name: string) =>
    validationException(`Could not find endpoint configuration "${sageMakerArn('endpoint-config', name)}".`),
  modelNotFound: (name: string) => validationException(`Could not find model "${sageMakerArn('model', name)}".`),
  modelPackageNotFound: (arn = PACKAGE_ARN) => validationException(`ModelPackage ${arn} does not exist.`),
  modelExists: (name: string) => validationException(`Cannot create already existing model "${sageMakerArn('model', name)}".`),
  endpointConfigExists: (name: string) =>
    validationException(`Cannot create already existing endpoint configuration "${sageMakerArn('endpoint-config', name)}".`),
  endpointExists: (name = ENDPOINT) => validationException(`Cannot create already existing endpoint "${sageMakerArn('endpoint', name)}".`),
  endpointBusy: (name = ENDPOINT) => validationException(`Cannot update in-progress endpoint "${sageMakerArn('endpoint', name)}".`),
};

export interface LiveVariant {
  readonly name: string;
  readonly currentWeight?: number;
  readonly desiredWeight?: number;
  readonly currentInstanceCount?: number;
  readonly desiredInstanceCount?: number;
}

/** A DescribeEndpoint response. Weights and counts default to settled values (desired = current). */
export function describedEndpoint(options: {
  readonly status?: EndpointStatus;
  readonly configName: string;
  readonly variants: readonly LiveVariant[];
  readonly failureReason?: string;
  readonly pendingConfigName?: string;
  readonly name?: string;
}): DescribeEndpointOutput {
  const name = options.name ?? ENDPOINT;
  return {
    EndpointName: name,
    EndpointArn: sageMakerArn('endpoint', name),
    EndpointConfigName: options.configName,
    EndpointStatus: options.status ?? 'InService',
    ProductionVariants: options.variants.map((v) => ({
      VariantName: v.name,
      CurrentWeight: v.currentWeight ?? 1,
      DesiredWeight: v.desiredWeight ?? v.currentWeight ?? 1,
      CurrentInstanceCount: v.currentInstanceCount ?? 1,
      DesiredInstanceCount: v.desiredInstanceCount ?? v.currentInstanceCount ?? 1,
    })),
    ...(options.failureReason ? { FailureReason: options.failureReason } : {}),
    ...(options.pendingConfigName ? { PendingDeploymentSummary: { EndpointConfigName: options.pendingConfigName } } : {}),
    CreationTime: new Date('2025-01-10T08:00:00Z'),
    LastModifiedTime: new Date('2025-03-01T09:30:00Z'),
  };
}

/** Blue's variant in its endpoint config: every field a GPU deployment may set. */
export const BLUE_CONFIG_VARIANT: ProductionVariant = {
  VariantName: BLUE.variantName,
  ModelName: BLUE.modelName,
  InstanceType: 'ml.g5.xlarge',
  InitialInstanceCount: 2,
  InitialVariantWeight: 1,
  VolumeSizeInGB: 100,
  ModelDataDownloadTimeoutInSeconds: 1200,
  ContainerStartupHealthCheckTimeoutInSeconds: 600,
  RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
  InferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-2',
};

export const DATA_CAPTURE_CONFIG = {
  EnableCapture: true,
  InitialSamplingPercentage: 20,
  DestinationS3Uri: `s3://fraud-capture-${ACCOUNT}/fraud-detector-prod`,
  CaptureOptions: [{ CaptureMode: 'Input' as const }, { CaptureMode: 'Output' as const }],
};
export const KMS_KEY_ID = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** A DescribeEndpointConfig response. */
export function describedEndpointConfig(
  name: string,
  variants: ProductionVariant[],
  extra: Partial<DescribeEndpointConfigOutput> = {},
): DescribeEndpointConfigOutput {
  return {
    EndpointConfigName: name,
    EndpointConfigArn: sageMakerArn('endpoint-config', name),
    ProductionVariants: variants,
    CreationTime: new Date('2025-01-10T07:55:00Z'),
    ...extra,
  };
}

/** Blue's endpoint config as an earlier rollout created it (with data capture and a KMS key). */
export const BLUE_CONFIG = describedEndpointConfig(BLUE.endpointConfigName, [BLUE_CONFIG_VARIANT], {
  DataCaptureConfig: DATA_CAPTURE_CONFIG,
  KmsKeyId: KMS_KEY_ID,
});

/** Tags of a resource this system created for `deploymentId`. */
export function managedTags(deploymentId = DEPLOYMENT_ID): Tag[] {
  return rolloutTags(deploymentId, PACKAGE_ARN);
}

/** The "SageMaker Model Package State Change" event EventBridge delivers for an approval. */
export function approvalEvent(detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '4b5a9a3e-8d0c-4f42-9c1a-2f0f6d3b7e11',
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: ACCOUNT,
    time: '2025-03-01T10:00:00Z',
    region: REGION,
    resources: [PACKAGE_ARN],
    detail: {
      ModelPackageGroupName: GROUP,
      ModelPackageVersion: VERSION,
      ModelPackageArn: PACKAGE_ARN,
      ModelApprovalStatus: 'Approved',
      ModelPackageStatus: 'Completed',
      CreationTime: 1740822000000,
      ...detail,
    },
  };
}

/** What `mockClient(S3Client)` returns. */
export type S3Mock = AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>;

/** An S3 error as the SDK raises it (NoSuchBucket, AccessDenied, SlowDown, ...). */
export function s3Error(name: string, httpStatusCode: number, message = `${name} (simulated)`): S3ServiceException {
  return new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode } });
}

/**
 * Answers GetObject from `objects` (by s3:// URI) as S3 does: the whole object, or the inclusive byte range a
 * `Range: bytes=a-b` header asks for; a missing key is NoSuchKey. PutObject stores the body in `objects`, so a
 * later GetObject reads what was written. Bodies stream in chunks of `chunkSize` bytes.
 */
export function serveObjects(s3: S3Mock, objects: Map<string, Uint8Array | string>, chunkSize = 64): void {
  s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const content = objects.get(`s3://${input.Bucket}/${input.Key}`);
    if (content === undefined) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    const bytes = Buffer.from(content);
    const range = input.Range ? /^bytes=(\d+)-(\d+)$/.exec(input.Range) : null;
    if (input.Range && !range) throw new Error(`unexpected Range header ${input.Range}`);
    const body = range ? bytes.subarray(Number(range[1]), Number(range[2]) + 1) : bytes;
    return { Body: s3Body(body, chunkSize), ETag: '"0123456789abcdef"', ContentLength: body.length };
  });
  s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
    objects.set(`s3://${input.Bucket}/${input.Key}`, typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body as Uint8Array));
    return { ETag: '"fedcba9876543210"' };
  });
}

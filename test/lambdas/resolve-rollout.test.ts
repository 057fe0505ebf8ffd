import 'aws-sdk-client-mock-jest';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  type DescribeModelPackageOutput,
} from '@aws-sdk/client-sagemaker';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/resolve-rollout';
import { AlarmPolicySchema, TARGETS_ENV, type RolloutConfigInput } from '../../lambdas/shared/config';
import { deploymentIdFor, rolloutNames } from '../../lambdas/shared/names';
import { RolloutPlanSchema } from '../../lambdas/shared/plan';
import {
  approvalEvent,
  BLUE,
  BLUE_CONFIG,
  BLUE_CONFIG_VARIANT,
  DATASET_URI,
  describedEndpoint,
  describedEndpointConfig,
  ENDPOINT,
  errors,
  EXECUTION_ARN,
  GROUP,
  IMAGE,
  MODEL_DATA_URL,
  PACKAGE_ARN,
  ROLE_ARN,
  SAMPLE_BODY,
  serviceError,
  TARGET_CONFIG,
  useTargets,
  validationPolicy,
  VERSION,
} from './support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);

/** TARGET_CONFIG with its first target's policy changed: `samplePayload: undefined` removes it. */
function targetsWithPolicy(policy: Record<string, unknown>): RolloutConfigInput {
  const config = structuredClone(TARGET_CONFIG);
  const target = config.targets[0]!;
  const merged: Record<string, unknown> = { ...target.policy, ...policy };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  target.policy = merged as typeof target.policy;
  return config;
}

function modelPackage(overrides: Partial<DescribeModelPackageOutput> = {}): DescribeModelPackageOutput {
  return {
    ModelPackageName: GROUP,
    ModelPackageGroupName: GROUP,
    ModelPackageVersion: VERSION,
    ModelPackageArn: PACKAGE_ARN,
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    ModelApprovalStatus: 'Approved',
    CreationTime: new Date('2025-03-01T09:00:00Z'),
    InferenceSpecification: {
      Containers: [{ Image: IMAGE, ModelDataUrl: MODEL_DATA_URL, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } }],
      SupportedContentTypes: ['text/csv', 'application/json'],
      SupportedResponseMIMETypes: ['application/json'],
      SupportedRealtimeInferenceInstanceTypes: ['ml.g5.xlarge', 'ml.g5.2xlarge'],
    },
    ...overrides,
  };
}

/** Blue as it runs: autoscaled from its config's 2 instances to 3. */
const BLUE_ENDPOINT = describedEndpoint({
  configName: BLUE.endpointConfigName,
  variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }],
});

const input = (event: unknown = approvalEvent()) => ({ event, executionArn: EXECUTION_ARN });

/** Names of the commands sent, in order. */
const sentCommands = () => sageMaker.calls().map((call) => call.args[0].constructor.name);

beforeEach(() => {
  sageMaker.reset();
  s3.reset();
  useTargets();
  sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage());
  sageMaker.on(DescribeEndpointCommand).resolves(BLUE_ENDPOINT);
  sageMaker.on(DescribeEndpointConfigCommand).resolves(BLUE_CONFIG);
});

describe('resolve-rollout: plans', () => {
  test('a rollout beside blue, with blue as it runs now, using only read calls', async () => {
    const plan = await handler(input());

    const deploymentId = deploymentIdFor(EXECUTION_ARN);
    const names = rolloutNames({ modelPackageGroupName: GROUP, modelPackageVersion: VERSION, endpointName: ENDPOINT, deploymentId });
    expect(plan).toEqual({
      deploymentId,
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
      blue: {
        variantName: BLUE.variantName,
        modelName: BLUE_CONFIG_VARIANT.ModelName,
        endpointConfigName: BLUE.endpointConfigName,
        instanceType: 'ml.g5.xlarge',
        instanceCount: 3,
        weight: 1,
      },
      green: {
        variantName: names.greenVariantName,
        modelName: names.greenModelName,
        transitionEndpointConfigName: names.transitionEndpointConfigName,
        finalEndpointConfigName: names.finalEndpointConfigName,
        instanceType: 'ml.g5.xlarge',
        instanceCount: 2,
        volumeSizeInGB: 100,
        modelDataDownloadTimeoutInSeconds: 1200,
        containerStartupHealthCheckTimeoutInSeconds: 600,
      },
      policy: {
        bakeSeconds: 3600,
        stepBakeSeconds: 300,
        rollbackWindowSeconds: 600,
        endpointUpdateTimeoutSeconds: 3600,
        pollIntervalSeconds: 30,
        // The queue's defaults: wait up to 3 hours for the endpoint's lock, trying every minute.
        lockWaitSeconds: 10_800,
        lockPollSeconds: 60,
      },
      // The target's defaults: all at once, and the default alarm policy.
      traffic: { mode: 'ALL_AT_ONCE', stepPercents: [100] },
      alarms: AlarmPolicySchema.parse({}),
      payloads: { kind: 'inline', body: SAMPLE_BODY, contentType: 'application/json' },
      validation: validationPolicy(),
      // The package has no LastModifiedBy here: who approved is unknown.
      trigger: { kind: 'MODEL_REGISTRY_APPROVAL', eventId: approvalEvent().id },
    });
    expect(RolloutPlanSchema.safeParse(plan).success).toBe(true);
    expect(sageMaker).toHaveReceivedCommandWith(DescribeModelPackageCommand, { ModelPackageName: PACKAGE_ARN });
    expect(sageMaker).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT });
    expect(sageMaker).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: BLUE.endpointConfigName });
    expect(sentCommands().every((name) => name.startsWith('Describe'))).toBe(true);
    expect(s3.calls()).toHaveLength(0);
  });

  test("the target's queue policy is carried in the plan for \"Lock endpoint\"", async () => {
    useTargets(targetsWithPolicy({ queue: { maxWaitSeconds: 0, pollSeconds: 15 } }));
    const plan = await handler(input());
    expect(plan.policy).toMatchObject({ lockWaitSeconds: 0, lockPollSeconds: 15 });
  });

  test('a first deployment when the endpoint does not exist', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    const plan = await handler(input());
    expect(plan.firstDeployment).toBe(true);
    expect(plan.blue).toBeUndefined();
    expect(sageMaker).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
  });

  test('blue\'s live count and weight win over the desired ones (what serves now is what a rollback restores)', async () => {
    const endpoint = describedEndpoint({
      configName: BLUE.endpointConfigName,
      variants: [{ name: BLUE.variantName, currentInstanceCount: 3, desiredInstanceCount: 5, currentWeight: 1, desiredWeight: 2 }],
    });
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    expect((await handler(input())).blue).toMatchObject({ instanceCount: 3, weight: 1 });
  });

  test('blue\'s count falls back to DesiredInstanceCount and its weight to DesiredWeight', async () => {
    const endpoint = describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] });
    const variant = endpoint.ProductionVariants![0]!;
    sageMaker.on(DescribeEndpointCommand).resolves({
      ...endpoint,
      ProductionVariants: [{ VariantName: variant.VariantName, DesiredInstanceCount: 4, DesiredWeight: 2 }],
    });
    const plan = await handler(input());
    expect(plan.blue).toMatchObject({ instanceCount: 4, weight: 2 });
  });

  test('content type: the sample payload\'s, else the package\'s first SupportedContentTypes, else application/json', async () => {
    const withoutContentType = structuredClone(TARGET_CONFIG);
    delete (withoutContentType.targets[0]!.policy.samplePayload as { contentType?: string }).contentType;
    useTargets(withoutContentType);
    expect((await handler(input())).payloads.contentType).toBe('text/csv');

    sageMaker.on(DescribeModelPackageCommand).resolves(
      modelPackage({ InferenceSpecification: { ...modelPackage().InferenceSpecification!, SupportedContentTypes: undefined } }),
    );
    expect((await handler(input())).payloads.contentType).toBe('application/json');
  });

  test('an inference pipeline: every container, in order', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(
      modelPackage({
        InferenceSpecification: {
          Containers: [{ Image: `${IMAGE}-preprocess` }, { Image: IMAGE, ModelDataUrl: MODEL_DATA_URL }],
          SupportedRealtimeInferenceInstanceTypes: [],
        },
      }),
    );
    const plan = await handler(input());
    expect(plan.modelPackage.containers).toEqual([{ image: `${IMAGE}-preprocess` }, { image: IMAGE, modelDataUrl: MODEL_DATA_URL }]);
  });
});

describe('resolve-rollout: the trigger', () => {
  const APPROVER_ARN = 'arn:aws:sts::123456789012:assumed-role/ml-approvers/alice';

  test.each([
    ['its IAM identity', { IamIdentity: { Arn: APPROVER_ARN, PrincipalId: 'AROAEXAMPLE:alice' }, UserProfileName: 'alice-studio' }, APPROVER_ARN],
    ['its Studio user profile when no IAM identity is given', { UserProfileName: 'alice-studio', DomainId: 'd-abc123' }, 'alice-studio'],
  ])('an approval: MODEL_REGISTRY_APPROVAL by whoever last modified the package (%s), with the event id', async (_case, lastModifiedBy, by) => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ LastModifiedBy: lastModifiedBy }));
    const plan = await handler(input());
    expect(plan.trigger).toEqual({ kind: 'MODEL_REGISTRY_APPROVAL', by, eventId: approvalEvent().id });
  });

  test('an event without id: no eventId', async () => {
    const { id: _id, ...event } = approvalEvent();
    expect((await handler(input(event))).trigger).toEqual({ kind: 'MODEL_REGISTRY_APPROVAL' });
  });

  test("the deploy command's event (deployedBy beside detail): OPERATOR_DEPLOY by the operator, even if the package names someone", async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ LastModifiedBy: { IamIdentity: { Arn: APPROVER_ARN } } }));
    const plan = await handler(input({ ...approvalEvent(), deployedBy: 'dave' }));
    expect(plan.trigger).toEqual({ kind: 'OPERATOR_DEPLOY', by: 'dave', eventId: approvalEvent().id });
    expect(RolloutPlanSchema.parse(plan).trigger).toEqual(plan.trigger);
  });

  test.each([
    ['', /event\.deployedBy: must not be empty/],
    ['x'.repeat(129), /event\.deployedBy: must be at most 128 characters/],
    [42, /event\.deployedBy: must be a string/],
  ])('a bad deployedBy (%#): InputValidationError naming the field, before any call', async (deployedBy, message) => {
    await expect(handler(input({ ...approvalEvent(), deployedBy }))).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('a plan without trigger (made before it was recorded) is still a valid plan', async () => {
    const { trigger: _trigger, ...plan } = await handler(input());
    expect(RolloutPlanSchema.safeParse(plan).success).toBe(true);
  });
});

describe('resolve-rollout: payload source and validation policy', () => {
  test('a golden dataset wins over the sample payload, with the sample payload\'s content type; no S3 call', async () => {
    useTargets(targetsWithPolicy({ validation: { datasetS3Uri: DATASET_URI } }));
    const plan = await handler(input());
    expect(plan.payloads).toEqual({ kind: 'dataset', s3Uri: DATASET_URI, contentType: 'application/json' });
    expect(s3.calls()).toHaveLength(0);
  });

  test('a dataset without a sample payload takes the package\'s first content type', async () => {
    useTargets(targetsWithPolicy({ samplePayload: undefined, validation: { datasetS3Uri: DATASET_URI } }));
    expect((await handler(input())).payloads).toEqual({ kind: 'dataset', s3Uri: DATASET_URI, contentType: 'text/csv' });
  });

  test('without a dataset, the sample payload wins over the package\'s SamplePayloadUrl', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ SamplePayloadUrl: 's3://model-samples/fraud/7/sample.tar.gz' }));
    useTargets(targetsWithPolicy({ validation: { samplePayloadBuckets: ['model-samples'] } }));
    expect((await handler(input())).payloads).toEqual({ kind: 'inline', body: SAMPLE_BODY, contentType: 'application/json' });
  });

  test.each([
    ['s3://model-samples/fraud/7/sample.tar.gz'],
    ['https://model-samples.s3.us-east-1.amazonaws.com/fraud/7/sample.tar.gz'],
    ['https://s3.us-east-1.amazonaws.com/model-samples/fraud/7/sample.tar.gz'],
  ])('the package\'s SamplePayloadUrl %s, from an allowed bucket, as an s3:// URI', async (url) => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ SamplePayloadUrl: url }));
    useTargets(targetsWithPolicy({ samplePayload: undefined, validation: { samplePayloadBuckets: ['other-bucket', 'model-samples'] } }));
    expect((await handler(input())).payloads).toEqual({
      kind: 'model-package-sample',
      s3Uri: 's3://model-samples/fraud/7/sample.tar.gz',
      contentType: 'text/csv',
    });
    expect(s3.calls()).toHaveLength(0);
  });

  test('a SamplePayloadUrl in a bucket the policy does not list: ModelPackageInvalid saying so, before the endpoint is read', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ SamplePayloadUrl: 's3://team-bucket/fraud/7/sample.tar.gz' }));
    useTargets(targetsWithPolicy({ samplePayload: undefined, validation: { samplePayloadBuckets: ['model-samples'] } }));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ModelPackageInvalid',
      message: expect.stringMatching(/bucket team-bucket, which is not in policy\.validation\.samplePayloadBuckets \(model-samples\)/),
    });
    expect(sageMaker).not.toHaveReceivedCommand(DescribeEndpointCommand);
  });

  test('no dataset, no sample payload, no SamplePayloadUrl: ModelPackageInvalid saying what to set', async () => {
    useTargets(targetsWithPolicy({ samplePayload: undefined }));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ModelPackageInvalid',
      message: expect.stringContaining('no payload for validation: set policy.validation.datasetS3Uri or policy.samplePayload'),
    });
  });

  test('plan.validation is the target\'s validation policy, defaults applied', async () => {
    useTargets(targetsWithPolicy({ validation: { concurrency: 4, gates: { latency: { maxRelativeP99: 1.5 } }, requireHumanApproval: true } }));
    const plan = await handler(input());
    expect(plan.validation).toEqual(validationPolicy({ concurrency: 4, gates: { latency: { maxRelativeP99: 1.5 } }, requireHumanApproval: true }));
    expect(plan.validation).toMatchObject({ concurrency: 4, requireHumanApproval: true, batchSize: 1000, gates: { latency: { maxRelativeP99: 1.5, minSamples: 200 } } });
  });

  test('a score path beyond the supported subset: ConfigurationError naming the field', async () => {
    useTargets(targetsWithPolicy({ validation: { scorePath: 'predictions[*].score' } }));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/policy\.validation\.scorePath: .*wildcards are not supported/),
    });
  });
});

describe('resolve-rollout: rejects', () => {
  test.each([
    [{ ...approvalEvent(), source: 'aws.s3' }, /event\.source: must be "aws\.sagemaker"/],
    [approvalEvent({ ModelPackageArn: undefined }), /event\.detail\.ModelPackageArn: /],
    [approvalEvent({ ModelPackageArn: 'fraud-detector/7' }), /event\.detail\.ModelPackageArn: must be a model package ARN/],
    [approvalEvent({ ModelPackageVersion: 0 }), /event\.detail\.ModelPackageVersion: must be >= 1/],
    [approvalEvent({ ModelPackageGroupName: 42 }), /event\.detail\.ModelPackageGroupName: /],
    [null, /event: /],
  ])('a malformed event (%#) with InputValidationError naming the field, before any call', async (event, message) => {
    await expect(handler(input(event))).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('an input without executionArn', async () => {
    await expect(handler({ event: approvalEvent() })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/^resolve-rollout: invalid input: executionArn: /),
    });
  });

  test('an event that is not an approval, without calling AWS', async () => {
    await expect(handler(input(approvalEvent({ ModelApprovalStatus: 'Rejected' })))).rejects.toMatchObject({
      name: 'ModelPackageNotApproved',
      message: expect.stringContaining('Rejected'),
    });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('a group without a target, listing the configured groups', async () => {
    await expect(handler(input(approvalEvent({ ModelPackageGroupName: 'churn-model' })))).rejects.toMatchObject({
      name: 'TargetNotConfigured',
      message: expect.stringMatching(/"churn-model".*configured groups: fraud-detector/),
    });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('a missing configuration', async () => {
    delete process.env[TARGETS_ENV];
    await expect(handler(input())).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  test('a package that does not exist: ModelPackageInvalid naming the ARN, before the endpoint is read', async () => {
    sageMaker.on(DescribeModelPackageCommand).rejects(errors.modelPackageNotFound());
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ModelPackageInvalid',
      message: `Model package ${PACKAGE_ARN} does not exist.`,
    });
    expect(sentCommands()).toEqual(['DescribeModelPackageCommand']);
  });

  test('a package no longer approved (a stale event)', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ ModelApprovalStatus: 'PendingManualApproval' }));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ModelPackageNotApproved',
      message: expect.stringMatching(/PendingManualApproval.*stale/),
    });
    expect(sageMaker).not.toHaveReceivedCommand(DescribeEndpointCommand);
  });

  test('a package whose group or version differs from the event\'s', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ ModelPackageVersion: 6 }));
    await expect(handler(input())).rejects.toMatchObject({ name: 'ModelPackageInvalid', message: expect.stringMatching(/version 6/) });
  });

  test.each([
    [{ InferenceSpecification: undefined }, /has no InferenceSpecification/],
    [{ InferenceSpecification: { Containers: [] } }, /InferenceSpecification\.Containers is empty/],
    [{ InferenceSpecification: { Containers: [{ Image: IMAGE }, { ModelDataUrl: MODEL_DATA_URL }] } }, /Containers\[1\]\.Image is missing/],
    [
      { InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataSource: { S3DataSource: { S3Uri: 's3://b/m/', S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } } }] } },
      /Containers\[0\] gives its model data as ModelDataSource/,
    ],
    [
      { InferenceSpecification: { Containers: [{ Image: IMAGE }], SupportedRealtimeInferenceInstanceTypes: ['ml.m5.xlarge' as const] } },
      /does not support instance type ml\.g5\.xlarge.*ml\.m5\.xlarge/,
    ],
  ])('an undeployable package (%#) with ModelPackageInvalid naming the package and what is wrong, before the endpoint is read', async (overrides, message) => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage(overrides));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'ModelPackageInvalid',
      message: expect.stringMatching(new RegExp(`^Model package ${PACKAGE_ARN}[: ].*${message.source}`)),
    });
    expect(sentCommands()).toEqual(['DescribeModelPackageCommand']);
  });

  test.each([
    ['Failed', 'CapacityError: Unable to provision requested ML compute capacity'],
    ['Failed', undefined],
    ['SystemUpdating', undefined],
    ['Deleting', undefined],
    ['OutOfService', undefined],
    ['UpdateRollbackFailed', 'Rollback failed: the previous variant could not be restored'],
  ] as const)('an endpoint that is %s (FailureReason %s): EndpointNotReady naming the status, read calls only', async (status, failureReason) => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ status, failureReason, configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }),
    );
    const reason = failureReason ? ` \\(FailureReason: ${failureReason.replace(/[()]/g, '\\$&')}\\)` : '';
    await expect(handler(input())).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(new RegExp(`^Endpoint ${ENDPOINT} is ${status}${reason}, not InService`)),
    });
    expect(sentCommands()).toEqual(['DescribeModelPackageCommand', 'DescribeEndpointCommand']);
  });

  test.each([
    ['Updating', 'is Updating'],
    ['RollingBack', 'is RollingBack'],
    ['Creating', 'is Creating'],
  ] as const)('an endpoint that is %s (settling: another rollout changes it) is planned as busy, without blue, for the queue', async (status, reason) => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ status, configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }));
    const plan = await handler(input());
    expect(plan.endpointBusy).toBe(`endpoint ${ENDPOINT} ${reason}`);
    expect(plan.blue).toBeUndefined();
    expect(plan.firstDeployment).toBe(false);
    expect(sentCommands()).toEqual(['DescribeModelPackageCommand', 'DescribeEndpointCommand']);
  });

  test('an endpoint with two live variants (another rollout\'s green beside blue) is planned as busy, naming them', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({
        configName: 'fraud-detector-prod-v6-0a1b2c3d-bg',
        variants: [{ name: BLUE.variantName, currentWeight: 1 }, { name: 'v5-99887766', currentWeight: 0 }],
      }),
    );
    const plan = await handler(input());
    expect(plan.endpointBusy).toMatch(/serves 2 variants \(v6-0a1b2c3d \(weight 1\), v5-99887766 \(weight 0\)\): another rollout is in progress/);
    expect(plan.blue).toBeUndefined();
  });

  test.each([
    ['asynchronous inference', { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://out/' } } }, [BLUE_CONFIG_VARIANT]],
    ['shadow variants', { ShadowProductionVariants: [{ ...BLUE_CONFIG_VARIANT, VariantName: 'shadow' }] }, [BLUE_CONFIG_VARIANT]],
    ['a serverless variant', {}, [{ VariantName: BLUE.variantName, ModelName: BLUE.modelName, ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } }]],
  ])('an endpoint config with %s', async (feature, extra, variants) => {
    sageMaker.on(DescribeEndpointConfigCommand).resolves(describedEndpointConfig(BLUE.endpointConfigName, variants, extra));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(new RegExp(`uses ${feature}.*not support`)),
    });
  });

  test('an endpoint whose config no longer exists', async () => {
    sageMaker.on(DescribeEndpointConfigCommand).rejects(errors.endpointConfigNotFound(BLUE.endpointConfigName));
    await expect(handler(input())).rejects.toMatchObject({ name: 'EndpointNotReady', message: expect.stringMatching(/no longer exists/) });
  });

  test('unexpected AWS errors propagate unchanged (the ASL retries them by name)', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    await expect(handler(input())).rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
  });
});

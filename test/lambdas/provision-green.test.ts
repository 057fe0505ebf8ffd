import 'aws-sdk-client-mock-jest';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/provision-green';
import { rolloutEventKey } from '../../lambdas/shared/audit-trail';
import { provisionGreen } from '../../lambdas/provision-green/provision';
import { createLogger } from '../../lambdas/shared/logger';
import { rolloutTags } from '../../lambdas/shared/tags';
import {
  BLUE,
  BLUE_CONFIG,
  BLUE_CONFIG_VARIANT,
  DATA_CAPTURE_CONFIG,
  DEPLOYMENT_ID,
  describedEndpoint,
  ENDPOINT,
  errors,
  IMAGE,
  KMS_KEY_ID,
  makeFirstDeploymentPlan,
  makePlan,
  MODEL_DATA_URL,
  NAMES,
  PACKAGE_ARN,
  ROLE_ARN,
  serviceError,
} from './support/fixtures';
import { mockLifecycleSink } from './support/lifecycle';

const sageMaker = mockClient(SageMakerClient);
const TAGS = rolloutTags(DEPLOYMENT_ID, PACKAGE_ARN);

const GREEN_VARIANT = {
  VariantName: NAMES.greenVariantName,
  ModelName: NAMES.greenModelName,
  InstanceType: 'ml.g5.xlarge',
  InitialInstanceCount: 2,
  VolumeSizeInGB: 100,
  ModelDataDownloadTimeoutInSeconds: 1200,
  ContainerStartupHealthCheckTimeoutInSeconds: 600,
};

const blueServing = describedEndpoint({
  configName: BLUE.endpointConfigName,
  variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }],
});

beforeEach(() => {
  sageMaker.reset();
  sageMaker.on(CreateModelCommand).resolves({ ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/green' });
  sageMaker.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c' });
  sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: BLUE.endpointConfigName }).resolves(BLUE_CONFIG);
  sageMaker.on(DescribeEndpointCommand).resolves(blueServing);
  sageMaker.on(UpdateEndpointCommand).resolves({ EndpointArn: blueServing.EndpointArn });
  sageMaker.on(CreateEndpointCommand).resolves({ EndpointArn: blueServing.EndpointArn });
});

describe('provision-green beside blue', () => {
  test('creates the green model, a transition config with blue as it runs plus green at weight 0, and updates the endpoint', async () => {
    const before = Date.now();
    const result = await handler({ plan: makePlan() });

    expect(sageMaker).toHaveReceivedCommandWith(CreateModelCommand, {
      ModelName: NAMES.greenModelName,
      ExecutionRoleArn: ROLE_ARN,
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: MODEL_DATA_URL, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } },
      Tags: TAGS,
    });
    const configInput = sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(configInput).toEqual({
      EndpointConfigName: NAMES.transitionEndpointConfigName,
      ProductionVariants: [
        // Blue copied field by field (routing, AMI, GPU timeouts), at its live count (3, not its config's 2).
        { ...BLUE_CONFIG_VARIANT, InitialInstanceCount: 3, InitialVariantWeight: 1 },
        { ...GREEN_VARIANT, InitialVariantWeight: 0 },
      ],
      DataCaptureConfig: DATA_CAPTURE_CONFIG,
      KmsKeyId: KMS_KEY_ID,
      Tags: TAGS,
    });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointCommand, {
      EndpointName: ENDPOINT,
      EndpointConfigName: NAMES.transitionEndpointConfigName,
    });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
    expect(result.requestedEndpointConfigName).toBe(NAMES.transitionEndpointConfigName);
    expect(Date.parse(result.requestedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(result.requestedAt)).toBeLessThanOrEqual(Date.now());
  });

  test('blue keeps the weight and count of the plan; a blue scaled to 0 instances restarts with 1', async () => {
    await handler({ plan: makePlan({ blue: { ...BLUE, instanceCount: 0, weight: 2.5 } }) });
    const [blueVariant, greenVariant] = sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input.ProductionVariants!;
    expect(blueVariant).toMatchObject({ VariantName: BLUE.variantName, InitialInstanceCount: 1, InitialVariantWeight: 2.5 });
    expect(greenVariant).toMatchObject({ VariantName: NAMES.greenVariantName, InitialVariantWeight: 0 });
  });

  test('several containers become Containers, not PrimaryContainer', async () => {
    const plan = makePlan();
    plan.modelPackage.containers = [{ image: `${IMAGE}-preprocess` }, { image: IMAGE, modelDataUrl: MODEL_DATA_URL }];
    await handler({ plan });
    const modelInput = sageMaker.commandCalls(CreateModelCommand)[0]!.args[0].input;
    expect(modelInput.PrimaryContainer).toBeUndefined();
    expect(modelInput.Containers).toEqual([{ Image: `${IMAGE}-preprocess` }, { Image: IMAGE, ModelDataUrl: MODEL_DATA_URL }]);
  });

  test('a retry after everything was created and the update started: reuses them and does not update again', async () => {
    sageMaker.on(CreateModelCommand).rejects(errors.modelExists(NAMES.greenModelName));
    sageMaker.on(CreateEndpointConfigCommand).rejects(errors.endpointConfigExists(NAMES.transitionEndpointConfigName));
    sageMaker.on(DescribeEndpointCommand).resolves({ ...blueServing, EndpointStatus: 'Updating' });
    const result = await handler({ plan: makePlan() });
    expect(result.requestedEndpointConfigName).toBe(NAMES.transitionEndpointConfigName);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test.each([
    ['InService on the transition config', describedEndpoint({ configName: NAMES.transitionEndpointConfigName, variants: [{ name: BLUE.variantName }, { name: NAMES.greenVariantName, currentWeight: 0 }] })],
    ['updating to the transition config', { ...blueServing, EndpointStatus: 'Updating' as const, PendingDeploymentSummary: { EndpointConfigName: NAMES.transitionEndpointConfigName } }],
  ])('a retry with the endpoint %s: no second UpdateEndpoint', async (_state, endpoint) => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    await handler({ plan: makePlan() });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('a retry whose UpdateEndpoint meets the update an earlier attempt started: accepted', async () => {
    sageMaker.on(UpdateEndpointCommand).rejects(errors.endpointBusy());
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ requestedEndpointConfigName: NAMES.transitionEndpointConfigName });
  });

  test('UpdateEndpoint that does not see the new config yet is retried', async () => {
    sageMaker
      .on(UpdateEndpointCommand)
      .rejectsOnce(errors.endpointConfigNotFound(NAMES.transitionEndpointConfigName))
      .resolves({ EndpointArn: blueServing.EndpointArn });
    await provisionGreen(makePlan(), { sageMaker: new SageMakerClient({}), logger: createLogger('test'), configVisibility: { delayMs: 0 } });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 2);
  });

  test('an endpoint changed outside the rollout (another config) is refused and not updated', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: 'fraud-detector-prod-manual', variants: [{ name: 'manual' }] }));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(/InService on config fraud-detector-prod-manual.*changed outside this rollout/),
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('an endpoint updating to another config is refused', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves({ ...blueServing, EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: 'someone-else' } });
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady', message: expect.stringMatching(/updating to someone-else/) });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('blue\'s config gone: refused before creating any config', async () => {
    sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: BLUE.endpointConfigName }).rejects(errors.endpointConfigNotFound(BLUE.endpointConfigName));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
  });

  test('the endpoint gone: refused, not created', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady', message: expect.stringMatching(/no longer exists/) });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  test('UpdateEndpoint refused by the quota: CapacityUnavailable naming green\'s type and the refusal (the next type is tried)', async () => {
    const limit =
      "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 4 Instances, with current utilization of 3 Instances and a request delta of 2 Instances.";
    sageMaker.on(UpdateEndpointCommand).rejects(serviceError('ResourceLimitExceeded', limit));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'CapacityUnavailable',
      message: `UpdateEndpoint refused green's 2 x ml.g5.xlarge on endpoint ${ENDPOINT}: ResourceLimitExceeded: ${limit}`,
    });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });

  test('a fallback instance type chosen by the capacity check is what green\'s variant asks for', async () => {
    const plan = makePlan();
    await handler({ plan: { ...plan, green: { ...plan.green, instanceType: 'ml.g5.2xlarge', fallbackInstanceTypes: ['ml.g5.2xlarge'] } } });
    const variants = sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input.ProductionVariants!;
    expect(variants.map((v) => [v.VariantName, v.InstanceType])).toEqual([
      [BLUE.variantName, 'ml.g5.xlarge'],
      [NAMES.greenVariantName, 'ml.g5.2xlarge'],
    ]);
  });

  test('other UpdateEndpoint errors propagate unchanged', async () => {
    sageMaker.on(UpdateEndpointCommand).rejects(serviceError('ThrottlingException'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('provision-green on a first deployment', () => {
  test('creates the model, a config with green alone at weight 1, and the endpoint, all tagged', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    const result = await handler({ plan: makeFirstDeploymentPlan() });

    expect(sageMaker).toHaveReceivedCommandTimes(CreateModelCommand, 1);
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.finalEndpointConfigName,
      ProductionVariants: [{ ...GREEN_VARIANT, InitialVariantWeight: 1 }],
      Tags: TAGS,
    });
    expect(sageMaker).toHaveReceivedCommandWith(CreateEndpointCommand, {
      EndpointName: ENDPOINT,
      EndpointConfigName: NAMES.finalEndpointConfigName,
      Tags: TAGS,
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
    expect(result.requestedEndpointConfigName).toBe(NAMES.finalEndpointConfigName);
  });

  test('a retry after the endpoint was created: not created again', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ status: 'Creating', configName: NAMES.finalEndpointConfigName, variants: [] }),
    );
    sageMaker.on(CreateEndpointConfigCommand).rejects(errors.endpointConfigExists(NAMES.finalEndpointConfigName));
    await expect(handler({ plan: makeFirstDeploymentPlan() })).resolves.toMatchObject({ requestedEndpointConfigName: NAMES.finalEndpointConfigName });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  test('an endpoint created meanwhile by someone else: refused, not touched', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: 'fraud-detector-prod-manual', variants: [{ name: 'AllTraffic' }] }));
    await expect(handler({ plan: makeFirstDeploymentPlan() })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(/created outside this rollout/),
    });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('CreateEndpoint refused by the quota: CapacityUnavailable (the next type is tried)', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    sageMaker.on(CreateEndpointCommand).rejects(serviceError('ResourceLimitExceeded', "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances"));
    await expect(handler({ plan: makeFirstDeploymentPlan() })).rejects.toMatchObject({
      name: 'CapacityUnavailable',
      message: expect.stringMatching(/^CreateEndpoint refused green's 2 x ml\.g5\.xlarge on endpoint fraud-detector-prod: ResourceLimitExceeded: .* is 0 Instances$/),
    });
  });

  test('CreateEndpoint racing our own earlier attempt: "already existing" on our config is accepted', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(errors.endpointNotFound())
      .resolves(describedEndpoint({ status: 'Creating', configName: NAMES.finalEndpointConfigName, variants: [] }));
    sageMaker.on(CreateEndpointCommand).rejects(errors.endpointExists());
    await expect(handler({ plan: makeFirstDeploymentPlan() })).resolves.toMatchObject({ requestedEndpointConfigName: NAMES.finalEndpointConfigName });
  });
});

describe('provision-green input', () => {
  test.each([
    [{}, /plan: /],
    [{ plan: { ...makePlan(), green: { ...makePlan().green, instanceType: 5 } } }, /plan\.green\.instanceType: /],
    [{ plan: { ...makePlan(), deploymentId: 'not-hex!' } }, /plan\.deploymentId: /],
  ])('rejects %#, naming the field', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('a plan that is not a first deployment but has no blue', async () => {
    const { blue: _blue, ...plan } = makePlan();
    await expect(handler({ plan })).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/plan\.blue: required/) });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('provision-green: Green Provisioned', () => {
  const { dynamo, eventBridge: events, logger, sink, onlyAuditEvent: audited, onlyPublishedEvent: published } = mockLifecycleSink();
  const provision = (plan = makePlan()) =>
    provisionGreen(plan, { sageMaker: new SageMakerClient({}), logger: createLogger('test'), configVisibility: { delayMs: 0 }, lifecycle: sink() });

  test('beside blue: after UpdateEndpoint, the model and the transition config it created, keyed by instance type', async () => {
    const order: string[] = [];
    sageMaker.on(UpdateEndpointCommand).callsFake(() => {
      order.push('UpdateEndpoint');
      return { EndpointArn: blueServing.EndpointArn };
    });
    dynamo.on(PutItemCommand).callsFake(() => {
      order.push('PutItem');
      return {};
    });
    const result = await provision();
    // Recorded once the endpoint update was requested: what it says happened, happened.
    expect(order).toEqual(['UpdateEndpoint', 'PutItem']);

    const { recordKey, data } = audited();
    expect(recordKey).toBe(rolloutEventKey(DEPLOYMENT_ID, 'GreenProvisioned', 'ml.g5.xlarge'));
    expect(data).toMatchObject({
      type: 'GreenProvisioned',
      at: result.requestedAt,
      greenVariantName: NAMES.greenVariantName,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      resourcesCreated: [
        { kind: 'model', name: NAMES.greenModelName },
        { kind: 'endpoint-config', name: NAMES.transitionEndpointConfigName },
      ],
    });
    const { detailType, detail } = published();
    expect(detailType).toBe('Green Provisioned');
    expect(detail.resourcesCreated).toEqual(data.resourcesCreated);
  });

  test('first deployment: the model, the final config and the endpoint', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await provision(makeFirstDeploymentPlan());
    expect(audited().data.resourcesCreated).toEqual([
      { kind: 'model', name: NAMES.greenModelName },
      { kind: 'endpoint-config', name: NAMES.finalEndpointConfigName },
      { kind: 'endpoint', name: ENDPOINT },
    ]);
  });

  test('a retry that finds everything created: recorded anyway, listing nothing as created by it', async () => {
    sageMaker.on(CreateModelCommand).rejects(errors.modelExists(NAMES.greenModelName));
    sageMaker.on(CreateEndpointConfigCommand).rejects(errors.endpointConfigExists(NAMES.transitionEndpointConfigName));
    sageMaker.on(DescribeEndpointCommand).resolves({ ...blueServing, EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: NAMES.transitionEndpointConfigName } });
    await provision();
    expect(audited().data.resourcesCreated).toEqual([]);
    expect(published().detail.message).toContain('created nothing');
  });

  test('a first-deployment retry after the endpoint exists: only what this call created (the config)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ status: 'Creating', configName: NAMES.finalEndpointConfigName, variants: [] }));
    sageMaker.on(CreateModelCommand).rejects(errors.modelExists(NAMES.greenModelName));
    await provision(makeFirstDeploymentPlan());
    expect(audited().data.resourcesCreated).toEqual([{ kind: 'endpoint-config', name: NAMES.finalEndpointConfigName }]);
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  test('a capacity fallback\'s attempt is another event (its instance type in the key)', async () => {
    const plan = makePlan();
    await provision({ ...plan, green: { ...plan.green, instanceType: 'ml.g5.2xlarge', fallbackInstanceTypes: ['ml.g5.2xlarge'] } });
    expect(audited().recordKey).toBe(rolloutEventKey(DEPLOYMENT_ID, 'GreenProvisioned', 'ml.g5.2xlarge'));
  });

  test('refused for capacity: nothing recorded (green was not provisioned)', async () => {
    sageMaker.on(UpdateEndpointCommand).rejects(serviceError('ResourceLimitExceeded', 'limit'));
    await expect(provision()).rejects.toMatchObject({ name: 'CapacityUnavailable' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit table and the bus failing do not fail the step: both logged', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(provision()).resolves.toMatchObject({ requestedEndpointConfigName: NAMES.transitionEndpointConfigName });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(logger.error.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/not recorded in the audit trail/),
      expect.stringMatching(/not published/),
    ]);
  });

  test('without a sink (no lifecycle dependency) nothing is recorded', async () => {
    await provisionGreen(makePlan(), { sageMaker: new SageMakerClient({}), logger: createLogger('test'), configVisibility: { delayMs: 0 } });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

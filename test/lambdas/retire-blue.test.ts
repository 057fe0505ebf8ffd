import 'aws-sdk-client-mock-jest';
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/retire-blue';
import { rolloutRef } from '../../lambdas/shared/lifecycle-events';
import { rolloutTags } from '../../lambdas/shared/tags';
import {
  BLUE,
  BLUE_CONFIG_VARIANT,
  DATA_CAPTURE_CONFIG,
  DEPLOYMENT_ID,
  describedEndpoint,
  describedEndpointConfig,
  ENDPOINT,
  errors,
  KMS_KEY_ID,
  makeFirstDeploymentPlan,
  makePlan,
  NAMES,
  PACKAGE_ARN,
  serviceError,
} from './support/fixtures';
import { autoScalingError, fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { HISTORY_TABLE, mockLifecycleByEnvironment } from './support/lifecycle';

const sageMaker = mockClient(SageMakerClient);
const aas = mockClient(ApplicationAutoScalingClient);
const BLUE_ID = `endpoint/${ENDPOINT}/variant/${BLUE.variantName}`;
const GREEN_ID = `endpoint/${ENDPOINT}/variant/${NAMES.greenVariantName}`;

const GREEN_CONFIG_VARIANT = {
  VariantName: NAMES.greenVariantName,
  ModelName: NAMES.greenModelName,
  InstanceType: 'ml.g5.xlarge' as const,
  InitialInstanceCount: 2,
  InitialVariantWeight: 0,
  VolumeSizeInGB: 100,
  ModelDataDownloadTimeoutInSeconds: 1200,
  ContainerStartupHealthCheckTimeoutInSeconds: 600,
};
const TRANSITION_CONFIG = describedEndpointConfig(
  NAMES.transitionEndpointConfigName,
  [{ ...BLUE_CONFIG_VARIANT, InitialInstanceCount: 3 }, GREEN_CONFIG_VARIANT],
  { DataCaptureConfig: DATA_CAPTURE_CONFIG, KmsKeyId: KMS_KEY_ID },
);

/** After the shift: green serves everything (autoscaled to 4 instances), blue at weight 0. */
const shifted = (blueWeight = 0, greenWeight = 1) =>
  describedEndpoint({
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: blueWeight, currentInstanceCount: 3 },
      { name: NAMES.greenVariantName, currentWeight: greenWeight, currentInstanceCount: 4 },
    ],
  });

beforeEach(() => {
  sageMaker.reset();
  aas.reset();
  fakeAutoScaling(aas);
  sageMaker.on(DescribeEndpointCommand).resolves(shifted());
  sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.transitionEndpointConfigName }).resolves(TRANSITION_CONFIG);
  sageMaker.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/final' });
  sageMaker.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-detector-prod' });
});

describe('retire-blue', () => {
  test('creates the final config with green alone at its live count and weight 1, and updates the endpoint', async () => {
    const result = await handler({ plan: makePlan() });
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.finalEndpointConfigName,
      ProductionVariants: [{ ...GREEN_CONFIG_VARIANT, InitialInstanceCount: 4, InitialVariantWeight: 1 }],
      DataCaptureConfig: DATA_CAPTURE_CONFIG,
      KmsKeyId: KMS_KEY_ID,
      Tags: rolloutTags(DEPLOYMENT_ID, PACKAGE_ARN),
    });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT, EndpointConfigName: NAMES.finalEndpointConfigName });
    expect(result).toEqual({ requestedEndpointConfigName: NAMES.finalEndpointConfigName, requestedAt: expect.any(String) });
  });

  test.each([
    ['green carries no traffic yet', shifted(1, 0)],
    ['blue still carries traffic', shifted(1, 1)],
  ])('refused when %s: the serving variant is never removed', async (_case, endpoint) => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady', message: expect.stringMatching(/green must carry the traffic and blue none/) });
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('refused when the endpoint is not on the transition config', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test.each([
    ['already on the final config', describedEndpoint({ configName: NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName }] })],
    ['updating to the final config', { ...shifted(), EndpointStatus: 'Updating' as const, PendingDeploymentSummary: { EndpointConfigName: NAMES.finalEndpointConfigName } }],
    ['updating (no pending summary)', { ...shifted(), EndpointStatus: 'Updating' as const }],
  ])('a retry with the endpoint %s: no second UpdateEndpoint', async (_state, endpoint) => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ requestedEndpointConfigName: NAMES.finalEndpointConfigName });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('a retry after the final config was created but before the update: reuses it, updates once', async () => {
    sageMaker.on(CreateEndpointConfigCommand).rejects(errors.endpointConfigExists(NAMES.finalEndpointConfigName));
    await handler({ plan: makePlan() });
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });

  test('the endpoint gone: refused', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
  });

  test('an autoscaled blue: its policies deleted and its target deregistered before the UpdateEndpoint; green\'s kept', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } }), variantScalableTarget(NAMES.greenVariantName)],
      policies: [invocationsPolicy(), invocationsPolicy(NAMES.greenVariantName)],
    });
    let blueScalingAtUpdate: boolean | undefined;
    sageMaker.on(UpdateEndpointCommand).callsFake(() => {
      blueScalingAtUpdate = store.targets.has(BLUE_ID) || (store.policies.get(BLUE_ID) ?? []).length > 0;
      return { EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-detector-prod' };
    });
    await handler({ plan: makePlan() });
    expect(blueScalingAtUpdate).toBe(false);
    expect(aas).toHaveReceivedCommandWith(DeleteScalingPolicyCommand, { ResourceId: BLUE_ID, PolicyName: invocationsPolicy().PolicyName });
    expect(aas).toHaveReceivedCommandWith(DeregisterScalableTargetCommand, { ResourceId: BLUE_ID });
    expect(store.targets.has(GREEN_ID)).toBe(true);
    expect(store.policies.get(GREEN_ID)).toHaveLength(1);
  });

  test('blue not autoscaled (or released by an earlier attempt): nothing to delete, the update goes ahead', async () => {
    await handler({ plan: makePlan() });
    expect(aas).not.toHaveReceivedCommand(DeleteScalingPolicyCommand);
    expect(aas).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });

  test('releasing blue\'s scaling fails: no UpdateEndpoint (it would fail on an autoscaled variant)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    aas.on(DeregisterScalableTargetCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ConcurrentUpdateException' });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('refused (green not serving yet): blue\'s scaling is not touched', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    sageMaker.on(DescribeEndpointCommand).resolves(shifted(1, 0));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(aas).not.toHaveReceivedCommand(DeleteScalingPolicyCommand);
    expect(aas).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
  });

  test('a first-deployment plan has no blue to retire', async () => {
    await expect(handler({ plan: makeFirstDeploymentPlan() })).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/plan\.blue/) });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('retire-blue: the CleanupCompleted lifecycle event (blue\'s variant)', () => {
  const { dynamo, eventBridge, auditPuts, publishedEvents } = mockLifecycleByEnvironment();
  const publishedDetails = () => publishedEvents().map((event) => event.detail);

  test('the update removing blue requested: blue\'s variant recorded (key "blue-variant") after the UpdateEndpoint, then published', async () => {
    const plan = makePlan();
    await handler({ plan });
    const [put, ...others] = auditPuts();
    expect(others).toEqual([]);
    expect(put).toMatchObject({ TableName: HISTORY_TABLE, Item: { recordKey: { S: `EVENT#${plan.deploymentId}#CleanupCompleted#blue-variant` } } });
    const expected = { type: 'CleanupCompleted', rollout: rolloutRef(plan), resourcesRemoved: [{ kind: 'variant', name: BLUE.variantName }] };
    expect(JSON.parse(put!.Item!.data!.S!)).toEqual(expect.objectContaining(expected));
    expect(publishedDetails()).toEqual([expect.objectContaining(expected)]);
    expect(sageMaker.commandCalls(UpdateEndpointCommand)[0]!.calledBefore(dynamo.commandCalls(PutItemCommand)[0]!)).toBe(true);
  });

  test('an autoscaled blue: its deregistered scalable target is reported too', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName)], policies: [invocationsPolicy()] });
    await handler({ plan: makePlan() });
    expect(publishedDetails()[0].resourcesRemoved).toEqual([
      { kind: 'variant', name: BLUE.variantName },
      { kind: 'scalable-target', name: BLUE_ID },
    ]);
  });

  test('a retry that finds the update already requested: recorded (the key keeps the first record)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves({ ...shifted(), EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: NAMES.finalEndpointConfigName } });
    await handler({ plan: makePlan() });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(auditPuts().map((put) => put.Item!.recordKey!.S)).toEqual([expect.stringMatching(/#CleanupCompleted#blue-variant$/)]);
  });

  test.each([
    ['refused (green not serving yet)', () => sageMaker.on(DescribeEndpointCommand).resolves(shifted(1, 0)), 'EndpointNotReady'],
    ['the UpdateEndpoint refused', () => sageMaker.on(UpdateEndpointCommand).rejects(serviceError('ThrottlingException')), 'ThrottlingException'],
  ])('%s: nothing recorded', async (_case, setUp, name) => {
    setUp();
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit trail and the bus failing do not fail the step', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ requestedEndpointConfigName: NAMES.finalEndpointConfigName, requestedAt: expect.any(String) });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });
});

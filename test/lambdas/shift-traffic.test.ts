import 'aws-sdk-client-mock-jest';
import { DescribeEndpointCommand, SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand, type EndpointStatus } from '@aws-sdk/client-sagemaker';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/shift-traffic';
import { rolloutRef } from '../../lambdas/shared/lifecycle-events';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { greenShareOf } from '../../lambdas/shared/traffic';
import { activeRecord, recordItem, ROLLOUTS_TABLE } from './support/alarm-steps';
import { BLUE, describedEndpoint, ENDPOINT, errors, makeFirstDeploymentPlan, makePlan, NAMES, serviceError } from './support/fixtures';
import { HISTORY_TABLE, LIFECYCLE_BUS, mockLifecycleByEnvironment } from './support/lifecycle';

const sageMaker = mockClient(SageMakerClient);
const dynamo = mockClient(DynamoDBClient);

/** The endpoint on the transition config with these weights (current = desired unless given). */
const onTransition = (blueWeight: number, greenWeight: number, status: EndpointStatus = 'InService', desired?: { blue: number; green: number }) =>
  describedEndpoint({
    status,
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: blueWeight, desiredWeight: desired?.blue },
      { name: NAMES.greenVariantName, currentWeight: greenWeight, desiredWeight: desired?.green },
    ],
  });

const sentWeights = () =>
  sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand).map((call) => call.args[0].input.DesiredWeightsAndCapacities);

beforeEach(() => {
  sageMaker.reset();
  dynamo.reset();
  // The endpoint's lock, armed, with no rollback requested.
  dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord()) });
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-detector-prod' });
});

afterAll(() => {
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('shift-traffic', () => {
  test.each([
    ['ALARM', 'AlarmTriggered'],
    ['OPERATOR', 'RollbackRequested'],
  ] as const)('a rollback requested (%s) while the step ran wins: %s, and no weight is sent', async (kind, name) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    const rollbackRequest = { kind, by: kind === 'ALARM' ? 'green-5xx' : 'alice', reason: 'errors', requestedAt: '2026-01-01T09:00:00.000Z', weightsRestoredAt: '2026-01-01T09:00:01.000Z', outcome: 'ROLLED_BACK' as const };
    dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord({ rollbackRequest })) });
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({ name });
    expect(sentWeights()).toEqual([]);
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: ROLLOUTS_TABLE, ConsistentRead: true });
  });

  test('another rollout\'s rollback request (a lock not ours) does not stop this shift', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    const rollbackRequest = { kind: 'ALARM' as const, by: 'x', reason: 'errors', requestedAt: '2026-01-01T09:00:00.000Z' };
    dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord({ deploymentId: 'ffff0000', rollbackRequest })) });
    await handler({ plan: makePlan(), greenShare: 1 });
    expect(sentWeights()).toHaveLength(1);
  });

  test('share 1: blue to 0, green to blue\'s weight, in place', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    const before = Date.now();
    const result = await handler({ plan: makePlan(), greenShare: 1 });
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: ENDPOINT,
      DesiredWeightsAndCapacities: [
        { VariantName: BLUE.variantName, DesiredWeight: 0 },
        { VariantName: NAMES.greenVariantName, DesiredWeight: 1 },
      ],
    });
    expect(result).toEqual({ requestedEndpointConfigName: NAMES.transitionEndpointConfigName, requestedAt: expect.any(String), greenShare: 1 });
    expect(Date.parse(result.requestedAt)).toBeGreaterThanOrEqual(before);
  });

  test.each([
    [3, 0.25],
    [1, 0.1],
    [2.5, 0.05],
  ])('blue weight %p, share %p: blue\'s weight untouched, green gets exactly the share', async (blueWeight, share) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(blueWeight, 0));
    await handler({ plan: makePlan({ blue: { ...BLUE, weight: blueWeight } }), greenShare: share });
    const [blue, green] = sentWeights()[0]!;
    expect(blue).toEqual({ VariantName: BLUE.variantName, DesiredWeight: blueWeight });
    expect(green!.VariantName).toBe(NAMES.greenVariantName);
    expect(greenShareOf({ blueWeight: blue!.DesiredWeight!, greenWeight: green!.DesiredWeight! })).toBe(share);
  });

  test.each([
    ['in progress', onTransition(1, 0, 'Updating', { blue: 0, green: 1 })],
    ['done', onTransition(0, 1)],
    ['done, weights read back as 32-bit floats', onTransition(Math.fround(0), Math.fround(1))],
  ])('weights already requested (%s): not requested again', async (_state, endpoint) => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    await expect(handler({ plan: makePlan(), greenShare: 1 })).resolves.toMatchObject({ greenShare: 1 });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('endpoint not on the transition config: refused, weights untouched', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }));
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(new RegExp(`only shift on the transition config ${NAMES.transitionEndpointConfigName}`)),
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test.each(['Updating', 'SystemUpdating', 'RollingBack'] as const)('endpoint %s with other weights (a weight change, auto scaling): EndpointBusy, retried by the ASL', async (status) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0, status, { blue: 1, green: 0 }));
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({ name: 'EndpointBusy', message: expect.stringMatching(new RegExp(`is ${status}`)) });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('endpoint Failed: EndpointNotReady (waiting would not help)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0, 'Failed'));
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({ name: 'EndpointNotReady', message: expect.stringMatching(/is Failed/) });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('endpoint became busy between Describe and the weight change: EndpointBusy', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(errors.endpointBusy());
    await expect(handler({ plan: makePlan(), greenShare: 0.1 })).rejects.toMatchObject({ name: 'EndpointBusy', message: expect.stringMatching(/became busy/) });
  });

  test('another SageMaker error on the weight change propagates unchanged', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(serviceError('ThrottlingException'));
    await expect(handler({ plan: makePlan(), greenShare: 0.1 })).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test.each([0.1, 0.5, 1])('share %p: only weights are sent, never an instance count (blue\'s capacity is not touched)', async (share) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    await handler({ plan: makePlan(), greenShare: share });
    for (const variant of sentWeights()[0]!) expect(Object.keys(variant).sort()).toEqual(['DesiredWeight', 'VariantName']);
  });

  test('endpoint gone: refused', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({ name: 'EndpointNotReady' });
  });

  test('blue with weight 0 cannot share traffic below 1', async () => {
    await expect(handler({ plan: makePlan({ blue: { ...BLUE, weight: 0 } }), greenShare: 0.5 })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test.each([
    [{ plan: makePlan(), greenShare: 0 }, /greenShare: must be > 0/],
    [{ plan: makePlan(), greenShare: 1.5 }, /greenShare: must be <= 1/],
    [{ plan: makePlan() }, /greenShare: /],
    [{ plan: makeFirstDeploymentPlan(), greenShare: 1 }, /plan\.blue: required/],
  ])('rejects bad input %#, naming the field', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('shift-traffic: the TrafficShifted lifecycle event', () => {
  const { eventBridge, auditPuts, publishedEntries } = mockLifecycleByEnvironment({ dynamo });

  test.each([
    [0.1, 10, 90],
    [0.25, 25, 75],
    [1, 100, 0],
  ])('share %p requested: green %p%, blue %p%, recorded (key per share) after the weights, then published', async (share, greenPercent, bluePercent) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    const plan = makePlan();
    await handler({ plan, greenShare: share });

    const [item, ...others] = auditPuts();
    expect(others).toEqual([]);
    expect(item).toMatchObject({ TableName: HISTORY_TABLE, ConditionExpression: 'attribute_not_exists(recordKey)' });
    expect(item!.Item?.recordKey?.S).toBe(`EVENT#${plan.deploymentId}#TrafficShifted#${greenPercent}`);
    const detail = JSON.parse(item!.Item!.data!.S!);
    expect(detail).toMatchObject({ type: 'TrafficShifted', greenPercent, bluePercent, rollout: rolloutRef(plan) });
    expect(publishedEntries()).toEqual([expect.objectContaining({ EventBusName: LIFECYCLE_BUS, DetailType: 'Traffic Shifted', Detail: item!.Item!.data!.S })]);
    // What the event says happened, happened: the weights were requested before anything was recorded.
    const weightsCall = sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!;
    expect(weightsCall.calledBefore(dynamo.commandCalls(PutItemCommand)[0]!)).toBe(true);
  });

  test('weights already requested by an earlier attempt: recorded (the first attempt may have stopped before it)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0, 'Updating', { blue: 0, green: 1 }));
    await handler({ plan: makePlan(), greenShare: 1 });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(publishedEntries().map((entry) => JSON.parse(entry.Detail!))).toEqual([expect.objectContaining({ type: 'TrafficShifted', greenPercent: 100 })]);
  });

  test('a rollback requested while the step ran: refused, nothing recorded', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    const rollbackRequest = { kind: 'OPERATOR' as const, by: 'alice', reason: 'errors', requestedAt: '2026-01-01T09:00:00.000Z' };
    dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord({ rollbackRequest })) });
    await expect(handler({ plan: makePlan(), greenShare: 1 })).rejects.toMatchObject({ name: 'RollbackRequested' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test.each([
    ['the endpoint busy', () => sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(errors.endpointBusy()), 'EndpointBusy'],
    ['SageMaker throttling', () => sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(serviceError('ThrottlingException')), 'ThrottlingException'],
  ])('the weight change refused (%s): nothing recorded', async (_why, refuse, name) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    refuse();
    await expect(handler({ plan: makePlan(), greenShare: 0.1 })).rejects.toMatchObject({ name });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit trail and the bus failing do not fail the shift', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1, 0));
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(handler({ plan: makePlan(), greenShare: 0.1 })).resolves.toMatchObject({ greenShare: 0.1 });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });
});

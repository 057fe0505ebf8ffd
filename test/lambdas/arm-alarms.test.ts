import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/arm-alarms';
import { armAlarms } from '../../lambdas/arm-alarms/arm';
import { rolloutAlarmInputs } from '../../lambdas/shared/alarms';
import { AlarmPolicySchema } from '../../lambdas/shared/config';
import type { StepLogger } from '../../lambdas/shared/logger';
import { ROLLOUTS_TABLE_ENV, type ActiveRollout } from '../../lambdas/shared/rollout-record';
import { activeRecord, alarmsIn, OWN_ALARMS, ROLLOUTS_TABLE, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { BLUE, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, INLINE_PAYLOADS, makeFirstDeploymentPlan, makePlan, NAMES, PACKAGE_ARN } from './support/fixtures';
import { serveRolloutsTable, type RolloutsTable } from './support/rollouts-table';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);

const withExisting = (...names: string[]) => makePlan({ alarms: AlarmPolicySchema.parse({ existingAlarmNames: names }) });

/** The rollout arm-alarms registered (the `rollout` attribute its UpdateItem set on the lock). */
function registered(): ActiveRollout {
  const update = dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input;
  return JSON.parse(update.ExpressionAttributeValues![':rollout']!.S!) as ActiveRollout;
}

/** The endpoint's lock as "Lock endpoint" leaves it for `deploymentId` (the attributes the condition reads). */
function lockItem(deploymentId = DEPLOYMENT_ID, executionArn = EXECUTION_ARN): Record<string, AttributeValue> {
  return {
    endpointName: { S: ENDPOINT },
    deploymentId: { S: deploymentId },
    executionArn: { S: executionArn },
    modelPackageArn: { S: PACKAGE_ARN },
    lockedAt: { S: '2025-03-01T10:00:00.000Z' },
    expiresAt: { N: '1741000000' },
    plan: { S: JSON.stringify(makePlan()) },
  };
}

beforeEach(() => {
  cloudWatch.reset();
  dynamo.reset();
  cloudWatch.on(PutMetricAlarmCommand).resolves({});
  dynamo.on(UpdateItemCommand).resolves({});
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
});

afterEach(() => {
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('arm-alarms', () => {
  test('puts the three alarms on green, then registers the rollout with blue\'s weight and every watched alarm', async () => {
    const before = Date.now();
    const result = await handler({ plan: makePlan() });

    expect(result).toEqual({ alarmNames: OWN_ALARMS });
    const puts = cloudWatch.commandCalls(PutMetricAlarmCommand).map((call) => call.args[0].input);
    expect(puts).toEqual(rolloutAlarmInputs(makePlan()));
    expect(puts.map((p) => [p.AlarmName, p.Threshold, p.TreatMissingData, p.ActionsEnabled])).toEqual([
      [OWN_ALARMS[0], 0.01, 'missing', false],
      [OWN_ALARMS[1], 0.01, 'missing', false],
      [OWN_ALARMS[2], 1_000_000, 'missing', false],
    ]);
    // No existing alarms in the policy: nothing to check.
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);

    // Registered on the endpoint's lock, which must be this rollout's; never a new item.
    expect(dynamo).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: ROLLOUTS_TABLE,
      Key: { endpointName: { S: ENDPOINT } },
      UpdateExpression: 'SET #rollout = :rollout',
      ConditionExpression: 'deploymentId = :deploymentId',
      ExpressionAttributeValues: expect.objectContaining({ ':deploymentId': { S: DEPLOYMENT_ID } }),
    });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    const rollout = registered();
    expect(rollout).toEqual({
      endpointName: ENDPOINT,
      deploymentId: DEPLOYMENT_ID,
      executionArn: EXECUTION_ARN,
      modelPackageArn: PACKAGE_ARN,
      blueVariantName: BLUE.variantName,
      blueWeight: 1,
      blueInstanceCount: 3,
      greenVariantName: NAMES.greenVariantName,
      alarmNames: OWN_ALARMS,
      ownAlarmNames: OWN_ALARMS,
      payloads: INLINE_PAYLOADS,
      createdAt: expect.any(String),
    });
    expect(Date.parse(rollout.createdAt)).toBeGreaterThanOrEqual(before);
  });

  test('the alarms exist before the record that lets an alarm event find the rollout', async () => {
    const order: string[] = [];
    cloudWatch.on(PutMetricAlarmCommand).callsFake((input: { AlarmName?: string }) => (order.push(`alarm ${input.AlarmName}`), {}));
    dynamo.on(UpdateItemCommand).callsFake(() => (order.push('record'), {}));
    await handler({ plan: makePlan() });
    expect(order).toEqual([...OWN_ALARMS.map((name) => `alarm ${name}`), 'record']);
  });

  test('existing alarms (metric and composite) are checked, watched and recorded, but not owned', async () => {
    serveAlarms(
      cloudWatch,
      new Map<string, FakeAlarm>([
        ['fraud-prod-p50', { state: 'OK' }],
        ['fraud-prod-health', { state: 'OK', type: 'CompositeAlarm' }],
      ]),
    );
    const result = await handler({ plan: withExisting('fraud-prod-p50', 'fraud-prod-health') });

    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['fraud-prod-p50', 'fraud-prod-health'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
    expect(result.alarmNames).toEqual([...OWN_ALARMS, 'fraud-prod-p50', 'fraud-prod-health']);
    expect(registered()).toMatchObject({ alarmNames: result.alarmNames, ownAlarmNames: OWN_ALARMS });
    expect(cloudWatch.commandCalls(PutMetricAlarmCommand).map((call) => call.args[0].input.AlarmName)).toEqual(OWN_ALARMS);
  });

  test('an existing alarm that does not exist: ConfigurationError naming it and the field; nothing created', async () => {
    serveAlarms(cloudWatch, alarmsIn('OK', ['fraud-prod-p50']));
    await expect(handler({ plan: withExisting('fraud-prod-p50', 'fraud-prod-typo', 'fraud-prod-other-typo') })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(
        /^policy\.alarms\.existingAlarmNames of endpoint fraud-detector-prod: "fraud-prod-typo", "fraud-prod-other-typo" are not a metric or composite alarm/,
      ),
    });
    expect(cloudWatch).not.toHaveReceivedCommand(PutMetricAlarmCommand);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('an existing alarm already in ALARM: armed anyway, with a warning naming it', async () => {
    serveAlarms(cloudWatch, alarmsIn('ALARM', ['fraud-prod-p50']));
    const logger: StepLogger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn() };
    await expect(
      armAlarms({ plan: withExisting('fraud-prod-p50') }, { cloudWatch: new CloudWatchClient({}), dynamo: new DynamoDBClient({}), table: ROLLOUTS_TABLE, logger }),
    ).resolves.toEqual({ alarmNames: [...OWN_ALARMS, 'fraud-prod-p50'] });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('"fraud-prod-p50" (ALARM (simulated reason))'), { alarmNames: ['fraud-prod-p50'] });
    expect(dynamo).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  test('first deployment: no blue in the record', async () => {
    await handler({ plan: makeFirstDeploymentPlan() });
    const rollout = registered();
    expect(rollout).not.toHaveProperty('blueVariantName');
    expect(rollout).not.toHaveProperty('blueWeight');
    expect(rollout).not.toHaveProperty('blueInstanceCount');
    expect(rollout.greenVariantName).toBe(NAMES.greenVariantName);
  });

  test('registered on this rollout\'s lock; a retried call succeeds, alarms put again, the lock keeps its watch', async () => {
    const table: RolloutsTable = new Map([[ENDPOINT, lockItem()]]);
    serveRolloutsTable(dynamo, table);
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ alarmNames: OWN_ALARMS });
    const watch = { S: JSON.stringify({ taskToken: 'token-1', step: '10%', since: '2025-03-01T10:20:00.000Z' }) };
    table.set(ENDPOINT, { ...table.get(ENDPOINT)!, watch });

    await expect(handler({ plan: makePlan() })).resolves.toEqual({ alarmNames: OWN_ALARMS });
    expect(cloudWatch).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 6);
    const item = table.get(ENDPOINT)!;
    expect({ ...item, rollout: undefined }).toEqual({ ...lockItem(), watch, rollout: undefined });
    expect(JSON.parse(item.rollout!.S!)).toEqual({ ...activeRecord(), createdAt: expect.any(String) });
  });

  test('another rollout holds the endpoint: EndpointNotReady naming its execution; its lock untouched', async () => {
    const other = lockItem('99999999', `${EXECUTION_ARN}-other`);
    const table: RolloutsTable = new Map([[ENDPOINT, other]]);
    serveRolloutsTable(dynamo, table);
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringContaining(`deployment 99999999, execution ${EXECUTION_ARN}-other, model package ${PACKAGE_ARN}`),
    });
    expect(table.get(ENDPOINT)).toEqual(other);
  });

  test('no lock (released, or expired and deleted): EndpointNotReady, no record created', async () => {
    const table: RolloutsTable = new Map();
    serveRolloutsTable(dynamo, table);
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(new RegExp(`^Endpoint ${ENDPOINT} is not locked by this rollout \\(deployment ${DEPLOYMENT_ID}\\)`)),
    });
    expect(table.size).toBe(0);
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: ROLLOUTS_TABLE, Key: { endpointName: { S: ENDPOINT } }, ConsistentRead: true });
  });

  test('no table configured: ConfigurationError, nothing created', async () => {
    delete process.env[ROLLOUTS_TABLE_ENV];
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/ROLLOUTS_TABLE is not set/) });
    expect(cloudWatch.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('PutMetricAlarm refused (LimitExceeded): the error surfaces, no record', async () => {
    cloudWatch.on(PutMetricAlarmCommand).rejects(Object.assign(new Error('too many alarms'), { name: 'LimitExceededFault' }));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'LimitExceededFault' });
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('bad input names the field', async () => {
    await expect(handler({ plan: { ...makePlan(), deploymentId: 'nope' } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/^arm-alarms: invalid input: plan\.deploymentId/),
    });
    expect(cloudWatch.calls()).toHaveLength(0);
  });
});

import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/arm-alarms';
import { armAlarms } from '../../lambdas/arm-alarms/arm';
import { rolloutAlarmInputs } from '../../lambdas/shared/alarms';
import { AlarmPolicySchema } from '../../lambdas/shared/config';
import type { StepLogger } from '../../lambdas/shared/logger';
import { ROLLOUTS_TABLE_ENV, type ActiveRollout } from '../../lambdas/shared/rollout-record';
import { activeRecord, alarmsIn, conditionFailed, OWN_ALARMS, recordItem, ROLLOUTS_TABLE, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { BLUE, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, INLINE_PAYLOADS, makeFirstDeploymentPlan, makePlan, NAMES, PACKAGE_ARN } from './support/fixtures';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);

const withExisting = (...names: string[]) => makePlan({ alarms: AlarmPolicySchema.parse({ existingAlarmNames: names }) });

/** The rollout arm-alarms registered (the `rollout` attribute of its PutItem). */
function registered(): ActiveRollout {
  const put = dynamo.commandCalls(PutItemCommand)[0]!.args[0].input;
  return JSON.parse(put.Item!.rollout!.S!) as ActiveRollout;
}

beforeEach(() => {
  cloudWatch.reset();
  dynamo.reset();
  cloudWatch.on(PutMetricAlarmCommand).resolves({});
  dynamo.on(PutItemCommand).resolves({});
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

    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: ROLLOUTS_TABLE,
      ConditionExpression: 'attribute_not_exists(endpointName)',
      Item: expect.objectContaining({ endpointName: { S: ENDPOINT }, deploymentId: { S: DEPLOYMENT_ID }, executionArn: { S: EXECUTION_ARN } }),
    });
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
    dynamo.on(PutItemCommand).callsFake(() => (order.push('record'), {}));
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
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  test('first deployment: no blue in the record', async () => {
    await handler({ plan: makeFirstDeploymentPlan() });
    const rollout = registered();
    expect(rollout).not.toHaveProperty('blueVariantName');
    expect(rollout).not.toHaveProperty('blueWeight');
    expect(rollout).not.toHaveProperty('blueInstanceCount');
    expect(rollout.greenVariantName).toBe(NAMES.greenVariantName);
  });

  test('a retried call (record already this rollout\'s): succeeds, alarms put again', async () => {
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord()) });
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ alarmNames: OWN_ALARMS });
    expect(cloudWatch).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 3);
  });

  test('another rollout holds the endpoint: EndpointNotReady naming its execution', async () => {
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    const other = activeRecord({ deploymentId: '99999999', executionArn: `${EXECUTION_ARN}-other` });
    dynamo.on(GetItemCommand).resolves({ Item: recordItem(other) });
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringContaining(`deployment 99999999, execution ${EXECUTION_ARN}-other`),
    });
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

import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AlarmPolicySchema } from '../../lambdas/shared/config';
import { ROLLOUTS_TABLE_ENV, type RollbackRequest } from '../../lambdas/shared/rollout-record';
import { handler } from '../../lambdas/watch-step';
import { activeRecord, alarmsIn, conditionFailed, OWN_ALARMS, recordItem, ROLLOUTS_TABLE, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, makePlan } from './support/fixtures';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);

const NOW = '2025-03-01T11:00:00.000Z';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ9xMS7Example+TaskToken==';
let alarms: Map<string, FakeAlarm>;

const watch = (overrides: Record<string, unknown> = {}) =>
  handler({ plan: makePlan(), taskToken: TOKEN, step: { label: '10%' }, watchSeconds: 60, ...overrides });
const withRecord = (overrides: Parameters<typeof activeRecord>[0] = {}) =>
  dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord(overrides)) });

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse(NOW) });
  cloudWatch.reset();
  dynamo.reset();
  alarms = alarmsIn('OK');
  serveAlarms(cloudWatch, alarms);
  dynamo.on(UpdateItemCommand).resolves({});
  withRecord({ watch: { taskToken: TOKEN, step: '10%', since: NOW } });
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
});

afterEach(() => {
  jest.useRealTimers();
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('watch-step', () => {
  test('registers the task token for the step (only on this rollout\'s record), then returns', async () => {
    await expect(watch()).resolves.toEqual({ watching: '10%', since: NOW });
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: ROLLOUTS_TABLE,
      Key: { endpointName: { S: ENDPOINT } },
      UpdateExpression: 'SET #watch = :watch',
      ConditionExpression: 'deploymentId = :deploymentId',
      ExpressionAttributeNames: { '#watch': 'watch' },
      ExpressionAttributeValues: {
        ':deploymentId': { S: DEPLOYMENT_ID },
        ':watch': { S: JSON.stringify({ taskToken: TOKEN, step: '10%', since: NOW }) },
      },
    });
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: OWN_ALARMS });
  });

  test('the record is read after the registration, and the alarms after that (a request in between is not lost)', async () => {
    const order: string[] = [];
    dynamo.on(UpdateItemCommand).callsFake(() => (order.push('register'), {}));
    dynamo.on(GetItemCommand).callsFake(() => (order.push('read record'), { Item: recordItem(activeRecord()) }));
    cloudWatch.on(DescribeAlarmsCommand).callsFake(() => (order.push('read alarms'), { MetricAlarms: OWN_ALARMS.map((name) => ({ AlarmName: name, StateValue: 'OK' })) }));
    await watch();
    expect(order).toEqual(['register', 'read record', 'read alarms']);
  });

  test('no record of this rollout: ConfigurationError (an alarm could not reach the execution)', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(watch()).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(new RegExp(`^No active-rollout record for this rollout \\(deployment ${DEPLOYMENT_ID}\\).*an alarm during the 10% step could not reach`)),
    });
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  test.each([
    ['an alarm', { kind: 'ALARM', by: OWN_ALARMS[0]!, reason: 'Threshold Crossed', requestedAt: '2025-03-01T10:59:59.000Z' }, 'AlarmTriggered'],
    ['an operator', { kind: 'OPERATOR', by: 'alice', reason: 'complaints', requestedAt: '2025-03-01T10:59:59.000Z' }, 'RollbackRequested'],
  ] as const)('a rollback requested by %s between the check and the watch: fails the task at once', async (_who, request, name) => {
    withRecord({ rollbackRequest: request as RollbackRequest });
    await expect(watch()).rejects.toMatchObject({ name, message: expect.stringContaining(request.reason) });
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  test('an alarm already in ALARM (its event came before the token): AlarmTriggered naming it', async () => {
    alarms.set(OWN_ALARMS[2]!, { state: 'ALARM', reason: 'p99 2400000 > 1000000' });
    await expect(watch({ step: { label: '100%' } })).rejects.toMatchObject({
      name: 'AlarmTriggered',
      message: `Alarm "${OWN_ALARMS[2]}" (p99 2400000 > 1000000) in ALARM as the watch of the 100% step began.`,
    });
  });

  test('an existing alarm of the policy in ALARM fails the watch too; INSUFFICIENT_DATA does not', async () => {
    const plan = makePlan({ alarms: AlarmPolicySchema.parse({ existingAlarmNames: ['fraud-prod-p50'] }) });
    alarms.set('fraud-prod-p50', { state: 'INSUFFICIENT_DATA' });
    await expect(watch({ plan })).resolves.toEqual({ watching: '10%', since: NOW });
    alarms.set('fraud-prod-p50', { state: 'ALARM', reason: 'p50 high' });
    await expect(watch({ plan })).rejects.toMatchObject({ name: 'AlarmTriggered', message: expect.stringContaining('"fraud-prod-p50" (p50 high)') });
  });

  test('a watched alarm deleted during the rollout: ConfigurationError naming it', async () => {
    alarms.delete(OWN_ALARMS[0]!);
    await expect(watch()).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining(`"${OWN_ALARMS[0]}" no longer exists`) });
  });

  test.each([
    [{ taskToken: '' }, /taskToken: must not be empty/],
    [{ taskToken: undefined }, /taskToken: must be a string/],
    [{ watchSeconds: 0 }, /watchSeconds: must be >= 1/],
    [{ step: {} }, /step\.label: must be a string/],
  ])('rejects bad input %#, naming the field', async (overrides, message) => {
    await expect(watch(overrides)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(dynamo.calls()).toHaveLength(0);
  });
});

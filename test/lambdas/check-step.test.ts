import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/check-step';
import { checkStep, type CheckStepInput } from '../../lambdas/check-step/check';
import { AlarmPolicySchema } from '../../lambdas/shared/config';
import type { StepLogger } from '../../lambdas/shared/logger';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import { ROLLOUTS_TABLE_ENV, type RollbackRequest } from '../../lambdas/shared/rollout-record';
import { activeRecord, alarmsIn, conditionFailed, OWN_ALARMS, recordItem, ROLLOUTS_TABLE, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makePlan } from './support/fixtures';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);

const NOW = Date.parse('2025-03-01T11:00:00.000Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
/** Default alarm policy (period 60 s x 3 evaluation periods = 180 s of evidence) with a 60 s check interval. */
const plan = (alarms: Record<string, unknown> = {}): RolloutPlan => makePlan({ alarms: AlarmPolicySchema.parse({ checkIntervalSeconds: 60, ...alarms }) });
const tenPercent = { label: '10%', greenShare: 0.1, bakeSeconds: 300 };
let alarms: Map<string, FakeAlarm>;

const check = (input: Partial<CheckStepInput> = {}) => handler({ plan: plan(), step: tenPercent, previous: {}, ...input });
const withRecord = (overrides: Parameters<typeof activeRecord>[0] = {}) =>
  dynamo.on(GetItemCommand).resolves({ Item: recordItem(activeRecord(overrides)) });

beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
  cloudWatch.reset();
  dynamo.reset();
  alarms = alarmsIn('OK');
  serveAlarms(cloudWatch, alarms);
  dynamo.on(UpdateItemCommand).resolves({});
  withRecord();
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
});

afterEach(() => {
  jest.useRealTimers();
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('check-step: the bake', () => {
  test('first check of a step: clears the watch, starts the bake now, watches one check interval', async () => {
    const result = await check();
    expect(result).toEqual({
      label: '10%',
      startedAt: '2025-03-01T11:00:00.000Z',
      done: false,
      watchSeconds: 60,
      message: 'The 10% step: 0 of 300 s baked with green at 10% of the traffic, no alarm; watching 60 s.',
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: ROLLOUTS_TABLE,
      Key: { endpointName: { S: ENDPOINT } },
      UpdateExpression: 'REMOVE #watch',
      ConditionExpression: 'deploymentId = :deploymentId',
      ExpressionAttributeValues: { ':deploymentId': { S: DEPLOYMENT_ID } },
    });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: ROLLOUTS_TABLE, Key: { endpointName: { S: ENDPOINT } }, ConsistentRead: true });
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: OWN_ALARMS });
  });

  test('a later check of the same step keeps its start; the last window is what remains of the bake', async () => {
    const result = await check({ previous: { label: '10%', startedAt: ago(250) } });
    expect(result).toMatchObject({ startedAt: ago(250), done: false, watchSeconds: 50 });
  });

  test('less than a second left: a window of 1 s (the smallest timeout)', async () => {
    await expect(check({ previous: { label: '10%', startedAt: ago(299.6) } })).resolves.toMatchObject({ done: false, watchSeconds: 1 });
  });

  test('the previous check was of another step: this step\'s bake starts now', async () => {
    const result = await check({ step: { label: '100%', greenShare: 1, bakeSeconds: 600 }, previous: { label: '10%', startedAt: ago(400) } });
    expect(result).toMatchObject({ label: '100%', startedAt: new Date(NOW).toISOString(), done: false, watchSeconds: 60 });
  });

  test('bake over with no alarm and data on every alarm: done', async () => {
    const result = await check({ previous: { label: '10%', startedAt: ago(300) } });
    expect(result).toEqual({
      label: '10%',
      startedAt: ago(300),
      done: true,
      watchSeconds: 0,
      message: 'The 10% step baked 300 s with green at 10% of the traffic and no alarm.',
    });
  });

  test('a step with no bake is done at its first check', async () => {
    await expect(check({ step: { ...tenPercent, bakeSeconds: 0 } })).resolves.toMatchObject({ done: true, watchSeconds: 0 });
  });
});

describe('check-step: missing alarm data at the end of the bake', () => {
  test('an own alarm without data after a long enough bake: InsufficientAlarmData (onMissingData rollback)', async () => {
    alarms.set(OWN_ALARMS[2]!, { state: 'INSUFFICIENT_DATA' });
    await expect(check({ previous: { label: '10%', startedAt: ago(300) } })).rejects.toMatchObject({
      name: 'InsufficientAlarmData',
      message: expect.stringMatching(
        new RegExp(
          `^No traffic reached green during the 10% step: its alarms "${OWN_ALARMS[2]}" have no data after 300 s .*which is not a pass.*` +
            `Set policy\\.alarms\\.onMissingData to 'proceed'`,
        ),
      ),
    });
  });

  test('with onMissingData proceed: done, with a warning in the message and the log', async () => {
    for (const name of OWN_ALARMS) alarms.set(name, { state: 'INSUFFICIENT_DATA' });
    const logger: StepLogger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn() };
    const result = await checkStep(
      { plan: plan({ onMissingData: 'proceed' }), step: tenPercent, previous: { label: '10%', startedAt: ago(301) } },
      { cloudWatch: new CloudWatchClient({}), dynamo: new DynamoDBClient({}), table: ROLLOUTS_TABLE, logger },
    );
    expect(result.done).toBe(true);
    expect(result.message).toMatch(/Warning: no traffic reached green during the 10% step: its alarms .* have no data.*accepted because policy\.alarms\.onMissingData is 'proceed'/);
    expect(logger.warn).toHaveBeenCalledWith(result.message, { watchedStep: '10%', alarmNames: OWN_ALARMS });
  });

  test('a bake shorter than the alarms\' evaluation (period x evaluation periods) is not held to having data', async () => {
    for (const name of OWN_ALARMS) alarms.set(name, { state: 'INSUFFICIENT_DATA' });
    const shortStep = { ...tenPercent, bakeSeconds: 179 };
    await expect(check({ step: shortStep, previous: { label: '10%', startedAt: ago(179) } })).resolves.toMatchObject({ done: true });
  });

  test('an existing (policy) alarm without data does not count: only the rollout\'s own alarms are evidence', async () => {
    alarms.set('fraud-prod-p50', { state: 'INSUFFICIENT_DATA' });
    const result = await check({ plan: plan({ existingAlarmNames: ['fraud-prod-p50'] }), previous: { label: '10%', startedAt: ago(300) } });
    expect(result).toMatchObject({ done: true, message: expect.not.stringMatching(/Warning/) });
  });

  test('before the bake is over, missing data is no failure (traffic may still come)', async () => {
    for (const name of OWN_ALARMS) alarms.set(name, { state: 'INSUFFICIENT_DATA' });
    await expect(check({ previous: { label: '10%', startedAt: ago(200) } })).resolves.toMatchObject({ done: false, watchSeconds: 60 });
  });
});

describe('check-step: rollback signals', () => {
  test('an alarm in ALARM whose event was not seen: AlarmTriggered naming it and its reason', async () => {
    alarms.set(OWN_ALARMS[0]!, { state: 'ALARM', reason: 'Threshold Crossed: 2 out of the last 3 datapoints [0.2, 0.3] were greater than the threshold (0.01)' });
    await expect(check({ previous: { label: '10%', startedAt: ago(300) } })).rejects.toMatchObject({
      name: 'AlarmTriggered',
      message:
        `Alarm "${OWN_ALARMS[0]}" (Threshold Crossed: 2 out of the last 3 datapoints [0.2, 0.3] were greater than the threshold (0.01)) ` +
        'in ALARM during the 10% step, found by the periodic check: the alarm event was not seen.',
    });
  });

  test('an existing composite alarm in ALARM rolls back too', async () => {
    alarms.set('fraud-prod-health', { state: 'ALARM', type: 'CompositeAlarm', reason: 'fraud-prod-p50 in ALARM' });
    await expect(check({ plan: plan({ existingAlarmNames: ['fraud-prod-health'] }) })).rejects.toMatchObject({
      name: 'AlarmTriggered',
      message: expect.stringContaining('"fraud-prod-health" (fraud-prod-p50 in ALARM) in ALARM'),
    });
  });

  const alarmRequest: RollbackRequest = {
    kind: 'ALARM',
    by: OWN_ALARMS[1]!,
    reason: 'Threshold Crossed',
    requestedAt: '2025-03-01T10:58:00.000Z',
    weightsRestoredAt: '2025-03-01T10:58:00.600Z',
    outcome: 'ROLLED_BACK',
  };

  test.each([
    ['an alarm', alarmRequest, 'AlarmTriggered', `Alarm "${OWN_ALARMS[1]}" requested a rollback`],
    ['an operator', { kind: 'OPERATOR', by: 'alice', reason: 'complaints', requestedAt: '2025-03-01T10:59:00.000Z' }, 'RollbackRequested', 'Operator alice requested a rollback'],
    ['an alarm, blue unhealthy', { ...alarmRequest, outcome: 'BLUE_UNHEALTHY', weightsRestoredAt: undefined }, 'BlueUnhealthy', 'Blue could not take the traffic back'],
  ] as const)('a rollback requested by %s: fails with its error, alarms not even read', async (_who, request, name, message) => {
    withRecord({ rollbackRequest: request as RollbackRequest });
    await expect(check()).rejects.toMatchObject({ name, message: expect.stringContaining(message) });
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  test('no record for the endpoint: ConfigurationError (green is not watched), after trying to clear the watch', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    dynamo.on(GetItemCommand).resolves({});
    await expect(check()).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(new RegExp(`^No active-rollout record for this rollout \\(deployment ${DEPLOYMENT_ID}\\) on endpoint ${ENDPOINT}`)),
    });
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(dynamo).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
  });

  test('the record belongs to another rollout: ConfigurationError naming it', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    withRecord({ deploymentId: '99999999', executionArn: `${EXECUTION_ARN}-other` });
    await expect(check()).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining(`it holds deployment 99999999, execution ${EXECUTION_ARN}-other`),
    });
  });

  test('a watched alarm deleted during the rollout: ConfigurationError naming it (an unwatched step does not pass)', async () => {
    alarms.delete(OWN_ALARMS[2]!);
    await expect(check({ previous: { label: '10%', startedAt: ago(300) } })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining(`Watched alarm "${OWN_ALARMS[2]}" no longer exists`),
    });
  });
});

describe('check-step: input', () => {
  test.each([
    [{ step: { ...tenPercent, greenShare: 0 } }, /step\.greenShare: must be > 0/],
    [{ step: { ...tenPercent, greenShare: 1.1 } }, /step\.greenShare: must be <= 1/],
    [{ step: { ...tenPercent, bakeSeconds: -1 } }, /step\.bakeSeconds: must be >= 0/],
    [{ step: { ...tenPercent, label: '' } }, /step\.label: must not be empty/],
    [{ previous: { label: '10%', startedAt: 'yesterday' } }, /previous\.startedAt: must be an ISO 8601 date-time/],
    [{ previous: undefined }, /previous: /],
  ])('rejects bad input %#, naming the field', async (overrides, message) => {
    await expect(handler({ plan: plan(), step: tenPercent, previous: {}, ...overrides })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(message),
    });
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('the previous result as the state carries it (with done, watchSeconds, message) is accepted', async () => {
    const previous = { label: '10%', startedAt: ago(100), done: false, watchSeconds: 60, message: 'The 10% step: ...' };
    await expect(handler({ plan: plan(), step: tenPercent, previous })).resolves.toMatchObject({ startedAt: ago(100), watchSeconds: 60 });
  });
});

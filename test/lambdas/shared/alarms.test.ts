import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ALARM_ENDPOINT_TAG,
  describeAlarmStates,
  firingAlarmsError,
  missingAlarmsError,
  ownAlarmNames,
  rollbackRequestError,
  rolloutAlarmInputs,
  watchedAlarmNames,
} from '../../../lambdas/shared/alarms';
import { AlarmPolicySchema } from '../../../lambdas/shared/config';
import { rolloutAlarmNames } from '../../../lambdas/shared/names';
import type { RollbackRequest } from '../../../lambdas/shared/rollout-record';
import { DEPLOYMENT_ID_TAG, MANAGED_BY_TAG, MODEL_PACKAGE_ARN_TAG } from '../../../lambdas/shared/tags';
import { alarmsIn, serveAlarms, type FakeAlarm } from '../support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makePlan, NAMES, PACKAGE_ARN } from '../support/fixtures';

const cloudWatch = mockClient(CloudWatchClient);
const NAMED = rolloutAlarmNames(ENDPOINT, DEPLOYMENT_ID);

beforeEach(() => cloudWatch.reset());

describe('rolloutAlarmInputs', () => {
  const plan = makePlan({
    alarms: AlarmPolicySchema.parse({ maxErrorRate: 0.02, maxModelErrorRate: 0.05, maxModelLatencyP99Ms: 250.5, periodSeconds: 120, evaluationPeriods: 4, datapointsToAlarm: 3 }),
  });
  const [errorRate, modelErrorRate, latency] = rolloutAlarmInputs(plan);
  const common = {
    Namespace: 'AWS/SageMaker',
    Dimensions: [
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: NAMES.greenVariantName },
    ],
    Period: 120,
    EvaluationPeriods: 4,
    DatapointsToAlarm: 3,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'missing',
    ActionsEnabled: false,
    Tags: [
      { Key: MANAGED_BY_TAG, Value: 'sagemaker-blue-green' },
      { Key: DEPLOYMENT_ID_TAG, Value: DEPLOYMENT_ID },
      { Key: MODEL_PACKAGE_ARN_TAG, Value: PACKAGE_ARN },
      { Key: ALARM_ENDPOINT_TAG, Value: ENDPOINT },
    ],
  };

  test('5xx rate: Average of Invocation5XXErrors above maxErrorRate, on green only', () => {
    expect(errorRate).toEqual({
      ...common,
      AlarmName: NAMED.errorRate,
      AlarmDescription: expect.any(String),
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Average',
      Threshold: 0.02,
    });
  });

  test('model error rate: Average of InvocationModelErrors above maxModelErrorRate', () => {
    expect(modelErrorRate).toEqual({
      ...common,
      AlarmName: NAMED.modelErrorRate,
      AlarmDescription: expect.any(String),
      MetricName: 'InvocationModelErrors',
      Statistic: 'Average',
      Threshold: 0.05,
    });
  });

  test('latency: p99 of ModelLatency against the policy\'s milliseconds in microseconds, no plain Statistic', () => {
    expect(latency).toEqual({
      ...common,
      AlarmName: NAMED.latencyP99,
      AlarmDescription: expect.any(String),
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 250_500,
    });
    expect(latency).not.toHaveProperty('Statistic');
  });

  test('descriptions say which rollout, endpoint and variant, and why; within 1024 characters', () => {
    for (const alarm of [errorRate!, modelErrorRate!, latency!]) {
      expect(alarm.AlarmDescription!.length).toBeLessThanOrEqual(1024);
      expect(alarm.AlarmDescription).toContain(`Rollout ${DEPLOYMENT_ID}`);
      expect(alarm.AlarmDescription).toContain(`of green variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT} above`);
      expect(alarm.AlarmDescription).toContain('rolls green back');
      expect(alarm.AlarmDescription).toContain('3 of 4 periods of 120 s');
    }
    expect(latency!.AlarmDescription).toContain('above 250.5 ms (250500 microseconds');
    expect(errorRate!.AlarmDescription).toContain(`The 5xx rate (Average of Invocation5XXErrors) of green variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT} above 0.02,`);
    expect(modelErrorRate!.AlarmDescription).toContain('model error rate (Average of InvocationModelErrors) of green variant');
  });

  test('a very long execution ARN still gives a description CloudWatch accepts', () => {
    const [alarm] = rolloutAlarmInputs(makePlan({ executionArn: `${EXECUTION_ARN}-${'x'.repeat(1200)}` }));
    expect(alarm!.AlarmDescription).toHaveLength(1024);
    expect(alarm!.AlarmDescription!.endsWith('...')).toBe(true);
  });

  test('names are the rollout\'s own names, in the order of ownAlarmNames', () => {
    expect(rolloutAlarmInputs(makePlan()).map((a) => a.AlarmName)).toEqual(ownAlarmNames(makePlan()));
    expect(ownAlarmNames(makePlan())).toEqual([NAMED.errorRate, NAMED.modelErrorRate, NAMED.latencyP99]);
  });
});

describe('watchedAlarmNames', () => {
  test('own alarms, then the policy\'s existing alarms, without duplicates', () => {
    const plan = makePlan({ alarms: AlarmPolicySchema.parse({ existingAlarmNames: ['fraud-p50-latency', 'fraud-composite', 'fraud-p50-latency'] }) });
    expect(watchedAlarmNames(plan)).toEqual([NAMED.errorRate, NAMED.modelErrorRate, NAMED.latencyP99, 'fraud-p50-latency', 'fraud-composite']);
  });
});

describe('describeAlarmStates', () => {
  test('states and reasons of metric and composite alarms; unknown names listed as missing', async () => {
    serveAlarms(
      cloudWatch,
      new Map<string, FakeAlarm>([
        ['a', { state: 'OK', reason: 'fine' }],
        ['b', { state: 'ALARM', reason: 'Threshold Crossed', type: 'CompositeAlarm' }],
      ]),
    );
    const result = await describeAlarmStates(new CloudWatchClient({}), ['a', 'b', 'gone']);
    expect([...result.states.values()]).toEqual([
      { name: 'a', type: 'MetricAlarm', state: 'OK', reason: 'fine', updatedAt: '2025-03-01T10:20:00.000Z' },
      { name: 'b', type: 'CompositeAlarm', state: 'ALARM', reason: 'Threshold Crossed', updatedAt: '2025-03-01T10:20:00.000Z' },
    ]);
    expect(result.missing).toEqual(['gone']);
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['a', 'b', 'gone'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
  });

  test('at most 100 names per call', async () => {
    const names = Array.from({ length: 250 }, (_u, i) => `alarm-${i}`);
    serveAlarms(cloudWatch, alarmsIn('OK', names.slice(0, 240)));
    const result = await describeAlarmStates(new CloudWatchClient({}), names);
    const asked = cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames!.length);
    expect(asked).toEqual([100, 100, 50]);
    expect(result.states.size).toBe(240);
    expect(result.missing).toEqual(names.slice(240));
  });

  test('follows NextToken to the last page', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    serveAlarms(cloudWatch, alarmsIn('INSUFFICIENT_DATA', names), 2);
    const result = await describeAlarmStates(new CloudWatchClient({}), names);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.NextToken)).toEqual([undefined, '2', '4']);
    expect([...result.states.keys()]).toEqual(names);
    expect(result.missing).toEqual([]);
  });

  test('a name asked twice is asked once; no names, no call', async () => {
    serveAlarms(cloudWatch, alarmsIn('OK', ['a']));
    await describeAlarmStates(new CloudWatchClient({}), ['a', 'a']);
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['a'] });
    cloudWatch.resetHistory();
    await expect(describeAlarmStates(new CloudWatchClient({}), [])).resolves.toEqual({ states: new Map(), missing: [] });
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });
});

describe('firingAlarmsError / missingAlarmsError', () => {
  const states = (alarms: Map<string, FakeAlarm>, missing: string[] = []) => ({
    states: new Map([...alarms].map(([name, a]) => [name, { name, type: 'MetricAlarm' as const, state: a.state, ...(a.reason ? { reason: a.reason } : {}) }])),
    missing,
  });

  test('names every alarm in ALARM with its reason, in the order watched', () => {
    const alarms = new Map<string, FakeAlarm>([
      ['b', { state: 'ALARM', reason: 'p99 above 1000000' }],
      ['a', { state: 'ALARM', reason: '5xx above 0.01' }],
      ['c', { state: 'OK' }],
    ]);
    const error = firingAlarmsError(states(alarms), ['a', 'b', 'c'], 'during the 10% step');
    expect(error).toMatchObject({ name: 'AlarmTriggered', message: 'Alarms "a" (5xx above 0.01); "b" (p99 above 1000000) in ALARM during the 10% step.' });
  });

  test('nothing in ALARM: no error (INSUFFICIENT_DATA is not ALARM)', () => {
    expect(firingAlarmsError(states(alarmsIn('INSUFFICIENT_DATA', ['a'])), ['a'], 'x')).toBeUndefined();
  });

  test('missing alarms: ConfigurationError naming them; none missing: no error', () => {
    expect(missingAlarmsError(states(new Map(), ['gone']), 'the 100% step')).toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/^Watched alarm "gone" no longer exists .*the 100% step is not watched/),
    });
    expect(missingAlarmsError(states(new Map()), 'the 100% step')).toBeUndefined();
  });
});

describe('rollbackRequestError', () => {
  const request: RollbackRequest = {
    kind: 'ALARM',
    by: NAMED.errorRate,
    reason: 'Threshold Crossed: 2 out of the last 3 datapoints were greater than the threshold (0.01).',
    requestedAt: '2025-03-01T10:30:00.420Z',
    weightsRestoredAt: '2025-03-01T10:30:00.900Z',
    outcome: 'ROLLED_BACK',
  };

  test('an alarm\'s request: AlarmTriggered with the alarm, its reason and when blue got its weights back', () => {
    const error = rollbackRequestError(request);
    expect(error.name).toBe('AlarmTriggered');
    expect(error.message).toBe(
      `Alarm "${NAMED.errorRate}" requested a rollback at 2025-03-01T10:30:00.420Z: Threshold Crossed: 2 out of the last 3 datapoints were ` +
        `greater than the threshold (0.01). Blue's weights were requested back at 2025-03-01T10:30:00.900Z.`,
    );
  });

  test('an operator\'s request: RollbackRequested naming the operator and the reason', () => {
    const error = rollbackRequestError({ kind: 'OPERATOR', by: 'alice', reason: 'customer complaints', requestedAt: '2025-03-01T10:31:00Z' });
    expect(error).toMatchObject({ name: 'RollbackRequested', message: 'Operator alice requested a rollback at 2025-03-01T10:31:00Z: customer complaints.' });
  });

  test('blue could not take the traffic back: BlueUnhealthy, as on-alarm reported it', () => {
    const error = rollbackRequestError({ ...request, weightsRestoredAt: undefined, outcome: 'BLUE_UNHEALTHY', message: "blue's probe request failed" });
    expect(error.name).toBe('BlueUnhealthy');
    expect(error.message).toMatch(/weights were left as they are: blue's probe request failed\.$/);
  });
});

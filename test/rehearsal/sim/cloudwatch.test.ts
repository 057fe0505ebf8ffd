/**
 * The CloudWatch alarm simulation: the API through the real @aws-sdk/client-cloudwatch (over a transport
 * that renders responses the way CloudWatch's JSON endpoint does), validation errors by name, DescribeAlarms
 * filters, DeleteAlarms semantics, "M out of N" evaluation with each TreatMissingData, percentiles of
 * ModelLatency in microseconds, composite alarms and the "CloudWatch Alarm State Change" events.
 */
import { Readable } from 'node:stream';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { alarmReferences, evaluateAlarmRule, parseAlarmRule } from '../../../rehearsal/sim/alarm-rule';
import { CloudWatchSimulation, cloudWatchErrorResponse, javaDouble, type VariantTrafficSample } from '../../../rehearsal/sim/cloudwatch';
import { AwsServiceError } from '../../../rehearsal/sim/errors';
import { readBody } from '../../../rehearsal/sim/transport';
import { drive, installClock, START_MS, type FakeClock } from './helpers';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ENDPOINT = 'fraud-prod';
const GREEN = 'v7-3f9a2c1b';
const ARN_PREFIX = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:`;
const MINUTE = 60_000;

let clock: FakeClock;
let cw: CloudWatchSimulation;
let events: Record<string, any>[];

beforeEach(() => {
  clock = installClock();
  cw = new CloudWatchSimulation({ region: REGION, accountId: ACCOUNT });
  events = [];
  cw.onAlarmStateChange((event) => events.push(event));
});
afterEach(() => clock.uninstall());

/** PutMetricAlarm on green's 5xx rate: Average > 0.01 over 1-minute periods, 3 of 3 unless overridden. */
function putErrorRateAlarm(overrides: Record<string, unknown> = {}): void {
  cw.execute('PutMetricAlarm', {
    AlarmName: 'green-5xx',
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Dimensions: [
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: GREEN },
    ],
    Statistic: 'Average',
    Period: 60,
    EvaluationPeriods: 3,
    Threshold: 0.01,
    ComparisonOperator: 'GreaterThanThreshold',
    ActionsEnabled: false,
    ...overrides,
  });
}

/** One minute of green traffic with `errors` 5xx (model errors) out of `invocations`. */
function greenSample(invocations: number, errors = 0, extra: Partial<VariantTrafficSample> = {}): VariantTrafficSample {
  return {
    endpointName: ENDPOINT,
    variantName: GREEN,
    invocations,
    invocation5xxErrors: errors,
    invocation4xxErrors: 0,
    modelErrors: errors,
    modelLatenciesUs: [],
    ...extra,
  };
}

/** Advances the clock one minute and publishes `samples` for the minute that just ended. */
function publishMinute(...samples: VariantTrafficSample[]): void {
  clock.tick(MINUTE);
  cw.publish(samples, Date.now());
}

const stateOf = (name: string): string | undefined => cw.alarmSnapshot(name)?.state;

/** The error `work` throws (fails the test if it does not). */
function errorOf(work: () => unknown): AwsServiceError {
  try {
    work();
  } catch (error) {
    if (error instanceof AwsServiceError) return error;
    throw error;
  }
  throw new Error('expected an AwsServiceError');
}

describe('through the SDK', () => {
  /** Renders CloudWatch's JSON protocol: awsJson1_0 bodies, query-compatible error headers. */
  function client(): CloudWatchClient {
    const handle = async (request: HttpRequest): Promise<{ response: HttpResponse }> => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const text = new TextDecoder().decode(await readBody(request.body));
      const respond = (status: number, headers: Record<string, string>, body: object): { response: HttpResponse } => ({
        response: new HttpResponse({
          statusCode: status,
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'request-1', ...headers },
          body: Readable.from([Buffer.from(JSON.stringify(body))]),
        }),
      });
      try {
        return respond(200, {}, cw.execute(target.replace('GraniteServiceVersion20100801.', ''), JSON.parse(text)));
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        const wire = cloudWatchErrorResponse(error);
        return respond(error.httpStatus, wire.headers, wire.body);
      }
    };
    return new CloudWatchClient({
      region: REGION,
      credentials: { accessKeyId: 'AKIASIMULATED', secretAccessKey: 'secret' },
      requestHandler: { handle, metadata: { handlerProtocol: 'h1' } } as never,
      maxAttempts: 1,
    });
  }

  const p99Alarm: PutMetricAlarmCommandInput = {
    AlarmName: 'green-latency-p99',
    Namespace: 'AWS/SageMaker',
    MetricName: 'ModelLatency',
    Dimensions: [
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: GREEN },
    ],
    ExtendedStatistic: 'p99',
    Period: 60,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 500_000,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'missing',
    Tags: [{ Key: 'sagemaker-blue-green:endpoint', Value: ENDPOINT }],
  };

  test('PutMetricAlarm then DescribeAlarms: the alarm with AWS fields, INSUFFICIENT_DATA, timestamps as Dates', async () => {
    const cloudWatch = client();
    await drive(clock, cloudWatch.send(new PutMetricAlarmCommand(p99Alarm)));
    const output = await drive(clock, cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['green-latency-p99'] })));
    expect(output.CompositeAlarms).toEqual([]);
    expect(output.MetricAlarms).toHaveLength(1);
    const alarm = output.MetricAlarms![0]!;
    expect(alarm).toMatchObject({
      AlarmName: 'green-latency-p99',
      AlarmArn: `${ARN_PREFIX}green-latency-p99`,
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
      ExtendedStatistic: 'p99',
      Threshold: 500_000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'missing',
      ActionsEnabled: true,
      Dimensions: p99Alarm.Dimensions,
    });
    expect(alarm.Statistic).toBeUndefined();
    expect(alarm.StateUpdatedTimestamp).toEqual(new Date(START_MS));
    expect(alarm.AlarmConfigurationUpdatedTimestamp).toEqual(new Date(START_MS));
    expect(events).toEqual([]);
  });

  test('errors reach the SDK with their CloudWatch names, codes and HTTP statuses', async () => {
    const cloudWatch = client();
    await drive(clock, cloudWatch.send(new PutMetricAlarmCommand(p99Alarm)));
    const failures = await Promise.all(
      [
        cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['green-latency-p99', 'no-such-alarm'] })),
        cloudWatch.send(new PutMetricAlarmCommand({ ...p99Alarm, Statistic: 'Average' })),
        cloudWatch.send(new PutMetricAlarmCommand({ ...p99Alarm, Period: 45 })),
        cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'green-latency-p99', StateValue: 'ALARM', StateReason: 'test', StateReasonData: '{nope' })),
      ].map((work) => drive(clock, work).then(() => undefined, (error: Error & Record<string, any>) => error)),
    );
    expect(failures.map((error) => [error?.name, error?.Code ?? error?.Error?.Code, error?.$metadata?.httpStatusCode])).toEqual([
      ['ResourceNotFound', 'ResourceNotFound', 404],
      ['InvalidParameterCombinationException', 'InvalidParameterCombination', 400],
      // The SDK's class for the ValidationError code (awsQueryError) is ValidationException.
      ['ValidationException', 'ValidationError', 400],
      ['InvalidFormatFault', 'InvalidFormat', 400],
    ]);
    expect(failures[2]!.message).toBe('Period must be 10, 30 or a multiple of 60');
    // DeleteAlarms with an unknown name deletes nothing.
    expect(cw.alarmNames()).toEqual(['green-latency-p99']);
  });
});

describe('PutMetricAlarm validation', () => {
  const valid = {
    AlarmName: 'a',
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Statistic: 'Average',
    Period: 60,
    EvaluationPeriods: 3,
    Threshold: 0.01,
    ComparisonOperator: 'GreaterThanThreshold',
  };
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['EvaluationPeriods missing', { EvaluationPeriods: undefined }, 'ValidationError', /Value null at 'evaluationPeriods' failed to satisfy constraint: Member must not be null/],
    ['AlarmName over 255', { AlarmName: 'x'.repeat(256) }, 'ValidationError', /at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255/],
    ['AlarmName with a control character', { AlarmName: 'bad\nname' }, 'ValidationError', /control characters/],
    ['ComparisonOperator unknown', { ComparisonOperator: 'Above' }, 'ValidationError', /Member must satisfy enum value set/],
    ['Period 45', { Period: 45 }, 'ValidationError', /^Period must be 10, 30 or a multiple of 60$/],
    ['Period x EvaluationPeriods over a day', { Period: 3600, EvaluationPeriods: 25 }, 'ValidationError', /more than a day \(EvaluationPeriods \* Period must be <= 86400\)/],
    ['DatapointsToAlarm above EvaluationPeriods', { DatapointsToAlarm: 4 }, 'ValidationError', /DatapointsToAlarm \(4\) must be less than or equal to EvaluationPeriods \(3\)/],
    ['TreatMissingData unknown', { TreatMissingData: 'zero' }, 'ValidationError', /Option zero is not supported.*missing, ignore, breaching and notBreaching/],
    ['Statistic and ExtendedStatistic', { ExtendedStatistic: 'p99' }, 'InvalidParameterCombination', /cannot both be specified/],
    ['neither Statistic nor ExtendedStatistic', { Statistic: undefined }, 'MissingParameter', /Either Statistic or ExtendedStatistic/],
    ['ExtendedStatistic p101', { Statistic: undefined, ExtendedStatistic: 'p101' }, 'InvalidParameterValue', /The value p101 for parameter ExtendedStatistic is not supported/],
    ['ExtendedStatistic tm99 (valid in AWS, not simulated)', { Statistic: undefined, ExtendedStatistic: 'tm99' }, 'ValidationError', /not supported by the CloudWatch simulation/],
    ['Metrics (metric math)', { Metrics: [{ Id: 'm1', Expression: 'm2 * 2' }] }, 'ValidationError', /Metrics .* not supported by the CloudWatch simulation/],
    ['Period missing', { Period: undefined }, 'ValidationError', /Period must be specified/],
    ['Threshold missing', { Threshold: undefined }, 'ValidationError', /Threshold must be specified/],
    ['an anomaly detection operator', { ComparisonOperator: 'GreaterThanUpperThreshold' }, 'ValidationError', /ThresholdMetricId/],
    ['51 tags', { Tags: Array.from({ length: 51 }, (_unused, index) => ({ Key: `k${index}`, Value: 'v' })) }, 'InvalidParameterValue', /at most 50 tags/],
    ['a reserved tag key', { Tags: [{ Key: 'aws:owner', Value: 'me' }] }, 'InvalidParameterValue', /reserved/],
    ['Period of the wrong JSON type', { Period: '60' }, 'SerializationException', /Expected number at 'period'/],
  ];

  test.each(cases)('%s: %s', (_case, overrides, name, message) => {
    const error = errorOf(() => cw.execute('PutMetricAlarm', { ...valid, ...overrides }));
    expect(error.code).toBe(name);
    expect(error.message).toMatch(message);
    expect(error.httpStatus).toBe(400);
    expect(cw.alarmNames()).toEqual([]);
  });

  test('an update replaces the configuration, keeps the state until the next evaluation and ignores the tags of the request', () => {
    putErrorRateAlarm({ Tags: [{ Key: 'team', Value: 'ml' }], EvaluationPeriods: 1 });
    publishMinute(greenSample(100, 3));
    expect(stateOf('green-5xx')).toBe('ALARM');
    putErrorRateAlarm({ Threshold: 0.05, Tags: [{ Key: 'team', Value: 'other' }], EvaluationPeriods: 1 });
    const output = cw.execute('DescribeAlarms', {}) as { MetricAlarms: Record<string, unknown>[] };
    expect(output.MetricAlarms[0]).toMatchObject({ Threshold: 0.05, StateValue: 'ALARM' });
    expect(cw.alarmSnapshot('green-5xx')!.tags).toEqual([{ Key: 'team', Value: 'ml' }]);
    publishMinute(greenSample(100, 3));
    expect(stateOf('green-5xx')).toBe('OK');
  });
});

describe('DescribeAlarms', () => {
  beforeEach(() => {
    putErrorRateAlarm({ AlarmName: 'sagemaker-blue-green-fraud-prod-3f9a2c1b-errors' });
    putErrorRateAlarm({ AlarmName: 'sagemaker-blue-green-fraud-prod-3f9a2c1b-latency', AlarmActions: ['arn:aws:sns:us-east-1:123456789012:oncall'] });
    putErrorRateAlarm({ AlarmName: 'checkout-5xx' });
    cw.execute('PutCompositeAlarm', { AlarmName: 'fraud-any', AlarmRule: 'ALARM("checkout-5xx") OR ALARM(sagemaker-blue-green-fraud-prod-3f9a2c1b-errors)' });
    cw.setAlarmState('checkout-5xx', 'ALARM', 'injected');
  });
  const names = (output: object): string[] => {
    const { MetricAlarms, CompositeAlarms } = output as { MetricAlarms: { AlarmName: string }[]; CompositeAlarms: { AlarmName: string }[] };
    return [...MetricAlarms, ...CompositeAlarms].map((alarm) => alarm.AlarmName);
  };

  test('without AlarmTypes only metric alarms come back, sorted by name', () => {
    expect(names(cw.execute('DescribeAlarms', {}))).toEqual([
      'checkout-5xx',
      'sagemaker-blue-green-fraud-prod-3f9a2c1b-errors',
      'sagemaker-blue-green-fraud-prod-3f9a2c1b-latency',
    ]);
    expect(names(cw.execute('DescribeAlarms', { AlarmTypes: ['CompositeAlarm'] }))).toEqual(['fraud-any']);
    expect(names(cw.execute('DescribeAlarms', { AlarmTypes: ['CompositeAlarm', 'MetricAlarm'], StateValue: 'ALARM' }))).toEqual(['checkout-5xx', 'fraud-any']);
  });

  test('AlarmNames (unknown names are skipped), AlarmNamePrefix, ActionPrefix, and AlarmNames with a prefix is refused', () => {
    expect(names(cw.execute('DescribeAlarms', { AlarmNames: ['checkout-5xx', 'gone', 'fraud-any'] }))).toEqual(['checkout-5xx']);
    expect(names(cw.execute('DescribeAlarms', { AlarmNamePrefix: 'sagemaker-blue-green-' }))).toHaveLength(2);
    expect(names(cw.execute('DescribeAlarms', { ActionPrefix: 'arn:aws:sns:' }))).toEqual(['sagemaker-blue-green-fraud-prod-3f9a2c1b-latency']);
    expect(errorOf(() => cw.execute('DescribeAlarms', { AlarmNames: ['a'], AlarmNamePrefix: 'a' })).code).toBe('InvalidParameterCombination');
  });

  test('ChildrenOfAlarmName and ParentsOfAlarmName, alone', () => {
    expect(names(cw.execute('DescribeAlarms', { ChildrenOfAlarmName: 'fraud-any' }))).toEqual(['checkout-5xx', 'sagemaker-blue-green-fraud-prod-3f9a2c1b-errors']);
    expect(names(cw.execute('DescribeAlarms', { ParentsOfAlarmName: 'checkout-5xx' }))).toEqual(['fraud-any']);
    expect(errorOf(() => cw.execute('DescribeAlarms', { ParentsOfAlarmName: 'checkout-5xx', StateValue: 'OK' })).code).toBe('InvalidParameterCombination');
  });

  test('MaxRecords pages with NextToken until the last page; a forged token is InvalidNextToken', () => {
    const first = cw.execute('DescribeAlarms', { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 3 }) as { NextToken?: string };
    expect(names(first)).toHaveLength(3);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = cw.execute('DescribeAlarms', { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 3, NextToken: first.NextToken }) as { NextToken?: string };
    expect(names(second)).toEqual(['sagemaker-blue-green-fraud-prod-3f9a2c1b-latency']);
    expect(second.NextToken).toBeUndefined();
    expect(errorOf(() => cw.execute('DescribeAlarms', { NextToken: 'not-a-token' })).code).toBe('InvalidNextToken');
    expect(errorOf(() => cw.execute('DescribeAlarms', { MaxRecords: 101 })).code).toBe('ValidationError');
  });
});

describe('DeleteAlarms', () => {
  beforeEach(() => {
    putErrorRateAlarm({ AlarmName: 'a' });
    putErrorRateAlarm({ AlarmName: 'b' });
    putErrorRateAlarm({ AlarmName: 'c' });
    cw.execute('PutCompositeAlarm', { AlarmName: 'parent', AlarmRule: 'ALARM(a)' });
    cw.execute('PutCompositeAlarm', { AlarmName: 'other-parent', AlarmRule: 'ALARM(b)' });
  });

  test('an unknown name fails the whole call with ResourceNotFound (404) and deletes none', () => {
    const error = errorOf(() => cw.execute('DeleteAlarms', { AlarmNames: ['c', 'missing'] }));
    expect([error.code, error.httpStatus]).toEqual(['ResourceNotFound', 404]);
    expect(error.message).toContain('missing');
    expect(cw.alarmNames()).toContain('c');
  });

  test('a child of a composite alarm can only go with its parent, and one composite per call', () => {
    expect(errorOf(() => cw.execute('DeleteAlarms', { AlarmNames: ['a', 'c'] })).message).toBe('Cannot delete a as there are composite alarm(s) depending on it.');
    expect(errorOf(() => cw.execute('DeleteAlarms', { AlarmNames: ['parent', 'other-parent'] })).code).toBe('ValidationError');
    expect(cw.alarmNames()).toEqual(['a', 'b', 'c', 'other-parent', 'parent']);
    cw.execute('DeleteAlarms', { AlarmNames: ['a', 'parent', 'c'] });
    expect(cw.alarmNames()).toEqual(['b', 'other-parent']);
  });
});

describe('metric alarm evaluation', () => {
  test('2 out of 3 breaching datapoints: ALARM, with CloudWatch reason text, then OK once fewer breach', () => {
    putErrorRateAlarm({ DatapointsToAlarm: 2 });
    publishMinute(greenSample(100, 0));
    publishMinute(greenSample(100, 20));
    expect(stateOf('green-5xx')).toBe('OK');
    publishMinute(greenSample(50, 25));
    expect(stateOf('green-5xx')).toBe('ALARM');
    const alarmEvent = events.at(-1)!;
    expect(alarmEvent.detail.state.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [0.5 (01/01/26 09:02:00), 0.2 (01/01/26 09:01:00)] were greater than the threshold (0.01) ' +
        '(minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(JSON.parse(alarmEvent.detail.state.reasonData)).toMatchObject({
      version: '1.0',
      statistic: 'Average',
      period: 60,
      threshold: 0.01,
      recentDatapoints: [0, 0.2, 0.5],
      evaluatedDatapoints: [
        { timestamp: '2026-01-01T09:02:00.000+0000', sampleCount: 50, value: 0.5 },
        { timestamp: '2026-01-01T09:01:00.000+0000', sampleCount: 100, value: 0.2 },
        { timestamp: '2026-01-01T09:00:00.000+0000', sampleCount: 100, value: 0 },
      ],
    });
    publishMinute(greenSample(100, 0));
    expect(stateOf('green-5xx')).toBe('ALARM');
    publishMinute(greenSample(100, 0));
    expect(stateOf('green-5xx')).toBe('OK');
    expect(events.at(-1)!.detail.state.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [0.0 (01/01/26 09:04:00), 0.0 (01/01/26 09:03:00)] were not greater than the threshold (0.01) ' +
        '(minimum 2 datapoints for ALARM -> OK transition).',
    );
    expect(events.map((event) => `${event.detail.previousState.value}->${event.detail.state.value}`)).toEqual(['INSUFFICIENT_DATA->OK', 'OK->ALARM', 'ALARM->OK']);
  });

  test('a minute without invocations is missing data; once N real datapoints exist, older ones fill in', () => {
    putErrorRateAlarm({ TreatMissingData: 'notBreaching' });
    publishMinute(greenSample(10, 5));
    publishMinute(greenSample(10, 5));
    publishMinute(greenSample(0));
    publishMinute(greenSample(10, 5));
    // Real datapoints at minutes 0, 1 and 3 (minute 2 had no traffic): 3 of 3 breach, and TreatMissingData
    // plays no part (notBreaching would have made it 2 of 3).
    expect(stateOf('green-5xx')).toBe('ALARM');
    expect(events.map((event) => event.detail.state.value)).toEqual(['OK', 'ALARM']);
    expect(events.at(-1)!.detail.state.reason).toMatch(/^Threshold Crossed: 3 out of the last 3 datapoints \[0\.5 \(01\/01\/26 09:03:00\), 0\.5 \(01\/01\/26 09:01:00\), 0\.5 \(01\/01\/26 09:00:00\)\]/);
  });

  describe('no data at all, per TreatMissingData', () => {
    test.each([
      ['missing', 'INSUFFICIENT_DATA', 0],
      [undefined, 'INSUFFICIENT_DATA', 0],
      ['ignore', 'INSUFFICIENT_DATA', 0],
      ['breaching', 'ALARM', 1],
      ['notBreaching', 'OK', 1],
    ])('TreatMissingData %s -> %s', (treat, expected, eventCount) => {
      putErrorRateAlarm(treat !== undefined ? { TreatMissingData: treat } : {});
      publishMinute(greenSample(0));
      publishMinute();
      expect(stateOf('green-5xx')).toBe(expected);
      expect(events).toHaveLength(eventCount);
    });

    test('breaching: the reason says the missing datapoints were treated as breaching', () => {
      putErrorRateAlarm({ TreatMissingData: 'breaching' });
      publishMinute();
      expect(events[0]!.detail.state.reason).toBe('Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].');
    });

    test('missing: an alarm whose data stopped goes back to INSUFFICIENT_DATA once its evaluation range holds none', () => {
      putErrorRateAlarm({ EvaluationPeriods: 1 });
      publishMinute(greenSample(100, 0));
      expect(stateOf('green-5xx')).toBe('OK');
      publishMinute(greenSample(0));
      // The evaluation range (2 x EvaluationPeriods) still holds the last datapoint.
      expect(stateOf('green-5xx')).toBe('OK');
      publishMinute(greenSample(0));
      expect(stateOf('green-5xx')).toBe('INSUFFICIENT_DATA');
      expect(events.at(-1)!.detail.state.reason).toBe('Insufficient Data: 1 datapoint was unknown.');
    });
  });

  describe('one breaching datapoint among missing ones (3 of 3 to alarm), per TreatMissingData', () => {
    test.each([
      ['missing', 'ALARM'],
      ['breaching', 'ALARM'],
      ['notBreaching', 'OK'],
      ['ignore', 'INSUFFICIENT_DATA'],
    ])('TreatMissingData %s -> %s', (treat, expected) => {
      putErrorRateAlarm({ TreatMissingData: treat });
      publishMinute(greenSample(0));
      publishMinute(greenSample(20, 10));
      publishMinute(greenSample(0));
      expect(stateOf('green-5xx')).toBe(expected);
    });

    test.each([
      ['missing', 'OK'],
      ['breaching', 'OK'],
      ['notBreaching', 'OK'],
      ['ignore', 'OK'],
    ])('one good datapoint among missing ones, TreatMissingData %s -> %s', (treat, expected) => {
      putErrorRateAlarm({ TreatMissingData: treat });
      publishMinute(greenSample(20, 0));
      expect(stateOf('green-5xx')).toBe(expected);
    });

    test('breaching fills the missing periods: one good datapoint and two filled breaches are 2 of 3, not enough', () => {
      putErrorRateAlarm({ TreatMissingData: 'breaching' });
      // Created without data: every period is missing, treated as breaching.
      expect(stateOf('green-5xx')).toBe('ALARM');
      publishMinute(greenSample(20, 0));
      expect(events.at(-1)!.detail.state.reason).toBe(
        'Threshold Crossed: 1 out of the last 3 datapoints [0.0 (01/01/26 09:00:00)] was not greater than the threshold (0.01), and 2 missing datapoints were treated as [Breaching] ' +
          '(minimum 1 datapoint for ALARM -> OK transition).',
      );
    });
  });

  test('ModelLatency p99 is computed from the microsecond samples, weighted by the invocations they stand for', () => {
    cw.execute('PutMetricAlarm', {
      AlarmName: 'p99',
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: [
        { Name: 'VariantName', Value: GREEN },
        { Name: 'EndpointName', Value: ENDPOINT },
      ],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 98_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    cw.execute('PutMetricAlarm', {
      AlarmName: 'p99-at-threshold',
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: [
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: GREEN },
      ],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 99_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // 100 samples of 1..100 ms standing for 1,000 invocations: p99 = 99 ms = 99,000 µs.
    const latencies = Array.from({ length: 100 }, (_unused, index) => (index + 1) * 1000);
    publishMinute(greenSample(1000, 0, { modelLatenciesUs: latencies }));
    expect(stateOf('p99')).toBe('ALARM');
    expect(JSON.parse(events.find((event) => event.detail.alarmName === 'p99')!.detail.state.reasonData).evaluatedDatapoints).toEqual([
      { timestamp: '2026-01-01T09:00:00.000+0000', sampleCount: 1000, value: 99_000 },
    ]);
    // 99,000 is not greater than 99,000.
    expect(stateOf('p99-at-threshold')).toBe('OK');
  });

  test('ModelLatency statistics: each sampled latency stands for invocations / samples requests', () => {
    for (const statistic of ['Average', 'Minimum', 'Maximum', 'SampleCount', 'Sum']) {
      cw.execute('PutMetricAlarm', {
        AlarmName: `latency-${statistic}`,
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: [
          { Name: 'EndpointName', Value: ENDPOINT },
          { Name: 'VariantName', Value: GREEN },
        ],
        Statistic: statistic,
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    publishMinute(greenSample(30, 0, { modelLatenciesUs: [10_000, 20_000, 60_000] }));
    const datapoint = (statistic: string): number =>
      JSON.parse(events.find((event) => event.detail.alarmName === `latency-${statistic}`)!.detail.state.reasonData).recentDatapoints[0];
    expect(['Average', 'Minimum', 'Maximum', 'SampleCount', 'Sum'].map(datapoint)).toEqual([30_000, 10_000, 60_000, 30, 900_000]);
  });

  test('a period of 120 s aggregates two minutes; Sum of Invocations counts both', () => {
    cw.execute('PutMetricAlarm', {
      AlarmName: 'busy',
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: GREEN },
      ],
      Statistic: 'Sum',
      Period: 120,
      EvaluationPeriods: 1,
      Threshold: 150,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    publishMinute(greenSample(100));
    publishMinute(greenSample(60));
    expect(stateOf('busy')).toBe('ALARM');
    expect(JSON.parse(events.at(-1)!.detail.state.reasonData).recentDatapoints).toEqual([160]);
  });

  test('dimensions match exactly, EndpointConfigName publishes a second dimension set, and a wrong Unit sees no data', () => {
    const dimensions = [
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: GREEN },
    ];
    const common = { Namespace: 'AWS/SageMaker', Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'missing' };
    cw.execute('PutMetricAlarm', { ...common, AlarmName: 'endpoint-only', MetricName: 'Invocations', Statistic: 'Sum', Threshold: 0, Dimensions: [dimensions[0]] });
    cw.execute('PutMetricAlarm', {
      ...common,
      AlarmName: 'with-config',
      MetricName: 'Invocations',
      Statistic: 'Sum',
      Threshold: 0,
      Dimensions: [...dimensions, { Name: 'EndpointConfigName', Value: 'fraud-prod-v7-3f9a2c1b-bg' }],
    });
    cw.execute('PutMetricAlarm', { ...common, AlarmName: 'wrong-unit', MetricName: 'ModelLatency', Statistic: 'Average', Threshold: 0, Unit: 'Milliseconds', Dimensions: dimensions });
    cw.execute('PutMetricAlarm', { ...common, AlarmName: 'right-unit', MetricName: 'ModelLatency', Statistic: 'Average', Threshold: 0, Unit: 'Microseconds', Dimensions: dimensions });
    publishMinute(greenSample(10, 0, { endpointConfigName: 'fraud-prod-v7-3f9a2c1b-bg', modelLatenciesUs: [40_000] }));
    expect(['endpoint-only', 'with-config', 'wrong-unit', 'right-unit'].map(stateOf)).toEqual(['INSUFFICIENT_DATA', 'ALARM', 'INSUFFICIENT_DATA', 'ALARM']);
  });

  test('EvaluateLowSampleCountPercentile ignore keeps the state while a percentile has too few samples', () => {
    const alarm = {
      AlarmName: 'p99',
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: [
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: GREEN },
      ],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
    };
    cw.execute('PutMetricAlarm', { ...alarm, EvaluateLowSampleCountPercentile: 'ignore' });
    // p99 needs 10 / (1 - 0.99) = 1,000 samples to count.
    publishMinute(greenSample(999, 0, { modelLatenciesUs: [50_000] }));
    expect(stateOf('p99')).toBe('INSUFFICIENT_DATA');
    publishMinute(greenSample(1000, 0, { modelLatenciesUs: [50_000] }));
    expect(stateOf('p99')).toBe('ALARM');
  });
});

describe('composite alarms', () => {
  beforeEach(() => {
    putErrorRateAlarm({ AlarmName: 'errors' });
    putErrorRateAlarm({ AlarmName: 'latency' });
    putErrorRateAlarm({ AlarmName: 'deploying' });
  });

  test('a new composite alarm is evaluated at once (INSUFFICIENT_DATA -> OK event), and re-evaluated when a child changes', () => {
    cw.execute('PutCompositeAlarm', {
      AlarmName: 'rollback',
      AlarmRule: `(ALARM("errors") OR ALARM(${ARN_PREFIX}latency)) AND NOT ALARM(deploying)`,
      AlarmDescription: 'Roll back green',
    });
    expect(stateOf('rollback')).toBe('OK');
    expect(events.map((event) => [event.detail.alarmName, event.detail.state.value])).toEqual([['rollback', 'OK']]);

    cw.setAlarmState('latency', 'ALARM', 'injected by the rehearsal');
    expect(stateOf('rollback')).toBe('ALARM');
    // The child's event first, then the composite's.
    expect(events.slice(1).map((event) => [event.detail.alarmName, event.detail.state.value])).toEqual([
      ['latency', 'ALARM'],
      ['rollback', 'ALARM'],
    ]);
    const composite = events.at(-1)!;
    expect(composite.detail.configuration).toEqual({
      alarmRule: `(ALARM("errors") OR ALARM(${ARN_PREFIX}latency)) AND NOT ALARM(deploying)`,
      description: 'Roll back green',
    });
    expect(composite.detail.state.reason).toBe(`${ARN_PREFIX}latency transitioned to ALARM at Thursday 01 January, 2026 09:00:00 UTC`);
    expect(JSON.parse(composite.detail.state.reasonData)).toEqual({
      triggeringAlarms: [{ arn: `${ARN_PREFIX}latency`, state: { value: 'ALARM', timestamp: '2026-01-01T09:00:00.000+0000' } }],
    });

    cw.setAlarmState('deploying', 'ALARM', 'deployment window');
    expect(stateOf('rollback')).toBe('OK');
  });

  test('SetAlarmState on a composite alarm holds until a child changes', () => {
    cw.execute('PutCompositeAlarm', { AlarmName: 'rollback', AlarmRule: 'ALARM(errors)' });
    cw.setAlarmState('rollback', 'ALARM', 'testing the rollback path');
    expect(stateOf('rollback')).toBe('ALARM');
    publishMinute(greenSample(100, 0));
    // The children went INSUFFICIENT_DATA -> OK: the rule is false again.
    expect(stateOf('rollback')).toBe('OK');
  });

  test('composites of composites propagate', () => {
    cw.execute('PutCompositeAlarm', { AlarmName: 'inner', AlarmRule: 'ALARM(errors) OR ALARM(latency)' });
    cw.execute('PutCompositeAlarm', { AlarmName: 'outer', AlarmRule: 'ALARM(inner) AND TRUE' });
    cw.setAlarmState('errors', 'ALARM', 'x');
    expect([stateOf('inner'), stateOf('outer')]).toEqual(['ALARM', 'ALARM']);
  });

  test.each([
    ['ALARM(errors) OR ALARM("nope") OR OK(gone)', /^Could not save the composite alarm as alarms \[nope, gone\] in the alarm rule do not exist$/],
    ['ALARM(arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors)', /alarms \[arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors\] in the alarm rule do not exist/],
    ['ALARM(errors) AND', /AlarmRule is not valid: expected ALARM\(\.\.\.\), .* but found the end of the rule/],
    ['ALARM(errors) XOR ALARM(latency)', /expected AND, OR or the end of the rule but found 'XOR' at position 15/],
    ['alarm(errors)', /found 'alarm' at position 1/],
    ['(ALARM(errors)', /expected '\)' but found the end of the rule/],
  ])('%s is refused', (rule, message) => {
    const error = errorOf(() => cw.execute('PutCompositeAlarm', { AlarmName: 'bad', AlarmRule: rule }));
    expect(error.code).toBe('ValidationError');
    expect(error.message).toMatch(message);
    expect(cw.alarmNames()).not.toContain('bad');
  });
});

describe('alarm rules', () => {
  const states: Record<string, string> = { a: 'ALARM', b: 'OK', c: 'INSUFFICIENT_DATA', 'name with spaces': 'ALARM' };
  test.each([
    ['ALARM(a) OR ALARM(b) AND ALARM(c)', true],
    ['(ALARM(a) OR ALARM(b)) AND ALARM(c)', false],
    ['NOT ALARM(b) AND INSUFFICIENT_DATA(c)', true],
    ['NOT (ALARM(a) OR FALSE)', false],
    ['OK( b ) AND ALARM("name with spaces")', true],
    ['TRUE', true],
  ])('%s is %s', (rule, expected) => {
    expect(evaluateAlarmRule(parseAlarmRule(rule), (name) => states[name])).toBe(expected);
  });

  test('references are the alarm names or ARNs as written, without repeats', () => {
    expect(alarmReferences(parseAlarmRule('ALARM(a) OR OK("a") OR ALARM(arn:aws:cloudwatch:us-east-1:1:alarm:x)'))).toEqual(['a', 'arn:aws:cloudwatch:us-east-1:1:alarm:x']);
  });
});

describe('SetAlarmState and events', () => {
  test('emits the "CloudWatch Alarm State Change" event with the documented shape', () => {
    putErrorRateAlarm({ AlarmDescription: 'Green 5xx rate above 1%', DatapointsToAlarm: 2 });
    clock.tick(1234);
    cw.execute('SetAlarmState', { AlarmName: 'green-5xx', StateValue: 'ALARM', StateReason: 'testing', StateReasonData: '{"injected":true}' });
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: ACCOUNT,
      time: '2026-01-01T09:00:01Z',
      region: REGION,
      resources: [`${ARN_PREFIX}green-5xx`],
      detail: {
        alarmName: 'green-5xx',
        state: { value: 'ALARM', reason: 'testing', reasonData: '{"injected":true}', timestamp: '2026-01-01T09:00:01.234+0000' },
        previousState: { value: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', timestamp: '2026-01-01T09:00:00.000+0000' },
        configuration: {
          description: 'Green 5xx rate above 1%',
          metrics: [
            {
              id: expect.stringMatching(/^[0-9a-f-]{36}$/),
              metricStat: {
                metric: { namespace: 'AWS/SageMaker', name: 'Invocation5XXErrors', dimensions: { EndpointName: ENDPOINT, VariantName: GREEN } },
                period: 60,
                stat: 'Average',
              },
              returnData: true,
            },
          ],
        },
      },
    });
  });

  test('the same state again emits nothing; the next evaluation returns a metric alarm to its computed state', () => {
    putErrorRateAlarm({ EvaluationPeriods: 1 });
    publishMinute(greenSample(100, 0));
    cw.setAlarmState('green-5xx', 'ALARM', 'injected');
    cw.setAlarmState('green-5xx', 'ALARM', 'injected again');
    expect(events.map((event) => event.detail.state.value)).toEqual(['OK', 'ALARM']);
    expect(cw.alarmSnapshot('green-5xx')!.reason).toBe('injected again');
    publishMinute(greenSample(100, 0));
    expect(events.map((event) => event.detail.state.value)).toEqual(['OK', 'ALARM', 'OK']);
  });

  test('event ids differ between events and are the same on every run', () => {
    const run = (): string[] => {
      const simulation = new CloudWatchSimulation({ region: REGION, accountId: ACCOUNT });
      const ids: string[] = [];
      simulation.onAlarmStateChange((event) => ids.push(String(event.id)));
      simulation.execute('PutCompositeAlarm', { AlarmName: 'x', AlarmRule: 'TRUE' });
      simulation.setAlarmState('x', 'OK', 'a');
      simulation.setAlarmState('x', 'ALARM', 'b');
      return ids;
    };
    const first = run();
    expect(new Set(first).size).toBe(3);
    expect(run()).toEqual(first);
  });

  test('an unknown alarm is ResourceNotFound (404)', () => {
    const error = errorOf(() => cw.setAlarmState('nope', 'ALARM', 'x'));
    expect([error.code, error.httpStatus, error.message]).toEqual(['ResourceNotFound', 404, 'Alarm nope not found']);
  });
});

describe('tags', () => {
  test('ListTagsForResource, TagResource (replaces values) and UntagResource by alarm ARN', () => {
    putErrorRateAlarm({ Tags: [{ Key: 'team', Value: 'ml' }] });
    const arn = `${ARN_PREFIX}green-5xx`;
    cw.execute('TagResource', { ResourceARN: arn, Tags: [{ Key: 'team', Value: 'platform' }, { Key: 'rollout', Value: '3f9a2c1b' }] });
    expect(cw.execute('ListTagsForResource', { ResourceARN: arn })).toEqual({
      Tags: [
        { Key: 'team', Value: 'platform' },
        { Key: 'rollout', Value: '3f9a2c1b' },
      ],
    });
    cw.execute('UntagResource', { ResourceARN: arn, TagKeys: ['team', 'absent'] });
    expect(cw.alarmSnapshot('green-5xx')!.tags).toEqual([{ Key: 'rollout', Value: '3f9a2c1b' }]);
  });

  test('an unknown alarm is ResourceNotFoundException (404); a malformed ARN is InvalidParameterValue', () => {
    const missing = errorOf(() => cw.execute('ListTagsForResource', { ResourceARN: `${ARN_PREFIX}gone` }));
    expect([missing.code, missing.httpStatus, missing.details]).toEqual(['ResourceNotFoundException', 404, { ResourceType: 'alarm', ResourceId: 'gone' }]);
    expect(errorOf(() => cw.execute('TagResource', { ResourceARN: 'gone', Tags: [] })).code).toBe('InvalidParameterValue');
  });
});

test('numbers in reasons are printed as Java prints doubles', () => {
  expect([50, 0.01, 0.5, 99.50160229693434, 1.5e7, 0.0001, 0].map(javaDouble)).toEqual(['50.0', '0.01', '0.5', '99.50160229693434', '1.5E7', '1.0E-4', '0.0']);
});

test('unknown operations are refused', () => {
  expect(cw.supports('PutMetricAlarm')).toBe(true);
  expect(cw.supports('PutMetricData')).toBe(false);
  expect(errorOf(() => cw.execute('PutMetricData', {})).code).toBe('UnknownOperationException');
});

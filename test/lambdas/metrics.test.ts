import { Logger } from '@aws-lambda-powertools/logger';
import {
  configureMetricsSink,
  METRICS_NAMESPACE,
  publishRolloutMetrics,
  ROLLOUT_METRIC_NAMES,
  type RolloutMetric,
} from '../../lambdas/shared/metrics';
import { SYSTEM_NAME } from '../../lambdas/shared/tags';
import { ENDPOINT } from './support/fixtures';

/** The parts of an EMF document the tests read. */
interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly { readonly Namespace: string; readonly Dimensions: string[][]; readonly Metrics: { Name: string; Unit: string }[] }[];
  };
  readonly [key: string]: unknown;
}

let documents: EmfDocument[];
let warn: jest.SpyInstance;

beforeEach(() => {
  documents = [];
  configureMetricsSink((emf) => documents.push(emf as unknown as EmfDocument));
  // The module warns through a Powertools Logger (silenced in tests by POWERTOOLS_LOG_LEVEL): spy on what it says.
  warn = jest.spyOn(Logger.prototype, 'warn');
});

afterEach(() => {
  configureMetricsSink(undefined);
  jest.restoreAllMocks();
  delete process.env.POWERTOOLS_METRICS_DISABLED;
});

const warnings = (): string[] => warn.mock.calls.map(([message]) => String(message));

describe('publishRolloutMetrics', () => {
  test('publishes one EMF document: namespace, one dimension set [service, EndpointName, extra], names, units and values', () => {
    const before = Date.now();
    publishRolloutMetrics(
      ENDPOINT,
      [
        { name: ROLLOUT_METRIC_NAMES.gateValue, unit: 'Milliseconds', value: 182.5 },
        { name: ROLLOUT_METRIC_NAMES.gateFailed, unit: 'Count', value: 1 },
      ],
      { Gate: 'latency-p99' },
    );

    expect(documents).toHaveLength(1);
    const [emf] = documents;
    expect(emf._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service', 'EndpointName', 'Gate']],
        Metrics: [
          { Name: 'GateValue', Unit: 'Milliseconds' },
          { Name: 'GateFailed', Unit: 'Count' },
        ],
      },
    ]);
    expect(emf).toMatchObject({ service: SYSTEM_NAME, EndpointName: ENDPOINT, Gate: 'latency-p99', GateValue: 182.5, GateFailed: 1 });
    expect(emf._aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(emf._aws.Timestamp).toBeLessThanOrEqual(Date.now());
    expect(warnings()).toEqual([]);
  });

  test('a dimension of one call never reaches the next call', () => {
    publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.gateFailed, unit: 'Count', value: 1 }], { Gate: 'error-rate' });
    publishRolloutMetrics('other-endpoint', [{ name: ROLLOUT_METRIC_NAMES.promoted, unit: 'Count', value: 1 }]);

    expect(documents).toHaveLength(2);
    const second = documents[1];
    expect(second._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'EndpointName']]);
    expect(second).not.toHaveProperty('Gate');
    expect(second).not.toHaveProperty('GateFailed');
    expect(second).toMatchObject({ EndpointName: 'other-endpoint', RolloutsPromoted: 1 });
  });

  test('repeated values of one metric go out together, as an EMF value array', () => {
    publishRolloutMetrics(ENDPOINT, [
      { name: ROLLOUT_METRIC_NAMES.durationSeconds, unit: 'Seconds', value: 10 },
      { name: ROLLOUT_METRIC_NAMES.durationSeconds, unit: 'Seconds', value: 20 },
    ]);
    expect(documents[0]).toHaveProperty('RolloutDurationSeconds', [10, 20]);
    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'RolloutDurationSeconds', Unit: 'Seconds' }]);
  });

  test.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['beyond CloudWatch range', 2 ** 361],
  ])('drops a %s value with a warning and publishes the others', (_label, value) => {
    publishRolloutMetrics(ENDPOINT, [
      { name: ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds, unit: 'Seconds', value },
      { name: ROLLOUT_METRIC_NAMES.rolledBack, unit: 'Count', value: 1 },
    ]);

    expect(documents).toHaveLength(1);
    expect(documents[0]).not.toHaveProperty('AlarmToRollbackSeconds');
    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'RolloutsRolledBack', Unit: 'Count' }]);
    expect(warnings()).toEqual([expect.stringMatching(/^Metric dropped: metrics\.0 \(AlarmToRollbackSeconds\): value .* (not finite|outside)/)]);
  });

  test('publishes nothing (and Powertools does not complain of an empty flush) when every value is dropped', () => {
    publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.durationSeconds, unit: 'Seconds', value: Number.NaN }]);
    expect(documents).toEqual([]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/RolloutDurationSeconds/);
  });

  test('drops a metric whose name is a dimension, or whose unit differs from an earlier value of the same name', () => {
    publishRolloutMetrics(
      ENDPOINT,
      [
        { name: 'Gate', unit: 'Count', value: 1 },
        { name: ROLLOUT_METRIC_NAMES.gateValue, unit: 'Percent', value: 3 },
        { name: ROLLOUT_METRIC_NAMES.gateValue, unit: 'Milliseconds', value: 4 },
      ],
      { Gate: 'error-rate' },
    );
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({ Gate: 'error-rate', GateValue: 3 });
    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'GateValue', Unit: 'Percent' }]);
    expect(warnings()).toEqual([
      expect.stringContaining('name "Gate" is also a dimension name'),
      expect.stringContaining('already given with unit Percent, not Milliseconds'),
    ]);
  });

  test('drops a malformed metric alone, naming the field', () => {
    const malformed = [
      { name: '', unit: 'Count', value: 1 },
      { name: 'X', unit: 'Bytes', value: 1 },
      { name: 'Y', unit: 'Count', value: '1' },
      { name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 },
    ] as unknown as RolloutMetric[];
    publishRolloutMetrics(ENDPOINT, malformed);

    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'RolloutsStarted', Unit: 'Count' }]);
    expect(warnings()).toEqual([
      expect.stringContaining('metrics.0.name: must not be empty'),
      expect.stringContaining('metrics.1.unit: must be one of Count, Seconds, Milliseconds, Percent, None'),
      expect.stringContaining('metrics.2.value: must be a number'),
    ]);
  });

  test.each([
    ['an empty endpoint name', '', {}, /endpointName: must not be empty/],
    ['a non-ASCII endpoint name', 'endpoint-é', {}, /endpointName: must contain only printable ASCII/],
    ['an extra dimension named EndpointName', ENDPOINT, { EndpointName: 'x' }, /extraDimensions\.EndpointName: name must not be "service" or "EndpointName"/],
    ['an extra dimension named service', ENDPOINT, { service: 'x' }, /extraDimensions\.service/],
    ['an empty extra dimension value', ENDPOINT, { Gate: '' }, /extraDimensions\.Gate: must not be empty/],
    ['a dimension value over 1024 characters', ENDPOINT, { Gate: 'g'.repeat(1025) }, /extraDimensions\.Gate: must be at most 1024/],
    ['a dimension name starting with a colon', ENDPOINT, { ':Gate': 'x' }, /extraDimensions\.:Gate: name must not start with ":"/],
  ])('publishes nothing for %s, and says which field was wrong', (_label, endpointName, extraDimensions, message) => {
    expect(() =>
      publishRolloutMetrics(endpointName, [{ name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 }], extraDimensions),
    ).not.toThrow();
    expect(documents).toEqual([]);
    expect(warnings()).toEqual([expect.stringMatching(/^Rollout metrics not published: /)]);
    expect(warnings()[0]).toMatch(message);
  });

  test('refuses more metrics than one document holds rather than let Powertools flush past the sink', () => {
    const many = Array.from({ length: 100 }, (_, index): RolloutMetric => ({ name: `M${index}`, unit: 'Count', value: index }));
    const writes = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    publishRolloutMetrics(ENDPOINT, many);
    expect(documents).toEqual([]);
    expect(writes).not.toHaveBeenCalled();
    expect(warnings()[0]).toMatch(/metrics: must have at most 99 metrics per call/);

    publishRolloutMetrics(ENDPOINT, many.slice(0, 99));
    expect(documents).toHaveLength(1);
    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toHaveLength(99);
  });

  test('a throwing sink does not throw out of publishRolloutMetrics: it is logged', () => {
    configureMetricsSink(() => {
      throw new Error('sink is down');
    });
    expect(() => publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.failed, unit: 'Count', value: 1 }])).not.toThrow();
    expect(warn).toHaveBeenCalledWith('Rollout metrics not published', expect.objectContaining({ message: 'sink is down' }));
  });

  test('without a sink the document goes to stdout as one JSON line (the EMF Lambda ships to CloudWatch)', () => {
    configureMetricsSink(undefined);
    const writes = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.promoted, unit: 'Count', value: 1 }]);

    const lines = writes.mock.calls.map(([chunk]) => String(chunk));
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const emf = JSON.parse(lines[0]) as EmfDocument;
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [['service', 'EndpointName']] });
    expect(emf).toMatchObject({ EndpointName: ENDPOINT, RolloutsPromoted: 1 });
    expect(documents).toEqual([]);
  });

  test('POWERTOOLS_METRICS_DISABLED stops stdout but not a configured sink', () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const writes = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 }]);
    expect(documents).toHaveLength(1);

    configureMetricsSink(undefined);
    publishRolloutMetrics(ENDPOINT, [{ name: ROLLOUT_METRIC_NAMES.started, unit: 'Count', value: 1 }]);
    expect(writes).not.toHaveBeenCalled();
  });
});

describe('ROLLOUT_METRIC_NAMES', () => {
  test('are distinct and valid CloudWatch metric names (1 to 255 characters)', () => {
    const names = Object.values(ROLLOUT_METRIC_NAMES);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{0,254}$/);
  });
});

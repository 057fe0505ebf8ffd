import 'aws-sdk-client-mock-jest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/judge-validation';
import {
  dimensionValueOf,
  fitSummary,
  gateOutcomes,
  judgeValidation,
  JudgeValidationInputSchema,
  MAX_EVENT_REASON_CHARS,
  MAX_SUMMARY_BYTES,
  publishGateMetrics,
  withSinglePayloadCaveat,
  type StoredValidationReport,
} from '../../lambdas/judge-validation/judge';
import { rolloutEventKey } from '../../lambdas/shared/audit-trail';
import { createLogger } from '../../lambdas/shared/logger';
import { configureMetricsSink } from '../../lambdas/shared/metrics';
import { ARTIFACTS_BUCKET_ENV, batchSamplesKey, reportKey } from '../../lambdas/shared/artifacts';
import { evaluateGates } from '../../lambdas/shared/gates';
import type { GateResult, InvocationSample, PairedSample, RobustnessResult } from '../../lambdas/shared/validation-types';
import { ARTIFACTS_BUCKET, BLUE, DATASET_PAYLOADS, DEPLOYMENT_ID, ENDPOINT, makePlan, NAMES, PACKAGE_ARN, serveObjects, validationPolicy, VERSION } from './support/fixtures';
import { mockLifecycleSink } from './support/lifecycle';
import { mulberry32 } from '../../rehearsal/sim/rng';

/** Seeded uniform [0, 1) draws (mulberry32): the same samples on every run. */
const seeded = mulberry32;

const s3 = mockClient(S3Client);
let objects: Map<string, Uint8Array | string>;

const ok = (latencyMs: number, score: number, prediction: number): InvocationSample => ({ outcome: 'OK', statusCode: 200, latencyMs, score, prediction });

/**
 * `count` pairs where green behaves like blue (same latency, same score, same prediction = expected), except
 * that green answers every `greenErrorEvery`-th request with a 500.
 */
function pairs(count: number, options: { firstIndex?: number; greenErrorEvery?: number } = {}): PairedSample[] {
  const random = seeded(7 + (options.firstIndex ?? 0));
  return Array.from({ length: count }, (_u, i) => {
    const index = (options.firstIndex ?? 0) + i;
    const latency = 40 + Math.round(random() * 20);
    const score = random();
    const label = score >= 0.5 ? 1 : 0;
    const failing = options.greenErrorEvery !== undefined && i % options.greenErrorEvery === 0;
    const green: InvocationSample = failing ? { outcome: 'MODEL_ERROR', statusCode: 500, latencyMs: 12, errorName: 'ModelError' } : ok(latency, score, label);
    return { index, green, blue: ok(latency, score, label), expected: label };
  });
}

const ROBUST: RobustnessResult = {
  probes: ['wrong-content-type', 'truncated-payload', 'huge-values', 'empty-body', 'deeply-nested'].map((name) => ({ name, outcome: 'MODEL_ERROR' as const, statusCode: 400, latencyMs: 30 })),
  recoveredAfterwards: true,
};
const WARM_UP = { variants: [{ role: 'green', variantName: NAMES.greenVariantName, requests: 200, seconds: 12.5, firstWindowP99Ms: 480, lastWindowP99Ms: 61, stable: true }] };

/** Stores batches of samples where validate-batch would, and returns what the Map state would pass the judge. */
function storeBatches(batches: readonly PairedSample[][]) {
  return batches.map((samples, index) => {
    const samplesKey = batchSamplesKey(ENDPOINT, DEPLOYMENT_ID, index);
    objects.set(`s3://${ARTIFACTS_BUCKET}/${samplesKey}`, samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
    return { index, samples: samples.length, samplesKey };
  });
}

function storedReport(): StoredValidationReport {
  return JSON.parse(String(objects.get(`s3://${ARTIFACTS_BUCKET}/${reportKey(ENDPOINT, DEPLOYMENT_ID)}`))) as StoredValidationReport;
}

beforeEach(() => {
  s3.reset();
  objects = new Map();
  serveObjects(s3, objects, 4096);
  process.env[ARTIFACTS_BUCKET_ENV] = ARTIFACTS_BUCKET;
  // The handler publishes gate metrics: dropped here, not printed (the tests that read them capture them).
  configureMetricsSink(() => undefined);
});

afterEach(() => {
  delete process.env[ARTIFACTS_BUCKET_ENV];
  configureMetricsSink(undefined);
});

describe('judge-validation', () => {
  test('green like blue on 300 dataset requests: PASS, the full report in S3, a compact verdict returned', async () => {
    const batches = storeBatches([pairs(100), pairs(100, { firstIndex: 100 }), pairs(100, { firstIndex: 200 })]);
    const plan = makePlan({ payloads: DATASET_PAYLOADS });
    const result = await handler({ plan, batches, robustness: ROBUST, warmUp: WARM_UP });

    const key = reportKey(ENDPOINT, DEPLOYMENT_ID);
    expect(result.verdict).toBe('PASS');
    expect(result.reportUri).toBe(`s3://${ARTIFACTS_BUCKET}/${key}`);
    expect(result.gates).toEqual([
      { gate: 'health', verdict: 'PASS' },
      { gate: 'latency', verdict: 'PASS' },
      { gate: 'errors', verdict: 'PASS' },
      { gate: 'golden', verdict: 'PASS' },
      { gate: 'distribution', verdict: 'PASS' },
      { gate: 'robustness', verdict: 'PASS' },
    ]);
    expect(result.summary).toMatch(/^Validation PASS on 300 requests \(dataset s3:\/\/.+\):\nhealth PASS: .+\nlatency PASS: /);
    expect(result.summary.endsWith(`\nFull report: ${result.reportUri}`)).toBe(true);
    expect(Buffer.byteLength(result.summary)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: ARTIFACTS_BUCKET, Key: key, ContentType: 'application/json' });
    const report = storedReport();
    expect(report).toMatchObject({
      verdict: 'PASS',
      sampleCount: 300,
      endpointName: ENDPOINT,
      deploymentId: DEPLOYMENT_ID,
      modelPackage: { arn: PACKAGE_ARN, version: VERSION },
      green: { variantName: NAMES.greenVariantName },
      blue: { variantName: BLUE.variantName },
      source: { kind: 'dataset', s3Uri: DATASET_PAYLOADS.kind === 'dataset' ? DATASET_PAYLOADS.s3Uri : '', contentType: 'application/json' },
      warmUp: WARM_UP,
      robustness: ROBUST,
      policy: plan.validation.gates,
    });
    expect(report.gates).toHaveLength(6);
    expect(report.gates.every((gate) => gate.checks.length > 0)).toBe(true);
    expect(report.batches).toEqual(batches.map((batch) => ({ ...batch, samplesRead: 100 })));
    expect(Date.parse(report.generatedAt)).not.toBeNaN();
  });

  test('green erroring on 5% of requests: FAIL on the errors gate; the summary says so', async () => {
    const batches = storeBatches([pairs(300, { greenErrorEvery: 20 })]);
    const result = await handler({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches, robustness: ROBUST, warmUp: WARM_UP });
    expect(result.verdict).toBe('FAIL');
    expect(result.gates).toContainEqual({ gate: 'errors', verdict: 'FAIL' });
    expect(result.summary).toMatch(/\nerrors FAIL: /);
    expect(storedReport().worstRequests.length).toBeGreaterThan(0);
  });

  test('without a dataset, the distribution gate cannot decide: INCONCLUSIVE whatever the scores, and the verdict follows', async () => {
    // One payload repeated: a deterministic green answers 0.9 where blue answered 0.1, every time.
    const repeated: PairedSample[] = Array.from({ length: 300 }, (_u, index) => ({ index, green: ok(50, 0.9, 1), blue: ok(50, 0.1, 0) }));
    const validation = validationPolicy({ gates: { golden: { enabled: false } } });
    const evaluated = evaluateGates({ samples: repeated, robustness: ROBUST, policy: validation.gates, firstDeployment: false });
    expect(evaluated.gates.find((g) => g.gate === 'distribution')!.verdict).toBe('FAIL');

    const caveated = withSinglePayloadCaveat(evaluated);
    expect(caveated.gates.find((g) => g.gate === 'distribution')).toMatchObject({
      verdict: 'INCONCLUSIVE',
      reason: expect.stringMatching(/^one distinct input .*datasetS3Uri/),
    });
    expect(caveated.verdict).toBe('INCONCLUSIVE');
    expect(caveated.summary).toMatch(/\ndistribution INCONCLUSIVE: one distinct input/);

    const batches = storeBatches([repeated]);
    const plan = makePlan({ validation });
    const result = await handler({ plan, batches, robustness: ROBUST, warmUp: WARM_UP });
    expect(result.gates).toContainEqual({ gate: 'distribution', verdict: 'INCONCLUSIVE' });
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.summary).toMatch(/^Validation INCONCLUSIVE on 300 requests \(the inline sample payload, repeated\)/);
  });

  test('a batch object with another count than reported is judged as read, and the report shows both', async () => {
    const batches = storeBatches([pairs(120)]);
    await handler({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches: [{ ...batches[0]!, samples: 125 }], robustness: ROBUST, warmUp: WARM_UP });
    expect(storedReport()).toMatchObject({ sampleCount: 120, batches: [{ samples: 125, samplesRead: 120 }] });
  });

  test('a corrupt sample line: an error naming the object and the sample', async () => {
    const [batch] = storeBatches([pairs(3)]);
    const uri = `s3://${ARTIFACTS_BUCKET}/${batch!.samplesKey}`;
    objects.set(uri, `${String(objects.get(uri))}{"index": 3, "green": {"outcome": "MAYBE", "latencyMs": 1}}\n`);
    await expect(handler({ plan: makePlan(), batches: [batch], robustness: ROBUST, warmUp: WARM_UP })).rejects.toThrow(
      new RegExp(`${uri.replace(/[.]/g, '\\.')} sample 4 is not a paired sample: green\\.outcome: `),
    );
  });

  test('without ARTIFACTS_BUCKET: ConfigurationError', async () => {
    delete process.env[ARTIFACTS_BUCKET_ENV];
    await expect(handler({ plan: makePlan(), batches: [], robustness: ROBUST, warmUp: WARM_UP })).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  test('input is checked, naming the field', async () => {
    await expect(handler({ plan: makePlan(), batches: [{ index: 0, samples: 1 }], robustness: ROBUST, warmUp: WARM_UP })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/batches\.0\.samplesKey/),
    });
  });
});

describe('fitSummary', () => {
  test('a summary that fits is kept whole', () => {
    expect(fitSummary('Head:', ['a PASS: fine', 'b FAIL: bad'], 'Foot', 2000)).toBe('Head:\na PASS: fine\nb FAIL: bad\nFoot');
  });

  test('a long one is cut to the byte limit, the longest lines first; every line keeps its start, the footer stays', () => {
    const lines = ['health PASS: short', `latency FAIL: ${'é'.repeat(1500)}`, `distribution FAIL: ${'x'.repeat(3000)}`, 'robustness PASS: ok'];
    const summary = fitSummary('Validation FAIL on 2000 requests:', lines, 'Full report: s3://bucket/validation/report.json', 2000);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(2000);
    expect(Buffer.byteLength(summary)).toBeGreaterThan(1900);
    const out = summary.split('\n');
    expect(out).toHaveLength(6);
    expect(out[1]).toBe('health PASS: short');
    expect(out[2]).toMatch(/^latency FAIL: é+\.\.\.$/);
    expect(out[3]).toMatch(/^distribution FAIL: x+\.\.\.$/);
    expect(out[4]).toBe('robustness PASS: ok');
    expect(out[5]).toBe('Full report: s3://bucket/validation/report.json');
    expect(summary).not.toContain('\uFFFD');
  });
});

describe('judge-validation: Validation Verdict and gate metrics', () => {
  const { dynamo, eventBridge: events, logger, sink } = mockLifecycleSink();
  let metrics: Record<string, unknown>[];
  /** The plain function with a sink of mocked DynamoDB and EventBridge (input parsed as the handler does). */
  const judge = (input: unknown) =>
    judgeValidation(JudgeValidationInputSchema.parse(input), { s3: new S3Client({}), logger: createLogger('test'), lifecycle: sink() });
  /** The EMF documents of one metric, as { Gate, value }. */
  const metric = (name: string) => metrics.filter((emf) => emf[name] !== undefined).map((emf) => ({ Gate: emf.Gate, value: emf[name] }));

  beforeEach(() => {
    metrics = [];
    configureMetricsSink((emf) => metrics.push(emf));
  });

  test('a FAIL: the event carries every gate with its checks, samples and reason, and the report\'s URI', async () => {
    const batches = storeBatches([pairs(300, { greenErrorEvery: 20 })]);
    const result = await judge({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches, robustness: ROBUST, warmUp: WARM_UP });
    const report = storedReport();

    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    const item = dynamo.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    expect(item.recordKey!.S).toBe(rolloutEventKey(DEPLOYMENT_ID, 'ValidationVerdict'));
    const expectedGates = report.gates.map((gate) => ({
      gate: gate.gate,
      verdict: gate.verdict,
      samples: gate.samples,
      checks: gate.checks.map((c) => ({ name: c.name, statistic: c.statistic, threshold: c.threshold, comparison: c.comparison })),
      reason: gate.reason,
    }));
    expect(JSON.parse(item.data!.S!)).toMatchObject({ type: 'ValidationVerdict', verdict: 'FAIL', reportUri: result.reportUri, gates: expectedGates });

    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry.DetailType).toBe('Validation Verdict');
    const detail = JSON.parse(entry.Detail!);
    expect(detail.gates.find((g: { gate: string }) => g.gate === 'errors')).toMatchObject({ verdict: 'FAIL', samples: 300 });
    expect(detail.message).toContain('errors FAIL');
  });

  test('metrics: GateFailed per gate that ran (1 on FAIL), GateValue per check with a statistic, dimension "<gate>:<check>"', async () => {
    const batches = storeBatches([pairs(300, { greenErrorEvery: 20 })]);
    await judge({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches, robustness: ROBUST, warmUp: WARM_UP });
    const report = storedReport();

    const ran = report.gates.filter((gate) => gate.verdict !== 'SKIPPED');
    expect(metric('GateFailed')).toEqual(ran.map((gate) => ({ Gate: gate.gate, value: gate.verdict === 'FAIL' ? 1 : 0 })));
    expect(metric('GateFailed')).toContainEqual({ Gate: 'errors', value: 1 });
    const errorRate = report.gates.find((gate) => gate.gate === 'errors')!.checks[0]!;
    expect(errorRate.statistic).toBeCloseTo(15 / 300);
    expect(metric('GateValue')).toContainEqual({ Gate: `errors:${errorRate.name}`, value: errorRate.statistic });
    const withStatistic = ran.flatMap((gate) => gate.checks.filter((c) => c.statistic !== null).map((c) => ({ Gate: `${gate.gate}:${c.name}`, value: c.statistic })));
    expect(metric('GateValue')).toEqual(withStatistic);
    expect(metrics.every((emf) => emf.EndpointName === ENDPOINT)).toBe(true);
  });

  test('publishGateMetrics: a SKIPPED gate publishes nothing, a check without statistic no GateValue, unit None', () => {
    const gates: GateResult[] = [
      { gate: 'golden', verdict: 'SKIPPED', samples: 0, minSamples: 50, checks: [{ name: 'golden agreement', statistic: 0.5, threshold: 0.95, comparison: '>=', passed: false }], reason: 'disabled' },
      { gate: 'health', verdict: 'INCONCLUSIVE', samples: 3, minSamples: 100, checks: [{ name: 'unanswered', statistic: null, threshold: 0, comparison: '<=', passed: null }], reason: 'too few' },
      { gate: 'latency', verdict: 'PASS', samples: 300, minSamples: 200, checks: [{ name: 'green p99 (ms)', statistic: 81.5, threshold: 500, comparison: '<=', passed: true }], reason: 'ok' },
    ];
    publishGateMetrics(ENDPOINT, gates);
    expect(metric('GateFailed')).toEqual([{ Gate: 'health', value: 0 }, { Gate: 'latency', value: 0 }]);
    expect(metric('GateValue')).toEqual([{ Gate: 'latency:green p99 (ms)', value: 81.5 }]);
    const gateValue = metrics.find((emf) => emf.GateValue !== undefined) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] } };
    expect(gateValue._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'GateValue', Unit: 'None' }]);
  });

  test('gateOutcomes cuts a reason to 300 characters; dimensionValueOf keeps printable ASCII within 1024', () => {
    const long = `latency FAIL because ${'x'.repeat(400)}`;
    const [outcome] = gateOutcomes([{ gate: 'latency', verdict: 'FAIL', samples: 1, minSamples: 1, checks: [], reason: long }]);
    expect(outcome!.reason).toHaveLength(MAX_EVENT_REASON_CHARS);
    expect(outcome!.reason!.endsWith('...')).toBe(true);
    expect(outcome!.reason!.startsWith('latency FAIL because x')).toBe(true);

    expect(dimensionValueOf('distribution:PSI of scores ≤ 0.2\n')).toBe('distribution:PSI of scores ? 0.2');
    expect(dimensionValueOf('a'.repeat(2000))).toHaveLength(1024);
    expect(dimensionValueOf(' \u00e9 ')).toBe('?');
    expect(dimensionValueOf('   ')).toBeUndefined();
  });

  test('the audit table and the bus failing do not fail the judge; the verdict is returned', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    const batches = storeBatches([pairs(300)]);
    await expect(judge({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches, robustness: ROBUST, warmUp: WARM_UP })).resolves.toMatchObject({ verdict: 'PASS' });
    expect(logger.error).toHaveBeenCalledTimes(2);
  });

  test('the report cannot be written: the step fails and nothing is recorded or published', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const batches = storeBatches([pairs(300)]);
    await expect(judge({ plan: makePlan({ payloads: DATASET_PAYLOADS }), batches, robustness: ROBUST, warmUp: WARM_UP })).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(metrics).toEqual([]);
  });
});

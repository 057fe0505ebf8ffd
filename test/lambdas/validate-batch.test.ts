import 'aws-sdk-client-mock-jest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/validate-batch';
import { validateBatch } from '../../lambdas/validate-batch/validate';
import { ARTIFACTS_BUCKET_ENV, batchSamplesKey } from '../../lambdas/shared/artifacts';
import type { StepLogger } from '../../lambdas/shared/logger';
import { planBatches, type ValidationBatch } from '../../lambdas/shared/payloads';
import type { PairedSample } from '../../lambdas/shared/validation-types';
import { fakeEndpoint, modelError, settle } from './support/endpoint';
import {
  ARTIFACTS_BUCKET,
  BLUE,
  DATASET_PAYLOADS,
  DATASET_URI,
  DEPLOYMENT_ID,
  ENDPOINT,
  makeFirstDeploymentPlan,
  makePlan,
  NAMES,
  SAMPLE_BODY,
  serveObjects,
  validationPolicy,
} from './support/fixtures';

const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const GREEN = NAMES.greenVariantName;
let objects: Map<string, Uint8Array | string>;

const datasetLine = (i: number) => JSON.stringify({ input: { features: [i, i / 10] }, expected: i % 2 });
const datasetPlan = (validation: Record<string, unknown> = {}) =>
  makePlan({ payloads: DATASET_PAYLOADS, validation: validationPolicy({ batchSize: 10, concurrency: 4, ...validation }) });

/** The samples object validate-batch wrote for `batchIndex`, parsed. */
function storedSamples(batchIndex: number): PairedSample[] {
  const text = String(objects.get(`s3://${ARTIFACTS_BUCKET}/${batchSamplesKey(ENDPOINT, DEPLOYMENT_ID, batchIndex)}`) ?? '');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as PairedSample);
}

/** The dataset of `lines` lines, served, and its batches as plan-validation plans them. */
async function datasetBatches(lines: number): Promise<ValidationBatch[]> {
  objects.set(DATASET_URI, Array.from({ length: lines }, (_u, i) => datasetLine(i)).join('\n') + '\n');
  return (await planBatches(new S3Client({}), DATASET_PAYLOADS, 10, 200)).batches;
}

beforeEach(() => {
  runtime.reset();
  s3.reset();
  objects = new Map();
  serveObjects(s3, objects);
  process.env[ARTIFACTS_BUCKET_ENV] = ARTIFACTS_BUCKET;
  jest.useFakeTimers();
});

afterEach(() => {
  delete process.env[ARTIFACTS_BUCKET_ENV];
  jest.useRealTimers();
});

describe('validate-batch', () => {
  test('a dataset batch: each line to green and blue, paired with its expected output, written to S3; counts returned', async () => {
    const batches = await datasetBatches(25);
    const endpoint = fakeEndpoint(runtime, {
      [GREEN]: { latencyMs: () => 50, respond: (n) => ({ score: 0.6, label: n % 2 }) },
      [BLUE.variantName]: { latencyMs: () => 45, respond: () => ({ score: 0.4, label: 0 }) },
    });
    s3.resetHistory();

    const result = await settle(handler({ plan: datasetPlan(), batch: batches[1] }));

    const key = batchSamplesKey(ENDPOINT, DEPLOYMENT_ID, 1);
    expect(result).toEqual({ index: 1, samples: 10, samplesKey: key });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: ARTIFACTS_BUCKET, Key: key, ContentType: 'application/x-ndjson' });
    const samples = storedSamples(1);
    expect(samples.map((s) => s.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(samples.map((s) => s.expected)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(samples[0]).toEqual({
      index: 10,
      green: { outcome: 'OK', statusCode: 200, latencyMs: 50, score: 0.6, prediction: expect.any(Number) },
      blue: { outcome: 'OK', statusCode: 200, latencyMs: 45, score: 0.4, prediction: 0 },
      expected: 0,
    });
    // The same payloads, in the same order, to both variants: exactly the batch's lines.
    const expectedBodies = Array.from({ length: 10 }, (_u, i) => JSON.stringify({ features: [10 + i, (10 + i) / 10] }));
    expect(endpoint.variants.get(GREEN)!.bodies).toEqual(expectedBodies);
    expect(endpoint.variants.get(BLUE.variantName)!.bodies).toEqual(expectedBodies);
    expect(endpoint.variants.get(GREEN)!.peakInFlight).toBe(4);
  });

  test('every batch of a dataset together covers every line exactly once', async () => {
    const batches = await datasetBatches(23);
    fakeEndpoint(runtime, { [GREEN]: {}, [BLUE.variantName]: {} });
    const indexes: number[] = [];
    for (const batch of batches) {
      await settle(handler({ plan: datasetPlan(), batch }));
      indexes.push(...storedSamples(batch.index).map((s) => s.index));
    }
    expect(indexes).toEqual(Array.from({ length: 23 }, (_u, i) => i));
  });

  test('green and blue get each payload at the same moment', async () => {
    const batches = await datasetBatches(8);
    const sentAt: Record<string, number[]> = { [GREEN]: [], [BLUE.variantName]: [] };
    fakeEndpoint(runtime, {
      [GREEN]: { latencyMs: () => (sentAt[GREEN]!.push(Date.now()), 30) },
      [BLUE.variantName]: { latencyMs: () => (sentAt[BLUE.variantName]!.push(Date.now()), 90) },
    });
    await settle(handler({ plan: datasetPlan({ concurrency: 2 }), batch: batches[0] }), 10);
    expect(sentAt[GREEN]).toEqual(sentAt[BLUE.variantName]);
    // A pair ends when its slower side answers: 4 rounds of 2 pairs, 90 ms each.
    expect(sentAt[GREEN]![7]! - sentAt[GREEN]![0]!).toBe(270);
  });

  test('a repeated payload: the sample payload `lines` times, samples numbered from firstRequest', async () => {
    const endpoint = fakeEndpoint(runtime, { [GREEN]: {}, [BLUE.variantName]: {} });
    const batch = { index: 2, firstLine: 0, lines: 5, repeat: true, firstRequest: 10 };
    const result = await settle(handler({ plan: makePlan(), batch }));
    expect(result.samples).toBe(5);
    expect(storedSamples(2).map((s) => [s.index, 'expected' in s])).toEqual([
      [10, false],
      [11, false],
      [12, false],
      [13, false],
      [14, false],
    ]);
    expect(new Set(endpoint.variants.get(GREEN)!.bodies)).toEqual(new Set([SAMPLE_BODY]));
  });

  test('a first deployment: green alone, samples without blue', async () => {
    const endpoint = fakeEndpoint(runtime, { [GREEN]: {} });
    await settle(handler({ plan: makeFirstDeploymentPlan(), batch: { index: 0, firstLine: 0, lines: 3, repeat: true, firstRequest: 0 } }));
    expect(storedSamples(0).every((s) => s.blue === undefined)).toBe(true);
    expect([...endpoint.variants.keys()]).toEqual([GREEN]);
  });

  test('errors and timeouts are recorded as outcomes, not thrown', async () => {
    fakeEndpoint(runtime, {
      [GREEN]: { latencyMs: (n) => (n === 2 ? 60_000 : 40), respond: (n) => (n === 1 ? modelError(500) : { score: 0.5, label: 1 }) },
      [BLUE.variantName]: {},
    });
    const plan = makePlan({ validation: validationPolicy({ requestTimeoutMs: 1000 }) });
    await settle(handler({ plan, batch: { index: 0, firstLine: 0, lines: 4, repeat: true, firstRequest: 0 } }));
    expect(storedSamples(0).map((s) => [s.green.outcome, s.green.statusCode])).toEqual([
      ['OK', 200],
      ['MODEL_ERROR', 500],
      ['TIMEOUT', undefined],
      ['OK', 200],
    ]);
  });

  test('1000 payloads at concurrency 8 with 100 ms latencies take about 12.5 s, far within Lambda\'s 15 minutes', async () => {
    const batches = await (async () => {
      objects.set(DATASET_URI, Array.from({ length: 1000 }, (_u, i) => datasetLine(i)).join('\n'));
      return (await planBatches(new S3Client({}), DATASET_PAYLOADS, 1000, 200)).batches;
    })();
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: () => 100 }, [BLUE.variantName]: { latencyMs: () => 100 } });
    const startedAt = Date.now();
    const result = await settle(handler({ plan: datasetPlan({ batchSize: 1000, concurrency: 8 }), batch: batches[0] }), 100);
    const virtualMs = Date.now() - startedAt;
    expect(result.samples).toBe(1000);
    expect(virtualMs).toBeGreaterThanOrEqual(12_500);
    expect(virtualMs).toBeLessThanOrEqual(12_600);
  });

  test('past its time budget a batch stops sending and stores what it measured', async () => {
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: () => 1000 }, [BLUE.variantName]: { latencyMs: () => 1000 } });
    const warn = jest.fn();
    const logger = { debug: jest.fn(), info: jest.fn(), warn } as unknown as StepLogger;
    const plan = makePlan({ validation: validationPolicy({ concurrency: 2 }) });
    const result = await settle(
      validateBatch(
        { plan, batch: { index: 0, firstLine: 0, lines: 100, repeat: true, firstRequest: 0 } },
        { runtime: new SageMakerRuntimeClient({}), s3: new S3Client({}), logger, env: { [ARTIFACTS_BUCKET_ENV]: ARTIFACTS_BUCKET }, timeBudgetMs: 5000 },
      ),
    );
    // 2 pairs per second for 5 s (a pair already started finishes).
    expect(result.samples).toBeGreaterThanOrEqual(10);
    expect(result.samples).toBeLessThanOrEqual(12);
    expect(storedSamples(0)).toHaveLength(result.samples);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('cut short'), expect.objectContaining({ planned: 100, sent: result.samples }));
  });

  test('without ARTIFACTS_BUCKET: ConfigurationError before any request', async () => {
    delete process.env[ARTIFACTS_BUCKET_ENV];
    fakeEndpoint(runtime, { [GREEN]: {}, [BLUE.variantName]: {} });
    await expect(handler({ plan: makePlan(), batch: { index: 0, firstLine: 0, lines: 3, repeat: true, firstRequest: 0 } })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('ARTIFACTS_BUCKET is not set'),
    });
    expect(runtime.calls()).toHaveLength(0);
  });

  test('a byte-range batch for a source that is not a dataset: InputValidationError, nothing sent', async () => {
    fakeEndpoint(runtime, { [GREEN]: {}, [BLUE.variantName]: {} });
    await expect(handler({ plan: makePlan(), batch: { index: 0, firstLine: 0, lines: 3, byteStart: 0, byteEnd: 99 } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringContaining('plan.payloads.kind is inline'),
    });
    expect(runtime.calls()).toHaveLength(0);
  });

  test('a malformed batch is refused, naming the field', async () => {
    await expect(handler({ plan: makePlan(), batch: { index: 0, firstLine: 0, lines: 0, repeat: true, firstRequest: 0 } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/batch/),
    });
  });
});

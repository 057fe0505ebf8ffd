import 'aws-sdk-client-mock-jest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/warm-up';
import { isStable, trendLookback, warmUp } from '../../lambdas/warm-up/warm-up';
import { rolloutEventKey } from '../../lambdas/shared/audit-trail';
import { createLogger } from '../../lambdas/shared/logger';
import { fakeEndpoint, modelError, settle } from './support/endpoint';
import { BLUE, DATASET_PAYLOADS, DATASET_URI, DEPLOYMENT_ID, makeFirstDeploymentPlan, makePlan, NAMES, serveObjects, validationPolicy } from './support/fixtures';
import { mockLifecycleSink } from './support/lifecycle';

const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const GREEN = NAMES.greenVariantName;
const deps = () => ({ runtime: new SageMakerRuntimeClient({}), s3: new S3Client({}), logger: createLogger('test') });

/** Windows of 20 requests, 4 in flight, stable within 10%. */
const policy = (warmUp: Record<string, unknown> = {}) =>
  validationPolicy({ concurrency: 4, warmUp: { windowSize: 20, stabilityFraction: 0.1, maxRequests: 400, maxSeconds: 300, ...warmUp } });

/** 40 ms with a small deterministic jitter (p99 of a window moves by well under 10%). */
const steady = (n: number) => 40 + (n % 3);
/** A cold fleet: 10x slower at first, settling linearly over the first 100 requests. */
const coldStart = (n: number) => Math.round(steady(n) * (1 + 9 * Math.max(0, 1 - n / 100)));

beforeEach(() => {
  runtime.reset();
  s3.reset();
  jest.useFakeTimers();
});

afterEach(() => jest.useRealTimers());

describe('warm-up', () => {
  test('warms green through its cold start and blue at once; reports the first and last window p99', async () => {
    const endpoint = fakeEndpoint(runtime, { [GREEN]: { latencyMs: coldStart }, [BLUE.variantName]: { latencyMs: steady } });
    const result = await settle(handler({ plan: makePlan({ validation: policy() }) }));

    const [green, blue] = result.variants;
    expect(green).toMatchObject({ role: 'green', variantName: GREEN, stable: true });
    expect(blue).toMatchObject({ role: 'blue', variantName: BLUE.variantName, stable: true });
    // A steady variant is warm once its median held for TREND_SPAN_REQUESTS: 11 windows of 20 here.
    expect(blue!.requests).toBe(220);
    // Green needed its cold start worked off: more windows than blue, first window far slower than the last.
    expect(green!.requests).toBeGreaterThan(blue!.requests);
    expect(green!.requests % 20).toBe(0);
    expect(green!.firstWindowP99Ms!).toBeGreaterThan(300);
    expect(green!.lastWindowP99Ms!).toBeLessThan(50);
    expect(endpoint.count(GREEN)).toBe(green!.requests);
    expect(endpoint.count(BLUE.variantName)).toBe(220);
    // Both warmed in parallel, each with at most `concurrency` requests in flight.
    expect(endpoint.variants.get(GREEN)!.peakInFlight).toBe(4);
    expect(endpoint.variants.get(BLUE.variantName)!.peakInFlight).toBe(4);
    expect(green!.seconds).toBeGreaterThan(0);
  });

  test('a first deployment warms green alone', async () => {
    const endpoint = fakeEndpoint(runtime, { [GREEN]: { latencyMs: steady } });
    const plan = { ...makeFirstDeploymentPlan(), validation: policy() };
    const result = await settle(warmUp(plan, deps()));
    expect(result.variants.map((v) => v.variantName)).toEqual([GREEN]);
    expect([...endpoint.variants.keys()]).toEqual([GREEN]);
  });

  test('never stable within maxRequests: WarmUpDidNotStabilize naming the variant, its p99 trail, requests and seconds', async () => {
    // Green alternates between 50 ms and 100 ms windows: successive p99s always differ by 50% or more.
    const endpoint = fakeEndpoint(runtime, {
      [GREEN]: { latencyMs: (n) => (Math.floor(n / 20) % 2 === 0 ? 50 : 100) },
      [BLUE.variantName]: { latencyMs: steady },
    });
    const error = await settle(warmUp(makePlan({ validation: policy({ maxRequests: 200 }) }), deps())).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'WarmUpDidNotStabilize' });
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`green variant ${GREEN} did not stabilize before the 200-request limit \\(warmUp\\.maxRequests\\): 200 requests in \\d+ s`));
    expect(message).toMatch(/p99 of the last windows of 20: \.\.\., (50 ms, 100 ms|100 ms, 50 ms)(, (50|100) ms)+/);
    expect(message).not.toContain(BLUE.variantName);
    expect(endpoint.count(GREEN)).toBe(200);
  });

  test('never stable within maxSeconds: WarmUpDidNotStabilize naming the time limit', async () => {
    // Every window 30% slower than the one before.
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: (n) => Math.round(100 * 1.3 ** Math.floor(n / 20)) }, [BLUE.variantName]: { latencyMs: steady } });
    const error = await settle(warmUp(makePlan({ validation: policy({ maxSeconds: 10, maxRequests: 100_000 }) }), deps()), 200).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'WarmUpDidNotStabilize', message: expect.stringMatching(/before the 10 s limit \(warmUp\.maxSeconds\)/) });
  });

  test('windows answered mostly with errors never count as stable', async () => {
    fakeEndpoint(runtime, {
      [GREEN]: { latencyMs: steady, respond: (n) => (n % 4 === 0 ? { score: 0.5 } : modelError(500)) },
      [BLUE.variantName]: { latencyMs: steady },
    });
    const error = await settle(warmUp(makePlan({ validation: policy({ maxRequests: 100 }) }), deps())).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'WarmUpDidNotStabilize', message: expect.stringContaining('mostly errors, mostly errors') });
  });

  test('a dataset: cycles through its first windowSize requests, read once', async () => {
    const lines = Array.from({ length: 100 }, (_u, i) => JSON.stringify({ input: { line: i } })).join('\n');
    serveObjects(s3, new Map([[DATASET_URI, lines]]));
    const endpoint = fakeEndpoint(runtime, { [GREEN]: { latencyMs: steady }, [BLUE.variantName]: { latencyMs: steady } });
    await settle(warmUp(makePlan({ payloads: DATASET_PAYLOADS, validation: policy() }), deps()));
    const sent = new Set(endpoint.variants.get(GREEN)!.bodies);
    expect(sent).toEqual(new Set(Array.from({ length: 20 }, (_u, i) => `{"line":${i}}`)));
    expect(s3.calls()).toHaveLength(1);
  });

  test('isStable: the last two p99 within the fraction, and the median settled over the lookback', () => {
    const w = (p50Ms: number, p99Ms: number) => ({ p50Ms, p99Ms });
    // Lookback 1: the policy's criterion on p99, and the median within the fraction of the previous window.
    expect(isStable([w(50, 100)], 0.1)).toBe(false);
    expect(isStable([w(50, 100), w(52, 109)], 0.1)).toBe(true);
    expect(isStable([w(50, 100), w(52, 111)], 0.1)).toBe(false);
    expect(isStable([w(50, 100), w(44, 95)], 0.1)).toBe(false);
    // Lookback 3: p99 8% apart, but the median fell 27% over three windows: still warming.
    expect(isStable([w(150, 600), w(130, 500), w(120, 500), w(110, 460)], 0.1, 3)).toBe(false);
    expect(isStable([w(52, 600), w(130, 500), w(120, 500), w(50, 460)], 0.1, 3)).toBe(true);
    // Not enough windows for the lookback yet.
    expect(isStable([w(50, 100), w(50, 100), w(50, 100)], 0.1, 3)).toBe(false);
    // A window answered mostly with errors, where it is compared: never stable.
    expect(isStable([w(50, 100), w(50, 100), null], 0.1)).toBe(false);
    expect(isStable([null, w(50, 100), w(50, 101)], 0.1, 2)).toBe(false);
    expect(isStable([null, w(50, 100), w(50, 101)], 0.1, 1)).toBe(true);
    expect(isStable([w(0, 0), w(0, 0)], 0.1)).toBe(true);
  });

  test('trendLookback: 200 requests worth of windows, at least 1, leaving room within maxRequests', () => {
    expect(trendLookback(50, 2000)).toBe(4);
    expect(trendLookback(20, 2000)).toBe(10);
    expect(trendLookback(300, 2000)).toBe(1);
    expect(trendLookback(20, 100)).toBe(4);
    expect(trendLookback(1000, 1000)).toBe(1);
  });

  test('a noisy cold start is not taken for warm while it is still fading', async () => {
    // 10x slower at first, fading over 300 requests, with a deterministic jitter of +-30% per request: p99s
    // of successive windows of 20 often land within 10% of each other while the fleet is still warming.
    const jitter = (n: number) => 0.7 + 0.6 * (((n * 7919) % 101) / 100);
    const fading = (n: number) => Math.round(40 * jitter(n) * (1 + 9 * Math.max(0, 1 - n / 300)));
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: fading }, [BLUE.variantName]: { latencyMs: steady } });
    const result = await settle(warmUp(makePlan({ validation: policy({ maxRequests: 2000 }) }), deps()));
    const green = result.variants.find((v) => v.role === 'green')!;
    expect(green.requests).toBeGreaterThanOrEqual(300);
    expect(green.lastWindowP99Ms!).toBeLessThan(60);
  });

  test('rejects a plan without validation policy, naming the field', async () => {
    const { validation: _validation, ...plan } = makePlan();
    await expect(handler({ plan })).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/plan\.validation/) });
  });
});

describe('warm-up: Warm-up Completed', () => {
  const { dynamo, eventBridge: events, logger, sink } = mockLifecycleSink();
  const withSink = () => ({ ...deps(), lifecycle: sink() });

  test('each variant warmed: role, name, requests, seconds and the last window\'s p99, in the audit trail and on the bus', async () => {
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: coldStart }, [BLUE.variantName]: { latencyMs: steady } });
    const result = await settle(warmUp(makePlan({ validation: policy() }), withSink()));

    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    const item = dynamo.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    expect(item.recordKey!.S).toBe(rolloutEventKey(DEPLOYMENT_ID, 'WarmUpCompleted'));
    const expected = result.variants.map((v) => ({ role: v.role, variantName: v.variantName, requests: v.requests, seconds: v.seconds, lastWindowP99Ms: v.lastWindowP99Ms }));
    expect(expected.map((v) => v.role)).toEqual(['green', 'blue']);
    expect(JSON.parse(item.data!.S!)).toMatchObject({ type: 'WarmUpCompleted', variants: expected });

    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry.DetailType).toBe('Warm-up Completed');
    const detail = JSON.parse(entry.Detail!);
    expect(detail.variants).toEqual(expected);
    // Only what the event type defines: the first window's p99 and `stable` stay in the step's result.
    expect(detail.variants[0]).not.toHaveProperty('firstWindowP99Ms');
  });

  test('a variant that did not stabilize: the step fails and nothing is recorded', async () => {
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: (n) => (Math.floor(n / 20) % 2 === 0 ? 50 : 100) }, [BLUE.variantName]: { latencyMs: steady } });
    await expect(settle(warmUp(makePlan({ validation: policy({ maxRequests: 200 }) }), withSink()))).rejects.toMatchObject({ name: 'WarmUpDidNotStabilize' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit table and the bus failing do not fail the warm-up', async () => {
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: steady } });
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const result = await settle(warmUp({ ...makeFirstDeploymentPlan(), validation: policy() }, withSink()));
    expect(result.variants.map((v) => v.variantName)).toEqual([GREEN]);
    expect(logger.error).toHaveBeenCalledTimes(2);
  });
});

import 'aws-sdk-client-mock-jest';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/probe-robustness';
import { NESTING_DEPTH, PROBE_TIME_BUDGET_MS, probeRequests, withHugeNumbers } from '../../lambdas/probe-robustness/probe';
import { fakeEndpoint, modelError, settle } from './support/endpoint';
import { BLUE, DATASET_PAYLOADS, DATASET_URI, makePlan, NAMES, SAMPLE_BODY, serveObjects, validationPolicy } from './support/fixtures';

const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const GREEN = NAMES.greenVariantName;

/** A container that parses JSON strictly and answers malformed requests with `malformedStatus`. */
function strictJsonContainer(malformedStatus: number, afterwards: 'healthy' | 'crashed' = 'healthy') {
  let crashed = false;
  return {
    respond: (_n: number, body: string, contentType: string | undefined) => {
      if (crashed) return modelError(502, 'worker died');
      try {
        if (contentType !== 'application/json') throw new Error('unsupported content type');
        const document = JSON.parse(body) as { features?: unknown };
        if (!Array.isArray(document?.features) || document.features.some((x) => typeof x !== 'number' || x > 1e100)) throw new Error('bad features');
        return { score: 0.42, label: 0 };
      } catch {
        if (afterwards === 'crashed') crashed = true;
        return modelError(malformedStatus, 'invalid input');
      }
    },
  };
}

beforeEach(() => {
  runtime.reset();
  s3.reset();
  jest.useFakeTimers();
});

afterEach(() => jest.useRealTimers());

describe('probe-robustness', () => {
  test('sends each probe to green only, one at a time, then the normal payload; a sound container gets 4xx and recovers', async () => {
    const endpoint = fakeEndpoint(runtime, { [GREEN]: strictJsonContainer(400), [BLUE.variantName]: {} });
    const result = await settle(handler({ plan: makePlan() }));

    expect(result).toEqual({
      probes: [
        { name: 'wrong-content-type', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 40 },
        { name: 'truncated-payload', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 40 },
        { name: 'huge-values', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 40 },
        { name: 'empty-body', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 40 },
        { name: 'deeply-nested', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 40 },
      ],
      recoveredAfterwards: true,
    });
    const green = endpoint.variants.get(GREEN)!;
    expect(green.bodies).toEqual([
      SAMPLE_BODY,
      SAMPLE_BODY.slice(0, Math.floor(SAMPLE_BODY.length / 2)),
      '{"features":[1e+300,1e+300,1e+300,1e+300]}',
      '',
      `${'['.repeat(NESTING_DEPTH)}${']'.repeat(NESTING_DEPTH)}`,
      SAMPLE_BODY,
    ]);
    expect(green.contentTypes).toEqual(['text/plain', ...Array(5).fill('application/json')]);
    expect(green.peakInFlight).toBe(1);
    expect(endpoint.count(BLUE.variantName)).toBe(0);
  });

  test('a container that answers 500 to malformed requests and then stays down: 5xx outcomes, not recovered', async () => {
    fakeEndpoint(runtime, { [GREEN]: strictJsonContainer(500, 'crashed') });
    const result = await settle(handler({ plan: makePlan() }));
    expect(result.probes.map((p) => [p.name, p.outcome, p.statusCode])).toEqual([
      ['wrong-content-type', 'MODEL_ERROR', 500],
      ['truncated-payload', 'MODEL_ERROR', 502],
      ['huge-values', 'MODEL_ERROR', 502],
      ['empty-body', 'MODEL_ERROR', 502],
      ['deeply-nested', 'MODEL_ERROR', 502],
    ]);
    expect(result.recoveredAfterwards).toBe(false);
  });

  test('an empty body refused by SageMaker (ValidationError) or before sending (no HTTP status) is a client error', async () => {
    for (const refusal of [
      new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'Body must not be empty' }),
      new Error('body is required'),
    ]) {
      runtime.reset();
      fakeEndpoint(runtime, { [GREEN]: { respond: (_n, body) => (body === '' ? refusal : { score: 0.1 }) } });
      const result = await settle(handler({ plan: makePlan() }));
      expect(result.probes.find((p) => p.name === 'empty-body')).toMatchObject({ outcome: 'CLIENT_ERROR' });
      // Only the empty body gets that reading: the other probes were answered.
      expect(result.probes.filter((p) => p.outcome === 'OK')).toHaveLength(4);
    }
  });

  test('a probe that hangs is a TIMEOUT after at most the probe budget\'s share', async () => {
    fakeEndpoint(runtime, { [GREEN]: { latencyMs: (_n, body) => (body.startsWith('[[[') ? 600_000 : 40) } });
    const plan = makePlan({ validation: validationPolicy({ requestTimeoutMs: 60_000 }) });
    const startedAt = Date.now();
    const result = await settle(handler({ plan }), 500);
    const share = Math.floor(PROBE_TIME_BUDGET_MS / 6);
    expect(result.probes.find((p) => p.name === 'deeply-nested')).toMatchObject({ outcome: 'TIMEOUT', latencyMs: share });
    expect(Date.now() - startedAt).toBeLessThan(PROBE_TIME_BUDGET_MS);
  });

  test('with a dataset, the probes derive from its first request', async () => {
    serveObjects(s3, new Map([[DATASET_URI, '{"input": {"features": [7, 8]}}\n{"input": {"features": [1]}}\n']]));
    const endpoint = fakeEndpoint(runtime, { [GREEN]: {} });
    await settle(handler({ plan: makePlan({ payloads: DATASET_PAYLOADS }) }));
    expect(endpoint.variants.get(GREEN)!.bodies.at(-1)).toBe('{"features":[7,8]}');
    expect(endpoint.variants.get(GREEN)!.bodies[2]).toBe('{"features":[1e+300,1e+300]}');
  });
});

describe('probe requests', () => {
  test('huge values: every JSON number, however nested; numeric tokens of other text', () => {
    expect(JSON.parse(withHugeNumbers('{"a": [1, {"b": -2.5e-3}], "c": "7", "d": true}'))).toEqual({ a: [1e300, { b: 1e300 }], c: '7', d: true });
    expect(withHugeNumbers('0.31,-1.2,5e3,abc')).toBe('1e300,1e300,1e300,abc');
  });

  test('a text/plain payload gets another wrong content type', () => {
    expect(probeRequests({ body: 'hello', contentType: 'text/plain; charset=utf-8' })[0]!.contentType).toBe('application/octet-stream');
  });
});

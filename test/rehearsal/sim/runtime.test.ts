/**
 * SageMaker Runtime InvokeEndpoint, through the real SDK client: routing by TargetVariant and by weight,
 * ModelError parsing, malformed requests, input-dependent predictions, latency (cold starts, tails) on
 * virtual time, and determinism for a fixed seed.
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  CreateEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { HUGE_VALUE_LIMIT } from '../../../rehearsal/sim/runtime';
import { scoreForBody, standardNormalFromBody, type ModelBehaviour, type SimulationOptions } from '../../../rehearsal/sim/world';
import { advanceSeconds, BLUE_DATA, drive, driveError, GREEN_DATA, harness, IMAGE, installClock, ROLE_ARN, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';
const PAYLOAD = JSON.stringify({ amount: 120.5, merchant: 'acme' });

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);

/** Seeds blue and green side by side (warm fleets) with the given weights. */
function seedBlueGreen(blueWeight = 1, greenWeight = 0): void {
  h.aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'transition-config',
    variants: [
      { variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: blueWeight },
      { variantName: 'green', modelName: 'green-model', image: IMAGE, modelDataUrl: GREEN_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: greenWeight },
    ],
  });
}

function invoke(input: Partial<InvokeEndpointCommandInput> = {}) {
  return h.runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'application/json', Body: PAYLOAD, ...input }));
}

/** Invokes and returns the answering variant, the score, the label and the virtual latency. */
async function timedInvoke(input: Partial<InvokeEndpointCommandInput> = {}): Promise<{ variant: string; score: number; label: number; latencyMs: number }> {
  const startedAt = Date.now();
  const output = await send(invoke(input));
  const body = JSON.parse(new TextDecoder().decode(output.Body)) as { score: number; label: number };
  return { variant: output.InvokedProductionVariant!, score: body.score, label: body.label, latencyMs: Date.now() - startedAt };
}

/** `count` distinct JSON request bodies, like the lines of a dataset. */
const distinctBodies = (count: number): string[] =>
  Array.from({ length: count }, (_unused, index) => JSON.stringify({ features: [index % 7, index / 3, 100 - index], id: `r-${index}` }));

const average = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const standardDeviation = (values: readonly number[]): number => {
  const mean = average(values);
  return Math.sqrt(average(values.map((value) => (value - mean) ** 2)));
};
function correlation(a: readonly number[], b: readonly number[]): number {
  const meanA = average(a);
  const meanB = average(b);
  const covariance = average(a.map((value, index) => (value - meanA) * (b[index]! - meanB)));
  return covariance / (standardDeviation(a) * standardDeviation(b));
}

describe('routing', () => {
  test('TargetVariant sends the request to that variant, even at weight 0', async () => {
    seedBlueGreen(1, 0);
    const output = await send(invoke({ TargetVariant: 'green', Accept: 'application/json' }));
    expect(output.InvokedProductionVariant).toBe('green');
    expect(output.ContentType).toBe('application/json');
    const body = JSON.parse(new TextDecoder().decode(output.Body)) as { score: unknown };
    expect(typeof body.score).toBe('number');
    expect(h.aws.calls.at(-1)).toEqual({
      service: 'sagemaker-runtime',
      operation: 'InvokeEndpoint',
      input: { EndpointName: ENDPOINT, TargetVariant: 'green', ContentType: 'application/json', Accept: 'application/json', Body: PAYLOAD },
      atMs: expect.any(Number),
    });
  });

  test('without TargetVariant, traffic splits by CurrentWeight', async () => {
    seedBlueGreen(3, 1);
    const counts = { blue: 0, green: 0 } as Record<string, number>;
    for (let index = 0; index < 400; index++) counts[(await timedInvoke()).variant]! += 1;
    expect(counts.blue! + counts.green!).toBe(400);
    expect(counts.green! / 400).toBeGreaterThan(0.18);
    expect(counts.green! / 400).toBeLessThan(0.32);
  });

  test('a weight-0 variant gets no untargeted traffic; weights follow UpdateEndpointWeightsAndCapacities once applied', async () => {
    seedBlueGreen(1, 0);
    for (let index = 0; index < 50; index++) expect((await timedInvoke()).variant).toBe('blue');
    await send(
      h.sagemaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: ENDPOINT,
          DesiredWeightsAndCapacities: [
            { VariantName: 'blue', DesiredWeight: 0 },
            { VariantName: 'green', DesiredWeight: 1 },
          ],
        }),
      ),
    );
    // Still Updating: current weights unchanged.
    expect((await timedInvoke()).variant).toBe('blue');
    await advanceSeconds(clock, 30);
    for (let index = 0; index < 50; index++) expect((await timedInvoke()).variant).toBe('green');
  });

  test('while Updating, the old fleet serves; the new variant is unknown until the update completes', async () => {
    h.aws.sagemaker.seedEndpoint({
      endpointName: ENDPOINT,
      endpointConfigName: 'blue-config',
      variants: [{ variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: 1 }],
    });
    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: GREEN_DATA } })));
    await send(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'green-config',
          ProductionVariants: [{ VariantName: 'green', ModelName: 'green-model', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
        }),
      ),
    );
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'green-config' })));
    expect((await timedInvoke()).variant).toBe('blue');
    const unknown = await sendError(invoke({ TargetVariant: 'green' }));
    expect(unknown.name).toBe('ValidationError');
    await advanceSeconds(clock, 600);
    expect((await timedInvoke()).variant).toBe('green');
  });
});

describe('errors', () => {
  test('ModelError carries OriginalStatusCode, OriginalMessage and LogStreamArn, with HTTP 424', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { errorRate: 1 });
    const error = await sendError(invoke());
    expect(error.name).toBe('ModelError');
    expect(error.$metadata.httpStatusCode).toBe(424);
    expect(error.OriginalStatusCode).toBe(500);
    expect(error.OriginalMessage).toBe('Internal Server Error');
    expect(error.LogStreamArn).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/fraud-prod');
    expect(error.message).toMatch(/^Received server error \(500\) from primary with message "Internal Server Error"/);
    expect(h.aws.calls.at(-1)?.error).toBe('ModelError');
  });

  test('an error rate fails about that fraction of invocations', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { errorRate: 0.25 });
    let failures = 0;
    for (let index = 0; index < 400; index++) {
      try {
        await send(invoke());
      } catch (error) {
        expect((error as Error).name).toBe('ModelError');
        failures += 1;
      }
    }
    expect(failures / 400).toBeGreaterThan(0.18);
    expect(failures / 400).toBeLessThan(0.32);
  });

  test('ValidationError: unknown endpoint, unknown variant, endpoint still Creating, body over 6 MB', async () => {
    const missing = await sendError(invoke({ EndpointName: 'nope' }));
    expect([missing.name, missing.message, missing.$metadata.httpStatusCode]).toEqual(['ValidationError', 'Endpoint nope of account 123456789012 not found.', 400]);

    seedBlueGreen();
    const variant = await sendError(invoke({ TargetVariant: 'purple' }));
    expect(variant.name).toBe('ValidationError');
    expect(variant.message).toMatch(/purple/);

    const big = await sendError(invoke({ ContentType: 'text/csv', Body: new Uint8Array(6 * 1024 * 1024 + 1) }));
    expect(big.name).toBe('ValidationError');

    await send(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'new-config',
          ProductionVariants: [{ VariantName: 'blue', ModelName: 'blue-model', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
        }),
      ),
    );
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'new-endpoint', EndpointConfigName: 'new-config' })));
    const creating = await sendError(invoke({ EndpointName: 'new-endpoint' }));
    expect(creating.name).toBe('ValidationError');
    expect(creating.message).toMatch(/Creating/);
  });

  test('injected runtime faults: ModelNotReadyException (429) is retried, ServiceUnavailable (503) surfaces once retries run out', async () => {
    h = harness({
      faults: [
        { kind: 'api-error', service: 'sagemaker-runtime', operation: 'InvokeEndpoint', error: 'ModelNotReadyException', times: 1 },
        { kind: 'api-error', service: 'sagemaker-runtime', operation: 'InvokeEndpoint', error: 'ServiceUnavailable', times: 3, after: 2 },
      ],
    });
    seedBlueGreen();
    const first = await send(invoke());
    expect(first.$metadata.attempts).toBe(2);
    const error = await sendError(invoke());
    expect([error.name, error.$metadata.httpStatusCode, error.$metadata.attempts]).toEqual(['ServiceUnavailable', 503, 3]);
    expect(h.aws.calls.map((call) => call.error)).toEqual(['ModelNotReadyException', undefined, 'ServiceUnavailable', 'ServiceUnavailable', 'ServiceUnavailable']);
  });
});

describe('malformed requests', () => {
  const malformed: [string, Partial<InvokeEndpointCommandInput>, RegExp][] = [
    ['an empty body', { Body: new Uint8Array() }, /^Empty request body$/],
    ['another Content-Type', { ContentType: 'text/csv', Body: '120.5,acme' }, /^Unsupported Content-Type text\/csv/],
    ['no Content-Type', { ContentType: undefined }, /^Unsupported Content-Type/],
    ['a body that is not JSON', { Body: '{"amount": ' }, /^Request body is not valid JSON$/],
    ['a body that is not UTF-8', { Body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }, /^Request body is not valid JSON$/],
    ['a huge value', { Body: JSON.stringify({ amount: 1e31 }) }, /^Input value 1e\+31 is out of range/],
    ['a huge negative value, nested', { Body: '{"rows": [[1, 2], [3, {"x": -2.5e45}]]}' }, /^Input value -2\.5e\+45 is out of range/],
    ['a value that overflows to Infinity', { Body: '{"amount": 1e400}' }, /^Input value Infinity is out of range/],
  ];

  test.each(malformed)('%s: ModelError with OriginalStatusCode 400 by default', async (_case, input, message) => {
    seedBlueGreen();
    const error = await sendError(invoke(input));
    expect([error.name, error.$metadata.httpStatusCode, error.OriginalStatusCode, error.ErrorCode]).toEqual(['ModelError', 424, 400, 'CLIENT_ERROR_FROM_MODEL']);
    expect(error.OriginalMessage).toMatch(message);
    expect(error.message).toMatch(/^Received client error \(400\) from primary/);
  });

  test.each(malformed)("%s: OriginalStatusCode 500 when the model crashes on it (onMalformed 'server-error')", async (_case, input, message) => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { onMalformed: 'server-error' });
    const error = await sendError(invoke(input));
    expect([error.name, error.OriginalStatusCode, error.ErrorCode]).toEqual(['ModelError', 500, 'SERVER_ERROR_FROM_MODEL']);
    expect(error.message).toMatch(/^Received server error \(500\) from primary/);
    expect(error.OriginalMessage).toMatch(/^Worker died while handling the request: /);
    expect(error.OriginalMessage.slice('Worker died while handling the request: '.length)).toMatch(message);
  });

  test('well-formed edge cases are answered: a value of exactly 1e30, a charset parameter, any JSON value', async () => {
    seedBlueGreen();
    for (const input of [
      { Body: JSON.stringify({ amount: HUGE_VALUE_LIMIT, other: -HUGE_VALUE_LIMIT }) },
      { ContentType: 'application/json; charset=utf-8' },
      { ContentType: 'Application/JSON' },
      { Body: '[1, "1e99", null, true]' },
      { Body: '42' },
    ]) {
      expect((await timedInvoke(input)).variant).toBe('blue');
    }
  });

  test('a model declared for another Content-Type takes that one and refuses JSON', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { inputContentType: 'text/csv' });
    const csv = await timedInvoke({ ContentType: 'text/csv', Body: '120.5,acme' });
    expect(csv.score).toBeCloseTo(scoreForBody({}, '120.5,acme', 0), 1);
    const json = await sendError(invoke());
    expect([json.name, json.OriginalStatusCode]).toEqual(['ModelError', 400]);
    expect(json.OriginalMessage).toMatch(/the model accepts text\/csv/);
  });

  test('the malformed check comes before the error rate: a malformed request is never a sampled 500', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { errorRate: 1 });
    const error = await sendError(invoke({ Body: 'nope' }));
    expect(error.OriginalStatusCode).toBe(400);
  });
});

describe('predictions', () => {
  test('the response body is {"score": s, "label": s >= 0.5 ? 1 : 0}', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { prediction: { mean: 0.5, stdDev: 0.2 } });
    const labels = new Set<number>();
    for (const body of distinctBodies(40)) {
      const output = await send(invoke({ Body: body }));
      const answer = JSON.parse(new TextDecoder().decode(output.Body)) as Record<string, number>;
      expect(Object.keys(answer).sort()).toEqual(['label', 'score']);
      expect(answer.label).toBe(answer.score! >= 0.5 ? 1 : 0);
      labels.add(answer.label!);
    }
    expect(labels).toEqual(new Set([0, 1]));
  });

  test('the same body has the same z for every model: (score - mean) / stdDev, without jitter', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { prediction: { mean: 0.2, stdDev: 0.05, jitter: 0 } });
    h.aws.runtime.setBehaviour(GREEN_DATA, { prediction: { mean: 0.7, stdDev: 0.3, jitter: 0 } });
    for (const body of distinctBodies(10)) {
      const blue = await timedInvoke({ Body: body, TargetVariant: 'blue' });
      const green = await timedInvoke({ Body: body, TargetVariant: 'green' });
      const z = standardNormalFromBody(body);
      expect((blue.score - 0.2) / 0.05).toBeCloseTo(z, 9);
      expect((green.score - 0.7) / 0.3).toBeCloseTo(z, 9);
      expect(blue.score).toBeCloseTo(scoreForBody({ prediction: { mean: 0.2, stdDev: 0.05, jitter: 0 } }, body, 0), 12);
    }
  });

  test('standardNormalFromBody: deterministic, a string is its UTF-8 bytes, and N(0, 1) over distinct bodies', () => {
    const bodies = distinctBodies(5000);
    const values = bodies.map(standardNormalFromBody);
    expect(standardNormalFromBody(bodies[0]!)).toBe(values[0]);
    expect(standardNormalFromBody(new TextEncoder().encode(bodies[0]!))).toBe(values[0]);
    expect(new Set(values).size).toBe(bodies.length);
    expect(Math.abs(average(values))).toBeLessThan(0.05);
    expect(standardDeviation(values)).toBeGreaterThan(0.95);
    expect(standardDeviation(values)).toBeLessThan(1.05);
    // Tails as a normal's: about 4.6% beyond 2 standard deviations.
    const beyondTwo = values.filter((value) => Math.abs(value) > 2).length / values.length;
    expect(beyondTwo).toBeGreaterThan(0.035);
    expect(beyondTwo).toBeLessThan(0.058);
  });

  test('two models with the same behaviour score the same inputs with a correlation above 0.99, but not identically', async () => {
    seedBlueGreen();
    const behaviour: ModelBehaviour = { prediction: { mean: 0.4, stdDev: 0.15 } };
    h.aws.runtime.setBehaviour(BLUE_DATA, behaviour);
    h.aws.runtime.setBehaviour(GREEN_DATA, behaviour);
    const blue: number[] = [];
    const green: number[] = [];
    for (const body of distinctBodies(300)) {
      blue.push((await timedInvoke({ Body: body, TargetVariant: 'blue' })).score);
      green.push((await timedInvoke({ Body: body, TargetVariant: 'green' })).score);
    }
    expect(correlation(blue, green)).toBeGreaterThan(0.99);
    // The default jitter (0.05) leaves a little per-request noise.
    expect(blue.filter((score, index) => score !== green[index]).length).toBe(300);
    const differences = blue.map((score, index) => Math.abs(score - green[index]!));
    expect(Math.max(...differences)).toBeLessThan(0.15 * 0.05 * 2 * 5);
  });

  test('a model whose predictions moved scores the same inputs differently', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(GREEN_DATA, { prediction: { mean: 0.6, stdDev: 0.1 } });
    const shifts: number[] = [];
    for (const body of distinctBodies(50)) {
      shifts.push((await timedInvoke({ Body: body, TargetVariant: 'green' })).score - (await timedInvoke({ Body: body, TargetVariant: 'blue' })).score);
    }
    expect(average(shifts)).toBeCloseTo(0.3, 1);
  });

  test('over varied inputs, scores follow normal(mean, stdDev); one input repeated varies only by the jitter', async () => {
    seedBlueGreen(0, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { prediction: { mean: 0.8, stdDev: 0.05 } });
    const varied: number[] = [];
    for (const body of distinctBodies(400)) varied.push((await timedInvoke({ Body: body })).score);
    expect(average(varied)).toBeGreaterThan(0.79);
    expect(average(varied)).toBeLessThan(0.81);
    expect(standardDeviation(varied)).toBeGreaterThan(0.045);
    expect(standardDeviation(varied)).toBeLessThan(0.055);
    const repeated: number[] = [];
    for (let index = 0; index < 200; index++) repeated.push((await timedInvoke()).score);
    expect(average(repeated)).toBeCloseTo(scoreForBody({ prediction: { mean: 0.8, stdDev: 0.05 } }, PAYLOAD, 0), 2);
    // jitter * stdDev = 0.0025.
    expect(standardDeviation(repeated)).toBeGreaterThan(0.002);
    expect(standardDeviation(repeated)).toBeLessThan(0.003);
  });
});

describe('latency', () => {
  const fixedLatency = (ms: number, extra: ModelBehaviour = {}): ModelBehaviour => ({ latencyMs: { p50: ms, p99: ms }, ...extra });

  test('an invocation takes the sampled latency of virtual time', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, fixedLatency(250));
    const { latencyMs } = await timedInvoke();
    expect(latencyMs).toBe(250);
  });

  test('latencies follow the lognormal fitted to p50 and p99', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, { latencyMs: { p50: 40, p99: 200 } });
    const latencies: number[] = [];
    for (let index = 0; index < 1000; index++) latencies.push((await timedInvoke()).latencyMs);
    latencies.sort((a, b) => a - b);
    expect(latencies[499]).toBeGreaterThan(34);
    expect(latencies[499]).toBeLessThan(46);
    expect(latencies[989]).toBeGreaterThan(140);
    expect(latencies[989]).toBeLessThan(280);
  });

  test('a model with the same p50 and a 3x p99 has a 3x heavier tail', async () => {
    async function latencies(p99: number): Promise<number[]> {
      h = harness({ seed: 5 });
      seedBlueGreen();
      h.aws.runtime.setBehaviour(BLUE_DATA, { latencyMs: { p50: 40, p99 } });
      const samples: number[] = [];
      for (let index = 0; index < 1000; index++) samples.push((await timedInvoke()).latencyMs);
      return samples.sort((a, b) => a - b);
    }
    const light = await latencies(90);
    const heavy = await latencies(270);
    expect(heavy[499]! / light[499]!).toBeGreaterThan(0.9);
    expect(heavy[499]! / light[499]!).toBeLessThan(1.1);
    expect(heavy[989]! / light[989]!).toBeGreaterThan(2.6);
    expect(heavy[989]! / light[989]!).toBeLessThan(3.5);
    expect(heavy[989]).toBeGreaterThan(200);
    expect(heavy[989]).toBeLessThan(340);
  });

  test('a freshly deployed fleet starts cold and decays linearly to 1x; every UpdateEndpoint resets every variant', async () => {
    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'blue-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: BLUE_DATA } })));
    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: GREEN_DATA } })));
    const variants: ProductionVariant[] = [
      { VariantName: 'blue', ModelName: 'blue-model', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 1 },
      { VariantName: 'green', ModelName: 'green-model', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 0 },
    ];
    await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-a', ProductionVariants: variants })));
    await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-b', ProductionVariants: variants })));
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'config-a' })));
    await advanceSeconds(clock, 480);
    const cold = fixedLatency(100, { coldStart: { factor: 5, requests: 4 } });
    h.aws.runtime.setBehaviour(BLUE_DATA, cold);
    h.aws.runtime.setBehaviour(GREEN_DATA, cold);

    const blueLatencies = async (count: number): Promise<number[]> => {
      const latencies: number[] = [];
      for (let index = 0; index < count; index++) latencies.push((await timedInvoke({ TargetVariant: 'blue' })).latencyMs);
      return latencies;
    };
    expect(await blueLatencies(6)).toEqual([500, 400, 300, 200, 100, 100]);
    // Green's fleet is counted separately: its first invocation is cold.
    expect((await timedInvoke({ TargetVariant: 'green' })).latencyMs).toBe(500);

    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'config-b' })));
    // The old fleet keeps serving, warm, while the update runs.
    expect(await blueLatencies(1)).toEqual([100]);
    await advanceSeconds(clock, 600);
    expect(await blueLatencies(3)).toEqual([500, 400, 300]);
    expect((await timedInvoke({ TargetVariant: 'green' })).latencyMs).toBe(500);
  });

  test('seeded endpoints are warm', async () => {
    seedBlueGreen();
    h.aws.runtime.setBehaviour(BLUE_DATA, fixedLatency(100, { coldStart: { factor: 5, requests: 4 } }));
    expect((await timedInvoke()).latencyMs).toBe(100);
  });
});

describe('determinism', () => {
  async function sample(options: SimulationOptions): Promise<{ variant: string; score: number; latencyMs: number }[]> {
    h = harness(options);
    seedBlueGreen(1, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { latencyMs: { p50: 60, p99: 300 }, prediction: { mean: 0.7, stdDev: 0.2 } });
    const results = [];
    for (let index = 0; index < 30; index++) results.push(await timedInvoke());
    return results;
  }

  test('the same seed gives the same variants, scores and latencies; another seed does not', async () => {
    const first = await sample({ seed: 42 });
    const again = await sample({ seed: 42 });
    const other = await sample({ seed: 43 });
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first.map((result) => result.variant))).toEqual(new Set(['blue', 'green']));
  });

  test('a malformed request does not shift the draws of the requests after it', async () => {
    async function run(secondBody: string): Promise<({ score: number; latencyMs: number } | string)[]> {
      h = harness({ seed: 9 });
      seedBlueGreen(1, 1);
      h.aws.runtime.setBehaviour(BLUE_DATA, { latencyMs: { p50: 40, p99: 200 } });
      h.aws.runtime.setBehaviour(GREEN_DATA, { latencyMs: { p50: 40, p99: 200 } });
      const results: ({ score: number; latencyMs: number } | string)[] = [];
      for (const body of [distinctBodies(1)[0]!, secondBody, ...distinctBodies(6).slice(1)]) {
        try {
          const { score, latencyMs } = await timedInvoke({ Body: body, TargetVariant: 'blue' });
          results.push({ score, latencyMs });
        } catch (error) {
          results.push((error as Error).name);
        }
      }
      return results;
    }
    const wellFormed = await run(PAYLOAD);
    const withMalformed = await run('{not json');
    expect(withMalformed[1]).toBe('ModelError');
    expect(withMalformed.filter((_result, index) => index !== 1)).toEqual(wellFormed.filter((_result, index) => index !== 1));
  });
});

test('setBehaviour rejects impossible behaviours', () => {
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { errorRate: 1.5 })).toThrow(/errorRate/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { latencyMs: { p50: 100, p99: 50 } })).toThrow(/latencyMs/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { prediction: { mean: 0.5, stdDev: 0.1, jitter: 1.5 } })).toThrow(/jitter/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { onMalformed: 'crash' as 'server-error' })).toThrow(/onMalformed/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { inputContentType: 'json' })).toThrow(/inputContentType/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { outage: { fromSecond: -1 } })).toThrow(/outage.fromSecond/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { outage: { fromSecond: 60, toSecond: 60 } })).toThrow(/outage.toSecond/);
});

describe('outage', () => {
  /** Milliseconds from now to `second` after the simulation's start. */
  const untilSecond = (second: number): number => Math.max(0, h.aws.runtime.startMs + second * 1000 - Date.now());

  /** A TargetVariant invocation of `variant` at `second` (virtual seconds since the simulation began): 'ok' or the error. */
  async function outcomeAt(second: number, variant: string, body = PAYLOAD): Promise<string> {
    await clock.tickAsync(untilSecond(second));
    try {
      await send(invoke({ TargetVariant: variant, Body: body }));
      return 'ok';
    } catch (error) {
      const failure = error as Error & { OriginalStatusCode?: number };
      return `${failure.name} ${failure.OriginalStatusCode}`;
    }
  }

  test('every invocation of the model fails with ModelError 500 from fromSecond until toSecond, and only that model', async () => {
    seedBlueGreen(1, 1);
    h.aws.runtime.setBehaviour(GREEN_DATA, { outage: { fromSecond: 60, toSecond: 120 } });
    expect(h.aws.runtime.startMs).toBe(Date.now());
    const outcomes = [await outcomeAt(59, 'green'), await outcomeAt(60, 'green'), await outcomeAt(90, 'blue'), await outcomeAt(119, 'green'), await outcomeAt(120, 'green')];
    expect(outcomes).toEqual(['ok', 'ModelError 500', 'ok', 'ModelError 500', 'ok']);
  });

  test('an outage without toSecond never ends, and fails malformed requests with 500 too (the container is down)', async () => {
    seedBlueGreen(1, 0);
    h.aws.runtime.setBehaviour(BLUE_DATA, { outage: { fromSecond: 10 } });
    expect(await outcomeAt(5, 'blue', '{not json')).toBe('ModelError 400');
    expect(await outcomeAt(10, 'blue', '{not json')).toBe('ModelError 500');
    expect(await outcomeAt(10 * 24 * 3600, 'blue')).toBe('ModelError 500');
    expect(h.aws.runtime.outageWindowFor(BLUE_DATA)).toEqual({ fromMs: h.aws.runtime.startMs + 10_000, toMs: Number.POSITIVE_INFINITY });
    expect(h.aws.runtime.outageWindowFor(GREEN_DATA)).toBeUndefined();
  });
});

/**
 * SageMaker Runtime InvokeEndpoint, through the real SDK client: routing by TargetVariant and by weight,
 * ModelError parsing, latency with cold starts on virtual time, and determinism for a fixed seed.
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
import type { ModelBehaviour, SimulationOptions } from '../../../rehearsal/sim/world';
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

/** Invokes and returns the answering variant, the score and the virtual latency. */
async function timedInvoke(input: Partial<InvokeEndpointCommandInput> = {}): Promise<{ variant: string; score: number; latencyMs: number }> {
  const startedAt = Date.now();
  const output = await send(invoke(input));
  const body = JSON.parse(new TextDecoder().decode(output.Body)) as { score: number };
  return { variant: output.InvokedProductionVariant!, score: body.score, latencyMs: Date.now() - startedAt };
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

  test('an invalid JSON body or an empty body is answered like a well-behaved container: ModelError 400', async () => {
    seedBlueGreen();
    const invalid = await sendError(invoke({ Body: '{"amount": ' }));
    expect([invalid.name, invalid.OriginalStatusCode]).toEqual(['ModelError', 400]);
    expect(invalid.message).toMatch(/^Received client error \(400\)/);
    const empty = await sendError(invoke({ Body: new Uint8Array() }));
    expect([empty.name, empty.OriginalStatusCode]).toEqual(['ModelError', 400]);
    // Not JSON, but not declared JSON either: the container takes it.
    const csv = await send(invoke({ ContentType: 'text/csv', Body: '120.5,acme' }));
    expect(csv.InvokedProductionVariant).toBe('blue');
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

  test('predictions follow the behaviour: {"score": x} around its mean', async () => {
    h.aws.runtime.setBehaviour(GREEN_DATA, { prediction: { mean: 0.8, stdDev: 0.05 } });
    seedBlueGreen(0, 1);
    const scores: number[] = [];
    for (let index = 0; index < 200; index++) scores.push((await timedInvoke()).score);
    const mean = scores.reduce((sum, score) => sum + score, 0) / scores.length;
    expect(mean).toBeGreaterThan(0.78);
    expect(mean).toBeLessThan(0.82);
  });
});

test('setBehaviour rejects impossible behaviours', () => {
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { errorRate: 1.5 })).toThrow(/errorRate/);
  expect(() => h.aws.runtime.setBehaviour(BLUE_DATA, { latencyMs: { p50: 100, p99: 50 } })).toThrow(/latencyMs/);
});

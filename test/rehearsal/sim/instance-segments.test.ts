/**
 * Fleet accounting in the SageMaker simulation: instance-time segments from provisioning to release across
 * seeding, creation (and failed creation), updates (and rolled-back updates), capacity changes and deletion.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import type { FaultRule } from '../../../rehearsal/sim/world';
import { advanceSeconds, drive, harness, IMAGE, installClock, ROLE_ARN, START_MS, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';
/** Each control-plane call is answered after the 40 ms API latency: state changes happen then. */
const LATENCY = 40;

let clock: FakeClock;
let h: Harness;
/** Virtual time once seeding is done and its pending timers have fired. */
let t0: number;

async function setUp(faults: FaultRule[] = []): Promise<void> {
  h = harness({ faults });
  h.aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'blue-config',
    variants: [{ variantName: 'blue', modelName: 'blue-model', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 2, weight: 1 }],
  });
  h.aws.sagemaker.seedEndpoint({
    endpointName: 'other',
    endpointConfigName: 'green-seed-config',
    variants: [{ variantName: 'green', modelName: 'green-model', image: IMAGE, instanceType: 'ml.g5.2xlarge', instanceCount: 1, weight: 1 }],
  });
  // Seeding leaves a timer at the end of the (skipped) creation; fire it now so it does not move the clock mid-call.
  await clock.runAllAsync();
  t0 = Date.now();
}

beforeEach(() => {
  clock = installClock();
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);

function variant(name: string, model: string, overrides: Partial<ProductionVariant> = {}): ProductionVariant {
  return { VariantName: name, ModelName: model, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 1, ...overrides };
}

async function createConfig(name: string, variants: ProductionVariant[]): Promise<void> {
  await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: variants })));
}

const segments = (endpointName = ENDPOINT) => h.aws.sagemaker.instanceSegments().filter((segment) => segment.endpointName === endpointName);

test('a seeded endpoint counts from the seed time, and its fleets run until released', async () => {
  await setUp();
  expect(segments()).toEqual([
    { endpointName: ENDPOINT, variantName: 'blue', fleetId: expect.any(String), instanceType: 'ml.g5.xlarge', instanceCount: 2, fromMs: START_MS },
  ]);
});

test('UpdateEndpoint: new fleets count from the call, old ones until the update completes', async () => {
  await setUp();
  await createConfig('blue-green', [variant('blue', 'blue-model', { InitialInstanceCount: 2 }), variant('green', 'green-model', { InitialVariantWeight: 0 })]);
  await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-green' })));
  const calledAt = t0 + 2 * LATENCY;
  await advanceSeconds(clock, 600);
  const [oldBlue, newBlue, green] = segments();
  expect(oldBlue).toMatchObject({ variantName: 'blue', instanceCount: 2, fromMs: START_MS, toMs: calledAt + 600_000 });
  expect(newBlue).toMatchObject({ variantName: 'blue', instanceCount: 2, fromMs: calledAt });
  expect(newBlue!.toMs).toBeUndefined();
  expect(green).toMatchObject({ variantName: 'green', instanceCount: 1, fromMs: calledAt });
  // The redeployed blue is another fleet.
  expect(newBlue!.fleetId).not.toBe(oldBlue!.fleetId);
});

test('a rolled-back UpdateEndpoint releases the new fleets when it ends; the old one keeps running', async () => {
  await setUp([{ kind: 'update-rollback', endpointConfigName: 'blue-green' }]);
  await createConfig('blue-green', [variant('blue', 'blue-model'), variant('green', 'green-model', { InitialVariantWeight: 0 })]);
  await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-green' })));
  const calledAt = t0 + 2 * LATENCY;
  await advanceSeconds(clock, 600);
  expect(segments().map((segment) => [segment.variantName, segment.fromMs, segment.toMs])).toEqual([
    ['blue', START_MS, undefined],
    ['blue', calledAt, calledAt + 600_000],
    ['green', calledAt, calledAt + 600_000],
  ]);
});

test('capacity changes split the segment: added instances count from the call, removed ones until the change completes', async () => {
  await setUp();
  const change = (count: number) =>
    send(h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredInstanceCount: count }] })));
  await change(4);
  const upAt = t0 + LATENCY;
  await advanceSeconds(clock, 30);
  await change(1);
  const downAt = upAt + 30_000 + LATENCY;
  await advanceSeconds(clock, 30);
  expect(segments().map((segment) => [segment.instanceCount, segment.fromMs, segment.toMs])).toEqual([
    [2, START_MS, upAt],
    [4, upAt, downAt + 30_000],
    [1, downAt + 30_000, undefined],
  ]);
  expect(new Set(segments().map((segment) => segment.fleetId)).size).toBe(1);
});

test('DeleteEndpoint releases every fleet when the deletion completes', async () => {
  await setUp();
  await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
  const calledAt = t0 + LATENCY;
  expect(segments()[0]!.toMs).toBeUndefined();
  await advanceSeconds(clock, 90);
  expect(segments()).toEqual([expect.objectContaining({ instanceCount: 2, fromMs: START_MS, toMs: calledAt + 90_000 })]);
  // Other endpoints are not affected.
  expect(segments('other').map((segment) => [segment.instanceType, segment.toMs])).toEqual([['ml.g5.2xlarge', undefined]]);
});

test('CreateEndpoint counts from the call; a failed creation releases its fleets when it fails', async () => {
  h = harness({ faults: [{ kind: 'create-failure' }] });
  await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'blue-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })));
  await createConfig('new-config', [variant('blue', 'blue-model', { InitialInstanceCount: 3 })]);
  await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'failing', EndpointConfigName: 'new-config' })));
  const calledAt = START_MS + 3 * LATENCY;
  await advanceSeconds(clock, 480);
  expect(segments('failing')).toEqual([expect.objectContaining({ instanceCount: 3, fromMs: calledAt, toMs: calledAt + 480_000 })]);
  await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'working', EndpointConfigName: 'new-config' })));
  await advanceSeconds(clock, 480);
  expect(segments('working').map((segment) => [segment.instanceCount, segment.toMs])).toEqual([[3, undefined]]);
});

/**
 * Quotas and regional capacity in the SageMaker simulation, through the real SDK clients: CreateEndpoint and
 * UpdateEndpoint refused with ResourceLimitExceeded past a type's "for endpoint usage" quota, updates that roll back
 * (and creations that fail) when the region has no capacity for a type, and the capacity pre-flight's reading of
 * the same state.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { endpointUsageQuota, instancesInUseByType } from '../../../lambdas/shared/capacity';
import { INSUFFICIENT_CAPACITY_REASON } from '../../../rehearsal/sim/faults';
import { quotaCodeFor } from '../../../rehearsal/sim/world';
import { advanceSeconds, BLUE_DATA, drive, driveError, GREEN_DATA, harness, IMAGE, installClock, ROLE_ARN, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';
const G5 = 'ml.g5.xlarge';
const G5_2X = 'ml.g5.2xlarge';

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);
const describeEndpoint = (name = ENDPOINT) => send(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })));

function variant(name: string, modelName: string, instanceType: string, count: number, weight = 1): ProductionVariant {
  return { VariantName: name, ModelName: modelName, InstanceType: instanceType as ProductionVariant['InstanceType'], InitialInstanceCount: count, InitialVariantWeight: weight };
}

/** Blue serving on 3 x ml.g5.xlarge (seeded, as the rehearsal does), and green's model. */
async function blueServing(): Promise<void> {
  h.aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'blue-config',
    variants: [{ variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: G5, instanceCount: 3, weight: 1 }],
  });
  await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: GREEN_DATA } })));
}

/** Blue as it runs plus green (2 instances of `greenType`) at weight 0. */
async function transitionConfig(greenType: string, name = 'transition-config'): Promise<void> {
  await send(
    h.sagemaker.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [variant('blue', 'blue-model', G5, 3), variant('green', 'green-model', greenType, 2, 0)] }),
    ),
  );
}

const quotaMessage = (type: string, quota: number, used: number, delta: number) =>
  `The account-level service limit '${type} for endpoint usage' is ${quota} Instances, with current utilization of ${used} Instances ` +
  `and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase to this quota.`;

describe('endpoint-usage quotas', () => {
  test('an UpdateEndpoint adding green past the quota is refused with ResourceLimitExceeded; nothing changes', async () => {
    await blueServing();
    await transitionConfig(G5);
    h.aws.servicequotas.setEndpointQuota(G5, 4);
    const segmentsBefore = h.aws.sagemaker.instanceSegments().length;

    const error = await sendError(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));

    expect(error).toMatchObject({ name: 'ResourceLimitExceeded', message: quotaMessage(G5, 4, 3, 2), $metadata: { httpStatusCode: 400 } });
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'blue-config' });
    expect(h.aws.sagemaker.instanceSegments()).toHaveLength(segmentsBefore);
    // A client error: the SDK does not retry it.
    expect(h.aws.calls.filter((call) => call.operation === 'UpdateEndpoint').map((call) => call.error)).toEqual(['ResourceLimitExceeded']);
  });

  test('at exactly the quota the update is accepted; while it runs both fleets count against the quota', async () => {
    await blueServing();
    await transitionConfig(G5);
    h.aws.servicequotas.setEndpointQuota(G5, 5);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    // Blue's old fleet (3) and the new fleets (3 + 2).
    expect(h.aws.sagemaker.instancesInUse(G5)).toBe(8);

    await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'other-config', ProductionVariants: [variant('AllTraffic', 'blue-model', G5, 1)] })));
    const error = await sendError(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'other', EndpointConfigName: 'other-config' })));
    expect(error).toMatchObject({ name: 'ResourceLimitExceeded', message: quotaMessage(G5, 5, 8, 1) });

    await advanceSeconds(clock, 600);
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'transition-config' });
    expect(h.aws.sagemaker.instancesInUse(G5)).toBe(5);
  });

  test('green on another type is held to that type\'s quota only', async () => {
    await blueServing();
    await transitionConfig(G5_2X);
    h.aws.servicequotas.setEndpointQuota(G5, 3);
    h.aws.servicequotas.setEndpointQuota(G5_2X, 1);
    const refused = await sendError(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    expect(refused.message).toBe(quotaMessage(G5_2X, 1, 0, 2));
    h.aws.servicequotas.setEndpointQuota(G5_2X, 2);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'Updating' });
  });

  test('a CreateEndpoint past the quota is refused and no endpoint is left', async () => {
    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })));
    await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'green-config', ProductionVariants: [variant('green', 'green-model', G5, 1)] })));
    h.aws.servicequotas.setEndpointQuota(G5, 0);
    const error = await sendError(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'green-config' })));
    expect(error).toMatchObject({ name: 'ResourceLimitExceeded', message: quotaMessage(G5, 0, 0, 1) });
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)).toBeUndefined();
  });

  test('a type without a quota is unlimited; seeding is not held to quotas', async () => {
    h.aws.servicequotas.setEndpointQuota(G5, 0);
    await blueServing();
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)?.status).toBe('InService');
    await transitionConfig(G5_2X);
    h.aws.servicequotas.setEndpointQuota(G5, 3);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'Updating' });
  });
});

describe('regional capacity', () => {
  test('no capacity for green\'s type: the update runs its full duration, then rolls back to blue with the capacity reason', async () => {
    await blueServing();
    await transitionConfig(G5_2X);
    h.aws.sagemaker.setInstanceCapacity(G5_2X, 0);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'Updating' });
    await advanceSeconds(clock, 600);
    const endpoint = await describeEndpoint();
    expect(endpoint).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'blue-config', FailureReason: INSUFFICIENT_CAPACITY_REASON });
    expect(endpoint.ProductionVariants?.map((v) => v.VariantName)).toEqual(['blue']);
    // Green's fleet was released: nothing of ml.g5.2xlarge is held.
    expect(h.aws.sagemaker.instancesInUse(G5_2X)).toBe(0);
    expect(h.aws.sagemaker.instancesInUse(G5)).toBe(3);
  });

  test('capacity counts what the account already holds of the type', async () => {
    await blueServing();
    await transitionConfig(G5);
    // Blue holds 3 of the 4 the region has: green's 2 do not fit.
    h.aws.sagemaker.setInstanceCapacity(G5, 4);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    expect(await describeEndpoint()).toMatchObject({ EndpointConfigName: 'blue-config', FailureReason: INSUFFICIENT_CAPACITY_REASON });

    h.aws.sagemaker.setInstanceCapacity(G5, 5);
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    const endpoint = await describeEndpoint();
    expect(endpoint).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'transition-config' });
    expect(endpoint.FailureReason).toBeUndefined();
  });

  test('no capacity on a first deployment: the creation ends Failed with the capacity reason', async () => {
    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })));
    await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'green-config', ProductionVariants: [variant('green', 'green-model', G5, 1)] })));
    h.aws.sagemaker.setInstanceCapacity(G5, 0);
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'green-config' })));
    await advanceSeconds(clock, 480);
    expect(await describeEndpoint()).toMatchObject({ EndpointStatus: 'Failed', FailureReason: INSUFFICIENT_CAPACITY_REASON });
  });

  test('seeding refuses what is not an instance type or a count', () => {
    expect(() => h.aws.sagemaker.setInstanceCapacity('g5', 0)).toThrow(/invalid instance type/);
    expect(() => h.aws.sagemaker.setInstanceCapacity(G5, -2)).toThrow(/non-negative integer/);
  });
});

describe('the capacity pre-flight against the simulation', () => {
  test('reads the quota SageMaker enforces and the instances it counts, during an update too', async () => {
    await blueServing();
    await transitionConfig(G5);
    h.aws.servicequotas.setEndpointQuota(G5, 8);
    const quotas = new ServiceQuotasClient({ region: h.aws.region, credentials: h.aws.credentials, requestHandler: h.aws.requestHandler });

    await expect(send(endpointUsageQuota(quotas, G5))).resolves.toEqual({
      instanceType: G5,
      quotaCode: quotaCodeFor(`${G5} for endpoint usage`),
      quotaName: `${G5} for endpoint usage`,
      value: 8,
    });
    expect((await send(instancesInUseByType(h.sagemaker))).byType.get(G5)).toBe(3);

    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    const during = await send(instancesInUseByType(h.sagemaker));
    expect(during.byType.get(G5)).toBe(h.aws.sagemaker.instancesInUse(G5));
    expect(during.byType.get(G5)).toBe(8);
  });
});

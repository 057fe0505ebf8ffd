/**
 * An endpoint seeded Failed or SystemUpdating (the rehearsal's `endpoint.status`): what DescribeEndpoint, the
 * mutations and the runtime see, and that "Resolve rollout" refuses it with read calls only.
 */
import {
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { resolveRollout } from '../../../lambdas/resolve-rollout/resolve';
import { parseRolloutConfig } from '../../../lambdas/shared/config';
import { ModelPackageStateChangeEventSchema } from '../../../lambdas/shared/events';
import { SEEDED_FAILURE_REASON, type SeededEndpointStatus } from '../../../rehearsal/sim/sagemaker';
import { advanceSeconds, BLUE_DATA, drive, driveError, harness, IMAGE, installClock, ROLE_ARN, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';
const CAPACITY_ERROR = 'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.';

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);
const describeEndpoint = () => send(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT })));
const invoke = () => send(h.runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'application/json', Body: '{"features": [1, 2]}' })));

/** Blue alone (2 x ml.g5.xlarge), seeded in `status`. */
function seedBlue(status?: SeededEndpointStatus, failureReason?: string): void {
  h.aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'blue-config',
    ...(status ? { status } : {}),
    ...(failureReason ? { failureReason } : {}),
    variants: [{ variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: 'ml.g5.xlarge', instanceCount: 2, weight: 1 }],
  });
}

const weightsUpdate = () =>
  h.sagemaker.send(
    new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }] }),
  );
const configUpdate = () => h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' }));

describe('an endpoint seeded Failed', () => {
  test('is described Failed with its FailureReason and no variant; nothing serves or bills', async () => {
    seedBlue('Failed', CAPACITY_ERROR);

    const described = await describeEndpoint();
    expect(described).toMatchObject({ EndpointStatus: 'Failed', FailureReason: CAPACITY_ERROR, EndpointConfigName: 'blue-config' });
    expect(described.ProductionVariants).toBeUndefined();
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)).toEqual({ status: 'Failed', endpointConfigName: 'blue-config', failureReason: CAPACITY_ERROR, variants: [] });
    expect(await sendError(invoke())).toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/not in service: its status is Failed/) });

    await advanceSeconds(clock, 3600);
    const billed = h.aws.sagemaker.instanceSegments().reduce((total, s) => total + ((s.toMs ?? Date.now()) - s.fromMs) * s.instanceCount, 0);
    expect(billed).toBe(0);
  });

  test('without a FailureReason in the seed, SageMaker\'s generic one', async () => {
    seedBlue('Failed');
    expect((await describeEndpoint()).FailureReason).toBe(SEEDED_FAILURE_REASON);
  });

  test('refuses every change but DeleteEndpoint', async () => {
    seedBlue('Failed', CAPACITY_ERROR);

    for (const update of [weightsUpdate, configUpdate]) {
      expect(await sendError(update())).toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/because it is in Failed status\. Only DeleteEndpoint is allowed/) });
    }
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    expect((await describeEndpoint()).EndpointStatus).toBe('Deleting');
  });
});

describe('an endpoint seeded SystemUpdating', () => {
  test('serves with its fleet, refuses every change as in progress, and stays SystemUpdating', async () => {
    seedBlue('SystemUpdating');

    const described = await describeEndpoint();
    expect(described.EndpointStatus).toBe('SystemUpdating');
    expect(described.FailureReason).toBeUndefined();
    expect(described.ProductionVariants).toMatchObject([{ VariantName: 'blue', CurrentWeight: 1, CurrentInstanceCount: 2 }]);
    expect((await invoke()).InvokedProductionVariant).toBe('blue');

    for (const change of [weightsUpdate, configUpdate, () => h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT }))]) {
      expect(await sendError(change())).toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/^Cannot update in-progress endpoint/) });
    }
    await advanceSeconds(clock, 3600);
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)).toMatchObject({ status: 'SystemUpdating', variants: [{ variantName: 'blue', instanceCount: 2 }] });
  });

  test('a failureReason in the seed is ignored unless the endpoint is Failed', async () => {
    seedBlue('SystemUpdating', CAPACITY_ERROR);
    expect((await describeEndpoint()).FailureReason).toBeUndefined();
  });
});

describe('"Resolve rollout" against a seeded endpoint that cannot take a rollout', () => {
  test.each([
    ['Failed', CAPACITY_ERROR, `Endpoint ${ENDPOINT} is Failed (FailureReason: ${CAPACITY_ERROR}), not InService`],
    ['SystemUpdating', undefined, `Endpoint ${ENDPOINT} is SystemUpdating, not InService`],
  ] as const)('%s: EndpointNotReady naming the status, and SageMaker saw only reads', async (status, failureReason, message) => {
    const arn = h.aws.sagemaker.putModelPackage({
      groupName: 'fraud-detector',
      version: 2,
      approvalStatus: 'Approved',
      containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v2/model.tar.gz' }],
    });
    seedBlue(status, failureReason);
    const config = parseRolloutConfig({
      targets: [
        {
          modelPackageGroupName: 'fraud-detector',
          endpointName: ENDPOINT,
          modelExecutionRoleArn: ROLE_ARN,
          green: { instanceType: 'ml.g5.xlarge' },
          policy: { samplePayload: { body: '{"features": [1, 2]}' } },
        },
      ],
    });
    const event = ModelPackageStateChangeEventSchema.parse({
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Model Package State Change',
      detail: { ModelPackageGroupName: 'fraud-detector', ModelPackageVersion: 2, ModelPackageArn: arn, ModelApprovalStatus: 'Approved' },
    });
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:rollout:approval-2';
    const callsBefore = h.aws.calls.length;

    const error = await driveError(clock, resolveRollout({ event, executionArn }, { sageMaker: h.sagemaker, config, logger }));

    expect(error).toMatchObject({ name: 'EndpointNotReady', message: expect.stringContaining(message) });
    const operations = h.aws.calls.slice(callsBefore).map((call) => `${call.service}:${call.operation}`);
    expect(operations).toEqual(['sagemaker:DescribeModelPackage', 'sagemaker:DescribeEndpoint']);
  });
});

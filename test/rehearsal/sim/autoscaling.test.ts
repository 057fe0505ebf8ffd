/**
 * Application Auto Scaling on SageMaker variants: the API through the real SDK client over the simulated
 * transport, registration rules (InService, capacity range), target-tracking decisions (scale-out, scale-in of an
 * idle variant, suspension, cooldowns), and the interplay with SageMaker (UpdateEndpoint refused while a removed
 * or re-typed variant is registered, DeleteEndpoint deregistering).
 */
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type RegisterScalableTargetCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import { CreateEndpointConfigCommand, DeleteEndpointCommand, UpdateEndpointCommand, type ProductionVariantInstanceType } from '@aws-sdk/client-sagemaker';
import { SimulatedAws } from '../../../rehearsal/sim/world';
import { advanceSeconds, drive, driveError, harness, IMAGE, installClock, START_MS, type FakeClock, type Harness } from './helpers';

const ENDPOINT = 'fraud-prod';
const BLUE_ID = `endpoint/${ENDPOINT}/variant/blue`;
const GREEN_ID = `endpoint/${ENDPOINT}/variant/green`;
const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

let clock: FakeClock;
let h: Harness;
let aws: SimulatedAws;
let scaling: ApplicationAutoScalingClient;

beforeEach(() => {
  clock = installClock();
  h = harness();
  aws = h.aws;
  scaling = new ApplicationAutoScalingClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
  aws.sagemaker.seedEndpoint({
    endpointName: ENDPOINT,
    endpointConfigName: 'blue-green-config',
    variants: [
      { variantName: 'blue', modelName: 'blue-model', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 4, weight: 0 },
      { variantName: 'green', modelName: 'green-model', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 1, weight: 1 },
    ],
  });
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);

function register(overrides: Partial<RegisterScalableTargetCommandInput> = {}) {
  return scaling.send(
    new RegisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION, MinCapacity: 1, MaxCapacity: 8, ...overrides }),
  );
}

function invocationsPolicy(resourceId = BLUE_ID, configuration: Record<string, unknown> = {}) {
  return scaling.send(
    new PutScalingPolicyCommand({
      PolicyName: 'invocations',
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 100,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ...configuration,
      },
    }),
  );
}

const instances = (variant: string): number | undefined => aws.sagemaker.endpointSnapshot(ENDPOINT)?.variants.find((v) => v.variantName === variant)?.instanceCount;
const status = (): string | undefined => aws.sagemaker.endpointSnapshot(ENDPOINT)?.status;

/** One minute of traffic to blue, evaluated now. */
function minute(blueInvocations: number): void {
  aws.autoscaling.evaluate([{ endpointName: ENDPOINT, variantName: 'blue', invocations: blueInvocations }], Date.now());
}

describe('the API through the SDK', () => {
  test('register, describe, put and describe a policy, delete it, deregister', async () => {
    const registered = await send(register({ SuspendedState: { DynamicScalingInSuspended: true } }));
    expect(registered.ScalableTargetARN).toMatch(/^arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target\/056a[0-9a-f]{28}$/);
    const { ScalableTargets } = await send(scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [BLUE_ID] })));
    expect(ScalableTargets).toEqual([
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: BLUE_ID,
        ScalableDimension: DIMENSION,
        MinCapacity: 1,
        MaxCapacity: 8,
        RoleARN: expect.stringContaining('AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint'),
        CreationTime: expect.any(Date),
        SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
        ScalableTargetARN: registered.ScalableTargetARN,
      },
    ]);

    const policy = await send(invocationsPolicy());
    expect(policy.PolicyARN).toMatch(/^arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:[0-9a-f-]{36}:resource\/sagemaker\/endpoint\/fraud-prod\/variant\/blue:policyName\/invocations$/);
    expect(policy.Alarms?.map((alarm) => alarm.AlarmName)).toEqual([
      expect.stringMatching(/^TargetTracking-endpoint\/fraud-prod\/variant\/blue-AlarmHigh-/),
      expect.stringMatching(/^TargetTracking-endpoint\/fraud-prod\/variant\/blue-AlarmLow-/),
    ]);
    const { ScalingPolicies } = await send(scaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID })));
    expect(ScalingPolicies?.map((p) => [p.PolicyName, p.PolicyType, p.TargetTrackingScalingPolicyConfiguration?.TargetValue])).toEqual([
      ['invocations', 'TargetTrackingScaling', 100],
    ]);

    await send(scaling.send(new DeleteScalingPolicyCommand({ PolicyName: 'invocations', ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })));
    const missingPolicy = await sendError(
      scaling.send(new DeleteScalingPolicyCommand({ PolicyName: 'invocations', ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })),
    );
    expect([missingPolicy.name, missingPolicy.message]).toEqual([
      'ObjectNotFoundException',
      `No scaling policy found for service namespace: sagemaker, resource ID: ${BLUE_ID}, scalable dimension: ${DIMENSION}, policy name: invocations`,
    ]);

    await send(scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })));
    const again = await sendError(scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })));
    expect([again.name, again.message, again.$metadata.httpStatusCode]).toEqual([
      'ObjectNotFoundException',
      `No scalable target registered for service namespace: sagemaker, resource ID: ${BLUE_ID}, scalable dimension: ${DIMENSION}`,
      400,
    ]);
    expect(aws.calls.every((call) => call.service === 'application-autoscaling')).toBe(true);
  });

  test('deregistering a target deletes its policies; a policy needs a registered target', async () => {
    const unregistered = await sendError(invocationsPolicy());
    expect(unregistered.name).toBe('ObjectNotFoundException');
    await send(register());
    await send(invocationsPolicy());
    await send(scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })));
    expect(aws.autoscaling.scalingPolicies()).toEqual([]);
    const { ScalingPolicies } = await send(scaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' })));
    expect(ScalingPolicies).toEqual([]);
  });

  test('re-registering changes only what it names: SuspendedState members merge, capacity is kept', async () => {
    await send(register({ MinCapacity: 2, MaxCapacity: 6 }));
    await send(
      scaling.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: BLUE_ID,
          ScalableDimension: DIMENSION,
          SuspendedState: { DynamicScalingInSuspended: true },
        }),
      ),
    );
    await send(
      scaling.send(
        new RegisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION, SuspendedState: { DynamicScalingOutSuspended: true } }),
      ),
    );
    expect(aws.autoscaling.scalableTargets()).toEqual([
      expect.objectContaining({
        minCapacity: 2,
        maxCapacity: 6,
        suspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: false },
      }),
    ]);
  });

  test('pagination of DescribeScalableTargets follows NextToken', async () => {
    await send(register());
    await send(register({ ResourceId: GREEN_ID }));
    const first = await send(scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', MaxResults: 1 })));
    const second = await send(scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', MaxResults: 1, NextToken: first.NextToken })));
    expect([first.ScalableTargets?.[0]?.ResourceId, second.ScalableTargets?.[0]?.ResourceId, second.NextToken]).toEqual([BLUE_ID, GREEN_ID, undefined]);
    const ecs = await send(scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' })));
    expect(ecs.ScalableTargets).toEqual([]);
  });
});

describe('registration rules', () => {
  test('the endpoint must be InService', async () => {
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    const error = await sendError(register());
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("is in Deleting status. The status should be in 'InService' to register it as a scalable target");
    await advanceSeconds(clock, 90);
    const gone = await sendError(register());
    expect(gone.message).toBe('Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-prod".');
  });

  test('the variant must exist; capacities must be given for a new target, Min <= Max, Min >= 1', async () => {
    const noVariant = await sendError(register({ ResourceId: `endpoint/${ENDPOINT}/variant/purple` }));
    expect(noVariant.message).toMatch(/\[purple\] are not present in endpoint/);
    const noCapacity = await sendError(register({ MinCapacity: undefined, MaxCapacity: undefined }));
    expect(noCapacity.message).toMatch(/MinCapacity and MaxCapacity are required/);
    const inverted = await sendError(register({ MinCapacity: 5, MaxCapacity: 2 }));
    expect(inverted.message).toBe('Minimum capacity cannot be greater than maximum capacity.');
    const zero = await sendError(register({ MinCapacity: 0 }));
    expect(zero.name).toBe('ValidationException');
    expect(aws.autoscaling.scalableTargets()).toEqual([]);
  });

  test('only SageMaker variant instance counts are modelled; other namespaces or dimensions are named', async () => {
    const ecs = await sendError(register({ ServiceNamespace: 'ecs', ResourceId: 'service/cluster/web', ScalableDimension: 'ecs:service:DesiredCount' }));
    expect([ecs.name, ecs.message]).toEqual(['ValidationException', expect.stringContaining('got ecs')]);
    const concurrency = await sendError(register({ ScalableDimension: 'sagemaker:variant:DesiredProvisionedConcurrency' }));
    expect(concurrency.message).toContain('got sagemaker:variant:DesiredProvisionedConcurrency');
    const badId = await sendError(register({ ResourceId: `endpoint/${ENDPOINT}` }));
    expect(badId.message).toContain('expected endpoint/<endpoint-name>/variant/<variant-name>');
  });

  test('registering a range that excludes the current capacity scales into it', async () => {
    expect(instances('blue')).toBe(4);
    await send(register({ MinCapacity: 1, MaxCapacity: 2 }));
    expect(status()).toBe('Updating');
    await advanceSeconds(clock, 30);
    expect([status(), instances('blue')]).toEqual(['InService', 2]);
    expect(aws.autoscaling.scalingActivities()).toEqual([expect.objectContaining({ resourceId: BLUE_ID, fromCount: 4, toCount: 2, status: 'Successful' })]);
  });
});

describe('target tracking on SageMakerVariantInvocationsPerInstance', () => {
  beforeEach(async () => {
    await send(register({ MinCapacity: 1, MaxCapacity: 8 }));
    await send(invocationsPolicy());
  });

  test('an idle variant scales in to MinCapacity once the low desire has lasted ScaleInCooldown (300 s)', async () => {
    for (let elapsed = 0; elapsed < 300; elapsed += 60) {
      minute(0);
      expect(instances('blue')).toBe(4);
      await advanceSeconds(clock, 60);
    }
    minute(0);
    expect(status()).toBe('Updating');
    await advanceSeconds(clock, 30);
    expect(instances('blue')).toBe(1);
    expect(aws.autoscaling.scalingActivities().at(-1)).toMatchObject({ fromCount: 4, toCount: 1, status: 'Successful' });
  });

  test('scale-in is suspended by DynamicScalingInSuspended, and resumes when lifted', async () => {
    await send(register({ MinCapacity: undefined, MaxCapacity: undefined, SuspendedState: { DynamicScalingInSuspended: true } }));
    for (let minuteIndex = 0; minuteIndex < 20; minuteIndex++) {
      minute(0);
      await advanceSeconds(clock, 60);
    }
    expect(instances('blue')).toBe(4);
    await send(register({ MinCapacity: undefined, MaxCapacity: undefined, SuspendedState: { DynamicScalingInSuspended: false } }));
    // The low desire has lasted all along: the next evaluation scales in.
    minute(0);
    await advanceSeconds(clock, 30);
    expect(instances('blue')).toBe(1);
  });

  test("a policy's DisableScaleIn keeps the capacity", async () => {
    await send(invocationsPolicy(BLUE_ID, { DisableScaleIn: true }));
    for (let minuteIndex = 0; minuteIndex < 10; minuteIndex++) {
      minute(0);
      await advanceSeconds(clock, 60);
    }
    expect(instances('blue')).toBe(4);
    expect(aws.autoscaling.scalingActivities()).toEqual([]);
  });

  test('scale-out is immediate, then waits ScaleOutCooldown; DynamicScalingOutSuspended blocks it', async () => {
    // 4 instances x 100 invocations/min target: 600 invocations want 6 instances.
    minute(600);
    await advanceSeconds(clock, 30);
    expect(instances('blue')).toBe(6);
    await advanceSeconds(clock, 30);
    minute(1000);
    await advanceSeconds(clock, 30);
    expect(instances('blue')).toBe(6);
    await advanceSeconds(clock, 240);
    minute(1000);
    await advanceSeconds(clock, 30);
    // ceil(1000 / 100) = 10, clamped to MaxCapacity 8.
    expect(instances('blue')).toBe(8);

    await send(register({ MinCapacity: undefined, MaxCapacity: 12, SuspendedState: { DynamicScalingOutSuspended: true } }));
    await advanceSeconds(clock, 600);
    minute(1200);
    await advanceSeconds(clock, 30);
    expect(instances('blue')).toBe(8);
  });

  test('no decision applies while the endpoint is updating', async () => {
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-green-config' })));
    minute(2000);
    expect(aws.autoscaling.scalingActivities()).toEqual([]);
    expect(status()).toBe('Updating');
  });

  test('step scaling policies are stored but never act', async () => {
    await send(register({ ResourceId: GREEN_ID }));
    await send(
      scaling.send(
        new PutScalingPolicyCommand({
          PolicyName: 'step',
          ServiceNamespace: 'sagemaker',
          ResourceId: GREEN_ID,
          ScalableDimension: DIMENSION,
          PolicyType: 'StepScaling',
          StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] },
        }),
      ),
    );
    aws.autoscaling.evaluate([{ endpointName: ENDPOINT, variantName: 'green', invocations: 100_000 }], Date.now());
    expect(instances('green')).toBe(1);
    expect(aws.autoscaling.scalingPolicies().map((policy) => [policy.resourceId, policy.policyType])).toEqual([
      [BLUE_ID, 'TargetTrackingScaling'],
      [GREEN_ID, 'StepScaling'],
    ]);
  });

  test('a predefined metric other than SageMakerVariantInvocationsPerInstance is refused, naming it', async () => {
    const error = await sendError(
      invocationsPolicy(BLUE_ID, { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
    );
    expect([error.name, error.message]).toEqual(['ValidationException', expect.stringContaining('ECSServiceAverageCPUUtilization')]);
  });
});

describe('SageMaker interplay', () => {
  async function createConfig(name: string, variants: { name: string; model: string; instanceType: ProductionVariantInstanceType }[]): Promise<void> {
    await send(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: name,
          ProductionVariants: variants.map((variant) => ({
            VariantName: variant.name,
            ModelName: variant.model,
            InstanceType: variant.instanceType,
            InitialInstanceCount: 1,
            InitialVariantWeight: 1,
          })),
        }),
      ),
    );
  }

  test('UpdateEndpoint may not remove a registered variant, nor change its instance type', async () => {
    await send(register());
    await createConfig('green-only', [{ name: 'green', model: 'green-model', instanceType: 'ml.g5.xlarge' }]);
    await createConfig('blue-bigger', [
      { name: 'blue', model: 'blue-model', instanceType: 'ml.g5.2xlarge' },
      { name: 'green', model: 'green-model', instanceType: 'ml.g5.xlarge' },
    ]);
    await createConfig('blue-new-model', [
      { name: 'blue', model: 'green-model', instanceType: 'ml.g5.xlarge' },
      { name: 'green', model: 'green-model', instanceType: 'ml.g5.xlarge' },
    ]);
    for (const config of ['green-only', 'blue-bigger']) {
      const error = await sendError(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: config })));
      expect([error.name, error.message]).toEqual(['ValidationException', expect.stringContaining('[blue]')]);
      expect(error.message).toContain('registered as scalable targets with Application Auto Scaling');
    }
    expect(status()).toBe('InService');
    // Changing only the model is allowed, as SageMaker allows it.
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-new-model' })));
    expect(status()).toBe('Updating');
  });

  test('once deregistered, the variant can be removed', async () => {
    await send(register());
    await send(invocationsPolicy());
    await createConfig('green-only', [{ name: 'green', model: 'green-model', instanceType: 'ml.g5.xlarge' }]);
    await send(scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION })));
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'green-only' })));
    await advanceSeconds(clock, 600);
    expect(aws.sagemaker.endpointSnapshot(ENDPOINT)?.variants.map((variant) => variant.variantName)).toEqual(['green']);
  });

  test('DeleteEndpoint deregisters its scalable targets and policies silently', async () => {
    await send(register());
    await send(register({ ResourceId: GREEN_ID }));
    await send(invocationsPolicy());
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    expect(aws.autoscaling.scalableTargets()).toEqual([]);
    expect(aws.autoscaling.scalingPolicies()).toEqual([]);
  });
});

test('api-error faults apply to Application Auto Scaling calls', async () => {
  const faulty = new SimulatedAws({
    faults: [{ kind: 'api-error', service: 'application-autoscaling', operation: 'RegisterScalableTarget', error: 'ConcurrentUpdateException' }],
  });
  const client = new ApplicationAutoScalingClient({ region: faulty.region, credentials: faulty.credentials, requestHandler: faulty.requestHandler, maxAttempts: 1 });
  const error = await sendError(
    client.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: BLUE_ID, ScalableDimension: DIMENSION, MinCapacity: 1, MaxCapacity: 2 })),
  );
  expect([error.name, error.$metadata.httpStatusCode]).toEqual(['ConcurrentUpdateException', 500]);
  expect(faulty.calls[0]).toMatchObject({ service: 'application-autoscaling', operation: 'RegisterScalableTarget', error: 'ConcurrentUpdateException', atMs: START_MS });
});

import 'aws-sdk-client-mock-jest';
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import {
  copiedPolicyName,
  copyScaling,
  describeVariantScaling,
  holdScaleIn,
  releaseVariantScaling,
  resumeScaleIn,
  retargetVariantDimensions,
  SAGEMAKER_SCALABLE_DIMENSION,
  variantResourceId,
} from '../../lambdas/shared/autoscaling';
import { autoScalingError, fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { BLUE, ENDPOINT, NAMES } from './support/fixtures';

const aas = mockClient(ApplicationAutoScalingClient);
const client = new ApplicationAutoScalingClient({ region: 'us-east-1' });

const GREEN = NAMES.greenVariantName;
const BLUE_ID = `endpoint/${ENDPOINT}/variant/${BLUE.variantName}`;
const GREEN_ID = `endpoint/${ENDPOINT}/variant/${GREEN}`;

/** A step scaling policy (its name does not contain the variant's). */
const stepPolicy: ScalingPolicy = {
  ...invocationsPolicy(BLUE.variantName, 'gpu-memory-step'),
  PolicyType: 'StepScaling',
  TargetTrackingScalingPolicyConfiguration: undefined,
  StepScalingPolicyConfiguration: {
    AdjustmentType: 'ChangeInCapacity',
    StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
    Cooldown: 120,
  },
};
/** Target tracking on a customized metric that names blue's variant in its dimensions. */
const customPolicy: ScalingPolicy = {
  ...invocationsPolicy(BLUE.variantName, `${BLUE.variantName}-gpu-utilization`),
  TargetTrackingScalingPolicyConfiguration: {
    TargetValue: 60,
    CustomizedMetricSpecification: {
      MetricName: 'GPUUtilization',
      Namespace: '/aws/sagemaker/Endpoints',
      Dimensions: [
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: BLUE.variantName },
      ],
      Statistic: 'Average',
    },
  },
};

beforeEach(() => aas.reset());

test('variantResourceId is endpoint/<endpoint>/variant/<variant>', () => {
  expect(variantResourceId('fraud-detector-prod', 'v6-0a1b2c3d')).toBe('endpoint/fraud-detector-prod/variant/v6-0a1b2c3d');
});

describe('describeVariantScaling', () => {
  test('no scalable target: undefined, and no policy lookup', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget('another-variant')] });
    await expect(describeVariantScaling(client, ENDPOINT, BLUE.variantName)).resolves.toBeUndefined();
    expect(aas).toHaveReceivedCommandWith(DescribeScalableTargetsCommand, {
      ServiceNamespace: 'sagemaker',
      ResourceIds: [BLUE_ID],
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
    });
    expect(aas).not.toHaveReceivedCommand(DescribeScalingPoliciesCommand);
  });

  test('the target and every policy, following NextToken on both calls', async () => {
    const policies = [invocationsPolicy(), stepPolicy, customPolicy];
    fakeAutoScaling(aas, { policies }, 1);
    // The target comes on the second page (a page may be empty and still have a NextToken).
    aas.on(DescribeScalableTargetsCommand)
      .resolvesOnce({ ScalableTargets: [], NextToken: 'page-2' })
      .resolvesOnce({ ScalableTargets: [variantScalableTarget(BLUE.variantName, { MinCapacity: 3, MaxCapacity: 8 })] });
    const scaling = await describeVariantScaling(client, ENDPOINT, BLUE.variantName);
    expect(scaling).toEqual({
      resourceId: BLUE_ID,
      minCapacity: 3,
      maxCapacity: 8,
      suspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
      policies,
    });
    expect(aas.commandCalls(DescribeScalableTargetsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(aas.commandCalls(DescribeScalingPoliciesCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, '1', '2']);
  });
});

describe('holdScaleIn', () => {
  test('suspends dynamic scale-in only: min, max and the other flags as they were', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { MinCapacity: 2, MaxCapacity: 6, SuspendedState: { DynamicScalingOutSuspended: true } })],
    });
    await expect(holdScaleIn(client, ENDPOINT, BLUE.variantName)).resolves.toEqual({ held: true, previouslySuspended: false });
    expect(aas).toHaveReceivedCommandWith(RegisterScalableTargetCommand, {
      ServiceNamespace: 'sagemaker',
      ResourceId: BLUE_ID,
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
      MinCapacity: 2,
      MaxCapacity: 6,
      SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: false },
    });
    expect(store.targets.get(BLUE_ID)).toMatchObject({ MinCapacity: 2, MaxCapacity: 6 });
  });

  test('scale-in already suspended (by someone else): left as it is, not held', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } })] });
    await expect(holdScaleIn(client, ENDPOINT, BLUE.variantName)).resolves.toEqual({ held: false, previouslySuspended: true });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('not autoscaled: nothing held, nothing registered', async () => {
    fakeAutoScaling(aas);
    await expect(holdScaleIn(client, ENDPOINT, BLUE.variantName)).resolves.toEqual({ held: false, previouslySuspended: false });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });
});

describe('resumeScaleIn', () => {
  test('resumes scale-in, keeping the other flags and min/max', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true, ScheduledScalingSuspended: true } })],
    });
    await expect(resumeScaleIn(client, ENDPOINT, BLUE.variantName)).resolves.toBe(true);
    expect(aas).toHaveReceivedCommandWith(RegisterScalableTargetCommand, {
      ResourceId: BLUE_ID,
      MinCapacity: 2,
      MaxCapacity: 6,
      SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true },
    });
    expect(store.targets.get(BLUE_ID)!.SuspendedState).toEqual({ DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true });
  });

  test.each([
    ['no target any more', []],
    ['scale-in not suspended', [variantScalableTarget()]],
  ])('%s: false, nothing registered', async (_case, targets) => {
    fakeAutoScaling(aas, { targets });
    await expect(resumeScaleIn(client, ENDPOINT, BLUE.variantName)).resolves.toBe(false);
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('hold then resume leaves the target as it was', async () => {
    const before = variantScalableTarget();
    const store = fakeAutoScaling(aas, { targets: [before] });
    await holdScaleIn(client, ENDPOINT, BLUE.variantName);
    expect(store.targets.get(BLUE_ID)!.SuspendedState!.DynamicScalingInSuspended).toBe(true);
    await resumeScaleIn(client, ENDPOINT, BLUE.variantName);
    expect(store.targets.get(BLUE_ID)).toEqual(before);
  });
});

describe('copyScaling', () => {
  test('green gets blue\'s min/max with scale-in running (even while blue\'s is held) and a copy of each policy', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { MinCapacity: 2, MaxCapacity: 6, SuspendedState: { DynamicScalingInSuspended: true } })],
      policies: [invocationsPolicy(), stepPolicy, customPolicy],
    });
    const result = await copyScaling(client, ENDPOINT, BLUE.variantName, GREEN);
    expect(result).toEqual({
      copied: true,
      policyNames: [`${ENDPOINT}-${GREEN}-invocations`, `gpu-memory-step-${GREEN}`, `${GREEN}-gpu-utilization`],
    });
    expect(store.targets.get(GREEN_ID)).toMatchObject({
      MinCapacity: 2,
      MaxCapacity: 6,
      SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
    });
    // The target is registered before any policy (a policy needs its target).
    const order = aas.calls().map((c) => c.args[0].constructor.name).filter((n) => n === 'RegisterScalableTargetCommand' || n === 'PutScalingPolicyCommand');
    expect(order[0]).toBe('RegisterScalableTargetCommand');
    expect(aas).toHaveReceivedCommandWith(PutScalingPolicyCommand, {
      PolicyName: `${ENDPOINT}-${GREEN}-invocations`,
      ServiceNamespace: 'sagemaker',
      ResourceId: GREEN_ID,
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: invocationsPolicy().TargetTrackingScalingPolicyConfiguration,
    });
    expect(aas).toHaveReceivedCommandWith(PutScalingPolicyCommand, {
      PolicyName: `gpu-memory-step-${GREEN}`,
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: stepPolicy.StepScalingPolicyConfiguration,
    });
    // The customized metric follows green, not blue.
    const custom = aas.commandCalls(PutScalingPolicyCommand).find((c) => c.args[0].input.PolicyName === `${GREEN}-gpu-utilization`)!.args[0].input;
    expect(custom.TargetTrackingScalingPolicyConfiguration!.CustomizedMetricSpecification!.Dimensions).toEqual([
      { Name: 'EndpointName', Value: ENDPOINT },
      { Name: 'VariantName', Value: GREEN },
    ]);
    // Blue's own policies are untouched.
    expect(store.policies.get(BLUE_ID)).toHaveLength(3);
    expect(customPolicy.TargetTrackingScalingPolicyConfiguration!.CustomizedMetricSpecification!.Dimensions![1]!.Value).toBe(BLUE.variantName);
  });

  test('a retry converges on the same state: one target, no duplicate policies', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy(), stepPolicy] });
    const first = await copyScaling(client, ENDPOINT, BLUE.variantName, GREEN);
    const second = await copyScaling(client, ENDPOINT, BLUE.variantName, GREEN);
    expect(second).toEqual(first);
    expect(store.policies.get(GREEN_ID)!.map((p) => p.PolicyName).sort()).toEqual([...first.policyNames].sort());
  });

  test('blue not autoscaled: copied false, green not registered', async () => {
    fakeAutoScaling(aas);
    await expect(copyScaling(client, ENDPOINT, BLUE.variantName, GREEN)).resolves.toEqual({ copied: false, policyNames: [] });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(aas).not.toHaveReceivedCommand(PutScalingPolicyCommand);
  });

  test('a target without policies: green gets the target alone', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    await expect(copyScaling(client, ENDPOINT, BLUE.variantName, GREEN)).resolves.toEqual({ copied: true, policyNames: [] });
    expect(store.targets.has(GREEN_ID)).toBe(true);
  });
});

describe('releaseVariantScaling', () => {
  test('deletes each policy, then deregisters the target', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget(), variantScalableTarget(GREEN)], policies: [invocationsPolicy(), stepPolicy, invocationsPolicy(GREEN)] });
    const result = await releaseVariantScaling(client, ENDPOINT, BLUE.variantName);
    expect(result).toEqual({ released: true, policyNames: [invocationsPolicy().PolicyName, 'gpu-memory-step'] });
    expect(aas).toHaveReceivedCommandTimes(DeleteScalingPolicyCommand, 2);
    expect(aas).toHaveReceivedCommandWith(DeleteScalingPolicyCommand, {
      PolicyName: 'gpu-memory-step',
      ServiceNamespace: 'sagemaker',
      ResourceId: BLUE_ID,
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
    });
    const names = aas.calls().map((c) => c.args[0].constructor.name).filter((n) => n.startsWith('Delete') || n.startsWith('Deregister'));
    expect(names).toEqual(['DeleteScalingPolicyCommand', 'DeleteScalingPolicyCommand', 'DeregisterScalableTargetCommand']);
    expect(store.targets.has(BLUE_ID)).toBe(false);
    // Green's scaling is not touched.
    expect(store.targets.has(GREEN_ID)).toBe(true);
    expect(store.policies.get(GREEN_ID)).toHaveLength(1);
  });

  test('no target (never autoscaled, or released already): released false, nothing deleted', async () => {
    fakeAutoScaling(aas);
    await expect(releaseVariantScaling(client, ENDPOINT, BLUE.variantName)).resolves.toEqual({ released: false, policyNames: [] });
    expect(aas).not.toHaveReceivedCommand(DeleteScalingPolicyCommand);
    expect(aas).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
  });

  test('a policy or the target removed meanwhile (ObjectNotFoundException) counts as done', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    aas.on(DeleteScalingPolicyCommand).rejects(autoScalingError('ObjectNotFoundException'));
    aas.on(DeregisterScalableTargetCommand).rejects(autoScalingError('ObjectNotFoundException'));
    await expect(releaseVariantScaling(client, ENDPOINT, BLUE.variantName)).resolves.toEqual({ released: true, policyNames: [invocationsPolicy().PolicyName] });
  });

  test('any other error propagates', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    aas.on(DeregisterScalableTargetCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    await expect(releaseVariantScaling(client, ENDPOINT, BLUE.variantName)).rejects.toMatchObject({ name: 'ConcurrentUpdateException' });
  });
});

describe('copiedPolicyName', () => {
  test.each([
    ['scale-v6-0a1b2c3d-invocations', 'scale-v7-3f9a2c1b-invocations'],
    ['invocations', 'invocations-v7-3f9a2c1b'],
  ])('%s -> %s', (name, expected) => {
    expect(copiedPolicyName(name, 'v6-0a1b2c3d', 'v7-3f9a2c1b')).toBe(expected);
  });

  test('stays within 256 characters, ending with the green variant', () => {
    const copied = copiedPolicyName('p'.repeat(256), 'v6-0a1b2c3d', 'v7-3f9a2c1b');
    expect(copied).toHaveLength(256);
    expect(copied.endsWith('-v7-3f9a2c1b')).toBe(true);
  });
});

test('retargetVariantDimensions rewrites VariantName dimensions at any depth (metric math too) and copies', () => {
  const config = {
    TargetValue: 1,
    CustomizedMetricSpecification: {
      Metrics: [
        { Id: 'm1', MetricStat: { Metric: { MetricName: 'Invocations', Namespace: 'AWS/SageMaker', Dimensions: [{ Name: 'VariantName', Value: 'blue' }] }, Stat: 'Sum' } },
        { Id: 'e1', Expression: 'm1 / 60', ReturnData: true },
      ],
    },
  };
  const copy = retargetVariantDimensions(config, 'blue', 'green');
  expect(copy.CustomizedMetricSpecification.Metrics[0]!.MetricStat!.Metric.Dimensions).toEqual([{ Name: 'VariantName', Value: 'green' }]);
  expect(copy.CustomizedMetricSpecification.Metrics[1]).toEqual(config.CustomizedMetricSpecification.Metrics[1]);
  expect(config.CustomizedMetricSpecification.Metrics[0]!.MetricStat!.Metric.Dimensions[0]!.Value).toBe('blue');
});

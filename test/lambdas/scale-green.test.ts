import 'aws-sdk-client-mock-jest';
import { ApplicationAutoScalingClient, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeEndpointCommand, SageMakerClient, type EndpointStatus } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/scale-green';
import { fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { BLUE, describedEndpoint, ENDPOINT, errors, makeFirstDeploymentPlan, makePlan, NAMES } from './support/fixtures';

const aas = mockClient(ApplicationAutoScalingClient);
const sageMaker = mockClient(SageMakerClient);
const GREEN = NAMES.greenVariantName;
const GREEN_ID = `endpoint/${ENDPOINT}/variant/${GREEN}`;

/** Promoted: green serves everything on the transition config, blue at weight 0. */
const promoted = (status: EndpointStatus = 'InService') =>
  describedEndpoint({
    status,
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: 0, currentInstanceCount: 3 },
      { name: GREEN, currentWeight: 1, currentInstanceCount: 2 },
    ],
  });

beforeEach(() => {
  aas.reset();
  sageMaker.reset();
  sageMaker.on(DescribeEndpointCommand).resolves(promoted());
});

describe('scale-green', () => {
  test('an autoscaled blue: green gets its target (scale-in running) and policies', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { MinCapacity: 2, MaxCapacity: 6, SuspendedState: { DynamicScalingInSuspended: true } })],
      policies: [invocationsPolicy()],
    });
    const result = await handler({ plan: makePlan() });
    const policyName = `${ENDPOINT}-${GREEN}-invocations`;
    expect(result).toEqual({ copied: true, policyNames: [policyName], message: expect.stringMatching(new RegExp(`1 policy copied from blue \\(${policyName}\\)`)) });
    expect(store.targets.get(GREEN_ID)).toMatchObject({ MinCapacity: 2, MaxCapacity: 6, SuspendedState: { DynamicScalingInSuspended: false } });
    expect(store.policies.get(GREEN_ID)!.map((p) => [p.PolicyName, p.PolicyType])).toEqual([[policyName, 'TargetTrackingScaling']]);
  });

  test('blue not autoscaled: copied false, green keeps its fixed count', async () => {
    fakeAutoScaling(aas);
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ copied: false, policyNames: [], message: expect.stringMatching(/not autoscaled/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test.each(['Updating', 'SystemUpdating'] as const)('endpoint %s: EndpointBusy (retried), nothing registered', async (status) => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    sageMaker.on(DescribeEndpointCommand).resolves(promoted(status));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointBusy', message: expect.stringMatching(new RegExp(`is ${status} .*needs InService`)) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(aas).not.toHaveReceivedCommand(PutScalingPolicyCommand);
  });

  test('endpoint Failed: EndpointNotReady (waiting would not help)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    sageMaker.on(DescribeEndpointCommand).resolves(promoted('Failed'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test.each([
    ['gone', () => sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound())],
    ['without green', () => sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }))],
  ])('endpoint %s: EndpointNotReady, nothing registered', async (_case, arrange) => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    arrange();
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'EndpointNotReady' });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('a retry after success changes nothing more', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    const first = await handler({ plan: makePlan() });
    const second = await handler({ plan: makePlan() });
    expect(second).toEqual(first);
    expect(store.targets.size).toBe(2);
    expect(store.policies.get(GREEN_ID)).toHaveLength(1);
  });

  test('a first deployment: copied false, no call at all', async () => {
    await expect(handler({ plan: makeFirstDeploymentPlan() })).resolves.toMatchObject({ copied: false, policyNames: [] });
    expect(aas.calls()).toHaveLength(0);
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('rejects an input without a plan, naming the field', async () => {
    await expect(handler({ plan: { endpointName: ENDPOINT } })).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/^scale-green: invalid input: plan\.deploymentId: /) });
  });
});

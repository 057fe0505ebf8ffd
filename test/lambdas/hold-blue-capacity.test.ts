import 'aws-sdk-client-mock-jest';
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/hold-blue-capacity';
import { autoScalingError, fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { BLUE, ENDPOINT, makeFirstDeploymentPlan, makePlan } from './support/fixtures';

const aas = mockClient(ApplicationAutoScalingClient);
const BLUE_ID = `endpoint/${ENDPOINT}/variant/${BLUE.variantName}`;

beforeEach(() => aas.reset());

describe('hold-blue-capacity', () => {
  test('an autoscaled blue: scale-in suspended, held true, the rest of the target unchanged', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    const result = await handler({ plan: makePlan() });
    expect(result).toEqual({ held: true, previouslySuspended: false, message: expect.stringMatching(new RegExp(`Suspended dynamic scale-in of blue ${BLUE.variantName}`)) });
    expect(store.targets.get(BLUE_ID)).toEqual(variantScalableTarget(BLUE.variantName, {
      SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
    }));
    expect(store.policies.get(BLUE_ID)).toEqual([invocationsPolicy()]);
  });

  test('scale-in already suspended before the rollout: not held (a rollback must not resume it)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } })] });
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ held: false, previouslySuspended: true, message: expect.stringMatching(/already suspended/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('blue not autoscaled: nothing to hold', async () => {
    fakeAutoScaling(aas);
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ held: false, previouslySuspended: false, message: expect.stringMatching(/not autoscaled/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('a first deployment: held false without calling Application Auto Scaling', async () => {
    await expect(handler({ plan: makeFirstDeploymentPlan() })).resolves.toMatchObject({ held: false, previouslySuspended: false });
    expect(aas.calls()).toHaveLength(0);
  });

  test('an Application Auto Scaling failure propagates (the state machine retries or rolls back)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    aas.on(RegisterScalableTargetCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ConcurrentUpdateException' });
  });

  test('rejects an input without a plan, naming the field', async () => {
    await expect(handler({})).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/^hold-blue-capacity: invalid input: plan: /) });
    expect(aas.calls()).toHaveLength(0);
  });
});

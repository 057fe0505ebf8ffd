import 'aws-sdk-client-mock-jest';
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type EndpointStatus,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { rejectionCause } from '../../cli/decision';
import { handler } from '../../lambdas/restore-blue';
import { MAX_EVENT_REASON_CHARS, rejectionOf, rollbackRequester, type RestoreBlueResult } from '../../lambdas/restore-blue/restore';
import { firingAlarmsError, rollbackRequestError } from '../../lambdas/shared/alarms';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../../lambdas/shared/audit-trail';
import { LIFECYCLE_BUS_ENV, LIFECYCLE_EVENT_SOURCE, rolloutRef } from '../../lambdas/shared/lifecycle-events';
import { configureMetricsSink, ROLLOUT_METRIC_NAMES } from '../../lambdas/shared/metrics';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import { taskFailureCause } from '../../lambdas/shared/rollback';
import type { RollbackRequest } from '../../lambdas/shared/rollout-record';
import { autoScalingError, fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { modelError } from './support/endpoint';
import { BLUE, describedEndpoint, ENDPOINT, errors, makeFirstDeploymentPlan, makePlan, managedTags, NAMES, SAMPLE_BODY } from './support/fixtures';
import { HISTORY_TABLE, LIFECYCLE_BUS, mockLifecycleByEnvironment } from './support/lifecycle';

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const aas = mockClient(ApplicationAutoScalingClient);
const BLUE_ID = `endpoint/${ENDPOINT}/variant/${BLUE.variantName}`;
const GREEN_ID = `endpoint/${ENDPOINT}/variant/${NAMES.greenVariantName}`;

const SMOKE_FAILURE = {
  Error: 'SmokeCheckFailed',
  Cause: JSON.stringify({
    errorType: 'SmokeCheckFailed',
    errorMessage: `Smoke check of green variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT} failed: ModelError (OriginalStatusCode 500): boom`,
    trace: ['SmokeCheckFailed: Smoke check of green variant failed', '    at smokeCheck (/var/task/index.js:1:1)'],
  }),
};
const SMOKE_MESSAGE = `Smoke check of green variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT} failed: ModelError (OriginalStatusCode 500): boom`;

const expectNoMutation = () => {
  expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointCommand);
  expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
};

const input = (
  plan: RolloutPlan = makePlan(),
  previous: Record<string, unknown> = {},
  failure: Record<string, unknown> = SMOKE_FAILURE,
  blueCapacity: Record<string, unknown> = { held: false },
) => ({ plan, failure, previous, blueCapacity });
const HELD = { held: true, previouslySuspended: false };

const onBlue = (status: EndpointStatus = 'InService') =>
  describedEndpoint({ status, configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }] });
const onTransition = (greenWeight: number, status: EndpointStatus = 'InService', blueWeight = greenWeight > 0 ? 0 : 1, blueInstances = 3) =>
  describedEndpoint({
    status,
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: blueWeight, currentInstanceCount: blueInstances },
      { name: NAMES.greenVariantName, currentWeight: greenWeight, currentInstanceCount: 2 },
    ],
  });
/** The endpoint a first deployment created (on green's final config). */
const created = (status: EndpointStatus = 'InService') =>
  describedEndpoint({ status, configName: NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName }] });

const isoSecondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

/** Blue's scaling as "Hold blue's capacity" left it, and green's as "Give green blue's auto scaling" made it. */
const scalingDuringRollout = () => ({
  targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } }), variantScalableTarget(NAMES.greenVariantName)],
  policies: [invocationsPolicy(), invocationsPolicy(NAMES.greenVariantName)],
});

beforeEach(() => {
  sageMaker.reset();
  runtime.reset();
  aas.reset();
  fakeAutoScaling(aas);
  runtime.on(InvokeEndpointCommand).resolves({
    Body: new TextEncoder().encode('{"score": 0.12, "label": 0}') as never,
    ContentType: 'application/json',
    InvokedProductionVariant: BLUE.variantName,
  });
  sageMaker.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn' });
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
  sageMaker.on(DeleteEndpointCommand).resolves({});
});

describe('restore-blue: the result', () => {
  test('always has action, since, error, cause and message; cause is the failure\'s errorMessage', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue('Updating'));
    const before = Date.now();
    const result = await handler(input());
    expect(Object.keys(result).sort()).toEqual(['action', 'cause', 'error', 'message', 'since']);
    expect(result).toMatchObject({ action: 'WAIT', error: 'SmokeCheckFailed', cause: SMOKE_MESSAGE });
    expect(Date.parse(result.since)).toBeGreaterThanOrEqual(before);
  });

  test('keeps the since of the previous call', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue('Updating'));
    const since = isoSecondsAgo(120);
    await expect(handler(input(makePlan(), { since, action: 'WAIT' }))).resolves.toMatchObject({ since });
  });

  test('a Cause that is not a Lambda error document is kept as it is, on one line', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    const result = await handler(input(makePlan(), {}, { Error: 'States.Timeout', Cause: 'Task timed out\nafter 120 seconds' }));
    expect(result.error).toBe('States.Timeout');
    expect(result.cause).toMatch(/^Task timed out after 120 seconds\. Blue restored/);
  });
});

describe('restore-blue: an endpoint that served blue', () => {
  test('InService on blue\'s config: DONE, saying what was restored, with no mutation', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input())).resolves.toMatchObject({
      action: 'DONE',
      cause: `${SMOKE_MESSAGE}. Blue restored: endpoint ${ENDPOINT} serves variant ${BLUE.variantName} alone on config ${BLUE.endpointConfigName}; green removed.`,
    });
    expectNoMutation();
  });

  test.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'] as const)('%s: WAIT, with no mutation', async (status) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0, status));
    await expect(handler(input())).resolves.toMatchObject({ action: 'WAIT', message: expect.stringContaining(status) });
    expectNoMutation();
  });

  test('traffic had moved to green: weights back in place first (blue its weight, green 0), nothing else', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1));
    await expect(handler(input(makePlan({ blue: { ...BLUE, weight: 2 } })))).resolves.toMatchObject({ action: 'RESTORING_WEIGHTS' });
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: ENDPOINT,
      DesiredWeightsAndCapacities: [
        { VariantName: BLUE.variantName, DesiredWeight: 2 },
        { VariantName: NAMES.greenVariantName, DesiredWeight: 0 },
      ],
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });

  test('a blue that started at weight 0 comes back at weight 1: never an endpoint without traffic weight', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1));
    await handler(input(makePlan({ blue: { ...BLUE, weight: 0 } })));
    const weights = sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input.DesiredWeightsAndCapacities!;
    expect(weights.some((w) => (w.DesiredWeight ?? 0) > 0)).toBe(true);
  });

  test('green carries nothing: back to blue\'s config, keeping blue\'s live count but not its weight', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input())).resolves.toMatchObject({ action: 'UPDATING' });
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointCommand, {
      EndpointName: ENDPOINT,
      EndpointConfigName: BLUE.endpointConfigName,
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('the endpoint became busy between Describe and Update: WAIT, not an error', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    sageMaker.on(UpdateEndpointCommand).rejects(errors.endpointBusy());
    await expect(handler(input())).resolves.toMatchObject({ action: 'WAIT' });
  });

  test.each(['Failed', 'UpdateRollbackFailed', 'OutOfService'] as const)('%s: RollbackFailed, the endpoint is not deleted or updated', async (status) => {
    sageMaker.on(DescribeEndpointCommand).resolves({ ...onTransition(0, status), FailureReason: 'Instance failed health check' });
    await expect(handler(input())).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringMatching(new RegExp(`is ${status} .*Instance failed health check.*never deletes an endpoint it did not create`)),
    });
    expectNoMutation();
  });

  test('InService on a config this rollout does not know: RollbackFailed, not touched', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: 'fraud-detector-prod-hotfix', variants: [{ name: 'hotfix' }] }));
    await expect(handler(input())).rejects.toMatchObject({ name: 'RollbackFailed', message: expect.stringMatching(/changed outside this rollout/) });
    expectNoMutation();
  });

  test('the endpoint is gone: DONE, nothing to restore', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler(input())).resolves.toMatchObject({ action: 'DONE', cause: expect.stringMatching(/Nothing to restore: endpoint fraud-detector-prod no longer exists\.$/) });
    expectNoMutation();
  });

  test('still busy after the update timeout: RollbackFailed naming the endpoint\'s state', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0, 'Updating'));
    await expect(handler(input(makePlan(), { since: isoSecondsAgo(3601), action: 'WAIT' }))).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringMatching(new RegExp(`not restored within 3600 s .*is Updating on config ${NAMES.transitionEndpointConfigName}.*Original failure: SmokeCheckFailed`)),
    });
  });

  test('after the timeout, a mutation is not started either', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input(makePlan(), { since: isoSecondsAgo(3601) }))).rejects.toMatchObject({ name: 'RollbackFailed' });
    expectNoMutation();
  });

  test('after the timeout, an endpoint already back on blue still reports DONE (the restore did succeed)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), { since: isoSecondsAgo(7200), action: 'UPDATING' }))).resolves.toMatchObject({ action: 'DONE' });
  });

  test('a whole restore, call after call, as the state machine loops', async () => {
    const describes: DescribeEndpointOutput[] = [onTransition(1), onTransition(0, 'Updating'), onTransition(0), onBlue('Updating'), onBlue()];
    let behaviour = sageMaker.on(DescribeEndpointCommand);
    for (const endpoint of describes) behaviour = behaviour.resolvesOnce(endpoint);
    const actions: string[] = [];
    let previous: Partial<RestoreBlueResult> = {};
    for (let call = 0; call < describes.length; call++) {
      const result = await handler(input(makePlan(), previous));
      actions.push(result.action);
      previous = result;
    }
    expect(actions).toEqual(['RESTORING_WEIGHTS', 'WAIT', 'UPDATING', 'WAIT', 'DONE']);
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });
});

describe('restore-blue: blue must serve before it takes traffic back', () => {
  test('green carries traffic: blue is probed (TargetVariant) before the weights change', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(1));
    await expect(handler(input())).resolves.toMatchObject({ action: 'RESTORING_WEIGHTS', message: expect.stringMatching(/blue answered its probe on 3 instances/) });
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
    const probe = runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(probe).toMatchObject({ EndpointName: ENDPOINT, TargetVariant: BLUE.variantName, ContentType: 'application/json' });
    expect(new TextDecoder().decode(probe.Body as Uint8Array)).toBe(SAMPLE_BODY);
  });

  test.each([
    ['its probe fails', () => runtime.on(InvokeEndpointCommand).rejects(modelError(500, 'CUDA error: out of memory')), onTransition(1), /blue's probe request failed: ModelError.*CUDA error/],
    ['it has no instances', () => undefined, onTransition(1, 'InService', 0, 0), new RegExp(`blue variant ${BLUE.variantName} has no instances`)],
  ])('blue cannot serve (%s): BlueUnhealthy, traffic left on green', async (_case, arrange, endpoint, reason) => {
    arrange();
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    const failure = handler(input());
    await expect(failure).rejects.toMatchObject({
      name: 'BlueUnhealthy',
      message: expect.stringMatching(/^Blue cannot take the traffic back: .*\. Traffic stays on green, which serves it; the rollout stops for an operator\.$/),
    });
    await expect(failure).rejects.toMatchObject({ message: expect.stringMatching(reason) });
    expectNoMutation();
  });

  test('green already carries nothing: no probe (blue keeps the traffic it has)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input())).resolves.toMatchObject({ action: 'UPDATING' });
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
  });
});

describe('restore-blue: auto scaling', () => {
  test('UPDATING: green\'s policies and target are released before the UpdateEndpoint removes green; blue\'s are kept', async () => {
    const store = fakeAutoScaling(aas, scalingDuringRollout());
    let greenScalingAtUpdate: boolean | undefined;
    sageMaker.on(UpdateEndpointCommand).callsFake(() => {
      greenScalingAtUpdate = store.targets.has(GREEN_ID) || (store.policies.get(GREEN_ID) ?? []).length > 0;
      return { EndpointArn: 'arn' };
    });
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input(makePlan(), {}, SMOKE_FAILURE, HELD))).resolves.toMatchObject({
      action: 'UPDATING',
      message: expect.stringMatching(/Green's auto scaling was released first\.$/),
    });
    expect(greenScalingAtUpdate).toBe(false);
    expect(aas).toHaveReceivedCommandWith(DeleteScalingPolicyCommand, { ResourceId: GREEN_ID });
    expect(aas).toHaveReceivedCommandWith(DeregisterScalableTargetCommand, { ResourceId: GREEN_ID });
    expect(store.targets.has(BLUE_ID)).toBe(true);
    expect(store.policies.get(BLUE_ID)).toHaveLength(1);
  });

  test('UPDATING with green never autoscaled: no release, the update goes ahead', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input())).resolves.toMatchObject({ action: 'UPDATING', message: expect.not.stringMatching(/auto scaling/) });
    expect(aas).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });

  test('releasing green\'s scaling meets a concurrent update: WAIT, no UpdateEndpoint yet', async () => {
    fakeAutoScaling(aas, scalingDuringRollout());
    aas.on(DeleteScalingPolicyCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input())).resolves.toMatchObject({ action: 'WAIT', message: expect.stringMatching(/green's auto scaling cannot be released yet/) });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('another error releasing green\'s scaling propagates, with no UpdateEndpoint', async () => {
    fakeAutoScaling(aas, scalingDuringRollout());
    aas.on(DeregisterScalableTargetCommand).rejects(autoScalingError('AccessDeniedException'));
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(0));
    await expect(handler(input())).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('DONE with blue\'s scale-in held: resumed (the other flags unchanged), and said so', async () => {
    const store = fakeAutoScaling(aas, {
      targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true, ScheduledScalingSuspended: true } })],
    });
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), {}, SMOKE_FAILURE, HELD))).resolves.toMatchObject({
      action: 'DONE',
      cause: expect.stringMatching(/green removed\. Blue's dynamic scale-in, held for the rollout, resumed\.$/),
    });
    expect(store.targets.get(BLUE_ID)!.SuspendedState).toEqual({ DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true });
  });

  test('DONE without a hold (scale-in suspended before the rollout): left suspended', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } })] });
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), {}, SMOKE_FAILURE, { held: false, previouslySuspended: true }))).resolves.toMatchObject({ action: 'DONE' });
    expect(aas.calls()).toHaveLength(0);
  });

  test('DONE with a hold but blue no longer autoscaled: DONE, nothing registered', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), {}, SMOKE_FAILURE, HELD))).resolves.toMatchObject({ action: 'DONE', cause: expect.stringMatching(/green removed\.$/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('resuming meets a concurrent update: WAIT while time remains, then DONE saying scale-in is still suspended', async () => {
    fakeAutoScaling(aas, scalingDuringRollout());
    aas.on(RegisterScalableTargetCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), {}, SMOKE_FAILURE, HELD))).resolves.toMatchObject({ action: 'WAIT' });
    await expect(handler(input(makePlan(), { since: isoSecondsAgo(3601), action: 'WAIT' }, SMOKE_FAILURE, HELD))).resolves.toMatchObject({
      action: 'DONE',
      message: expect.stringMatching(/scale-in is still suspended \(resuming it failed: ConcurrentUpdateException.*an operator must resume it/),
    });
  });

  test('a whole restore of an autoscaled blue and green, call after call', async () => {
    const store = fakeAutoScaling(aas, scalingDuringRollout());
    const describes: DescribeEndpointOutput[] = [onTransition(1), onTransition(0, 'Updating'), onTransition(0), onBlue('Updating'), onBlue()];
    let behaviour = sageMaker.on(DescribeEndpointCommand);
    for (const endpoint of describes) behaviour = behaviour.resolvesOnce(endpoint);
    const actions: string[] = [];
    let previous: Partial<RestoreBlueResult> = {};
    for (let call = 0; call < describes.length; call++) {
      const result = await handler(input(makePlan(), previous, SMOKE_FAILURE, HELD));
      actions.push(result.action);
      previous = result;
    }
    expect(actions).toEqual(['RESTORING_WEIGHTS', 'WAIT', 'UPDATING', 'WAIT', 'DONE']);
    expect(store.targets.has(GREEN_ID)).toBe(false);
    expect(store.targets.get(BLUE_ID)!.SuspendedState!.DynamicScalingInSuspended).toBe(false);
    expect(store.policies.get(BLUE_ID)).toEqual([invocationsPolicy()]);
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
  });
});

describe('restore-blue: a first deployment', () => {
  test('the endpoint this rollout created: DeleteEndpoint, DELETING', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(created());
    sageMaker.on(ListTagsCommand).resolves({ Tags: managedTags() });
    await expect(handler(input(makeFirstDeploymentPlan()))).resolves.toMatchObject({ action: 'DELETING' });
    expect(sageMaker).toHaveReceivedCommandWith(ListTagsCommand, { ResourceArn: created().EndpointArn });
    expect(sageMaker).toHaveReceivedCommandWith(DeleteEndpointCommand, { EndpointName: ENDPOINT });
  });

  test('ours and Failed: deleted too (the only way out of Failed)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(created('Failed'));
    sageMaker.on(ListTagsCommand).resolves({ Tags: managedTags() });
    await expect(handler(input(makeFirstDeploymentPlan()))).resolves.toMatchObject({ action: 'DELETING' });
    expect(sageMaker).toHaveReceivedCommandTimes(DeleteEndpointCommand, 1);
  });

  test.each([
    ['another rollout\'s', managedTags('99999999')],
    ['a person\'s (untagged)', [{ Key: 'team', Value: 'fraud' }]],
  ])('%s endpoint: DONE without touching it', async (_owner, tags) => {
    sageMaker.on(DescribeEndpointCommand).resolves(created());
    sageMaker.on(ListTagsCommand).resolves({ Tags: tags });
    await expect(handler(input(makeFirstDeploymentPlan()))).resolves.toMatchObject({ action: 'DONE', message: expect.stringMatching(/not created by this rollout.*left untouched/) });
    expectNoMutation();
  });

  test('still being created: WAIT (no deletion of an endpoint in progress)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(created('Creating'));
    await expect(handler(input(makeFirstDeploymentPlan()))).resolves.toMatchObject({ action: 'WAIT' });
    expectNoMutation();
  });

  test('deleted: DONE', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler(input(makeFirstDeploymentPlan(), { since: isoSecondsAgo(60), action: 'DELETING' }))).resolves.toMatchObject({
      action: 'DONE',
      cause: `${SMOKE_MESSAGE}. Endpoint ${ENDPOINT}, created by this rollout, was deleted.`,
    });
  });

  test('never created: DONE', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler(input(makeFirstDeploymentPlan()))).resolves.toMatchObject({ action: 'DONE', message: expect.stringMatching(/never created/) });
  });
});

describe('restore-blue input', () => {
  test.each([
    [{ plan: makePlan(), previous: {} }, /failure: /],
    [{ plan: makePlan(), failure: { Cause: 'x' }, previous: {} }, /failure\.Error: /],
    [{ plan: makePlan(), failure: SMOKE_FAILURE, previous: { since: 'a while ago' } }, /previous\.since: must be an ISO 8601 date-time/],
    [{ plan: makePlan(), failure: SMOKE_FAILURE, blueCapacity: { held: 'yes' } }, /blueCapacity\.held: must be a boolean/],
  ])('rejects %#, naming the field', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('accepts the previous result as the ASL passes it back (extra fields) and a missing previous', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), { action: 'WAIT', since: isoSecondsAgo(30), error: 'E', cause: 'C' }))).resolves.toMatchObject({ action: 'DONE' });
    await expect(handler({ plan: makePlan(), failure: SMOKE_FAILURE })).resolves.toMatchObject({ action: 'DONE' });
  });

  test('a missing blueCapacity means not held: blue\'s suspended scale-in is not resumed', async () => {
    fakeAutoScaling(aas, scalingDuringRollout());
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler({ plan: makePlan(), failure: SMOKE_FAILURE, previous: {} })).resolves.toMatchObject({ action: 'DONE' });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });
});

describe('restore-blue: lifecycle events once blue is restored', () => {
  const { dynamo, eventBridge, auditEvents, publishedEvents } = mockLifecycleByEnvironment();

  const ALARM_REQUEST: RollbackRequest = {
    kind: 'ALARM',
    by: 'sagemaker-blue-green-fraud-detector-prod-0f1e2d3c-green-5xx',
    reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).',
    requestedAt: '2026-01-01T09:00:01.000Z',
    eventTime: '2026-01-01T09:00:00.000Z',
    weightsRestoredAt: '2026-01-01T09:00:01.400Z',
    outcome: 'ROLLED_BACK',
  };
  const OPERATOR_REQUEST: RollbackRequest = { kind: 'OPERATOR', by: 'alice', reason: 'p99 doubled on the dashboard', requestedAt: '2026-01-01T09:00:01.000Z' };
  /** A Lambda error document, as Step Functions' Catch hands a thrown error to the failure path. */
  const lambdaCause = (error: Error) => JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] });
  const ALARM_FAILURE = { Error: 'AlarmTriggered', Cause: taskFailureCause(ALARM_REQUEST, "Blue's weights were requested back.") };

  afterEach(() => configureMetricsSink(undefined));

  test('DONE after an alarm: RolledBack once, in the audit trail then on the bus, naming the alarm and green\'s variant', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    const plan = makePlan();
    const result = await handler(input(plan, { since: isoSecondsAgo(90), action: 'WAIT' }, ALARM_FAILURE));
    expect(result.action).toBe('DONE');

    const expected = {
      type: 'RolledBack',
      error: 'AlarmTriggered',
      reason: ALARM_FAILURE.Cause,
      requestedBy: ALARM_REQUEST.by,
      resourcesRemoved: [{ kind: 'variant', name: NAMES.greenVariantName }],
      rollout: rolloutRef(plan),
      schemaVersion: '1',
    };
    const [audit, ...moreAudit] = auditEvents();
    expect(moreAudit).toEqual([]);
    expect(audit).toEqual({
      table: HISTORY_TABLE,
      recordKey: `EVENT#${plan.deploymentId}#RolledBack#restored`,
      data: expect.objectContaining(expected),
    });
    expect(audit!.data.message).toMatch(new RegExp(`ROLLED BACK \\(AlarmTriggered, by ${ALARM_REQUEST.by}\\)`));
    expect(publishedEvents()).toEqual([{ bus: LIFECYCLE_BUS, source: LIFECYCLE_EVENT_SOURCE, detailType: 'Rollout Rolled Back', detail: audit!.data }]);
  });

  test.each([
    ['AlarmTriggered', "the alarm's task failure (on-alarm)", ALARM_REQUEST.by, ALARM_FAILURE.Cause],
    ['RollbackRequested', "the operator's task failure (rollback command)", 'alice', taskFailureCause(OPERATOR_REQUEST, 'Weights back.')],
    ['AlarmTriggered', 'a check that found the alarm request in the lock', ALARM_REQUEST.by, lambdaCause(rollbackRequestError(ALARM_REQUEST))],
    ['RollbackRequested', 'a check that found the operator request in the lock', 'alice', lambdaCause(rollbackRequestError(OPERATOR_REQUEST))],
    [
      'AlarmTriggered',
      'a check that found alarms in ALARM (the first is named)',
      'green-5xx',
      lambdaCause(
        firingAlarmsError(
          {
            states: new Map([
              ['green "latency" p99', { name: 'green "latency" p99', type: 'MetricAlarm', state: 'ALARM', reason: 'p99 > 200 ms' }],
              ['green-5xx', { name: 'green-5xx', type: 'MetricAlarm', state: 'ALARM' }],
            ]),
            missing: [],
          },
          ['green-5xx', 'green "latency" p99'],
          'during the 10% step, found by the periodic check',
        )!,
      ),
    ],
    ['SmokeCheckFailed', 'a failure no one asked for', undefined, SMOKE_FAILURE.Cause],
  ])('%s from %s: requestedBy %p', async (error, _origin, requestedBy, cause) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await handler(input(makePlan(), { since: isoSecondsAgo(30), action: 'WAIT' }, { Error: error, Cause: cause }));
    const [event] = publishedEvents();
    expect(event?.detail).toMatchObject({ type: 'RolledBack', error });
    expect(event?.detail.requestedBy).toBe(requestedBy);
  });

  test("an operator's rejection: ApprovalDecided REJECTED (who, why), then RolledBack", async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    const plan = makePlan();
    const cause = rejectionCause('bob', 'the recall gate passed on too few samples');
    await handler(input(plan, { since: isoSecondsAgo(30), action: 'WAIT' }, { Error: 'RolloutRejected', Cause: cause }));

    const published = publishedEvents();
    expect(published.map((event) => event.detailType)).toEqual(['Approval Decided', 'Rollout Rolled Back']);
    expect(published[0]!.detail).toMatchObject({ type: 'ApprovalDecided', decision: 'REJECTED', by: 'bob', reason: 'the recall gate passed on too few samples' });
    expect(published[1]!.detail).toMatchObject({ type: 'RolledBack', error: 'RolloutRejected', reason: cause });
    expect(published[1]!.detail.requestedBy).toBeUndefined();
    expect(published[0]!.detail.at).toBe(published[1]!.detail.at);
    expect(auditEvents().map((item) => item.recordKey)).toEqual([
      `EVENT#${plan.deploymentId}#ApprovalDecided#rejected`,
      `EVENT#${plan.deploymentId}#RolledBack#restored`,
    ]);
  });

  test(`a long cause is cut to ${MAX_EVENT_REASON_CHARS} characters, marked with …`, async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    const cause = `Validation failed: ${'gate latency-p99 failed; '.repeat(60)}`;
    await handler(input(makePlan(), { since: isoSecondsAgo(30), action: 'WAIT' }, { Error: 'ValidationFailed', Cause: cause }));
    const reason: string = publishedEvents()[0]!.detail.reason;
    expect(Array.from(reason)).toHaveLength(MAX_EVENT_REASON_CHARS);
    expect(reason.endsWith('…')).toBe(true);
    expect(cause.startsWith(reason.slice(0, -1))).toBe(true);
  });

  test('a first call that finds blue serving (green never got on): RolledBack with nothing removed', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await handler(input(makePlan()));
    expect(publishedEvents()[0]!.detail).toMatchObject({ type: 'RolledBack', error: 'SmokeCheckFailed', resourcesRemoved: [] });
  });

  test('a first deployment whose endpoint the restore deleted: RolledBack removing the endpoint', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await handler(input(makeFirstDeploymentPlan(), { since: isoSecondsAgo(60), action: 'DELETING' }));
    expect(publishedEvents()[0]!.detail).toMatchObject({ type: 'RolledBack', resourcesRemoved: [{ kind: 'endpoint', name: ENDPOINT }] });
  });

  test.each([
    ['WAIT', () => onBlue('Updating')],
    ['RESTORING_WEIGHTS', () => onTransition(1)],
    ['UPDATING', () => onTransition(0)],
  ])('%s (blue not restored yet): nothing recorded', async (action, endpoint) => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint());
    await expect(handler(input(makePlan(), {}, ALARM_FAILURE))).resolves.toMatchObject({ action });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('RollbackFailed (blue cannot be restored): nothing recorded', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue('Failed'));
    await expect(handler(input(makePlan(), {}, ALARM_FAILURE))).rejects.toMatchObject({ name: 'RollbackFailed' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit trail and the bus both failing do not fail the restore: DONE as without them, each failure counted', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    const metrics: Record<string, unknown>[] = [];
    configureMetricsSink((document) => void metrics.push(document));
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'InternalException' }));
    const previous = { since: isoSecondsAgo(30), action: 'WAIT' };
    const result = await handler(input(makePlan(), previous, ALARM_FAILURE));
    expect(result).toMatchObject({ action: 'DONE', error: 'AlarmTriggered', message: expect.stringMatching(/^Blue restored/) });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(metrics.map((document) => [document[ROLLOUT_METRIC_NAMES.lifecycleEventsFailed], document.Stage, document.EventType])).toEqual([
      [1, 'audit', 'RolledBack'],
      [1, 'publish', 'RolledBack'],
    ]);
  });

  test('no history table or bus configured: the restore sends nothing to either', async () => {
    delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
    delete process.env[LIFECYCLE_BUS_ENV];
    sageMaker.on(DescribeEndpointCommand).resolves(onBlue());
    await expect(handler(input(makePlan(), { since: isoSecondsAgo(30), action: 'WAIT' }, ALARM_FAILURE))).resolves.toMatchObject({ action: 'DONE' });
    expect(dynamo.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});

describe('restore-blue: reading who asked from the cause', () => {
  test.each([
    ['AlarmTriggered', 'Alarm fraud 5xx went to ALARM at 2026-01-01T09:00:00.000Z: threshold crossed', 'fraud 5xx'],
    ['RollbackRequested', 'carol@example.com asked for a rollback at 2026-01-01T09:00:00.000Z', 'carol@example.com'],
    ['RollbackRequested', 'Alarm x went to ALARM at 2026-01-01T09:00:00.000Z', undefined],
    ['AlarmTriggered', 'Endpoint is Failed', undefined],
    ['ValidationFailed', 'Alarm "x" in ALARM', undefined],
  ])('%s, %p → %p', (error, cause, by) => {
    expect(rollbackRequester(error, cause)).toBe(by);
  });

  test.each([
    [rejectionCause('bob', 'too risky'), { by: 'bob', reason: 'too risky' }],
    [rejectionCause('dora', 'see: the recall gate'), { by: 'dora', reason: 'see: the recall gate' }],
    ['No decision within 3600 seconds', undefined],
  ])('rejection %p → %p', (cause, expected) => {
    expect(rejectionOf(cause)).toEqual(expected);
  });
});

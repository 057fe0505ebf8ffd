import 'aws-sdk-client-mock-jest';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DeleteAlarmsCommand, type DeleteAlarmsCommandInput } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, QueryCommand, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  AddTagsCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DeleteEndpointConfigCommandInput,
  type DeleteModelCommandInput,
  type EndpointStatus,
  type Tag,
  type UpdateEndpointCommandInput,
  type UpdateEndpointWeightsAndCapacitiesCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/reconcile-rollout';
import { rolloutHeader } from '../../lambdas/lock-endpoint/lock';
import {
  outcomeFromEndpoint,
  reconcile,
  RECONCILE_TIMEOUT_FACTOR,
  ReconcileRolloutInputSchema,
  type ReconcileResult,
} from '../../lambdas/reconcile-rollout/reconcile';
import { findRolloutByExecution, putAuditEvent, putRolloutHeader, putRolloutOutcome, ROLLOUT_HISTORY_TABLE_ENV, type RolloutHeader } from '../../lambdas/shared/audit-trail';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { describeLifecycleEvent, isNotified, LIFECYCLE_SCHEMA_VERSION, rolloutRef, type LifecycleDetail, type LifecycleEvent } from '../../lambdas/shared/lifecycle-events';
import { configureMetricsSink } from '../../lambdas/shared/metrics';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import { acquireEndpointLock, findLockByExecution, recordBlueCapacityHold, ROLLOUTS_TABLE_ENV, type BlueCapacityHold } from '../../lambdas/shared/rollout-record';
import type { RolloutSummary } from '../../lambdas/shared/rollout-summary';
import { fakeAutoScaling, variantScalableTarget } from './support/autoscaling';
import { alarmsIn, OWN_ALARMS, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { modelError } from './support/endpoint';
import { executionStatusChangeEvent, keptEvent } from './support/execution-event';
import { SIMULATED_TABLE, simulateRolloutsTable, type SimulatedRolloutsTable } from './support/simulated-rollouts-table';
import {
  BLUE,
  DEPLOYMENT_ID,
  describedEndpoint,
  describedEndpointConfig,
  ENDPOINT,
  errors,
  EXECUTION_ARN,
  makeFirstDeploymentPlan,
  makePlan,
  managedTags,
  NAMES,
  PACKAGE_ARN,
  sageMakerArn,
  TARGET_CONFIG,
  type LiveVariant,
} from './support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const aas = mockClient(ApplicationAutoScalingClient);
const cloudWatch = mockClient(CloudWatchClient);

// ---- A small SageMaker: one endpoint whose updates finish when the test says so, configs and models with tags.

interface Live {
  readonly status: EndpointStatus;
  readonly configName: string;
  readonly pendingConfigName?: string;
  readonly variants: readonly LiveVariant[];
  readonly tags: Tag[];
}
interface ConfigEntry {
  readonly tags: Tag[];
  readonly variants: ReadonlyArray<{ readonly name: string; readonly model: string; readonly weight: number }>;
}
let live: Live | undefined;
/** What the endpoint becomes when SageMaker finishes the change in progress (undefined: deleted). */
let settled: Live | undefined;
let configs: Map<string, ConfigEntry>;
let models: Map<string, Tag[]>;

/** SageMaker finishes the update or deletion in progress. */
function finish(): void {
  live = settled;
  settled = undefined;
}

const BLUE_OWNER = '0a1b2c3d';
const blueEntry: ConfigEntry = { tags: managedTags(BLUE_OWNER), variants: [{ name: BLUE.variantName, model: BLUE.modelName, weight: 1 }] };
const transitionEntry: ConfigEntry = {
  tags: managedTags(),
  variants: [
    { name: BLUE.variantName, model: BLUE.modelName, weight: 1 },
    { name: NAMES.greenVariantName, model: NAMES.greenModelName, weight: 0 },
  ],
};
const finalEntry: ConfigEntry = { tags: managedTags(), variants: [{ name: NAMES.greenVariantName, model: NAMES.greenModelName, weight: 1 }] };

/** Every resource of a rollout stopped during its canary: blue's (an earlier rollout's), the transition config, green's model. */
function rolloutWorld(): void {
  configs = new Map([
    [BLUE.endpointConfigName, blueEntry],
    [NAMES.transitionEndpointConfigName, transitionEntry],
  ]);
  models = new Map([
    [BLUE.modelName, managedTags(BLUE_OWNER)],
    [NAMES.greenModelName, managedTags()],
  ]);
}

/** The endpoint at the 10% canary step: blue 9, green 1. */
const atCanary = (): Live => ({
  status: 'InService',
  configName: NAMES.transitionEndpointConfigName,
  variants: [
    { name: BLUE.variantName, currentWeight: 9, currentInstanceCount: 3 },
    { name: NAMES.greenVariantName, currentWeight: 1, currentInstanceCount: 2 },
  ],
  tags: [{ Key: 'team', Value: 'fraud' }],
});
/** After "Remove blue variant": green alone on the final config. */
const greenAlone = (status: EndpointStatus = 'InService'): Live => ({
  status,
  configName: NAMES.finalEndpointConfigName,
  variants: [{ name: NAMES.greenVariantName, currentWeight: 1, currentInstanceCount: 2 }],
  tags: [{ Key: 'team', Value: 'fraud' }],
});

function serveSageMaker(): void {
  const busyOrMissing = () => {
    if (!live) throw errors.endpointNotFound();
    if (live.status !== 'InService') throw errors.endpointBusy();
  };
  sageMaker.on(DescribeEndpointCommand).callsFake(() => {
    if (!live) throw errors.endpointNotFound();
    return describedEndpoint({ status: live.status, configName: live.configName, variants: live.variants, pendingConfigName: live.pendingConfigName });
  });
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input: UpdateEndpointWeightsAndCapacitiesCommandInput) => {
    busyOrMissing();
    const weights = new Map((input.DesiredWeightsAndCapacities ?? []).map((w) => [w.VariantName, w.DesiredWeight]));
    settled = { ...live!, variants: live!.variants.map((v) => ({ ...v, currentWeight: weights.get(v.name) ?? v.currentWeight })) };
    live = { ...live!, status: 'Updating' };
    return { EndpointArn: sageMakerArn('endpoint', ENDPOINT) };
  });
  sageMaker.on(UpdateEndpointCommand).callsFake((input: UpdateEndpointCommandInput) => {
    busyOrMissing();
    const config = configs.get(input.EndpointConfigName!);
    if (!config) throw errors.endpointConfigNotFound(input.EndpointConfigName!);
    const counts = new Map(live!.variants.map((v) => [v.name, v.currentInstanceCount]));
    settled = {
      ...live!,
      status: 'InService',
      configName: input.EndpointConfigName!,
      variants: config.variants.map((v) => ({ name: v.name, currentWeight: v.weight, currentInstanceCount: counts.get(v.name) ?? 1 })),
    };
    live = { ...live!, status: 'Updating', pendingConfigName: input.EndpointConfigName };
    return { EndpointArn: sageMakerArn('endpoint', ENDPOINT) };
  });
  sageMaker.on(DeleteEndpointCommand).callsFake(() => {
    if (!live) throw errors.endpointNotFound();
    live = { ...live, status: 'Deleting' };
    settled = undefined;
    return {};
  });
  sageMaker.on(DescribeEndpointConfigCommand).callsFake(({ EndpointConfigName }: { EndpointConfigName: string }) => {
    const config = configs.get(EndpointConfigName);
    if (!config) throw errors.endpointConfigNotFound(EndpointConfigName);
    return describedEndpointConfig(EndpointConfigName, config.variants.map((v) => ({ VariantName: v.name, ModelName: v.model, InitialVariantWeight: v.weight })));
  });
  sageMaker.on(DescribeModelCommand).callsFake(({ ModelName }: { ModelName: string }) => {
    if (!models.has(ModelName)) throw errors.modelNotFound(ModelName);
    return { ModelName, ModelArn: sageMakerArn('model', ModelName), CreationTime: new Date() };
  });
  sageMaker.on(ListTagsCommand).callsFake(({ ResourceArn }: { ResourceArn: string }) => {
    const [, type, name] = /:(endpoint|endpoint-config|model)\/(.+)$/.exec(ResourceArn)!;
    const byName = <T>(entries: Map<string, T>) => [...entries].find(([n]) => n.toLowerCase() === name)?.[1];
    if (type === 'endpoint') return { Tags: live?.tags ?? [] };
    return { Tags: type === 'model' ? (byName(models) ?? []) : (byName(configs)?.tags ?? []) };
  });
  sageMaker.on(DeleteEndpointConfigCommand).callsFake((input: DeleteEndpointConfigCommandInput) => {
    if (!configs.delete(input.EndpointConfigName!)) throw errors.endpointConfigNotFound(input.EndpointConfigName!);
    return {};
  });
  sageMaker.on(DeleteModelCommand).callsFake((input: DeleteModelCommandInput) => {
    if (!models.delete(input.ModelName!)) throw errors.modelNotFound(input.ModelName!);
    return {};
  });
}

// ---- The rollout's alarms and its lock (the real lock record, on the simulated active-rollouts table).

let alarms: Map<string, FakeAlarm>;
let table: SimulatedRolloutsTable;

function serveAlarmDeletes(): void {
  serveAlarms(cloudWatch, alarms);
  cloudWatch.on(DeleteAlarmsCommand).callsFake((input: DeleteAlarmsCommandInput) => {
    for (const name of input.AlarmNames ?? []) alarms.delete(name);
    return {};
  });
}

/** The lock as "Lock endpoint" takes it for `plan`, with blue's capacity as "Hold blue's capacity" recorded it. */
async function lockFor(plan: RolloutPlan, blueCapacity?: BlueCapacityHold): Promise<void> {
  const dynamo = new DynamoDBClient({});
  const nowSeconds = Math.floor(Date.now() / 1000);
  const lock = {
    endpointName: plan.endpointName,
    deploymentId: plan.deploymentId,
    executionArn: plan.executionArn,
    modelPackageArn: PACKAGE_ARN,
    lockedAt: new Date().toISOString(),
    expiresAt: nowSeconds + 86_400,
    plan,
  };
  const attempt = await acquireEndpointLock(dynamo, SIMULATED_TABLE, lock, nowSeconds);
  if (!attempt.acquired) throw new Error('lockFor: the endpoint is already locked');
  if (blueCapacity) await recordBlueCapacityHold(dynamo, SIMULATED_TABLE, plan.endpointName, plan.deploymentId, blueCapacity);
  table.mock.resetHistory();
}

const lockHolder = () => table.item(ENDPOINT)?.deploymentId?.S;

// ---- Calls as the reconciler state machine makes them.

type Previous = Partial<Pick<ReconcileResult, 'action' | 'since' | 'passes' | 'waitSeconds' | 'message'>>;
const call = (previous: Previous = {}, event: unknown = keptEvent('ABORTED')) => handler({ event, previous });

/**
 * Loops as the state machine does until an answer other than WAIT. SageMaker finishes an update or deletion
 * during the second Wait after it began, so one pass sees the endpoint busy.
 */
async function reconcileUntilSettled(first: Previous = {}, maxPasses = 10, event: unknown = keptEvent('ABORTED')): Promise<{ actions: string[]; last: ReconcileResult }> {
  const actions: string[] = [];
  let previous = first;
  let busyWaits = 0;
  for (let pass = 0; pass < maxPasses; pass++) {
    const result = await call(previous, event);
    actions.push(result.action);
    if (result.action !== 'WAIT') return { actions, last: result };
    if (live?.status !== 'InService' && ++busyWaits === 2) {
      finish();
      busyWaits = 0;
    }
    previous = result;
  }
  throw new Error(`still WAIT after ${maxPasses} passes: ${actions.join(', ')}`);
}

const isoSecondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const expectNoEndpointChange = () => {
  expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointCommand);
};

beforeEach(() => {
  for (const mock of [sageMaker, runtime, aas, cloudWatch]) mock.reset();
  table = simulateRolloutsTable();
  process.env[ROLLOUTS_TABLE_ENV] = SIMULATED_TABLE;
  live = undefined;
  settled = undefined;
  rolloutWorld();
  alarms = alarmsIn('OK');
  serveSageMaker();
  serveAlarmDeletes();
  fakeAutoScaling(aas);
  runtime.on(InvokeEndpointCommand).resolves({
    Body: new TextEncoder().encode('{"score": 0.12, "label": 0}') as never,
    ContentType: 'application/json',
    InvokedProductionVariant: BLUE.variantName,
  });
});

afterEach(() => {
  table.mock.restore();
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('reconcile-rollout: nothing to do', () => {
  test('the execution holds no lock (it changed nothing, or cleaned up): NOTHING_TO_DO, nothing touched', async () => {
    live = atCanary();
    await lockFor(makePlan({ deploymentId: '99999999', executionArn: `${EXECUTION_ARN}-other` }));
    const result = await call();
    expect(result).toMatchObject({ action: 'NOTHING_TO_DO', passes: 1, message: expect.stringMatching(/^Nothing to reconcile: Execution .* holds no endpoint lock/) });
    expect(result.endpointName).toBeUndefined();
    expect(sageMaker.calls()).toHaveLength(0);
    expect(cloudWatch.calls()).toHaveLength(0);
    expect(table.mock).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(lockHolder()).toBe('99999999'); // another rollout's lock is left alone
  });

  test('accepts the whole EventBridge event as well as what "Keep event" kept', async () => {
    await expect(call({}, executionStatusChangeEvent('TIMED_OUT'))).resolves.toMatchObject({ action: 'NOTHING_TO_DO' });
  });
});

describe('reconcile-rollout: stopped during the canary', () => {
  test('weights back to blue, then back to blue\'s config, then green deleted and the rollout released; a second run finds nothing', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const { actions, last } = await reconcileUntilSettled();
    expect(actions).toEqual(['WAIT', 'WAIT', 'WAIT', 'WAIT', 'DONE']);
    expect(last).toMatchObject({ action: 'DONE', passes: 5, endpointName: ENDPOINT, waitSeconds: 30 });
    expect(last.message).toMatch(/^Blue restored: endpoint fraud-detector-prod serves variant v6-0a1b2c3d alone/);
    expect(last.message).toMatch(/The rollout's alarms and lock are released\.$/);
    // The order the failure path takes: weights first (blue probed), then the config.
    expect(sageMaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [
        { VariantName: BLUE.variantName, DesiredWeight: 1 },
        { VariantName: NAMES.greenVariantName, DesiredWeight: 0 },
      ],
    });
    expect(sageMaker).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT, EndpointConfigName: BLUE.endpointConfigName });
    expect(runtime).toHaveReceivedCommandWith(InvokeEndpointCommand, { TargetVariant: BLUE.variantName });
    // The world: blue serves alone with its instances; green's config and model are gone, blue's kept.
    expect(live).toMatchObject({ status: 'InService', configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }] });
    expect([...configs.keys()]).toEqual([BLUE.endpointConfigName]);
    expect([...models.keys()]).toEqual([BLUE.modelName]);
    expect(alarms.size).toBe(0);
    expect(lockHolder()).toBeUndefined();

    sageMaker.resetHistory();
    await expect(call(last)).resolves.toMatchObject({ action: 'NOTHING_TO_DO', passes: 6, since: last.since, message: expect.stringMatching(/^Nothing left to reconcile/) });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('every pass keeps the first pass\'s since and counts', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const first = await call();
    const second = await call(first);
    expect(second.since).toBe(first.since);
    expect([first.passes, second.passes]).toEqual([1, 2]);
    expect(first.message).toMatch(/^RESTORING_WEIGHTS: /);
    expect(second.message).toMatch(/^Waiting: endpoint fraud-detector-prod is Updating/);
  });

  test('blue\'s scale-in, held by the rollout (as the lock records), is resumed once blue is restored', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } })] });
    live = atCanary();
    await lockFor(makePlan(), { held: true, previouslySuspended: false });
    const { last } = await reconcileUntilSettled();
    expect(last.message).toMatch(/Blue's dynamic scale-in, held for the rollout, resumed\./);
    expect(store.targets.get(`endpoint/${ENDPOINT}/variant/${BLUE.variantName}`)!.SuspendedState!.DynamicScalingInSuspended).toBe(false);
  });

  test('the wait is the plan\'s poll interval, never under 5 s', async () => {
    live = atCanary();
    const plan = makePlan();
    await lockFor({ ...plan, policy: { ...plan.policy, pollIntervalSeconds: 1 } });
    await expect(call()).resolves.toMatchObject({ action: 'WAIT', waitSeconds: 5 });
  });

  test('two reconcilers of the same event at once: one restores the weights, the other waits; both then end DONE or NOTHING_TO_DO', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const [a, b] = await Promise.all([call(), call()]);
    expect([a.action, b.action]).toEqual(['WAIT', 'WAIT']);
    expect(sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)).toHaveLength(2);
    expect([a.message, b.message].filter((m) => m.startsWith('RESTORING_WEIGHTS'))).toHaveLength(1);
    expect([a.message, b.message].filter((m) => /^Waiting: the endpoint changed before RESTORING_WEIGHTS could start/.test(m))).toHaveLength(1);
    finish();
    // They go on side by side until the end.
    let [pa, pb] = [a, b];
    for (let pass = 0; pass < 6 && (pa.action === 'WAIT' || pb.action === 'WAIT'); pass++) {
      [pa, pb] = await Promise.all([pa.action === 'WAIT' ? call(pa) : pa, pb.action === 'WAIT' ? call(pb) : pb]);
      if (live?.status !== 'InService') finish();
    }
    expect([pa.action, pb.action].sort()).toEqual(expect.arrayContaining(['DONE']));
    expect([pa.action, pb.action].every((action) => action === 'DONE' || action === 'NOTHING_TO_DO')).toBe(true);
    expect(live).toMatchObject({ status: 'InService', configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, currentWeight: 1 }] });
    expect([...configs.keys()]).toEqual([BLUE.endpointConfigName]);
    expect(lockHolder()).toBeUndefined();
  });
});

describe('reconcile-rollout: stopped after "Remove blue variant"', () => {
  beforeEach(async () => {
    configs.set(NAMES.finalEndpointConfigName, finalEntry);
    await lockFor(makePlan());
  });

  test('green serves alone: KEPT_GREEN, nothing rolled back; blue\'s config and model and the transition config deleted; released', async () => {
    live = greenAlone();
    const result = await call();
    expect(result).toMatchObject({
      action: 'KEPT_GREEN',
      endpointName: ENDPOINT,
      message: expect.stringMatching(/ended after blue's removal: endpoint fraud-detector-prod serves green .* alone, the promotion completed and is kept\./),
    });
    expectNoEndpointChange();
    expect(live).toEqual(greenAlone());
    expect([...configs.keys()]).toEqual([NAMES.finalEndpointConfigName]);
    expect([...models.keys()]).toEqual([NAMES.greenModelName]);
    expect(alarms.size).toBe(0);
    expect(lockHolder()).toBeUndefined();
  });

  test('the endpoint is still updating towards green alone: WAIT, nothing touched; then KEPT_GREEN', async () => {
    live = { ...atCanary(), status: 'Updating', pendingConfigName: NAMES.finalEndpointConfigName };
    settled = greenAlone();
    const waiting = await call();
    expect(waiting).toMatchObject({ action: 'WAIT', message: expect.stringMatching(/is Updating .*moving to green .* alone \(blue's removal\)/) });
    expectNoEndpointChange();
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(lockHolder()).toBe(DEPLOYMENT_ID);
    finish();
    await expect(call(waiting)).resolves.toMatchObject({ action: 'KEPT_GREEN', passes: 2 });
  });
});

describe('reconcile-rollout: a first deployment', () => {
  test('the endpoint it created is deleted (not kept, though green serves alone), then green\'s config and model; released', async () => {
    const plan = makeFirstDeploymentPlan();
    configs = new Map([[NAMES.finalEndpointConfigName, finalEntry]]);
    models = new Map([[NAMES.greenModelName, managedTags()]]);
    live = { ...greenAlone(), tags: managedTags() };
    await lockFor(plan);
    const { actions, last } = await reconcileUntilSettled();
    expect(actions).toEqual(['WAIT', 'WAIT', 'DONE']);
    expect(sageMaker).toHaveReceivedCommandWith(DeleteEndpointCommand, { EndpointName: ENDPOINT });
    expect(last.message).toMatch(/^Endpoint fraud-detector-prod, created by this rollout, was deleted\./);
    expect(live).toBeUndefined();
    expect(configs.size).toBe(0);
    expect(models.size).toBe(0);
    expect(lockHolder()).toBeUndefined();
  });
});

describe('reconcile-rollout: blue cannot take the traffic back', () => {
  test('BLUE_UNHEALTHY: traffic stays on green, green stays provisioned, the alarms and the lock are released', async () => {
    runtime.on(InvokeEndpointCommand).rejects(modelError(500, 'CUDA error: out of memory'));
    live = atCanary();
    await lockFor(makePlan());
    const result = await call();
    expect(result).toMatchObject({
      action: 'BLUE_UNHEALTHY',
      message: expect.stringMatching(/^Blue cannot take the traffic back: .*CUDA error.*An operator must act/),
    });
    expectNoEndpointChange();
    expect(live).toEqual(atCanary());
    expect(configs.has(NAMES.transitionEndpointConfigName)).toBe(true);
    expect(models.has(NAMES.greenModelName)).toBe(true);
    expect(alarms.size).toBe(0);
    expect(lockHolder()).toBeUndefined();
  });
});

describe('reconcile-rollout: what needs an operator', () => {
  test('the endpoint changed outside the rollout: RollbackFailed (naming the ended execution), untouched, the lock kept', async () => {
    live = { ...atCanary(), configName: 'fraud-detector-prod-hotfix', variants: [{ name: 'hotfix' }] };
    await lockFor(makePlan());
    await expect(call()).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringMatching(/changed outside this rollout.*Original failure: ExecutionAborted: Execution .* ended ABORTED without its failure path\./),
    });
    expectNoEndpointChange();
    expect(lockHolder()).toBe(DEPLOYMENT_ID);
    expect(alarms.size).toBe(OWN_ALARMS.length);
  });

  test(`past ${RECONCILE_TIMEOUT_FACTOR} x endpointUpdateTimeoutSeconds since the first pass: ReconcileTimedOut, nothing touched`, async () => {
    // Waiting for blue's removal is bounded by the reconciler alone (restore-blue is not involved yet).
    configs.set(NAMES.finalEndpointConfigName, finalEntry);
    live = { ...atCanary(), status: 'Updating', pendingConfigName: NAMES.finalEndpointConfigName };
    await lockFor(makePlan());
    const limit = 3600 * RECONCILE_TIMEOUT_FACTOR;
    await expect(call({ action: 'WAIT', since: isoSecondsAgo(limit - 60), passes: 300 })).resolves.toMatchObject({ action: 'WAIT' });
    sageMaker.resetHistory();
    await expect(call({ action: 'WAIT', since: isoSecondsAgo(limit + 1), passes: 360 })).rejects.toMatchObject({
      name: 'ReconcileTimedOut',
      message: expect.stringMatching(new RegExp(`^Endpoint fraud-detector-prod was not reconciled within ${limit} s .*360 passes, last WAIT.*needs an operator`)),
    });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(lockHolder()).toBe(DEPLOYMENT_ID);
  });

  test('restoring blue keeps restore-blue\'s own bound (endpointUpdateTimeoutSeconds from the first pass): RollbackFailed', async () => {
    live = { ...atCanary(), status: 'Updating' };
    await lockFor(makePlan());
    await expect(call({ action: 'WAIT', since: isoSecondsAgo(3601), passes: 120 })).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringMatching(/^Blue was not restored within 3600 s/),
    });
    expect(lockHolder()).toBe(DEPLOYMENT_ID);
  });

  test('past the bound but the lock already released (another reconciler finished): NOTHING_TO_DO, not an error', async () => {
    await expect(call({ action: 'WAIT', since: isoSecondsAgo(86_400), passes: 500 })).resolves.toMatchObject({ action: 'NOTHING_TO_DO' });
  });
});

describe('reconcile-rollout input', () => {
  test.each([
    [{ event: { detail: { status: 'ABORTED' } }, previous: {} }, /event\.detail\.executionArn: /],
    [{ event: executionStatusChangeEvent('SUCCEEDED'), previous: {} }, /event\.detail\.status: must be one of FAILED, TIMED_OUT, ABORTED/],
    [{ event: keptEvent(), previous: { since: 'a while ago' } }, /previous\.since: must be an ISO 8601 date-time/],
    [{ event: keptEvent(), previous: { passes: -1 } }, /previous\.passes: must be >= 0/],
  ])('rejects %#, naming the field, before any call', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(table.mock.calls()).toHaveLength(0);
  });

  test('a lock whose plan this code cannot read: InputValidationError naming the plan field, nothing touched', async () => {
    live = atCanary();
    await lockFor({ ...makePlan(), green: { ...makePlan().green, variantName: 7 } } as unknown as RolloutPlan);
    await expect(call()).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/^reconcile-rollout: invalid input: plan\.green\.variantName/) });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(lockHolder()).toBe(DEPLOYMENT_ID);
  });

  test('a missing previous is a first pass', async () => {
    await expect(handler({ event: keptEvent() })).resolves.toMatchObject({ action: 'NOTHING_TO_DO', passes: 1 });
  });
});

// ---- Concluding the rollout: the audit trail (a history table on the same simulated DynamoDB), tags, events, metrics.

/**
 * A rollout history table beside the active-rollouts one (Query served by the simulation), AddTags answered, and
 * the EMF metrics collected: for the tests of what the reconciler records. Registers its own beforeEach/afterEach.
 */
function useHistoryTable() {
  const HISTORY = 'rollout-history';
  let metrics: Array<Record<string, unknown>> = [];
  beforeEach(() => {
    table.simulation.createTable(HISTORY, { partitionKey: 'endpointName', sortKey: 'recordKey' });
    table.mock.on(QueryCommand).callsFake((input: unknown) => table.simulation.execute('Query', structuredClone(input)));
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY;
    sageMaker.on(AddTagsCommand).resolves({});
    metrics = [];
    configureMetricsSink((document) => metrics.push(document));
  });
  afterEach(() => {
    configureMetricsSink(undefined);
    delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
  });
  const historyItems = () => table.simulation.items(HISTORY) as Array<Record<string, { S?: string }>>;
  const historyData = (recordKey: string) => {
    const item = historyItems().find((i) => i.recordKey?.S === recordKey);
    return item ? JSON.parse(item.data!.S!) : undefined;
  };
  return {
    HISTORY,
    /** The EMF documents published since the test began. */
    publishedMetrics: () => metrics,
    historyItems,
    historyData,
    eventKeys: () => historyItems().map((i) => i.recordKey!.S!).filter((key) => key.startsWith('EVENT#')).sort(),
    outcome: () => historyData(`OUTCOME#${DEPLOYMENT_ID}`) as { outcome: string; error?: string; reason: string; summary: RolloutSummary } | undefined,
    metricNames: () =>
      metrics.flatMap((document) =>
        (document._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name)),
      ),
  };
}

describe('reconcile-rollout: concludes the rollout it reconciled', () => {
  const { HISTORY, historyItems, historyData, eventKeys, outcome, metricNames, publishedMetrics } = useHistoryTable();
  const lockedAt = () => table.item(ENDPOINT)!.lockedAt!.S!;

  test('DONE: Rolled Back (the execution\'s status, green\'s variant), Cleanup Completed, then ABORTED everywhere; nothing while waiting', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const startedAt = lockedAt();
    const first = await call();
    expect(first.action).toBe('WAIT');
    expect(historyItems()).toEqual([]);
    expect(sageMaker).not.toHaveReceivedCommand(AddTagsCommand);

    const { last } = await reconcileUntilSettled(first);
    expect(last.action).toBe('DONE');
    expect(eventKeys()).toEqual([`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`, `EVENT#${DEPLOYMENT_ID}#Ended`, `EVENT#${DEPLOYMENT_ID}#RolledBack#restored`]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#RolledBack#restored`)).toMatchObject({
      type: 'RolledBack',
      error: 'ABORTED',
      reason: expect.stringMatching(/^Blue restored: endpoint fraud-detector-prod serves variant v6-0a1b2c3d alone/),
      resourcesRemoved: [{ kind: 'variant', name: NAMES.greenVariantName }],
    });
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`).resourcesRemoved).toEqual([
      { kind: 'endpoint-config', name: NAMES.transitionEndpointConfigName },
      { kind: 'model', name: NAMES.greenModelName },
      ...OWN_ALARMS.map((name) => ({ kind: 'alarm', name })),
    ]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#Ended`)).toMatchObject({ type: 'Ended', outcome: 'ABORTED', error: 'ABORTED' });

    const recorded = outcome()!;
    expect(recorded).toMatchObject({ outcome: 'ABORTED', error: 'ABORTED', reason: expect.stringMatching(/^The execution ended ABORTED without its failure path; reconciled: Blue restored/) });
    expect(recorded.summary).toMatchObject({ outcome: 'ABORTED', startedAt, deploymentId: DEPLOYMENT_ID, executionArn: EXECUTION_ARN });
    expect(recorded.summary.timeline.map((t) => t.event)).toEqual(['Rollout Rolled Back', 'Cleanup Completed', 'Rollout Ended']);
    expect(recorded.summary.resourcesRemoved).toContainEqual({ kind: 'variant', name: NAMES.greenVariantName });
    expect(sageMaker).toHaveReceivedCommandTimes(AddTagsCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, {
      ResourceArn: PACKAGE_ARN,
      Tags: expect.arrayContaining([{ Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'ABORTED' }, { Key: `bluegreen:${ENDPOINT}:deployment-id`, Value: DEPLOYMENT_ID }]),
    });
    expect(metricNames()).toEqual(['RolloutsFailed', 'RolloutDurationSeconds']);

    // The next pass finds no lock: nothing concluded again.
    sageMaker.resetHistory();
    await expect(call(last)).resolves.toMatchObject({ action: 'NOTHING_TO_DO' });
    expect(sageMaker).not.toHaveReceivedCommand(AddTagsCommand);
  });

  test('a timed-out execution: its error (States.Timeout) is the rollback\'s and the outcome\'s', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const { last } = await reconcileUntilSettled({}, 10, keptEvent('TIMED_OUT'));
    expect(last.action).toBe('DONE');
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#RolledBack#restored`)).toMatchObject({ error: 'States.Timeout' });
    expect(outcome()).toMatchObject({ outcome: 'ABORTED', error: 'States.Timeout', reason: expect.stringMatching(/^The execution ended TIMED_OUT \(States\.Timeout\)/) });
  });

  test('a rollback restore-blue had recorded already is not recorded twice: the first record stands', async () => {
    live = atCanary();
    await lockFor(makePlan());
    const alarmRollback: LifecycleEvent = { type: 'RolledBack', error: 'AlarmTriggered', reason: 'green 5xx', resourcesRemoved: [{ kind: 'variant', name: NAMES.greenVariantName }] };
    const ref = rolloutRef(makePlan());
    const at = new Date().toISOString();
    const detail = { ...alarmRollback, schemaVersion: LIFECYCLE_SCHEMA_VERSION, rollout: ref, at, message: describeLifecycleEvent(ref, alarmRollback), notify: isNotified(alarmRollback) } as LifecycleDetail;
    await putAuditEvent(new DynamoDBClient({}), HISTORY, { ref, type: 'RolledBack', at, discriminator: 'restored', detail });
    await reconcileUntilSettled();
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#RolledBack#restored`)).toMatchObject({ error: 'AlarmTriggered' });
    expect(outcome()!.summary.timeline.filter((t) => t.event === 'Rollout Rolled Back')).toHaveLength(1);
  });

  test('KEPT_GREEN: the promotion completed, so PROMOTED: Rollout Promoted, no rollback; the retired resources removed', async () => {
    configs.set(NAMES.finalEndpointConfigName, finalEntry);
    await lockFor(makePlan());
    live = greenAlone();
    await expect(call()).resolves.toMatchObject({ action: 'KEPT_GREEN' });
    expect(eventKeys()).toEqual([`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`, `EVENT#${DEPLOYMENT_ID}#Promoted`]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`).resourcesRemoved).toEqual([
      { kind: 'endpoint-config', name: BLUE.endpointConfigName },
      { kind: 'endpoint-config', name: NAMES.transitionEndpointConfigName },
      { kind: 'model', name: BLUE.modelName },
      ...OWN_ALARMS.map((name) => ({ kind: 'alarm', name })),
    ]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#Promoted`)).toMatchObject({ greenVariantName: NAMES.greenVariantName });
    expect(outcome()).toMatchObject({ outcome: 'PROMOTED', error: 'ABORTED', reason: expect.stringMatching(/the promotion completed and is kept/) });
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, { Tags: expect.arrayContaining([{ Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'PROMOTED' }]) });
    expect(metricNames()).toEqual(['RolloutsPromoted', 'RolloutDurationSeconds']);
  });

  test('BLUE_UNHEALTHY: traffic left on green is ROLLBACK_BLOCKED; no rollback recorded', async () => {
    runtime.on(InvokeEndpointCommand).rejects(modelError(500, 'CUDA error: out of memory'));
    live = atCanary();
    await lockFor(makePlan());
    await expect(call()).resolves.toMatchObject({ action: 'BLUE_UNHEALTHY' });
    expect(eventKeys()).toEqual([`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`, `EVENT#${DEPLOYMENT_ID}#Ended`]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#CleanupCompleted#reconciler`).resourcesRemoved).toEqual(OWN_ALARMS.map((name) => ({ kind: 'alarm', name })));
    expect(outcome()).toMatchObject({ outcome: 'ROLLBACK_BLOCKED', reason: expect.stringMatching(/Blue cannot take the traffic back: .*An operator must act/) });
    expect(metricNames()).toEqual(['RolloutsFailed', 'RolloutDurationSeconds']);
  });

  test('a first deployment: the endpoint it created is what the rollback removed', async () => {
    configs = new Map([[NAMES.finalEndpointConfigName, finalEntry]]);
    models = new Map([[NAMES.greenModelName, managedTags()]]);
    live = { ...greenAlone(), tags: managedTags() };
    await lockFor(makeFirstDeploymentPlan());
    await reconcileUntilSettled();
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#RolledBack#restored`)).toMatchObject({ resourcesRemoved: [{ kind: 'endpoint', name: ENDPOINT }] });
    expect(outcome()).toMatchObject({ outcome: 'ABORTED' });
  });

  test('nothing to reconcile, or an endpoint that needs an operator: nothing concluded', async () => {
    await expect(call()).resolves.toMatchObject({ action: 'NOTHING_TO_DO' });
    live = { ...atCanary(), configName: 'fraud-detector-prod-hotfix', variants: [{ name: 'hotfix' }] };
    await lockFor(makePlan());
    await expect(call()).rejects.toMatchObject({ name: 'RollbackFailed' });
    expect(historyItems()).toEqual([]);
    expect(sageMaker).not.toHaveReceivedCommand(AddTagsCommand);
    expect(publishedMetrics()).toEqual([]);
  });

  test('the lifecycle events go to the bus too, in order, each once', async () => {
    const events = mockClient(EventBridgeClient);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    try {
      live = atCanary();
      await lockFor(makePlan());
      const dynamo = new DynamoDBClient({});
      const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };
      const deps = {
        findLock: (executionArn: string) => findLockByExecution(dynamo, SIMULATED_TABLE, executionArn),
        sageMaker: new SageMakerClient({}),
        autoScaling: new ApplicationAutoScalingClient({}),
        runtime: new SageMakerRuntimeClient({}),
        s3: {} as never,
        cloudWatch: new CloudWatchClient({}),
        dynamo,
        table: SIMULATED_TABLE,
        logger,
        lifecycle: () => ({ dynamo, auditTable: HISTORY, events: new EventBridgeClient({}), busName: 'rollout-events', logger }),
      };
      let previous: unknown = {};
      let result: ReconcileResult | undefined;
      for (let pass = 0; pass < 10 && result?.action !== 'DONE'; pass++) {
        result = await reconcile(ReconcileRolloutInputSchema.parse({ event: keptEvent('ABORTED'), previous }), deps);
        if (live?.status !== 'InService') finish();
        previous = result;
      }
      expect(result?.action).toBe('DONE');
      const entries = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
      expect(entries.map((e) => e.DetailType)).toEqual(['Rollout Rolled Back', 'Cleanup Completed', 'Rollout Ended']);
      expect(entries.every((e) => e.EventBusName === 'rollout-events' && e.Resources?.[0] === PACKAGE_ARN)).toBe(true);
      expect(JSON.parse(entries[2]!.Detail!)).toMatchObject({ type: 'Ended', outcome: 'ABORTED', error: 'ABORTED', notify: true });
    } finally {
      events.restore();
    }
  });
});

// ---- Stopped after "Release rollout", before "Summarize rollout": no lock, a header and no outcome in the trail.

describe('reconcile-rollout: a rollout stopped after releasing the endpoint, before its summary', () => {
  const { HISTORY, historyItems, historyData, eventKeys, outcome, metricNames, publishedMetrics } = useHistoryTable();
  const historyScans = () => table.mock.commandCalls(ScanCommand).filter((c) => c.args[0].input.TableName === HISTORY);
  /** Ten minutes ago: the rollout's duration counts from the header's start. */
  const STARTED_AT = isoSecondsAgo(600);
  /** The header "Lock endpoint" wrote for `plan` (the real builder), written to the history table. */
  const headerFor = async (plan: RolloutPlan): Promise<RolloutHeader> => {
    const header = rolloutHeader(plan, parseRolloutConfig(TARGET_CONFIG).targets[0]!, STARTED_AT);
    await putRolloutHeader(new DynamoDBClient({}), HISTORY, header);
    return header;
  };
  const blueAlone = (): Live => ({
    status: 'InService',
    configName: BLUE.endpointConfigName,
    variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }],
    tags: [{ Key: 'team', Value: 'fraud' }],
  });
  const concludedMessage = (outcomeName: string) =>
    new RegExp(
      `^Nothing to reconcile: Execution .* holds no endpoint lock.* Rollout ${DEPLOYMENT_ID} had released endpoint ${ENDPOINT} but was not summarized: ` +
        `concluded ${outcomeName} from the endpoint's state \\(`,
    );

  test('green serves alone: PROMOTED everywhere (outcome, tags, Rollout Promoted, metrics); nothing touched; a second run concludes nothing', async () => {
    live = greenAlone();
    await headerFor(makePlan());
    const result = await call();
    expect(result).toMatchObject({ action: 'NOTHING_TO_DO', passes: 1, message: expect.stringMatching(concludedMessage('PROMOTED')) });
    expect(result.endpointName).toBeUndefined();
    expectNoEndpointChange();
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(live).toEqual(greenAlone());

    const recorded = outcome()!;
    expect(recorded).toMatchObject({
      outcome: 'PROMOTED',
      error: 'ABORTED',
      reason: expect.stringMatching(
        new RegExp(
          "^The execution ended ABORTED after releasing the endpoint, before its summary; concluded by the reconciler from the endpoint's state: " +
            `endpoint ${ENDPOINT} is InService .*: green ${NAMES.greenVariantName} alone\\.$`,
        ),
      ),
    });
    // The header's start, not the reconciler's: the duration is the rollout's.
    expect(recorded.summary).toMatchObject({ outcome: 'PROMOTED', startedAt: STARTED_AT, deploymentId: DEPLOYMENT_ID, trigger: { kind: 'MODEL_REGISTRY_APPROVAL' } });
    expect(recorded.summary.durationSeconds).toBeGreaterThanOrEqual(600);
    expect(recorded.summary.durationSeconds).toBeLessThan(660);
    expect(eventKeys()).toEqual([`EVENT#${DEPLOYMENT_ID}#Promoted`]);
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#Promoted`)).toMatchObject({ type: 'Promoted', greenVariantName: NAMES.greenVariantName });
    expect(sageMaker).toHaveReceivedCommandTimes(AddTagsCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, {
      ResourceArn: PACKAGE_ARN,
      Tags: expect.arrayContaining([{ Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'PROMOTED' }, { Key: `bluegreen:${ENDPOINT}:deployment-id`, Value: DEPLOYMENT_ID }]),
    });
    expect(metricNames()).toEqual(['RolloutsPromoted', 'RolloutDurationSeconds']);

    // Concluded once: the next run finds the outcome and says nothing more than it did before this change.
    sageMaker.resetHistory();
    publishedMetrics().length = 0;
    const again = await call();
    expect(again.message).toMatch(/holds no endpoint lock: it changed nothing, or it cleaned up and released\.$/);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(publishedMetrics()).toEqual([]);
    expect(eventKeys()).toEqual([`EVENT#${DEPLOYMENT_ID}#Promoted`]);
  });

  test('blue serves alone: ROLLED_BACK, Rollout Ended with the execution\'s error (a timeout)', async () => {
    live = blueAlone();
    await headerFor(makePlan());
    const result = await call({}, keptEvent('TIMED_OUT'));
    expect(result.message).toMatch(concludedMessage('ROLLED_BACK'));
    expect(outcome()).toMatchObject({
      outcome: 'ROLLED_BACK',
      error: 'States.Timeout',
      reason: expect.stringMatching(new RegExp(`^The execution ended TIMED_OUT \\(States\\.Timeout\\) after releasing the endpoint, .*: blue ${BLUE.variantName} alone\\.$`)),
    });
    expect(historyData(`EVENT#${DEPLOYMENT_ID}#Ended`)).toMatchObject({ type: 'Ended', outcome: 'ROLLED_BACK', error: 'States.Timeout' });
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, { Tags: expect.arrayContaining([{ Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'ROLLED_BACK' }]) });
    expect(metricNames()).toEqual(['RolloutsRolledBack', 'RolloutDurationSeconds']);
    expectNoEndpointChange();
  });

  test('both variants still serve (released mid-rollout, or changed since): ABORTED, nothing touched', async () => {
    live = atCanary();
    await headerFor(makePlan());
    await expect(call()).resolves.toMatchObject({ action: 'NOTHING_TO_DO', message: expect.stringMatching(concludedMessage('ABORTED')) });
    expect(outcome()).toMatchObject({ outcome: 'ABORTED', reason: expect.stringMatching(/serving .*: neither green .* nor blue .* alone\.$/) });
    expect(metricNames()).toEqual(['RolloutsFailed', 'RolloutDurationSeconds']);
    expectNoEndpointChange();
    expect(live).toEqual(atCanary());
  });

  test('a first deployment whose endpoint is gone: ROLLED_BACK', async () => {
    live = undefined;
    await headerFor(makeFirstDeploymentPlan());
    await expect(call()).resolves.toMatchObject({ message: expect.stringMatching(concludedMessage('ROLLED_BACK')) });
    expect(outcome()).toMatchObject({ outcome: 'ROLLED_BACK', reason: expect.stringMatching(/the endpoint this first deployment created is gone\.$/) });
  });

  test('an outcome already recorded (the summary ran): nothing read of the endpoint, nothing written', async () => {
    live = greenAlone();
    const header = await headerFor(makePlan());
    const dynamo = new DynamoDBClient({});
    await putRolloutOutcome(dynamo, HISTORY, { ref: header.ref, endedAt: STARTED_AT, outcome: 'ROLLED_BACK', reason: 'alarm', durationSeconds: 60, summary: {} });
    const result = await call();
    expect(result.message).toMatch(/^Nothing to reconcile: .*cleaned up and released\.$/);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(outcome()).toMatchObject({ outcome: 'ROLLED_BACK', reason: 'alarm' });
    expect(eventKeys()).toEqual([]);
    expect(publishedMetrics()).toEqual([]);
  });

  test('the trail is found by the execution, not by another rollout of the endpoint: another execution\'s header is not concluded', async () => {
    live = greenAlone();
    await headerFor(makePlan({ deploymentId: '99999999', executionArn: `${EXECUTION_ARN}-other` }));
    const result = await call();
    expect(result.message).toMatch(/cleaned up and released\.$/);
    expect(historyScans()).toHaveLength(1);
    expect(historyScans()[0]!.args[0].input).toMatchObject({
      FilterExpression: 'recordType IN (:rollout, :outcome) AND executionArn = :executionArn',
      ExpressionAttributeValues: { ':executionArn': { S: EXECUTION_ARN } },
    });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(historyItems().filter((i) => i.recordKey!.S!.startsWith('OUTCOME#'))).toEqual([]);
  });

  test('no history table configured: the trail is not looked for (as before)', async () => {
    delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
    live = greenAlone();
    await headerFor(makePlan());
    await expect(call()).resolves.toMatchObject({ action: 'NOTHING_TO_DO', message: expect.stringMatching(/cleaned up and released\.$/) });
    expect(historyScans()).toHaveLength(0);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(outcome()).toBeUndefined();
  });

  test('a trail that cannot be read is logged and does not fail the reconciler', async () => {
    live = greenAlone();
    await headerFor(makePlan());
    table.mock.on(ScanCommand).callsFake((input: ScanCommandInput) => {
      if (input.TableName === HISTORY) throw Object.assign(new Error('not authorized to perform dynamodb:Scan'), { name: 'AccessDeniedException' });
      return table.simulation.execute('Scan', structuredClone(input));
    });
    const warnings: Array<{ message: string; extra: unknown }> = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (message: string, ...extra: unknown[]) => void warnings.push({ message, extra: extra[0] }) };
    const dynamo = new DynamoDBClient({});
    const result = await reconcile(ReconcileRolloutInputSchema.parse({ event: keptEvent('ABORTED'), previous: {} }), {
      findLock: (executionArn) => findLockByExecution(dynamo, SIMULATED_TABLE, executionArn),
      findRollout: (executionArn) => findRolloutByExecution(dynamo, HISTORY, executionArn),
      sageMaker: new SageMakerClient({}),
      autoScaling: new ApplicationAutoScalingClient({}),
      runtime: new SageMakerRuntimeClient({}),
      s3: {} as never,
      cloudWatch: new CloudWatchClient({}),
      dynamo,
      table: SIMULATED_TABLE,
      logger,
      lifecycle: () => ({ dynamo, auditTable: HISTORY, logger }),
    });
    expect(result).toMatchObject({ action: 'NOTHING_TO_DO', message: expect.stringMatching(/cleaned up and released\.$/) });
    expect(warnings).toEqual([
      { message: expect.stringMatching(/^Audit trail not read/), extra: { executionArn: EXECUTION_ARN, error: expect.stringContaining('AccessDeniedException') } },
    ]);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(outcome()).toBeUndefined();
  });
});

describe('outcomeFromEndpoint', () => {
  const header = { greenVariantName: 'green', blueVariantName: 'blue', firstDeployment: false };
  const endpoint = (...variants: string[]) => describedEndpoint({ configName: 'config', variants: variants.map((name) => ({ name })) });
  test.each([
    ['green alone', endpoint('green'), header, 'PROMOTED'],
    ['blue alone', endpoint('blue'), header, 'ROLLED_BACK'],
    ['both', endpoint('blue', 'green'), header, 'ABORTED'],
    ['another variant', endpoint('hotfix'), header, 'ABORTED'],
    ['no endpoint', undefined, header, 'ABORTED'],
    ['a first deployment: green alone', endpoint('green'), { greenVariantName: 'green', firstDeployment: true }, 'PROMOTED'],
    ['a first deployment: no endpoint', undefined, { greenVariantName: 'green', firstDeployment: true }, 'ROLLED_BACK'],
    ['a first deployment: no green', endpoint('hotfix'), { greenVariantName: 'green', firstDeployment: true }, 'ROLLED_BACK'],
    ['a first deployment: green beside another', endpoint('hotfix', 'green'), { greenVariantName: 'green', firstDeployment: true }, 'ABORTED'],
  ] as const)('%s', (_what, described, of, expected) => {
    expect(outcomeFromEndpoint(described, of).outcome).toBe(expected);
  });
});

/**
 * "Lock endpoint": the endpoint's lock and queue (ACQUIRED, REPLAN, WAIT, DUPLICATE, ALREADY_LIVE, SUPERSEDED,
 * EndpointLocked), through the handler, against the active-rollouts table served by the rehearsal's DynamoDB
 * simulation: every test checks the item the table ends with.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/lock-endpoint';
import { LOCK_EXPIRY_MARGIN_SECONDS, lockEndpoint, LockEndpointInputSchema, lockExpiresAt, type LockEndpointResult } from '../../lambdas/lock-endpoint/lock';
import { hashConfig, ROLLOUT_HISTORY_TABLE_ENV, rolloutEventKey, rolloutHeaderKey } from '../../lambdas/shared/audit-trail';
import { LIFECYCLE_EVENT_SOURCE, type LifecycleSink } from '../../lambdas/shared/lifecycle-events';
import type { StepLogger } from '../../lambdas/shared/logger';
import { configureMetricsSink } from '../../lambdas/shared/metrics';
import { parseRolloutConfig, TARGETS_ENV, type RolloutConfigInput } from '../../lambdas/shared/config';
import { EndpointLocked } from '../../lambdas/shared/errors';
import { executionTimeoutSeconds } from '../../lambdas/shared/execution-time';
import { packageVersionOfVariant } from '../../lambdas/shared/names';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import { acquireEndpointLock, ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { BLUE, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, GROUP, makeFirstDeploymentPlan, makePlan, PACKAGE_ARN, TARGET_CONFIG, useTargets } from './support/fixtures';
import { SIMULATED_TABLE, simulateRolloutsTable, type SimulatedRolloutsTable } from './support/simulated-rollouts-table';

const START_MS = Date.UTC(2026, 0, 1, 9, 0, 0);
const START = new Date(START_MS).toISOString();
const START_S = START_MS / 1000;
/**
 * TARGET_CONFIG's policy, defaults applied: the 3 h queue + 1 day approval + no step bake (all at once) + 3600 bake
 * + 600 rollback window + 4 x 3600 endpoint updates + 1 day margin.
 */
const TIMEOUT_SECONDS = 10_800 + 86_400 + 3600 + 600 + 4 * 3600 + 86_400;

const OTHER_ARN = `${EXECUTION_ARN}-other`;
const OTHER_DEPLOYMENT = '99999999';
const OTHER_PACKAGE = PACKAGE_ARN.replace(/\/7$/, '/8');

let table: SimulatedRolloutsTable;
let nowMs = START_MS;

beforeEach(() => {
  table = simulateRolloutsTable();
  nowMs = START_MS;
  jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
  process.env[ROLLOUTS_TABLE_ENV] = SIMULATED_TABLE;
  useTargets();
  // The handler counts started rollouts: EMF documents are dropped here, not printed (the tests that read them capture them).
  configureMetricsSink(() => undefined);
});
afterEach(() => {
  configureMetricsSink(undefined);
  table.mock.restore();
  jest.restoreAllMocks();
  delete process.env[ROLLOUTS_TABLE_ENV];
  delete process.env[TARGETS_ENV];
});

const advance = (seconds: number) => {
  nowMs += seconds * 1000;
};
const lock = (plan: RolloutPlan = makePlan(), previous?: Partial<LockEndpointResult>, executionStartTime = START) =>
  handler({ plan, ...(previous ? { previous } : {}), executionStartTime });

/** Another rollout (of version 8 unless said otherwise) holds the endpoint until `expiresAt`. */
async function heldByOther(options: { modelPackageArn?: string; expiresAt?: number } = {}): Promise<void> {
  const plan = makePlan({ deploymentId: OTHER_DEPLOYMENT, executionArn: OTHER_ARN });
  const attempt = await acquireEndpointLock(
    new DynamoDBClient({}),
    SIMULATED_TABLE,
    {
      endpointName: ENDPOINT,
      deploymentId: OTHER_DEPLOYMENT,
      executionArn: OTHER_ARN,
      modelPackageArn: options.modelPackageArn ?? OTHER_PACKAGE,
      lockedAt: new Date(START_MS - 60_000).toISOString(),
      expiresAt: options.expiresAt ?? START_S + 86_400,
      plan,
    },
    START_S - 60,
  );
  if (!attempt.acquired) throw new Error('heldByOther: the endpoint was already locked');
}

const holderOf = () => table.item(ENDPOINT)?.deploymentId?.S;
const OTHER_HOLDER = { deploymentId: OTHER_DEPLOYMENT, executionArn: OTHER_ARN, modelPackageArn: OTHER_PACKAGE };

describe('lock-endpoint: a free endpoint', () => {
  test('ACQUIRED: the lock holds the rollout, its package, the plan and an expiry an hour after the execution\'s timeout', async () => {
    advance(42);
    const result = await lock();
    expect(result).toEqual({ decision: 'ACQUIRED', waitSeconds: 0, waitingSince: null, message: expect.stringMatching(new RegExp(`^Endpoint ${ENDPOINT} locked for deployment ${DEPLOYMENT_ID}`)) });
    expect(table.items()).toEqual([
      {
        endpointName: { S: ENDPOINT },
        deploymentId: { S: DEPLOYMENT_ID },
        executionArn: { S: EXECUTION_ARN },
        modelPackageArn: { S: PACKAGE_ARN },
        lockedAt: { S: new Date(START_MS + 42_000).toISOString() },
        // Counted from the execution's start, not from now.
        expiresAt: { N: String(START_S + TIMEOUT_SECONDS + 3600) },
        plan: { S: JSON.stringify(makePlan()) },
      },
    ]);
  });

  test("the expiry follows the target's policy (steps, queue) through executionTimeoutSeconds", async () => {
    const config: RolloutConfigInput = structuredClone(TARGET_CONFIG);
    config.targets[0]!.policy = { ...config.targets[0]!.policy, traffic: { mode: 'LINEAR', linearStepPercent: 25, stepBakeSeconds: 120 }, queue: { maxWaitSeconds: 0 } };
    useTargets(config);
    const started = '2026-01-01T08:00:00.000Z';
    await lock(makePlan(), undefined, started);
    // 0 queue + 86400 approval + 3 x 120 step bakes + 3600 bake + 600 window + 7 x 3600 updates + 86400 margin, + 3600.
    const expected = Date.parse(started) / 1000 + (86_400 + 360 + 3600 + 600 + 7 * 3600 + 86_400) + 3600;
    expect(table.item(ENDPOINT)?.expiresAt).toEqual({ N: String(expected) });
    const target = parseRolloutConfig(config).targets[0]!;
    expect(lockExpiresAt(started, executionTimeoutSeconds(target.policy, [25, 50, 75, 100]))).toBe(expected);
    expect(LOCK_EXPIRY_MARGIN_SECONDS).toBe(3600);
  });

  test('a retried call finds the lock its own: ACQUIRED again', async () => {
    await lock();
    await expect(lock()).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(holderOf()).toBe(DEPLOYMENT_ID);
  });

  test('a first deployment (no blue): ACQUIRED', async () => {
    await expect(lock(makeFirstDeploymentPlan())).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(holderOf()).toBe(DEPLOYMENT_ID);
  });

  test('a blue not named by this system: ACQUIRED (its version is unknown)', async () => {
    await expect(lock(makePlan({ blue: { ...BLUE, variantName: 'AllTraffic' } }))).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(holderOf()).toBe(DEPLOYMENT_ID);
  });
});

describe('lock-endpoint: blue already serves this version or a newer one', () => {
  test('ALREADY_LIVE (blue is version 7, the version approved): the lock is released, nothing else written', async () => {
    const result = await lock(makePlan({ blue: { ...BLUE, variantName: 'v7-0a1b2c3d' } }));
    expect(result).toEqual({
      decision: 'ALREADY_LIVE',
      waitSeconds: 0,
      waitingSince: null,
      message: `Endpoint ${ENDPOINT} already serves version 7 of ${GROUP} (variant v7-0a1b2c3d), the version this execution was to deploy: ` +
        'nothing to do (a duplicate approval event after the first rollout ended).',
    });
    expect(table.items()).toEqual([]);
  });

  test('SUPERSEDED (blue is version 9, approval of 7 queued): released; checked before a replan', async () => {
    const result = await lock(makePlan({ blue: { ...BLUE, variantName: 'v9-0a1b2c3d' } }), { decision: 'WAIT', waitingSince: START });
    expect(result.decision).toBe('SUPERSEDED');
    expect(result.message).toMatch(/already serves version 9 of fraud-detector .*newer than version 7: this approval is superseded/);
    expect(table.items()).toEqual([]);
    // Released: the next rollout takes the endpoint at once.
    await expect(lock(makePlan({ blue: { ...BLUE, variantName: 'v9-0a1b2c3d' }, deploymentId: 'aaaabbbb' }))).resolves.toMatchObject({ decision: 'SUPERSEDED' });
  });

  test('an expired lock of another rollout is taken over, then released when the version is live', async () => {
    await heldByOther({ expiresAt: START_S - 1 });
    await expect(lock(makePlan({ blue: { ...BLUE, variantName: 'v7-0a1b2c3d' } }))).resolves.toMatchObject({ decision: 'ALREADY_LIVE' });
    expect(table.items()).toEqual([]);
  });
});

describe('lock-endpoint: held by another rollout', () => {
  test('an expired lock (past expiresAt, TTL not yet run) is taken: ACQUIRED', async () => {
    await heldByOther({ expiresAt: START_S - 1 });
    await expect(lock()).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(holderOf()).toBe(DEPLOYMENT_ID);
  });

  test('the same model package: DUPLICATE naming the holder; the lock untouched', async () => {
    await heldByOther({ modelPackageArn: PACKAGE_ARN });
    const before = table.items();
    const result = await lock();
    expect(result).toEqual({
      decision: 'DUPLICATE',
      waitSeconds: 0,
      waitingSince: null,
      holder: { ...OTHER_HOLDER, modelPackageArn: PACKAGE_ARN },
      message: `Endpoint ${ENDPOINT} is already being rolled out to model package ${PACKAGE_ARN} by execution ${OTHER_ARN} (deployment ${OTHER_DEPLOYMENT}): ` +
        'this execution is a duplicate and changes nothing.',
    });
    expect(table.items()).toEqual(before);
  });

  test('another package: WAIT every pollSeconds from the first refusal, then EndpointLocked once maxWaitSeconds has passed', async () => {
    await heldByOther();
    const before = table.items();
    const first = await lock();
    expect(first).toEqual({
      decision: 'WAIT',
      waitSeconds: 60,
      waitingSince: START,
      holder: OTHER_HOLDER,
      message: expect.stringMatching(new RegExp(`^Waiting: endpoint ${ENDPOINT} is locked by execution ${OTHER_ARN} .*next attempt in 60 s \\(waited 0 of 10800 s\\)`)),
    });

    advance(60);
    const second = await lock(makePlan(), first);
    expect(second).toMatchObject({ decision: 'WAIT', waitSeconds: 60, waitingSince: START });

    // 30 s before the queue's time is up: the last wait ends exactly then.
    advance(10_800 - 60 - 30);
    await expect(lock(makePlan(), second)).resolves.toMatchObject({ decision: 'WAIT', waitSeconds: 30, waitingSince: START });

    advance(30);
    const error = await lock(makePlan(), second).catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(EndpointLocked);
    expect(error).toMatchObject({
      name: 'EndpointLocked',
      message:
        `Gave up waiting after 10800 s (policy.queue.maxWaitSeconds 10800): endpoint ${ENDPOINT} is locked by execution ${OTHER_ARN} ` +
        `(deployment ${OTHER_DEPLOYMENT}, model package ${OTHER_PACKAGE}). Model package ${PACKAGE_ARN} was not rolled out and nothing was changed; ` +
        'approve it again once that rollout has ended.',
    });
    expect(table.items()).toEqual(before);
  });

  test("the plan's lockWaitSeconds and lockPollSeconds win over the target's (the plan is what was resolved)", async () => {
    await heldByOther();
    const plan = makePlan({ policy: { ...makePlan().policy, lockWaitSeconds: 100, lockPollSeconds: 15 } });
    const first = await lock(plan);
    expect(first).toMatchObject({ decision: 'WAIT', waitSeconds: 15 });
    advance(100);
    await expect(lock(plan, first)).rejects.toMatchObject({ name: 'EndpointLocked', message: expect.stringMatching(/^Gave up waiting after 100 s \(policy\.queue\.maxWaitSeconds 100\)/) });
  });

  test('a queue of 0 s: EndpointLocked at once, without waiting', async () => {
    await heldByOther();
    await expect(lock(makePlan({ policy: { ...makePlan().policy, lockWaitSeconds: 0 } }))).rejects.toBeInstanceOf(EndpointLocked);
  });

  test('REPLAN: the holder released while this rollout waited; the lock is kept, and the lock after the new plan is ACQUIRED', async () => {
    await heldByOther();
    const waited = await lock();
    expect(waited.decision).toBe('WAIT');

    // The other rollout ends and releases (its record is deleted).
    table.simulation.execute('DeleteItem', { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    advance(60);
    const replan = await lock(makePlan(), waited);
    expect(replan).toEqual({
      decision: 'REPLAN',
      waitSeconds: 0,
      waitingSince: null,
      message: `Endpoint ${ENDPOINT} locked for deployment ${DEPLOYMENT_ID} after waiting since ${START}: the endpoint may have changed meanwhile, so the rollout is planned again.`,
    });
    expect(holderOf()).toBe(DEPLOYMENT_ID);

    // "Resolve rollout" again: blue is now version 8 (the other rollout's), green still 7 → superseded.
    const fresh = makePlan({ blue: { ...BLUE, variantName: `v8-${OTHER_DEPLOYMENT}` } });
    await expect(lock(fresh, replan)).resolves.toMatchObject({ decision: 'SUPERSEDED' });
    expect(table.items()).toEqual([]);
  });

  test('REPLAN then ACQUIRED with the new plan stored, when blue is still older', async () => {
    await heldByOther();
    const waited = await lock();
    table.simulation.execute('DeleteItem', { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    const replan = await lock(makePlan(), waited);
    expect(replan.decision).toBe('REPLAN');
    const fresh = makePlan({ blue: { ...BLUE, instanceCount: 5 } });
    await expect(lock(fresh, replan)).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(JSON.parse(table.item(ENDPOINT)!.plan!.S!)).toEqual(fresh);
  });
});

describe('lock-endpoint: input and environment', () => {
  test('bad input names the field; nothing is written', async () => {
    await expect(handler({ plan: makePlan(), executionStartTime: 'yesterday' })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/^lock-endpoint: invalid input: executionStartTime: must be an ISO 8601 date-time/),
    });
    await expect(handler({ plan: makePlan(), previous: { decision: 'MAYBE' }, executionStartTime: START })).rejects.toMatchObject({
      message: expect.stringMatching(/previous\.decision: must be one of ACQUIRED, REPLAN, WAIT/),
    });
    expect(table.mock.calls()).toHaveLength(0);
  });

  test('no table configured: ConfigurationError; a group without a target: TargetNotConfigured; nothing written', async () => {
    delete process.env[ROLLOUTS_TABLE_ENV];
    await expect(lock()).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/ROLLOUTS_TABLE is not set/) });
    process.env[ROLLOUTS_TABLE_ENV] = SIMULATED_TABLE;
    const plan = makePlan();
    await expect(lock({ ...plan, modelPackage: { ...plan.modelPackage, groupName: 'unknown-group' } })).rejects.toMatchObject({ name: 'TargetNotConfigured' });
    expect(table.mock).not.toHaveReceivedCommand(PutItemCommand);
  });
});

describe('packageVersionOfVariant', () => {
  test.each([
    ['v7-3f9a2c1b', 7],
    ['v123-00000000', 123],
    ['AllTraffic', undefined],
    ['v7-3F9A2C1B', undefined],
    ['v07-3f9a2c1b', undefined],
    ['v7-3f9a2c1', undefined],
    ['v7-3f9a2c1b-bg', undefined],
    ['v99999999999999999999-3f9a2c1b', undefined],
  ])('%s → %s', (name, version) => {
    expect(packageVersionOfVariant(name)).toBe(version);
  });
});

describe('the queue policy (policy.queue)', () => {
  const withQueue = (queue: unknown) => {
    const config = structuredClone(TARGET_CONFIG) as { targets: Array<{ policy: Record<string, unknown> }> };
    config.targets[0]!.policy.queue = queue;
    return config;
  };
  test('defaults: 3 hours of waiting, an attempt a minute', () => {
    expect(parseRolloutConfig(TARGET_CONFIG).targets[0]!.policy.queue).toEqual({ maxWaitSeconds: 10_800, pollSeconds: 60 });
  });
  test('bounds: maxWaitSeconds 0-86400, pollSeconds 5-3600, no unknown field', () => {
    expect(parseRolloutConfig(withQueue({ maxWaitSeconds: 0, pollSeconds: 5 })).targets[0]!.policy.queue).toEqual({ maxWaitSeconds: 0, pollSeconds: 5 });
    expect(() => parseRolloutConfig(withQueue({ maxWaitSeconds: 86_401 }))).toThrow(/targets\[0\] \(fraud-detector\)\.policy\.queue\.maxWaitSeconds/);
    expect(() => parseRolloutConfig(withQueue({ pollSeconds: 4 }))).toThrow(/policy\.queue\.pollSeconds/);
    expect(() => parseRolloutConfig(withQueue({ waitSeconds: 10 }))).toThrow(/policy\.queue/);
  });
});

describe('lock-endpoint: the rollout starts (audit header, Rollout Started, RolloutsStarted)', () => {
  const HISTORY = 'rollout-history';
  const events = mockClient(EventBridgeClient);
  let metrics: Record<string, unknown>[];

  beforeEach(() => {
    table.simulation.createTable(HISTORY, { partitionKey: 'endpointName', sortKey: 'recordKey' });
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY;
    events.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    metrics = [];
    configureMetricsSink((emf) => metrics.push(emf));
  });
  afterEach(() => {
    delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
    configureMetricsSink(undefined);
  });

  const history = () => table.simulation.items(HISTORY) as Array<Record<string, { S?: string }>>;
  const historyKeys = () => history().map((item) => item.recordKey!.S);
  const data = (recordKey: string) => JSON.parse(history().find((item) => item.recordKey!.S === recordKey)!.data!.S!);
  const started = () => metrics.filter((emf) => emf.RolloutsStarted !== undefined);
  const spyLogger = () => ({ debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() });
  /** The plain function with a sink of the simulated history table and the mocked bus. */
  const lockWithSink = (plan: RolloutPlan, logger: StepLogger & { error?: jest.Mock } = spyLogger(), auditTable = HISTORY) => {
    const sink: LifecycleSink = { dynamo: new DynamoDBClient({}), auditTable, events: new EventBridgeClient({}), busName: 'bus', logger };
    return lockEndpoint(LockEndpointInputSchema.parse({ plan, executionStartTime: START }), {
      dynamo: new DynamoDBClient({}),
      table: SIMULATED_TABLE,
      config: parseRolloutConfig(TARGET_CONFIG),
      logger,
      lifecycle: sink,
    });
  };

  test('ACQUIRED (handler): the header with trigger, policy, config hash and variants, then Rollout Started, then the metric', async () => {
    advance(42);
    const at = new Date(START_MS + 42_000).toISOString();
    await expect(lock()).resolves.toMatchObject({ decision: 'ACQUIRED' });

    expect(historyKeys().sort()).toEqual([rolloutEventKey(DEPLOYMENT_ID, 'RolloutStarted'), rolloutHeaderKey(DEPLOYMENT_ID)]);
    expect(data(rolloutHeaderKey(DEPLOYMENT_ID))).toEqual({
      ref: { executionArn: EXECUTION_ARN, deploymentId: DEPLOYMENT_ID, endpointName: ENDPOINT, modelPackageArn: PACKAGE_ARN, modelPackageGroupName: GROUP, modelPackageVersion: 7 },
      startedAt: at,
      // A plan without a trigger (made before it was recorded) came from an approval.
      trigger: { kind: 'MODEL_REGISTRY_APPROVAL' },
      policy: { trafficMode: 'CANARY', stepPercents: [10, 100], bakeSeconds: 3600, stepBakeSeconds: 300, rollbackWindowSeconds: 600, validationDecision: 'AUTOMATIC' },
      configHash: hashConfig(parseRolloutConfig(TARGET_CONFIG).targets[0]),
      blueVariantName: BLUE.variantName,
      blueModelName: BLUE.modelName,
      greenVariantName: makePlan().green.variantName,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      firstDeployment: false,
    });
    expect(data(rolloutEventKey(DEPLOYMENT_ID, 'RolloutStarted'))).toMatchObject({
      type: 'RolloutStarted',
      schemaVersion: '1',
      at,
      trigger: { kind: 'MODEL_REGISTRY_APPROVAL' },
      trafficMode: 'CANARY',
      stepPercents: [10, 100],
      blueVariantName: BLUE.variantName,
      instanceType: 'ml.g5.xlarge',
      configHash: hashConfig(parseRolloutConfig(TARGET_CONFIG).targets[0]),
    });
    expect(started()).toEqual([expect.objectContaining({ EndpointName: ENDPOINT, RolloutsStarted: 1 })]);
    // The lock itself is unchanged by the recording.
    expect(holderOf()).toBe(DEPLOYMENT_ID);
  });

  test('the config hash changes with the target\'s configuration', async () => {
    const changed = structuredClone(TARGET_CONFIG);
    changed.targets[0]!.policy = { ...changed.targets[0]!.policy, bakeSeconds: 1800 };
    useTargets(changed);
    await lock();
    const hash = data(rolloutHeaderKey(DEPLOYMENT_ID)).configHash;
    expect(hash).toBe(hashConfig(parseRolloutConfig(changed).targets[0]));
    expect(hash).not.toBe(hashConfig(parseRolloutConfig(TARGET_CONFIG).targets[0]));
  });

  test('a retried ACQUIRED finds the header written: one header, one Rollout Started, one start counted', async () => {
    await lock();
    advance(5);
    await expect(lock()).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(historyKeys().filter((key) => key!.startsWith('EVENT#'))).toHaveLength(1);
    expect(historyKeys().filter((key) => key!.startsWith('ROLLOUT#'))).toHaveLength(1);
    expect(started()).toHaveLength(1);
  });

  test('WAIT then REPLAN record nothing; the ACQUIRED after the new plan records the start once, with the new plan', async () => {
    await heldByOther();
    const waited = await lock();
    expect(waited.decision).toBe('WAIT');
    table.simulation.execute('DeleteItem', { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    const replan = await lock(makePlan(), waited);
    expect(replan.decision).toBe('REPLAN');
    expect(history()).toEqual([]);
    expect(started()).toEqual([]);

    const fresh = makePlan({ blue: { ...BLUE, instanceCount: 5 }, traffic: { mode: 'LINEAR', stepPercents: [50, 100] } });
    await expect(lock(fresh, replan)).resolves.toMatchObject({ decision: 'ACQUIRED' });
    expect(data(rolloutHeaderKey(DEPLOYMENT_ID)).policy).toMatchObject({ trafficMode: 'LINEAR', stepPercents: [50, 100] });
    expect(historyKeys()).toHaveLength(2);
    expect(started()).toHaveLength(1);
  });

  test.each([
    ['DUPLICATE', async () => heldByOther({ modelPackageArn: PACKAGE_ARN }), makePlan()],
    ['WAIT', async () => heldByOther(), makePlan()],
    ['ALREADY_LIVE', async () => undefined, makePlan({ blue: { ...BLUE, variantName: 'v7-0a1b2c3d' } })],
    ['SUPERSEDED', async () => undefined, makePlan({ blue: { ...BLUE, variantName: 'v9-0a1b2c3d' } })],
  ])('%s: the rollout did not start, nothing is recorded', async (decision, arrange, plan) => {
    await arrange();
    await expect(lockWithSink(plan)).resolves.toMatchObject({ decision });
    expect(history()).toEqual([]);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(started()).toEqual([]);
  });

  test('Rollout Started on the bus: source, detail-type, the package as resource, the operator who deployed', async () => {
    const plan = makePlan({ trigger: { kind: 'OPERATOR_DEPLOY', by: 'dave', eventId: 'evt-1' }, validation: { ...makePlan().validation, requireHumanApproval: true } });
    await expect(lockWithSink(plan)).resolves.toMatchObject({ decision: 'ACQUIRED' });

    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ EventBusName: 'bus', Source: LIFECYCLE_EVENT_SOURCE, DetailType: 'Rollout Started', Resources: [PACKAGE_ARN] });
    const detail = JSON.parse(entry.Detail!);
    expect(detail).toMatchObject({ type: 'RolloutStarted', trigger: { kind: 'OPERATOR_DEPLOY', by: 'dave', eventId: 'evt-1' }, rollout: { deploymentId: DEPLOYMENT_ID } });
    expect(detail.message).toContain('deployed by hand by dave');
    expect(data(rolloutHeaderKey(DEPLOYMENT_ID))).toMatchObject({ trigger: { kind: 'OPERATOR_DEPLOY', by: 'dave', eventId: 'evt-1' }, policy: { validationDecision: 'HUMAN_APPROVAL' } });
  });

  test('a first deployment: the header has no blue', async () => {
    await lockWithSink(makeFirstDeploymentPlan());
    const header = data(rolloutHeaderKey(DEPLOYMENT_ID));
    expect(header).toMatchObject({ firstDeployment: true });
    expect(header).not.toHaveProperty('blueVariantName');
  });

  test('history table and bus failing: the lock is still ACQUIRED, the failures are logged with the header and the event', async () => {
    events.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const logger = spyLogger();
    // A table that does not exist: ResourceNotFoundException on every put.
    await expect(lockWithSink(makePlan(), logger, 'missing-history')).resolves.toMatchObject({ decision: 'ACQUIRED' });

    expect(holderOf()).toBe(DEPLOYMENT_ID);
    const logged = logger.error.mock.calls.map(([message, extra]) => ({ message, extra }));
    expect(logged).toEqual([
      { message: expect.stringMatching(/^Rollout header not written/), extra: expect.objectContaining({ error: expect.stringMatching(/^ResourceNotFoundException/), header: expect.objectContaining({ startedAt: START }) }) },
      { message: expect.stringMatching(/not recorded in the audit trail/), extra: expect.objectContaining({ lifecycleEvent: expect.objectContaining({ type: 'RolloutStarted' }) }) },
      { message: expect.stringMatching(/not published/), extra: expect.objectContaining({ error: 'ThrottlingException: Rate exceeded' }) },
    ]);
    // The start still counts: the rollout did start.
    expect(started()).toHaveLength(1);
  });
});

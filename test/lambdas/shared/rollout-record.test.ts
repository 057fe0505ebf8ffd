/**
 * The endpoint's record as a lock and as the active rollout, against the rehearsal's DynamoDB simulation
 * (DynamoDB's condition, update and filter expressions evaluated), so every test checks the item the table ends with.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { EndpointNotReady } from '../../../lambdas/shared/errors';
import {
  acquireEndpointLock,
  deleteActiveRollout,
  findLockByExecution,
  getActiveRollout,
  getEndpointLock,
  putActiveRollout,
  recordBlueCapacityHold,
  setWatch,
  type ActiveRollout,
  type EndpointLock,
} from '../../../lambdas/shared/rollout-record';
import { activeRecord } from '../support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makePlan, PACKAGE_ARN } from '../support/fixtures';
import type { DynamoMock } from '../support/rollouts-table';
import { SIMULATED_TABLE as TABLE, simulateRolloutsTable, type SimulatedRolloutsTable } from '../support/simulated-rollouts-table';

const START_MS = Date.UTC(2026, 0, 1, 9, 0, 0);
const NOW_S = START_MS / 1000;
const OTHER_ARN = `${EXECUTION_ARN}-other`;
const OTHER_PACKAGE = PACKAGE_ARN.replace(/\/7$/, '/8');

const dynamo = new DynamoDBClient({});
let table: SimulatedRolloutsTable;

beforeEach(() => {
  table = simulateRolloutsTable();
});
afterEach(() => table.mock.restore());

const send = <T>(work: Promise<T>): Promise<T> => work;
async function sendError(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The lock makePlan()'s rollout asks for, changed by `overrides`. */
function lockFor(overrides: Partial<Omit<EndpointLock, 'armed' | 'blueCapacity'>> = {}): Omit<EndpointLock, 'armed' | 'blueCapacity'> {
  return {
    endpointName: ENDPOINT,
    deploymentId: DEPLOYMENT_ID,
    executionArn: EXECUTION_ARN,
    modelPackageArn: PACKAGE_ARN,
    lockedAt: new Date(START_MS).toISOString(),
    expiresAt: NOW_S + 3 * 86_400,
    plan: makePlan(),
    ...overrides,
  };
}

const otherLock = (overrides: Partial<Omit<EndpointLock, 'armed' | 'blueCapacity'>> = {}) =>
  lockFor({ deploymentId: '99999999', executionArn: OTHER_ARN, modelPackageArn: OTHER_PACKAGE, plan: makePlan({ deploymentId: '99999999', executionArn: OTHER_ARN }), ...overrides });

/** The active rollout arm-alarms registers for makePlan(). */
function rolloutOf(overrides: Partial<ActiveRollout> = {}): ActiveRollout {
  const { watch: _watch, rollbackRequest: _request, ...rollout } = activeRecord();
  return { ...rollout, ...overrides };
}

const itemOf = (endpointName = ENDPOINT) => table.item(endpointName);

describe('acquireEndpointLock', () => {
  test('a free endpoint: acquired, the item holds every lock attribute, expiresAt as a number (the TTL attribute)', async () => {
    const attempt = await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    expect(attempt).toEqual({ acquired: true, lock: { ...lockFor(), armed: false } });
    expect(itemOf()).toEqual({
      endpointName: { S: ENDPOINT },
      deploymentId: { S: DEPLOYMENT_ID },
      executionArn: { S: EXECUTION_ARN },
      modelPackageArn: { S: PACKAGE_ARN },
      lockedAt: { S: '2026-01-01T09:00:00.000Z' },
      expiresAt: { N: String(NOW_S + 3 * 86_400) },
      plan: { S: JSON.stringify(makePlan()) },
    });
    await expect(send(getEndpointLock(dynamo, TABLE, ENDPOINT))).resolves.toEqual({ ...lockFor(), armed: false });
  });

  test('held by another rollout, unexpired: not acquired, the holder is returned, the item unchanged', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, otherLock(), NOW_S));
    const before = itemOf();
    const attempt = await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    expect(attempt).toEqual({ acquired: false, holder: { ...otherLock(), armed: false } });
    expect(itemOf()).toEqual(before);
  });

  test('a lock expiring this very second still holds; one second later it is taken over, the old rollout\'s attributes gone', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, otherLock({ expiresAt: NOW_S }), NOW_S - 100));
    await send(putActiveRollout(dynamo, TABLE, rolloutOf({ deploymentId: '99999999', executionArn: OTHER_ARN })));
    await send(recordBlueCapacityHold(dynamo, TABLE, ENDPOINT, '99999999', { held: true, previouslySuspended: false }));

    expect((await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S))).acquired).toBe(false);
    const attempt = await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S + 1));
    expect(attempt.acquired).toBe(true);
    const item = itemOf()!;
    expect(item.deploymentId).toEqual({ S: DEPLOYMENT_ID });
    expect(Object.keys(item).sort()).toEqual(['deploymentId', 'endpointName', 'executionArn', 'expiresAt', 'lockedAt', 'modelPackageArn', 'plan']);
    await expect(send(getActiveRollout(dynamo, TABLE, ENDPOINT))).resolves.toBeUndefined();
  });

  test('already ours (a retry, or the lock after a replan): acquired again with the new plan and expiry', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    const replanned = makePlan({ blue: { ...makePlan().blue!, instanceCount: 5 } });
    const attempt = await send(acquireEndpointLock(dynamo, TABLE, lockFor({ plan: replanned, expiresAt: NOW_S + 99 }), NOW_S + 50));
    expect(attempt.acquired).toBe(true);
    const lock = await send(getEndpointLock(dynamo, TABLE, ENDPOINT));
    expect(lock).toMatchObject({ expiresAt: NOW_S + 99, plan: replanned, armed: false });
  });

  test('two rollouts racing for a free endpoint: exactly one gets it, the other sees it as the holder', async () => {
    const [mine, theirs] = await send(Promise.all([acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S), acquireEndpointLock(dynamo, TABLE, otherLock(), NOW_S)]));
    expect([mine.acquired, theirs.acquired].filter(Boolean)).toHaveLength(1);
    const winner = mine.acquired ? DEPLOYMENT_ID : '99999999';
    const loser = mine.acquired ? theirs : mine;
    expect(loser.acquired === false && loser.holder.deploymentId).toBe(winner);
    expect(itemOf()!.deploymentId).toEqual({ S: winner });
  });

  test('released (deleteActiveRollout): the next rollout acquires at once', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, otherLock(), NOW_S));
    expect(await send(deleteActiveRollout(dynamo, TABLE, ENDPOINT, DEPLOYMENT_ID))).toBe(false);
    expect(await send(deleteActiveRollout(dynamo, TABLE, ENDPOINT, '99999999'))).toBe(true);
    expect((await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S))).acquired).toBe(true);
  });

  test('a record written before locks existed (no plan, no expiry): EndpointNotReady saying it is not a lock', async () => {
    await send(
      dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { endpointName: { S: ENDPOINT }, deploymentId: { S: '99999999' }, executionArn: { S: OTHER_ARN }, rollout: { S: JSON.stringify(rolloutOf()) } },
        }),
      ),
    );
    const error = await sendError(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    expect(error).toBeInstanceOf(EndpointNotReady);
    expect(error.message).toMatch(new RegExp(`record of endpoint ${ENDPOINT} .*deployment 99999999, execution ${OTHER_ARN}\\) is not a lock`));
    expect(itemOf()!.deploymentId).toEqual({ S: '99999999' });
  });
});

describe('the active rollout on the lock (putActiveRollout, getActiveRollout)', () => {
  test('locked but not armed: no active rollout; armed: the rollout, the lock marked armed, its attributes kept', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    await expect(send(getActiveRollout(dynamo, TABLE, ENDPOINT))).resolves.toBeUndefined();

    await send(putActiveRollout(dynamo, TABLE, rolloutOf()));
    await expect(send(getActiveRollout(dynamo, TABLE, ENDPOINT))).resolves.toEqual(rolloutOf());
    await expect(send(getEndpointLock(dynamo, TABLE, ENDPOINT))).resolves.toEqual({ ...lockFor(), armed: true });
  });

  test('a retried registration succeeds and keeps the watch', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    await send(putActiveRollout(dynamo, TABLE, rolloutOf()));
    const watch = { taskToken: 'token-1', step: '10%', since: '2026-01-01T09:05:00.000Z' };
    expect(await send(setWatch(dynamo, TABLE, ENDPOINT, DEPLOYMENT_ID, watch))).toBe(true);
    await send(putActiveRollout(dynamo, TABLE, rolloutOf()));
    await expect(send(getActiveRollout(dynamo, TABLE, ENDPOINT))).resolves.toEqual({ ...rolloutOf(), watch });
  });

  test('no lock (released or expired and deleted): EndpointNotReady, nothing written', async () => {
    const error = await sendError(putActiveRollout(dynamo, TABLE, rolloutOf()));
    expect(error).toBeInstanceOf(EndpointNotReady);
    expect(error.message).toMatch(new RegExp(`^Endpoint ${ENDPOINT} is not locked by this rollout \\(deployment ${DEPLOYMENT_ID}\\): table ${TABLE} has no lock`));
    expect(table.items()).toEqual([]);
  });

  test('another rollout\'s lock: EndpointNotReady naming its deployment, execution and package; its item unchanged', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, otherLock(), NOW_S));
    const before = itemOf();
    const error = await sendError(putActiveRollout(dynamo, TABLE, rolloutOf()));
    expect(error).toBeInstanceOf(EndpointNotReady);
    expect(error.message).toBe(
      `Endpoint ${ENDPOINT} already has an active rollout (deployment 99999999, execution ${OTHER_ARN}, model package ${OTHER_PACKAGE}), ` +
        `not this one (deployment ${DEPLOYMENT_ID}).`,
    );
    expect(itemOf()).toEqual(before);
  });
});

describe('recordBlueCapacityHold', () => {
  test('ours: recorded on the lock; not ours: false and nothing written', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    expect(await send(recordBlueCapacityHold(dynamo, TABLE, ENDPOINT, '99999999', { held: true }))).toBe(false);
    expect(itemOf()!.blueCapacity).toBeUndefined();

    expect(await send(recordBlueCapacityHold(dynamo, TABLE, ENDPOINT, DEPLOYMENT_ID, { held: true, previouslySuspended: false }))).toBe(true);
    expect(itemOf()!.blueCapacity).toEqual({ S: '{"held":true,"previouslySuspended":false}' });
    await expect(send(getEndpointLock(dynamo, TABLE, ENDPOINT))).resolves.toMatchObject({ blueCapacity: { held: true, previouslySuspended: false } });
  });

  test('no lock at all: false, and no item is created', async () => {
    expect(await send(recordBlueCapacityHold(dynamo, TABLE, ENDPOINT, DEPLOYMENT_ID, { held: false }))).toBe(false);
    expect(table.items()).toEqual([]);
  });
});

describe('findLockByExecution', () => {
  test('finds the lock of an execution among several endpoints; undefined for an execution that holds none', async () => {
    await send(acquireEndpointLock(dynamo, TABLE, lockFor(), NOW_S));
    await send(acquireEndpointLock(dynamo, TABLE, otherLock({ endpointName: 'churn-prod' }), NOW_S));
    await expect(send(findLockByExecution(dynamo, TABLE, OTHER_ARN))).resolves.toEqual({ ...otherLock({ endpointName: 'churn-prod' }), armed: false });
    await expect(send(findLockByExecution(dynamo, TABLE, EXECUTION_ARN))).resolves.toMatchObject({ endpointName: ENDPOINT, deploymentId: DEPLOYMENT_ID });
    await expect(send(findLockByExecution(dynamo, TABLE, `${EXECUTION_ARN}-none`))).resolves.toBeUndefined();
  });
});

describe('with a mocked client', () => {
  // Created here, not at load: it replaces send() of every DynamoDBClient, the simulated ones above included.
  let mocked: DynamoMock;
  beforeEach(() => {
    table.mock.restore();
    mocked = mockClient(DynamoDBClient);
  });
  const lockItem = (): Record<string, AttributeValue> => ({
    endpointName: { S: ENDPOINT },
    deploymentId: { S: DEPLOYMENT_ID },
    executionArn: { S: EXECUTION_ARN },
    modelPackageArn: { S: PACKAGE_ARN },
    lockedAt: { S: '2026-01-01T09:00:00.000Z' },
    expiresAt: { N: '1767330000' },
    plan: { S: JSON.stringify(makePlan()) },
  });
  afterEach(() => mocked.restore());

  test('findLockByExecution follows LastEvaluatedKey across pages, strongly consistent, filtering on executionArn', async () => {
    mocked
      .on(ScanCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: { endpointName: { S: 'a' } } })
      .resolvesOnce({ Items: [lockItem()] });
    await expect(findLockByExecution(new DynamoDBClient({}), TABLE, EXECUTION_ARN)).resolves.toMatchObject({ deploymentId: DEPLOYMENT_ID, expiresAt: 1_767_330_000 });
    expect(mocked).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(mocked).toHaveReceivedNthCommandWith(1, ScanCommand, {
      TableName: TABLE,
      FilterExpression: 'executionArn = :executionArn',
      ExpressionAttributeValues: { ':executionArn': { S: EXECUTION_ARN } },
      ConsistentRead: true,
    });
    expect(mocked).toHaveReceivedNthCommandWith(2, ScanCommand, { ExclusiveStartKey: { endpointName: { S: 'a' } } });
  });

  test('acquire: a condition failure without the old item (and the holder gone by the read) is retried, then acquired', async () => {
    const failure = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    mocked.on(PutItemCommand).rejectsOnce(failure).resolves({});
    mocked.on(GetItemCommand).resolves({});
    await expect(acquireEndpointLock(new DynamoDBClient({}), TABLE, lockFor(), NOW_S)).resolves.toMatchObject({ acquired: true });
    expect(mocked).toHaveReceivedCommandTimes(PutItemCommand, 2);
    expect(mocked).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { endpointName: { S: ENDPOINT } }, ConsistentRead: true });
  });

  test('acquire: any other error propagates unchanged', async () => {
    mocked.on(PutItemCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(acquireEndpointLock(new DynamoDBClient({}), TABLE, lockFor(), NOW_S)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});

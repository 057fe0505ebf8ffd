/**
 * The endpoint's record: one DynamoDB item per endpoint (partition key `endpointName`). It is first the
 * endpoint's LOCK, taken by "Lock endpoint" before a rollout changes anything (one rollout per endpoint; a
 * duplicate approval event finds it held), then, once alarms are armed, the active rollout: how an alarm event,
 * which names only an alarm, finds the rollout it concerns, what blue's weight was, and the task token of the
 * step that waits. Deleting the item (release) frees the endpoint. Conditional writes keep one rollout's writes
 * from touching another's record.
 *
 * Item attributes: `endpointName` (key), `deploymentId`, `executionArn`, `modelPackageArn`, `lockedAt` (ISO),
 * `expiresAt` (N, epoch seconds: the table's TTL attribute, and the time after which another rollout may take
 * the lock), `plan` (JSON RolloutPlan, for the reconciler); later `rollout` (JSON ActiveRollout, from arm-alarms),
 * `watch`, `rollbackRequest` and `blueCapacity` (JSON `{held, previouslySuspended?}`, from hold-blue-capacity).
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ConfigurationError, EndpointNotReady } from './errors';
import type { PayloadSource, RolloutPlan } from './plan';

/** Environment variable with the table's name. */
export const ROLLOUTS_TABLE_ENV = 'ROLLOUTS_TABLE';

/** The table's name from the function's environment. */
export function rolloutsTableName(env: NodeJS.ProcessEnv = process.env): string {
  const name = env[ROLLOUTS_TABLE_ENV];
  if (!name) throw new ConfigurationError(`${ROLLOUTS_TABLE_ENV} is not set: the function has no active-rollouts table`);
  return name;
}

/** The waiting step: the task token a rollback completes. */
export interface WatchRegistration {
  readonly taskToken: string;
  /** The step's label, e.g. `10%`, `100%`, `rollback window`. */
  readonly step: string;
  readonly since: string;
}

/** A rollback asked for by an alarm or an operator, and what came of it. */
export interface RollbackRequest {
  readonly kind: 'ALARM' | 'OPERATOR';
  /** Alarm name, or the operator's identity. */
  readonly by: string;
  readonly reason: string;
  readonly requestedAt: string;
  /** The alarm event's time (state change), for the alarm-to-rollback figure. */
  readonly eventTime?: string;
  /** When blue's weights were requested back (absent if they were not touched). */
  readonly weightsRestoredAt?: string;
  readonly outcome?: 'ROLLED_BACK' | 'BLUE_UNHEALTHY' | 'NOTHING_TO_RESTORE';
  readonly message?: string;
}

/** What a rollout registers when its alarms are armed (static for the rollout's life). */
export interface ActiveRollout {
  readonly endpointName: string;
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly modelPackageArn: string;
  /** Absent on a first deployment (there is no blue). */
  readonly blueVariantName?: string;
  /** Blue's weight when the rollout began: what a rollback gives back. */
  readonly blueWeight?: number;
  /** Blue's instance count when the rollout began (what a rollback expects it to still have). */
  readonly blueInstanceCount?: number;
  readonly greenVariantName: string;
  /** Every alarm that rolls this rollout back: its own and the policy's existing ones. */
  readonly alarmNames: readonly string[];
  /** Alarms this rollout created (deleted when it ends). */
  readonly ownAlarmNames: readonly string[];
  /** Where the probe request for blue comes from. */
  readonly payloads: PayloadSource;
  readonly createdAt: string;
}

export interface ActiveRolloutRecord extends ActiveRollout {
  readonly watch?: WatchRegistration;
  readonly rollbackRequest?: RollbackRequest;
}

/** What hold-blue-capacity did to blue's dynamic scale-in (what a reconciler must resume). */
export interface BlueCapacityHold {
  /** True when this rollout suspended blue's scale-in. */
  readonly held: boolean;
  /** True when it was already suspended before the rollout (left as it was). */
  readonly previouslySuspended?: boolean;
}

/** The endpoint's lock: which rollout holds the endpoint, until when, and what it planned. */
export interface EndpointLock {
  readonly endpointName: string;
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly modelPackageArn: string;
  /** When the lock was (last) taken, ISO 8601. */
  readonly lockedAt: string;
  /** Epoch seconds after which another rollout may take the lock (and DynamoDB's TTL deletes the item, lazily). */
  readonly expiresAt: number;
  readonly plan: RolloutPlan;
  readonly blueCapacity?: BlueCapacityHold;
  /** True once arm-alarms registered the active rollout (the `rollout` attribute). */
  readonly armed: boolean;
}

/** What `acquireEndpointLock` found: the lock is ours now, or another rollout holds it. */
export type LockAttempt = { readonly acquired: true; readonly lock: EndpointLock } | { readonly acquired: false; readonly holder: EndpointLock };

const S = (value: string): AttributeValue => ({ S: value });

function lockItem(lock: Omit<EndpointLock, 'armed' | 'blueCapacity'>): Record<string, AttributeValue> {
  return {
    endpointName: S(lock.endpointName),
    deploymentId: S(lock.deploymentId),
    executionArn: S(lock.executionArn),
    modelPackageArn: S(lock.modelPackageArn),
    lockedAt: S(lock.lockedAt),
    expiresAt: { N: String(Math.floor(lock.expiresAt)) },
    plan: S(JSON.stringify(lock.plan)),
  };
}

/**
 * The lock an item records. An item without the lock's attributes was written before locks existed (an active
 * rollout registered by arm-alarms alone): it cannot be read as a lock, and the error says so.
 */
function lockFromItem(item: Record<string, AttributeValue>, table: string): EndpointLock {
  const { endpointName, deploymentId, executionArn, modelPackageArn, lockedAt, expiresAt, plan } = item;
  if (!endpointName?.S || !deploymentId?.S || !executionArn?.S || !modelPackageArn?.S || !lockedAt?.S || !expiresAt?.N || !plan?.S) {
    throw new EndpointNotReady(
      `The record of endpoint ${endpointName?.S} in table ${table} (deployment ${deploymentId?.S}, execution ${executionArn?.S}) is not a lock: ` +
        'it lacks modelPackageArn, lockedAt, expiresAt or plan (written before endpoint locks existed?). Wait for its rollout to release it, ' +
        'or delete the item once that execution has ended.',
    );
  }
  return {
    endpointName: endpointName.S,
    deploymentId: deploymentId.S,
    executionArn: executionArn.S,
    modelPackageArn: modelPackageArn.S,
    lockedAt: lockedAt.S,
    expiresAt: Number(expiresAt.N),
    plan: JSON.parse(plan.S) as RolloutPlan,
    ...(item.blueCapacity?.S ? { blueCapacity: JSON.parse(item.blueCapacity.S) as BlueCapacityHold } : {}),
    armed: item.rollout?.S !== undefined,
  };
}

function fromItem(item: Record<string, AttributeValue>): ActiveRolloutRecord {
  const rollout = JSON.parse(item.rollout!.S!) as ActiveRollout;
  return {
    ...rollout,
    ...(item.watch?.S ? { watch: JSON.parse(item.watch.S) as WatchRegistration } : {}),
    ...(item.rollbackRequest?.S ? { rollbackRequest: JSON.parse(item.rollbackRequest.S) as RollbackRequest } : {}),
  };
}

async function getItem(dynamo: DynamoDBClient, table: string, endpointName: string): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await dynamo.send(new GetItemCommand({ TableName: table, Key: { endpointName: S(endpointName) }, ConsistentRead: true }));
  return Item;
}

/**
 * The endpoint's active rollout, if any (strongly consistent: an alarm must see the latest token). A lock whose
 * rollout has not armed its alarms yet is no active rollout: nothing watches green, nothing can be rolled back.
 */
export async function getActiveRollout(dynamo: DynamoDBClient, table: string, endpointName: string): Promise<ActiveRolloutRecord | undefined> {
  const item = await getItem(dynamo, table, endpointName);
  return item?.rollout?.S !== undefined ? fromItem(item) : undefined;
}

/**
 * Registers the rollout as the endpoint's active one (the `rollout` attribute of the endpoint's lock). The lock
 * must be this rollout's (taken by "Lock endpoint"); a retried call writes the same registration again and keeps
 * the watch and rollback request.
 * @throws EndpointNotReady naming the holder when another rollout holds the endpoint, or when no lock exists
 *   (released or expired and deleted)
 */
export async function putActiveRollout(dynamo: DynamoDBClient, table: string, rollout: ActiveRollout): Promise<void> {
  const registered = await conditionalUpdate(dynamo, {
    TableName: table,
    Key: { endpointName: S(rollout.endpointName) },
    UpdateExpression: 'SET #rollout = :rollout',
    ConditionExpression: 'deploymentId = :deploymentId',
    ExpressionAttributeNames: { '#rollout': 'rollout' },
    ExpressionAttributeValues: { ':deploymentId': S(rollout.deploymentId), ':rollout': S(JSON.stringify(rollout)) },
  });
  if (registered) return;
  const Item = await getItem(dynamo, table, rollout.endpointName);
  if (!Item) {
    throw new EndpointNotReady(
      `Endpoint ${rollout.endpointName} is not locked by this rollout (deployment ${rollout.deploymentId}): table ${table} has no lock for it ` +
        `(released, or expired): the rollout cannot register as the endpoint's active one.`,
    );
  }
  throw new EndpointNotReady(
    `Endpoint ${rollout.endpointName} already has an active rollout (deployment ${Item.deploymentId?.S}, execution ${Item.executionArn?.S}` +
      `${Item.modelPackageArn?.S ? `, model package ${Item.modelPackageArn.S}` : ''}), not this one (deployment ${rollout.deploymentId}).`,
  );
}

/**
 * Takes the endpoint's lock for `lock.deploymentId` when it is free, expired (`expiresAt` < `nowSeconds`:
 * DynamoDB's TTL deletes expired items lazily, up to days late, so expiry is checked here, not left to TTL) or
 * already this rollout's (a retried call, or the second "Lock endpoint" after a replan: the plan, expiry and time
 * are rewritten; nothing else is recorded yet at that point). One conditional PutItem, so of two rollouts racing
 * for a free endpoint exactly one gets it.
 */
export async function acquireEndpointLock(
  dynamo: DynamoDBClient,
  table: string,
  lock: Omit<EndpointLock, 'armed' | 'blueCapacity'>,
  nowSeconds: number,
): Promise<LockAttempt> {
  // The holder can release between a failed condition and the read of its item: try again then (bounded).
  for (let attempt = 1; ; attempt++) {
    try {
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: lockItem(lock),
          ConditionExpression: 'attribute_not_exists(endpointName) OR deploymentId = :deploymentId OR expiresAt < :now',
          ExpressionAttributeValues: { ':deploymentId': S(lock.deploymentId), ':now': { N: String(Math.floor(nowSeconds)) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true, lock: { ...lock, armed: false } };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = (error as { Item?: Record<string, AttributeValue> }).Item ?? (await getItem(dynamo, table, lock.endpointName));
      if (item) return { acquired: false, holder: lockFromItem(item, table) };
      if (attempt >= ACQUIRE_ATTEMPTS) {
        throw new EndpointNotReady(`The lock of endpoint ${lock.endpointName} in table ${table} changed hands ${attempt} times while being taken: try again.`);
      }
    }
  }
}

/** Attempts of `acquireEndpointLock` when the holder keeps vanishing between the write and the read. */
const ACQUIRE_ATTEMPTS = 3;

/** The endpoint's lock, if any (strongly consistent). */
export async function getEndpointLock(dynamo: DynamoDBClient, table: string, endpointName: string): Promise<EndpointLock | undefined> {
  const item = await getItem(dynamo, table, endpointName);
  return item ? lockFromItem(item, table) : undefined;
}

/**
 * The lock an execution holds, found by its ARN: a Scan with a filter, strongly consistent (the table holds one
 * item per endpoint, so it is small).
 */
export async function findLockByExecution(dynamo: DynamoDBClient, table: string, executionArn: string): Promise<EndpointLock | undefined> {
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'executionArn = :executionArn',
        ExpressionAttributeValues: { ':executionArn': S(executionArn) },
        ConsistentRead: true,
        ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
      }),
    );
    const item = page.Items?.[0];
    if (item) return lockFromItem(item, table);
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
  return undefined;
}

/**
 * Every endpoint's lock, by endpoint name: a Scan, strongly consistent (one item per endpoint, so the table is
 * small). Expired locks are included (TTL deletes them lazily); the caller compares `expiresAt` with its clock.
 * @throws EndpointNotReady for an item that is not a lock (as getEndpointLock does)
 */
export async function listEndpointLocks(dynamo: DynamoDBClient, table: string): Promise<EndpointLock[]> {
  const locks: EndpointLock[] = [];
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}) }),
    );
    locks.push(...(page.Items ?? []).map((item) => lockFromItem(item, table)));
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
  return locks.sort((a, b) => a.endpointName.localeCompare(b.endpointName));
}

/** Records that this rollout held (or did not hold) blue's scale-in; false if the lock is not this rollout's. */
export async function recordBlueCapacityHold(
  dynamo: DynamoDBClient,
  table: string,
  endpointName: string,
  deploymentId: string,
  hold: BlueCapacityHold,
): Promise<boolean> {
  return conditionalUpdate(dynamo, {
    TableName: table,
    Key: { endpointName: S(endpointName) },
    UpdateExpression: 'SET #capacity = :capacity',
    ConditionExpression: 'deploymentId = :deploymentId',
    ExpressionAttributeNames: { '#capacity': 'blueCapacity' },
    ExpressionAttributeValues: {
      ':deploymentId': S(deploymentId),
      ':capacity': S(JSON.stringify({ held: hold.held, ...(hold.previouslySuspended !== undefined ? { previouslySuspended: hold.previouslySuspended } : {}) })),
    },
  });
}

/** Sets (or with `undefined`, clears) the waiting step's registration; false if the record is not this rollout's. */
export async function setWatch(
  dynamo: DynamoDBClient,
  table: string,
  endpointName: string,
  deploymentId: string,
  watch: WatchRegistration | undefined,
): Promise<boolean> {
  return conditionalUpdate(dynamo, {
    TableName: table,
    Key: { endpointName: S(endpointName) },
    UpdateExpression: watch ? 'SET #watch = :watch' : 'REMOVE #watch',
    ConditionExpression: 'deploymentId = :deploymentId',
    ExpressionAttributeNames: { '#watch': 'watch' },
    ExpressionAttributeValues: { ':deploymentId': S(deploymentId), ...(watch ? { ':watch': S(JSON.stringify(watch)) } : {}) },
  });
}

/**
 * Records a rollback request once: true if this call recorded it, false if one was already recorded (or
 * the record is not this rollout's). `update` replaces the recorded request (its outcome) unconditionally.
 */
export async function recordRollbackRequest(
  dynamo: DynamoDBClient,
  table: string,
  endpointName: string,
  deploymentId: string,
  request: RollbackRequest,
  mode: 'first' | 'update' = 'first',
): Promise<boolean> {
  return conditionalUpdate(dynamo, {
    TableName: table,
    Key: { endpointName: S(endpointName) },
    UpdateExpression: 'SET #request = :request',
    ConditionExpression: mode === 'first' ? 'deploymentId = :deploymentId AND attribute_not_exists(#request)' : 'deploymentId = :deploymentId',
    ExpressionAttributeNames: { '#request': 'rollbackRequest' },
    ExpressionAttributeValues: { ':deploymentId': S(deploymentId), ':request': S(JSON.stringify(request)) },
  });
}

/** Removes the record if it is this rollout's, which releases the endpoint's lock; idempotent. */
export async function deleteActiveRollout(dynamo: DynamoDBClient, table: string, endpointName: string, deploymentId: string): Promise<boolean> {
  try {
    await dynamo.send(
      new DeleteItemCommand({
        TableName: table,
        Key: { endpointName: S(endpointName) },
        ConditionExpression: 'attribute_not_exists(endpointName) OR deploymentId = :deploymentId',
        ExpressionAttributeValues: { ':deploymentId': S(deploymentId) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

async function conditionalUpdate(dynamo: DynamoDBClient, input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
  try {
    await dynamo.send(new UpdateItemCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

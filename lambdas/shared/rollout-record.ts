/**
 * The active-rollout record: one DynamoDB item per endpoint (partition key `endpointName`) while a rollout
 * watches green. It is how an alarm event, which names only an alarm, finds the rollout it concerns, what blue's
 * weight was, and the task token of the step that waits. Conditional writes keep one rollout's writes from
 * touching another's record.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ConfigurationError, EndpointNotReady } from './errors';
import type { PayloadSource } from './plan';

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

const S = (value: string): AttributeValue => ({ S: value });

function toItem(rollout: ActiveRollout): Record<string, AttributeValue> {
  return {
    endpointName: S(rollout.endpointName),
    deploymentId: S(rollout.deploymentId),
    executionArn: S(rollout.executionArn),
    rollout: S(JSON.stringify(rollout)),
  };
}

function fromItem(item: Record<string, AttributeValue>): ActiveRolloutRecord {
  const rollout = JSON.parse(item.rollout?.S ?? '{}') as ActiveRollout;
  return {
    ...rollout,
    ...(item.watch?.S ? { watch: JSON.parse(item.watch.S) as WatchRegistration } : {}),
    ...(item.rollbackRequest?.S ? { rollbackRequest: JSON.parse(item.rollbackRequest.S) as RollbackRequest } : {}),
  };
}

/** The endpoint's active rollout, if any (strongly consistent: an alarm must see the latest token). */
export async function getActiveRollout(dynamo: DynamoDBClient, table: string, endpointName: string): Promise<ActiveRolloutRecord | undefined> {
  const { Item } = await dynamo.send(new GetItemCommand({ TableName: table, Key: { endpointName: S(endpointName) }, ConsistentRead: true }));
  return Item ? fromItem(Item) : undefined;
}

/**
 * Registers the rollout as the endpoint's active one. Idempotent for the same deployment (a retried call
 * keeps its watch and rollback request); refused, naming the other execution, if another rollout holds it.
 */
export async function putActiveRollout(dynamo: DynamoDBClient, table: string, rollout: ActiveRollout): Promise<void> {
  try {
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: toItem(rollout),
        ConditionExpression: 'attribute_not_exists(endpointName)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
    const current = await getActiveRollout(dynamo, table, rollout.endpointName);
    if (current?.deploymentId === rollout.deploymentId) return;
    if (!current) return putActiveRollout(dynamo, table, rollout);
    throw new EndpointNotReady(
      `Endpoint ${rollout.endpointName} already has an active rollout (deployment ${current.deploymentId}, execution ${current.executionArn}).`,
    );
  }
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

/** Removes the record if it is this rollout's; idempotent. */
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
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

async function conditionalUpdate(dynamo: DynamoDBClient, input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
  try {
    await dynamo.send(new UpdateItemCommand(input));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * A stateful active-rollouts table for aws-sdk-client-mock: GetItem and UpdateItem behave as DynamoDB does for
 * the expressions lambdas/shared/rollout-record.ts writes (SET/REMOVE one attribute, conditions on deploymentId
 * and attribute_not_exists), so a test sees what a first call recorded when the event is delivered again.
 */
import {
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClientResolvedConfig,
  type GetItemCommandInput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { RollbackRequest, WatchRegistration } from '../../../lambdas/shared/rollout-record';
import { conditionFailed } from './alarm-steps';

/** What `mockClient(DynamoDBClient)` returns. */
export type DynamoMock = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBClientResolvedConfig>;

/** Items by endpoint name (the partition key). */
export type RolloutsTable = Map<string, Record<string, AttributeValue>>;

/** Serves GetItem and UpdateItem of `table` (any table name; tests assert the name separately). */
export function serveRolloutsTable(dynamo: DynamoMock, table: RolloutsTable): void {
  dynamo.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
    const item = table.get(input.Key?.endpointName?.S ?? '');
    return item ? { Item: structuredClone(item) } : {};
  });
  dynamo.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const key = input.Key?.endpointName?.S ?? '';
    const item = table.get(key);
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const condition = input.ConditionExpression ?? '';
    if (/deploymentId = :deploymentId/.test(condition) && item?.deploymentId?.S !== values[':deploymentId']?.S) throw conditionFailed();
    const notExists = /attribute_not_exists\((#\w+)\)/.exec(condition);
    if (notExists && item?.[names[notExists[1]!]!] !== undefined) throw conditionFailed();
    const updated = { ...(item ?? { endpointName: { S: key } }) };
    const set = /^SET (#\w+) = (:\w+)$/.exec(input.UpdateExpression ?? '');
    const remove = /^REMOVE (#\w+)$/.exec(input.UpdateExpression ?? '');
    if (set) updated[names[set[1]!]!] = values[set[2]!]!;
    else if (remove) delete updated[names[remove[1]!]!];
    else throw new Error(`serveRolloutsTable: unexpected UpdateExpression ${input.UpdateExpression}`);
    table.set(key, updated);
    return {};
  });
}

/** The rollback request recorded in the table's item for `endpointName`, if any. */
export function recordedRequest(table: RolloutsTable, endpointName: string): RollbackRequest | undefined {
  const text = table.get(endpointName)?.rollbackRequest?.S;
  return text ? (JSON.parse(text) as RollbackRequest) : undefined;
}

/** Replaces the watch registration in the table (the execution moving on to another watched step). */
export function registerWatch(table: RolloutsTable, endpointName: string, watch: WatchRegistration): void {
  const item = table.get(endpointName);
  if (!item) throw new Error(`registerWatch: no item for ${endpointName}`);
  table.set(endpointName, { ...item, watch: { S: JSON.stringify(watch) } });
}

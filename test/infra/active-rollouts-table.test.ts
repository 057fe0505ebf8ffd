import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { getActiveRollout } from '../../lambdas/shared/rollout-record';
import { ACTIVE_ROLLOUTS_PARTITION_KEY, ACTIVE_ROLLOUTS_TTL_ATTRIBUTE } from '../../lib/active-rollouts-table';
import { synthStack } from './helpers';

const { stack, template } = synthStack();
const tables = Object.entries(template.findResources('AWS::DynamoDB::Table')) as Array<[string, Record<string, any>]>;
const tableId = (stack.resolve(stack.activeRollouts.table.tableName) as { Ref: string }).Ref;
const table = Object.fromEntries(tables)[tableId]!;

describe('the active-rollouts table', () => {
  test('is one of the two tables (the other is the rollout history), keyed by endpointName (a string): one active rollout per endpoint', () => {
    expect(tables.map(([id]) => id).sort()).toEqual([tableId, (stack.resolve(stack.history.table.tableName) as { Ref: string }).Ref].sort());
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'endpointName', KeyType: 'HASH' }]);
    expect(table.Properties.AttributeDefinitions).toEqual([{ AttributeName: 'endpointName', AttributeType: 'S' }]);
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
  });

  test('its key is the attribute the handlers address items by (lambdas/shared/rollout-record.ts)', async () => {
    const dynamo = mockClient(DynamoDBClient);
    dynamo.on(GetItemCommand).resolves({});
    await getActiveRollout(new DynamoDBClient({}), 'table', 'fraud-prod');
    const key = dynamo.commandCalls(GetItemCommand)[0]!.args[0].input.Key;
    expect(key).toEqual({ [ACTIVE_ROLLOUTS_PARTITION_KEY]: { S: 'fraud-prod' } });
    dynamo.restore();
  });

  test('is on-demand, with point-in-time recovery, encrypted with the AWS-managed key, and expires items by expiresAt', () => {
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(ACTIVE_ROLLOUTS_TTL_ATTRIBUTE).toBe('expiresAt');
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  test('is kept when the stack is deleted or the table replaced (its rollback records are an audit trail)', () => {
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  test('has no fixed name (a retained table would block the next deployment) and is named by the ActiveRolloutsTableName output', () => {
    expect(table.Properties.TableName).toBeUndefined();
    template.hasOutput('ActiveRolloutsTableName', { Value: { Ref: tableId } });
  });
});

import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { HISTORY_TABLE_OUTPUT } from '../../cli/options';
import { putAuditEvent, putRolloutHeader, readRolloutAudit, type RolloutHeader } from '../../lambdas/shared/audit-trail';
import type { LifecycleDetail } from '../../lambdas/shared/lifecycle-events';
import { ROLLOUT_HISTORY_PARTITION_KEY, ROLLOUT_HISTORY_SORT_KEY } from '../../lib/rollout-history-table';
import { synthStack, TEST_ROLLOUT_REF } from './helpers';

const { stack, template } = synthStack();
const tableId = (stack.resolve(stack.history.table.tableName) as { Ref: string }).Ref;
const table = (template.toJSON().Resources as Record<string, Record<string, any>>)[tableId]!;

const ref = TEST_ROLLOUT_REF;

describe('the rollout history table', () => {
  test('is keyed by endpointName (partition) and recordKey (sort), both strings, with no index', () => {
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect([ROLLOUT_HISTORY_PARTITION_KEY, ROLLOUT_HISTORY_SORT_KEY]).toEqual(['endpointName', 'recordKey']);
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: 'endpointName', KeyType: 'HASH' },
      { AttributeName: 'recordKey', KeyType: 'RANGE' },
    ]);
    expect(table.Properties.AttributeDefinitions).toEqual([
      { AttributeName: 'endpointName', AttributeType: 'S' },
      { AttributeName: 'recordKey', AttributeType: 'S' },
    ]);
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
  });

  test('its keys are the attributes the audit trail writes and queries (lambdas/shared/audit-trail.ts)', async () => {
    const dynamo = mockClient(DynamoDBClient);
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(QueryCommand).resolves({ Items: [] });
    const client = new DynamoDBClient({});
    const header = { ref, startedAt: '2025-01-01T00:00:00.000Z' } as unknown as RolloutHeader;
    await putRolloutHeader(client, 'history', header);
    const detail = { type: 'TrafficShifted', at: '2025-01-01T00:10:00.000Z' } as unknown as LifecycleDetail;
    await putAuditEvent(client, 'history', { ref, type: 'TrafficShifted', at: detail.at, discriminator: '10', detail });
    await readRolloutAudit(client, 'history', ref.endpointName, ref.deploymentId);
    for (const call of dynamo.commandCalls(PutItemCommand)) {
      const item = call.args[0].input.Item!;
      expect(item[ROLLOUT_HISTORY_PARTITION_KEY]).toEqual({ S: ref.endpointName });
      expect(item[ROLLOUT_HISTORY_SORT_KEY]?.S).toMatch(new RegExp(`^(ROLLOUT|EVENT)#${ref.deploymentId}`));
      // Never overwritten: the put only creates a key nobody wrote.
      expect(call.args[0].input.ConditionExpression).toBe(`attribute_not_exists(${ROLLOUT_HISTORY_SORT_KEY})`);
    }
    expect(dynamo.commandCalls(PutItemCommand)).toHaveLength(2);
    const query = dynamo.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query.IndexName).toBeUndefined();
    expect(JSON.stringify(query)).toContain(ROLLOUT_HISTORY_PARTITION_KEY);
    dynamo.restore();
  });

  test('is on-demand, with point-in-time recovery, deletion protection and the AWS-managed key, and keeps records forever (no TTL)', () => {
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(table.Properties.StreamSpecification).toBeUndefined();
  });

  test('is kept when the stack is deleted or the table replaced', () => {
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  test('has no fixed name (a retained table would block the next deployment) and is named by the RolloutHistoryTableName output', () => {
    expect(table.Properties.TableName).toBeUndefined();
    template.hasOutput('RolloutHistoryTableName', { Value: { Ref: tableId } });
    // The operator CLI tells users to read the table's name from this very output.
    expect(HISTORY_TABLE_OUTPUT).toBe('RolloutHistoryTableName');
  });
});

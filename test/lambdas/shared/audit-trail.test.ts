/**
 * The audit trail and lifecycle events against the rehearsal's DynamoDB simulation (conditions and queries evaluated
 * as DynamoDB does) and a mocked EventBridge: records are never overwritten, a rollout reads back in time order,
 * history lists newest first, and recording never throws.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbSimulation } from '../../../rehearsal/sim/dynamodb';
import { serveFromSimulation } from '../support/simulated-rollouts-table';
import {
  findRolloutByExecution,
  hashConfig,
  listRolloutHistory,
  putRolloutHeader,
  putRolloutOutcome,
  readRolloutAudit,
  type RolloutHeader,
} from '../../../lambdas/shared/audit-trail';
import {
  isNotified,
  LIFECYCLE_EVENT_SOURCE,
  NOTIFICATION_EVENT_PATTERN,
  recordLifecycleEvent,
  type LifecycleSink,
  type RolloutRef,
} from '../../../lambdas/shared/lifecycle-events';
import { matchesPattern } from '../../../rehearsal/event-bus';

const TABLE = 'history';
const REF: RolloutRef = {
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:rollout:abc',
  deploymentId: '0a1b2c3d',
  endpointName: 'fraud-endpoint',
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/7',
  modelPackageGroupName: 'fraud',
  modelPackageVersion: 7,
};

function header(ref: RolloutRef, startedAt: string): RolloutHeader {
  return {
    ref,
    startedAt,
    trigger: { kind: 'OPERATOR_DEPLOY', by: 'alice' },
    policy: { trafficMode: 'CANARY', stepPercents: [10, 100], bakeSeconds: 600, stepBakeSeconds: 300, rollbackWindowSeconds: 300 },
    configHash: hashConfig({ a: 1 }),
    blueVariantName: 'blue-v6',
    greenVariantName: 'green-v7',
    instanceType: 'ml.g5.xlarge',
    instanceCount: 2,
    firstDeployment: false,
  };
}

let simulation: DynamoDbSimulation;
const dynamoMock = mockClient(DynamoDBClient);
const eventsMock = mockClient(EventBridgeClient);
const logged: { level: string; message: string; extra: unknown[] }[] = [];
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, ...extra: unknown[]) => void logged.push({ level: 'warn', message, extra }),
  error: (message: string, ...extra: unknown[]) => void logged.push({ level: 'error', message, extra }),
} as unknown as LifecycleSink['logger'];

function sink(overrides: Partial<LifecycleSink> = {}): LifecycleSink {
  return { dynamo: new DynamoDBClient({}), auditTable: TABLE, events: new EventBridgeClient({}), busName: 'rollout-events', logger, ...overrides };
}

beforeEach(() => {
  simulation = new DynamoDbSimulation({ region: 'us-east-1', accountId: '123456789012' });
  simulation.createTable(TABLE, { partitionKey: 'endpointName', sortKey: 'recordKey' });
  dynamoMock.reset();
  eventsMock.reset();
  logged.length = 0;
  for (const [command, operation] of [[PutItemCommand, 'PutItem'], [QueryCommand, 'Query'], [ScanCommand, 'Scan']] as const) {
    serveFromSimulation(dynamoMock, simulation, command, operation);
  }
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

describe('hashConfig', () => {
  it('does not depend on key order, and changes with any value', () => {
    expect(hashConfig({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(hashConfig({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(hashConfig({ a: 1, b: { c: [1, 2], d: 'x' } })).not.toBe(hashConfig({ a: 1, b: { c: [2, 1], d: 'x' } }));
    expect(hashConfig({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('recordLifecycleEvent', () => {
  it('writes the event in the audit trail and publishes it with the versioned detail', async () => {
    const result = await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, { at: '2026-11-22T10:00:00.000Z', discriminator: '10' });
    expect(result).toMatchObject({ recorded: true, published: true });
    const entry = eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ EventBusName: 'rollout-events', Source: LIFECYCLE_EVENT_SOURCE, DetailType: 'Traffic Shifted', Resources: [REF.modelPackageArn] });
    const detail = JSON.parse(entry.Detail!);
    expect(detail).toMatchObject({ schemaVersion: '1', type: 'TrafficShifted', greenPercent: 10, bluePercent: 90, rollout: REF, at: '2026-11-22T10:00:00.000Z', notify: false });
    expect(detail.message).toBe('Traffic of fraud-endpoint: green (fraud v7) 10%, blue 90%');
    const items = simulation.items(TABLE);
    expect(items).toHaveLength(1);
    expect(items[0]!.recordKey).toEqual({ S: 'EVENT#0a1b2c3d#TrafficShifted#10' });
    expect(JSON.parse((items[0]!.data as { S: string }).S)).toEqual(detail);
  });

  it('never overwrites: a retried step records the same event once, the first write stands', async () => {
    const at = '2026-11-22T10:00:00.000Z';
    await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, { at, discriminator: '10' });
    const second = await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, { at: '2026-11-22T10:01:00.000Z', discriminator: '10' });
    expect(second.recorded).toBe(false);
    expect(simulation.items(TABLE)).toHaveLength(1);
    expect(await putRolloutHeader(new DynamoDBClient({}), TABLE, header(REF, at))).toBe(true);
    expect(await putRolloutHeader(new DynamoDBClient({}), TABLE, { ...header(REF, at), instanceType: 'ml.g4dn.xlarge' })).toBe(false);
    const audit = await readRolloutAudit(new DynamoDBClient({}), TABLE, REF.endpointName, REF.deploymentId);
    expect(audit.header?.instanceType).toBe('ml.g5.xlarge');
  });

  it('does not throw when the table or the bus fails, logs the whole event and counts the failure', async () => {
    dynamoMock.on(PutItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const failures: string[] = [];
    const result = await recordLifecycleEvent(sink({ onFailure: (type, stage) => failures.push(`${type}/${stage}`) }), REF, {
      type: 'RolledBack',
      error: 'AlarmTriggered',
      reason: 'green 5xx rate 4% > 1%',
      requestedBy: 'fraud-endpoint-green-5xx',
    });
    expect(result).toMatchObject({ recorded: false, published: false });
    expect(failures).toEqual(['RolledBack/audit', 'RolledBack/publish']);
    expect(logged.map((line) => line.message)).toEqual([
      'Lifecycle event not recorded in the audit trail: kept in this log line',
      'Lifecycle event not published: kept in this log line',
    ]);
    expect(JSON.stringify(logged[1]!.extra)).toContain('InternalFailure: try again');
    expect(JSON.stringify(logged[1]!.extra)).toContain('green 5xx rate 4% > 1%');
  });

  it('marks for notification what needs a person and nothing else, and the rule pattern selects exactly those', async () => {
    expect(isNotified({ type: 'ValidationVerdict', verdict: 'PASS', gates: [] })).toBe(false);
    expect(isNotified({ type: 'ValidationVerdict', verdict: 'INCONCLUSIVE', gates: [] })).toBe(true);
    expect(isNotified({ type: 'ApprovalRequested', timeoutSeconds: 60 })).toBe(true);
    expect(isNotified({ type: 'WarmUpCompleted', variants: [] })).toBe(false);
    const { detail } = await recordLifecycleEvent(sink(), REF, { type: 'Promoted', durationSeconds: 840, greenVariantName: 'green-v7' });
    expect(matchesPattern(NOTIFICATION_EVENT_PATTERN, { source: LIFECYCLE_EVENT_SOURCE, detail })).toBe(true);
    expect(matchesPattern(NOTIFICATION_EVENT_PATTERN, { source: LIFECYCLE_EVENT_SOURCE, detail: { ...detail, notify: false } })).toBe(false);
    expect(matchesPattern(NOTIFICATION_EVENT_PATTERN, { source: 'aws.sagemaker', detail })).toBe(false);
  });
});

describe('reading the trail', () => {
  it('reads one rollout in time order, and lists history newest first with outcomes', async () => {
    const dynamo = new DynamoDBClient({});
    const older: RolloutRef = { ...REF, deploymentId: '11111111', modelPackageVersion: 6, executionArn: `${REF.executionArn}-old` };
    const other: RolloutRef = { ...REF, endpointName: 'other-endpoint', deploymentId: '22222222' };
    await putRolloutHeader(dynamo, TABLE, header(older, '2026-11-20T08:00:00.000Z'));
    await putRolloutOutcome(dynamo, TABLE, { ref: older, endedAt: '2026-11-20T08:30:00.000Z', outcome: 'ROLLED_BACK', error: 'AlarmTriggered', reason: '5xx', durationSeconds: 1800, summary: {} });
    await putRolloutHeader(dynamo, TABLE, header(REF, '2026-11-22T10:00:00.000Z'));
    await putRolloutHeader(dynamo, TABLE, header(other, '2026-11-21T10:00:00.000Z'));
    await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 100, bluePercent: 0 }, { at: '2026-11-22T10:20:00.000Z', discriminator: '100' });
    await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, { at: '2026-11-22T10:10:00.000Z', discriminator: '10' });
    await recordLifecycleEvent(sink(), older, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, { at: '2026-11-20T08:10:00.000Z' });

    const audit = await readRolloutAudit(dynamo, TABLE, REF.endpointName, REF.deploymentId);
    expect(audit.header?.startedAt).toBe('2026-11-22T10:00:00.000Z');
    expect(audit.events.map((event) => (event as { greenPercent: number }).greenPercent)).toEqual([10, 100]);
    expect(audit.outcome).toBeUndefined();

    const history = await listRolloutHistory(dynamo, TABLE, REF.endpointName);
    expect(history.map((entry) => [entry.deploymentId, entry.outcome?.outcome ?? 'RUNNING'])).toEqual([
      ['0a1b2c3d', 'RUNNING'],
      ['11111111', 'ROLLED_BACK'],
    ]);
    const everywhere = await listRolloutHistory(dynamo, TABLE);
    expect(everywhere.map((entry) => entry.deploymentId)).toEqual(['0a1b2c3d', '22222222', '11111111']);
  });
});

describe('findRolloutByExecution', () => {
  const dynamo = () => new DynamoDBClient({});
  const outcomeOf = (ref: RolloutRef) =>
    ({ ref, endedAt: '2026-11-22T10:30:00.000Z', outcome: 'PROMOTED', reason: 'green serves all traffic', durationSeconds: 1800, summary: {} }) as const;

  it("finds the execution's header, then its outcome once written; not another execution's, not events", async () => {
    const older: RolloutRef = { ...REF, deploymentId: '11111111', executionArn: `${REF.executionArn}-old` };
    const other: RolloutRef = { ...REF, endpointName: 'other-endpoint', deploymentId: '22222222', executionArn: `${REF.executionArn}-other` };
    await putRolloutHeader(dynamo(), TABLE, header(older, '2026-11-20T08:00:00.000Z'));
    await putRolloutOutcome(dynamo(), TABLE, { ...outcomeOf(older), outcome: 'ROLLED_BACK' });
    await putRolloutHeader(dynamo(), TABLE, header(other, '2026-11-21T08:00:00.000Z'));
    await putRolloutHeader(dynamo(), TABLE, header(REF, '2026-11-22T10:00:00.000Z'));
    await recordLifecycleEvent(sink(), REF, { type: 'TrafficShifted', greenPercent: 100, bluePercent: 0 }, { at: '2026-11-22T10:20:00.000Z', discriminator: '100' });

    const running = await findRolloutByExecution(dynamo(), TABLE, REF.executionArn);
    expect(running).toEqual({ header: header(REF, '2026-11-22T10:00:00.000Z') });

    await putRolloutOutcome(dynamo(), TABLE, outcomeOf(REF));
    const concluded = await findRolloutByExecution(dynamo(), TABLE, REF.executionArn);
    expect(concluded?.header.ref).toEqual(REF);
    expect(concluded?.outcome).toMatchObject({ outcome: 'PROMOTED', ref: REF });
    expect((await findRolloutByExecution(dynamo(), TABLE, older.executionArn))?.outcome?.outcome).toBe('ROLLED_BACK');
    await expect(findRolloutByExecution(dynamo(), TABLE, `${REF.executionArn}-never-locked`)).resolves.toBeUndefined();
    // Strongly consistent, filtered server side.
    expect(dynamoMock.commandCalls(ScanCommand).at(-1)!.args[0].input).toMatchObject({
      TableName: TABLE,
      ConsistentRead: true,
      FilterExpression: 'recordType IN (:rollout, :outcome) AND executionArn = :executionArn',
    });
  });

  it('pages through the table until it has both items, then stops', async () => {
    await putRolloutHeader(dynamo(), TABLE, header(REF, '2026-11-22T10:00:00.000Z'));
    await putRolloutOutcome(dynamo(), TABLE, outcomeOf(REF));
    const [headerItem, outcomeItem] = ['ROLLOUT', 'OUTCOME'].map((type) => simulation.items(TABLE).find((item) => (item.recordType as { S: string }).S === type)!);
    const key = (n: number) => ({ endpointName: { S: `endpoint-${n}` }, recordKey: { S: 'ROLLOUT#00000000' } });
    dynamoMock
      .on(ScanCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: key(1) })
      .resolvesOnce({ Items: [headerItem as never], LastEvaluatedKey: key(2) })
      .resolvesOnce({ Items: [outcomeItem as never], LastEvaluatedKey: key(3) })
      .resolves({ Items: [] });
    const found = await findRolloutByExecution(dynamo(), TABLE, REF.executionArn);
    expect(found?.header.startedAt).toBe('2026-11-22T10:00:00.000Z');
    expect(found?.outcome?.outcome).toBe('PROMOTED');
    const starts = dynamoMock.commandCalls(ScanCommand).map((call) => call.args[0].input.ExclusiveStartKey);
    expect(starts).toEqual([undefined, key(1), key(2)]);
  });

  it('reads to the last page when the outcome is missing', async () => {
    await putRolloutHeader(dynamo(), TABLE, header(REF, '2026-11-22T10:00:00.000Z'));
    const headerItem = simulation.items(TABLE)[0]!;
    dynamoMock
      .on(ScanCommand)
      .resolvesOnce({ Items: [headerItem as never], LastEvaluatedKey: { endpointName: { S: 'a' }, recordKey: { S: 'b' } } })
      .resolvesOnce({ Items: [] });
    await expect(findRolloutByExecution(dynamo(), TABLE, REF.executionArn)).resolves.toEqual({ header: header(REF, '2026-11-22T10:00:00.000Z') });
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(2);
  });
});

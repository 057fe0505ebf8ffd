/**
 * The audit trail: every rollout, recorded durably in the rollout history table (DynamoDB, point-in-time
 * recovery on, retained when the stack is deleted). Nothing in it is ever overwritten: every write is a
 * conditional PutItem of a new key, and a write that finds its key taken (a retried step) changes nothing.
 *
 * Partition key `endpointName`, sort key `recordKey`. A rollout (deployment id D) is three kinds of items:
 *
 * - `ROLLOUT#D`: the header, written when the rollout takes the endpoint's lock: model package, trigger, policy,
 *   config hash, variants, start time;
 * - `EVENT#D#<type>[#<discriminator>]`: each lifecycle event (lifecycle-events.ts). The time is not in the key, so a
 *   step retried a minute later finds its event already recorded; `readRolloutAudit` sorts them by time;
 * - `OUTCOME#D`: the outcome and the summary, written once when the rollout ends.
 *
 * Every item also has `recordType` (ROLLOUT, EVENT, OUTCOME), `deploymentId`, `executionArn`, `at` (ISO) and
 * `data` (the record as JSON: one attribute, so the schema is the TypeScript types here, versioned with the events).
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LifecycleDetail, LifecycleEventType, RolloutOutcome, RolloutRef, RolloutTrigger } from './lifecycle-events';

/** Environment variable with the history table's name. */
export const ROLLOUT_HISTORY_TABLE_ENV = 'ROLLOUT_HISTORY_TABLE';

/** The history table's name from the function's environment; undefined when the function has none. */
export function rolloutHistoryTableName(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[ROLLOUT_HISTORY_TABLE_ENV] || undefined;
}

/** What a rollout was asked to do, as the header records it. */
export interface RolloutHeader {
  readonly ref: RolloutRef;
  readonly startedAt: string;
  readonly trigger: RolloutTrigger;
  readonly policy: {
    readonly trafficMode: string;
    readonly stepPercents: readonly number[];
    readonly bakeSeconds: number;
    readonly stepBakeSeconds: number;
    readonly rollbackWindowSeconds: number;
    readonly validationDecision?: string;
  };
  /** sha256 (first 16 hex) of the target's configuration as deployed (`hashConfig`). */
  readonly configHash: string;
  readonly blueVariantName?: string;
  readonly blueModelName?: string;
  readonly greenVariantName: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly firstDeployment: boolean;
}

/** One lifecycle event as the audit trail stores it. */
export interface AuditEventRecord {
  readonly ref: RolloutRef;
  readonly type: LifecycleEventType;
  readonly at: string;
  readonly discriminator?: string;
  readonly detail: LifecycleDetail;
}

/** How a rollout ended, written once. `summary` is the execution's summary (summarize-rollout). */
export interface RolloutOutcomeRecord {
  readonly ref: RolloutRef;
  readonly endedAt: string;
  readonly outcome: RolloutOutcome;
  readonly error?: string;
  readonly reason: string;
  readonly durationSeconds: number;
  readonly summary: unknown;
}

/** A rollout as `history` lists it. */
export interface RolloutHistoryEntry {
  readonly deploymentId: string;
  readonly endpointName: string;
  readonly header?: RolloutHeader;
  readonly outcome?: RolloutOutcomeRecord;
}

/** Everything the trail holds about one rollout. */
export interface RolloutAudit {
  readonly header?: RolloutHeader;
  readonly events: readonly LifecycleDetail[];
  readonly outcome?: RolloutOutcomeRecord;
}

export const rolloutHeaderKey = (deploymentId: string): string => `ROLLOUT#${deploymentId}`;
export const rolloutOutcomeKey = (deploymentId: string): string => `OUTCOME#${deploymentId}`;
export const rolloutEventKeyPrefix = (deploymentId: string): string => `EVENT#${deploymentId}#`;
export function rolloutEventKey(deploymentId: string, type: string, discriminator?: string): string {
  return `${rolloutEventKeyPrefix(deploymentId)}${type}${discriminator ? `#${discriminator}` : ''}`;
}

/** A stable short hash of a configuration: keys sorted at every level, so the order they were written in does not count. */
export function hashConfig(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(value) ?? null)).digest('hex').slice(0, 16);
}

async function putOnce(dynamo: DynamoDBClient, table: string, item: Record<string, AttributeValue>): Promise<boolean> {
  try {
    await dynamo.send(
      new PutItemCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(recordKey)' }),
    );
    return true;
  } catch (error) {
    // The key is taken: a retried step recording what it already recorded. The first write stands.
    if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

function item(ref: RolloutRef, recordKey: string, recordType: 'ROLLOUT' | 'EVENT' | 'OUTCOME', at: string, data: unknown): Record<string, AttributeValue> {
  return {
    endpointName: { S: ref.endpointName },
    recordKey: { S: recordKey },
    recordType: { S: recordType },
    deploymentId: { S: ref.deploymentId },
    executionArn: { S: ref.executionArn },
    modelPackageArn: { S: ref.modelPackageArn },
    at: { S: at },
    data: { S: JSON.stringify(data) },
  };
}

/** Writes the rollout's header; false when it was already written. */
export function putRolloutHeader(dynamo: DynamoDBClient, table: string, header: RolloutHeader): Promise<boolean> {
  return putOnce(dynamo, table, item(header.ref, rolloutHeaderKey(header.ref.deploymentId), 'ROLLOUT', header.startedAt, header));
}

/** Writes one lifecycle event; false when it was already written. */
export function putAuditEvent(dynamo: DynamoDBClient, table: string, record: AuditEventRecord): Promise<boolean> {
  const key = rolloutEventKey(record.ref.deploymentId, record.type, record.discriminator);
  return putOnce(dynamo, table, item(record.ref, key, 'EVENT', record.at, record.detail));
}

/** Writes the rollout's outcome; false when an outcome was already written (the first one stands). */
export function putRolloutOutcome(dynamo: DynamoDBClient, table: string, outcome: RolloutOutcomeRecord): Promise<boolean> {
  return putOnce(dynamo, table, item(outcome.ref, rolloutOutcomeKey(outcome.ref.deploymentId), 'OUTCOME', outcome.endedAt, outcome));
}

function parseData<T>(raw: Record<string, AttributeValue>): T {
  const data = raw.data?.S;
  if (data === undefined) throw new Error(`audit item ${raw.endpointName?.S}/${raw.recordKey?.S} has no data attribute`);
  return JSON.parse(data) as T;
}

async function queryAll(dynamo: DynamoDBClient, table: string, endpointName: string, prefix: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'endpointName = :endpoint AND begins_with(recordKey, :prefix)',
        ExpressionAttributeValues: { ':endpoint': { S: endpointName }, ':prefix': { S: prefix } },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The header, the events in time order (then type, for two in the same millisecond) and the outcome (if any) of one rollout. */
export async function readRolloutAudit(dynamo: DynamoDBClient, table: string, endpointName: string, deploymentId: string): Promise<RolloutAudit> {
  const [headers, events, outcomes] = await Promise.all([
    queryAll(dynamo, table, endpointName, rolloutHeaderKey(deploymentId)),
    queryAll(dynamo, table, endpointName, rolloutEventKeyPrefix(deploymentId)),
    queryAll(dynamo, table, endpointName, rolloutOutcomeKey(deploymentId)),
  ]);
  // begins_with('ROLLOUT#abc') would also match a longer id; ids are 8 hex characters, but be exact.
  const exact = (raw: Record<string, AttributeValue>) => raw.deploymentId?.S === deploymentId;
  const header = headers.filter(exact)[0];
  const outcome = outcomes.filter(exact)[0];
  return {
    header: header ? parseData<RolloutHeader>(header) : undefined,
    events: events
      .filter(exact)
      .map((raw) => parseData<LifecycleDetail>(raw))
      .sort((a, b) => a.at.localeCompare(b.at)),
    outcome: outcome ? parseData<RolloutOutcomeRecord>(outcome) : undefined,
  };
}

function entries(items: readonly Record<string, AttributeValue>[]): RolloutHistoryEntry[] {
  const byRollout = new Map<string, { deploymentId: string; endpointName: string; header?: RolloutHeader; outcome?: RolloutOutcomeRecord }>();
  for (const raw of items) {
    const endpointName = raw.endpointName?.S ?? '';
    const deploymentId = raw.deploymentId?.S ?? '';
    const key = `${endpointName}/${deploymentId}`;
    const entry = byRollout.get(key) ?? { deploymentId, endpointName };
    if (raw.recordType?.S === 'ROLLOUT') entry.header = parseData<RolloutHeader>(raw);
    else if (raw.recordType?.S === 'OUTCOME') entry.outcome = parseData<RolloutOutcomeRecord>(raw);
    byRollout.set(key, entry);
  }
  const startedAt = (e: RolloutHistoryEntry) => e.header?.startedAt ?? e.outcome?.endedAt ?? '';
  return [...byRollout.values()].sort((a, b) => startedAt(b).localeCompare(startedAt(a)));
}

/**
 * Past and running rollouts, newest first: those of one endpoint (two Queries), or of every endpoint (a Scan
 * of headers and outcomes: the table holds a few items per rollout, so this stays cheap for an operator's command).
 */
export async function listRolloutHistory(dynamo: DynamoDBClient, table: string, endpointName?: string): Promise<RolloutHistoryEntry[]> {
  if (endpointName !== undefined) {
    const [headers, outcomes] = await Promise.all([
      queryAll(dynamo, table, endpointName, 'ROLLOUT#'),
      queryAll(dynamo, table, endpointName, 'OUTCOME#'),
    ]);
    return entries([...headers, ...outcomes]);
  }
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'recordType IN (:rollout, :outcome)',
        ExpressionAttributeValues: { ':rollout': { S: 'ROLLOUT' }, ':outcome': { S: 'OUTCOME' } },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return entries(items);
}

/** The rollout an execution ran, as the audit trail holds it: its header, and its outcome once it has one. */
export interface RolloutOfExecution {
  readonly header: RolloutHeader;
  /** Absent while the rollout has not been concluded. */
  readonly outcome?: RolloutOutcomeRecord;
}

/**
 * The rollout the execution `executionArn` ran: its header and outcome, or undefined when the trail has no header
 * for it (the execution never took an endpoint's lock). The table is keyed by endpoint, which an execution's
 * status-change event does not name, so this is a Scan (strongly consistent: the outcome may have just been
 * written) that pages through the whole table, stopping once both items are found. The table holds a few items
 * per rollout; a full Scan is fine for the event-driven reconciler, which runs once per failed or stopped execution.
 */
export async function findRolloutByExecution(dynamo: DynamoDBClient, table: string, executionArn: string): Promise<RolloutOfExecution | undefined> {
  let header: RolloutHeader | undefined;
  let outcome: RolloutOutcomeRecord | undefined;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'recordType IN (:rollout, :outcome) AND executionArn = :executionArn',
        ExpressionAttributeValues: { ':rollout': { S: 'ROLLOUT' }, ':outcome': { S: 'OUTCOME' }, ':executionArn': { S: executionArn } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const raw of page.Items ?? []) {
      if (raw.recordType?.S === 'ROLLOUT') header ??= parseData<RolloutHeader>(raw);
      else if (raw.recordType?.S === 'OUTCOME') outcome ??= parseData<RolloutOutcomeRecord>(raw);
    }
    startKey = header && outcome ? undefined : page.LastEvaluatedKey;
  } while (startKey);
  return header ? { header, ...(outcome ? { outcome } : {}) } : undefined;
}

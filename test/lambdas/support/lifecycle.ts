/**
 * The audit trail (DynamoDB PutItem) and the lifecycle bus (EventBridge PutEvents) mocked for the steps that record
 * lifecycle events, both answering as AWS does when all goes well, and what the steps sent read back. A step gets its
 * sink one of two ways, hence two set-ups:
 * - `mockLifecycleByEnvironment`: the handler builds the sink from its environment (ROLLOUT_HISTORY_TABLE and
 *   LIFECYCLE_EVENT_BUS, set before each test and removed after);
 * - `mockLifecycleSink`: the plain function is handed `sink()` (table SINK_AUDIT_TABLE, bus SINK_BUS) whose logger's
 *   calls a test can read (a failure to record is logged, never thrown).
 * Each registers its beforeEach/afterEach in the describe block (or file) it is called from.
 */
import { DynamoDBClient, PutItemCommand, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../../../lambdas/shared/audit-trail';
import { LIFECYCLE_BUS_ENV, type LifecycleSink } from '../../../lambdas/shared/lifecycle-events';
import type { DynamoMock } from './rollouts-table';

/** The history table and the bus a handler finds in its environment (mockLifecycleByEnvironment). */
export const HISTORY_TABLE = 'rollout-history';
export const LIFECYCLE_BUS = 'rollout-events';
/** The table and bus of `sink()` (mockLifecycleSink): other names, so a test tells them from the environment's. */
export const SINK_AUDIT_TABLE = 'history';
export const SINK_BUS = 'bus';

/** What `mockClient(EventBridgeClient)` returns. */
export type EventBridgeMock = AwsClientStub<EventBridgeClient>;

/** One audit-trail item as written: its table, its sort key and its data (the event's detail, parsed). */
export interface AuditedEvent {
  readonly table: string | undefined;
  readonly recordKey: string | undefined;
  // Parsed JSON: each test reads the fields of the event type it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: Record<string, any>;
}

/** One entry as published: its bus, source, detail-type and detail (parsed). */
export interface PublishedEvent {
  readonly bus: string | undefined;
  readonly source: string | undefined;
  readonly detailType: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly detail: Record<string, any>;
}

export interface LifecycleMocks {
  /** The DynamoDB mock the audit trail writes through (PutItem answers {} before each test). */
  readonly dynamo: DynamoMock;
  /** The EventBridge mock (PutEvents accepts every entry before each test). */
  readonly eventBridge: EventBridgeMock;
  /** Every PutItem input, in the order sent. */
  auditPuts(): PutItemCommandInput[];
  /** Every PutItem as an AuditedEvent, in the order sent. */
  auditEvents(): AuditedEvent[];
  /** The one PutItem sent (the test fails if there were none or several). */
  onlyAuditEvent(): AuditedEvent;
  /** Every entry of every PutEvents, as sent. */
  publishedEntries(): PutEventsRequestEntry[];
  /** Every published entry as a PublishedEvent, in the order sent. */
  publishedEvents(): PublishedEvent[];
  /** The one entry published (the test fails if there were none or several). */
  onlyPublishedEvent(): PublishedEvent;
}

/** A logger whose every level is a jest mock (reset before each test). */
export interface SpyLogger {
  readonly debug: jest.Mock;
  readonly info: jest.Mock;
  readonly warn: jest.Mock;
  readonly error: jest.Mock;
}

export interface LifecycleSinkMocks extends LifecycleMocks {
  /** The sink's logger: where a failure to record or publish is logged. */
  readonly logger: SpyLogger;
  /** A sink of the mocked clients, SINK_AUDIT_TABLE and SINK_BUS, logging to `logger`. */
  sink(): LifecycleSink;
}

/** PutEvents' answer when the bus accepts the entry. */
const ACCEPTED = { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };

/**
 * The audit trail and the bus a handler finds through ROLLOUT_HISTORY_TABLE and LIFECYCLE_EVENT_BUS. Pass `dynamo`
 * when the test file mocks DynamoDB already (for the step's own table): mocking it again would replace that mock,
 * and its owner resets it; otherwise DynamoDB is mocked here and reset before each test.
 */
export function mockLifecycleByEnvironment(options: { readonly dynamo?: DynamoMock } = {}): LifecycleMocks {
  const mocks = lifecycleMocks(options.dynamo);
  beforeEach(() => {
    if (!options.dynamo) mocks.dynamo.reset();
    mocks.eventBridge.reset();
    answerAsAws(mocks);
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY_TABLE;
    process.env[LIFECYCLE_BUS_ENV] = LIFECYCLE_BUS;
  });
  afterEach(() => {
    delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
    delete process.env[LIFECYCLE_BUS_ENV];
  });
  return mocks;
}

/** The audit trail and the bus behind a sink the test hands to a step's plain function. */
export function mockLifecycleSink(): LifecycleSinkMocks {
  const mocks = lifecycleMocks();
  const logger: SpyLogger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  beforeEach(() => {
    mocks.dynamo.reset();
    mocks.eventBridge.reset();
    for (const level of Object.values(logger)) level.mockReset();
    answerAsAws(mocks);
  });
  const sink = (): LifecycleSink => ({ dynamo: new DynamoDBClient({}), auditTable: SINK_AUDIT_TABLE, events: new EventBridgeClient({}), busName: SINK_BUS, logger });
  return { ...mocks, logger, sink };
}

function answerAsAws(mocks: LifecycleMocks): void {
  mocks.dynamo.on(PutItemCommand).resolves({});
  mocks.eventBridge.on(PutEventsCommand).resolves(ACCEPTED);
}

function lifecycleMocks(existingDynamo?: DynamoMock): LifecycleMocks {
  const dynamo = existingDynamo ?? mockClient(DynamoDBClient);
  const eventBridge = mockClient(EventBridgeClient);
  const auditPuts = () => dynamo.commandCalls(PutItemCommand).map((call) => call.args[0].input);
  const auditEvents = () =>
    auditPuts().map((put) => ({ table: put.TableName, recordKey: put.Item?.recordKey?.S, data: JSON.parse(put.Item?.data?.S ?? 'null') }));
  const publishedEntries = () => eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
  const publishedEvents = () =>
    publishedEntries().map((entry) => ({ bus: entry.EventBusName, source: entry.Source, detailType: entry.DetailType, detail: JSON.parse(entry.Detail ?? 'null') }));
  return {
    dynamo,
    eventBridge,
    auditPuts,
    auditEvents,
    onlyAuditEvent: () => only(auditEvents(), 'audit-trail item'),
    publishedEntries,
    publishedEvents,
    onlyPublishedEvent: () => only(publishedEvents(), 'published event'),
  };
}

function only<T>(sent: readonly T[], what: string): T {
  if (sent.length !== 1) throw new Error(`expected exactly one ${what}, found ${sent.length}: ${JSON.stringify(sent)}`);
  return sent[0]!;
}

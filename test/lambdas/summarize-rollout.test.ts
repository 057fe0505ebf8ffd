/**
 * "Summarize rollout": the outcome of each path, read from the execution state; the audit trail (the rehearsal's
 * DynamoDB simulation) read and its outcome item written once; the model package tagged (AddTags, never
 * UpdateModelPackage); the closing lifecycle event published; the outcome metrics; and nothing failing the step.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AddTagsCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/summarize-rollout';
import { summarizeRollout, SummarizeRolloutInputSchema, type SummarizeRolloutInput } from '../../lambdas/summarize-rollout/summarize';
import { putAuditEvent, putRolloutHeader, putRolloutOutcome, ROLLOUT_HISTORY_TABLE_ENV, type RolloutHeader } from '../../lambdas/shared/audit-trail';
import {
  describeLifecycleEvent,
  isNotified,
  LIFECYCLE_SCHEMA_VERSION,
  rolloutRef,
  type LifecycleDetail,
  type LifecycleEvent,
  type LifecycleSink,
} from '../../lambdas/shared/lifecycle-events';
import { configureMetricsSink } from '../../lambdas/shared/metrics';
import { PROMOTED_REASON, type RolloutSummary } from '../../lambdas/shared/rollout-summary';
import { DynamoDbSimulation } from '../../rehearsal/sim/dynamodb';
import { ACCOUNT, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makePlan, NAMES, PACKAGE_ARN, REGION } from './support/fixtures';
import { serveFromSimulation } from './support/simulated-rollouts-table';

const HISTORY = 'rollout-history';
const BUS = 'rollout-events';
const PLAN = makePlan({ trigger: { kind: 'MODEL_REGISTRY_APPROVAL', by: 'arn:aws:iam::123456789012:role/ds-lead', eventId: 'e-42' } });
const REF = rolloutRef(PLAN);
/** `seconds` from now (negative: ago), as an ISO time: the step ends the rollout now. */
const fromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const EXECUTION_START = fromNow(-22 * 60);
const LOCKED_AT = fromNow(-20 * 60);
const DECIDED_AT = fromNow(-16 * 60);

const dynamo = mockClient(DynamoDBClient);
const events = mockClient(EventBridgeClient);
const sageMaker = mockClient(SageMakerClient);
let simulation: DynamoDbSimulation;
let metrics: Array<Record<string, unknown>>;
let warnings: string[];
let infos: string[];

const logger = {
  debug: () => undefined,
  info: (message: string) => void infos.push(message),
  warn: (message: string) => void warnings.push(message),
  error: (message: string) => void warnings.push(message),
} as unknown as LifecycleSink['logger'];

const sink = (): LifecycleSink => ({ dynamo: new DynamoDBClient({}), auditTable: HISTORY, events: new EventBridgeClient({}), busName: BUS, logger });
const deps = () => ({ dynamo: new DynamoDBClient({}), auditTable: HISTORY, sageMaker: new SageMakerClient({}), sink: sink(), logger });

/** The ASL's Payload: the outcome, the whole state, the execution's start. */
function payload(outcome: string, state: Record<string, unknown> = {}): Record<string, unknown> {
  return { outcome, state: { plan: PLAN, watch: {}, lock: { decision: 'ACQUIRED' }, ...state }, executionStartTime: EXECUTION_START };
}
const parsed = (outcome: string, state: Record<string, unknown> = {}): SummarizeRolloutInput => SummarizeRolloutInputSchema.parse(payload(outcome, state));

const HEADER: RolloutHeader = {
  ref: REF,
  startedAt: LOCKED_AT,
  trigger: PLAN.trigger!,
  policy: { trafficMode: 'CANARY', stepPercents: [10, 100], bakeSeconds: 3600, stepBakeSeconds: 300, rollbackWindowSeconds: 600 },
  configHash: '0123456789abcdef',
  blueVariantName: PLAN.blue!.variantName,
  greenVariantName: NAMES.greenVariantName,
  instanceType: 'ml.g5.xlarge',
  instanceCount: 2,
  firstDeployment: false,
};

async function record(event: LifecycleEvent, at: string, discriminator?: string): Promise<void> {
  const detail = { ...event, schemaVersion: LIFECYCLE_SCHEMA_VERSION, rollout: REF, at, message: describeLifecycleEvent(REF, event), notify: isNotified(event) } as LifecycleDetail;
  await putAuditEvent(new DynamoDBClient({}), HISTORY, { ref: REF, type: event.type, at, discriminator, detail });
}

/** What the earlier steps of a promoted canary recorded. */
async function seedPromotedTrail(): Promise<void> {
  await putRolloutHeader(new DynamoDBClient({}), HISTORY, HEADER);
  await record({ type: 'RolloutStarted', trigger: HEADER.trigger, trafficMode: 'CANARY', stepPercents: [10, 100], greenVariantName: NAMES.greenVariantName, instanceType: 'ml.g5.xlarge', configHash: 'x' }, LOCKED_AT);
  await record(
    {
      type: 'GreenProvisioned',
      greenVariantName: NAMES.greenVariantName,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      resourcesCreated: [{ kind: 'model', name: NAMES.greenModelName }],
    },
    fromNow(-20 * 60 + 5),
  );
  await record(
    {
      type: 'ValidationVerdict',
      verdict: 'PASS',
      gates: [{ gate: 'latency', verdict: 'PASS', checks: [{ name: 'green p99 / blue p99', statistic: 1.02, threshold: 1.2, comparison: '<=' }] }],
    },
    fromNow(-15 * 60),
  );
  await record({ type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, fromNow(-14 * 60), '10');
  dynamo.resetHistory();
}

const historyItems = () => simulation.items(HISTORY) as Array<Record<string, { S?: string }>>;
const historyItem = (recordKey: string) => historyItems().find((item) => item.recordKey?.S === recordKey);
const publishedEntries = () => events.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
const metricValues = () =>
  metrics.flatMap((document) => {
    const definitions = (document._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics;
    return definitions.flatMap((definition) => definition.Metrics.map((metric) => ({ name: metric.Name, value: document[metric.Name], endpoint: document.EndpointName })));
  });

beforeEach(() => {
  simulation = new DynamoDbSimulation({ region: REGION, accountId: ACCOUNT });
  simulation.createTable(HISTORY, { partitionKey: 'endpointName', sortKey: 'recordKey' });
  dynamo.reset();
  events.reset();
  sageMaker.reset();
  serveFromSimulation(dynamo, simulation, PutItemCommand, 'PutItem');
  serveFromSimulation(dynamo, simulation, QueryCommand, 'Query');
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  sageMaker.on(AddTagsCommand).resolves({});
  metrics = [];
  warnings = [];
  infos = [];
  configureMetricsSink((document) => metrics.push(document));
});

afterEach(() => {
  configureMetricsSink(undefined);
  delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
});

describe('summarize-rollout: PROMOTED', () => {
  let summary: RolloutSummary;
  beforeEach(async () => {
    await seedPromotedTrail();
    summary = await summarizeRollout(parsed('PROMOTED'), deps());
  });

  test('the summary: the fixed reason, the start of the audit header, the trail\'s verdict and timeline', () => {
    expect(summary).toMatchObject({
      outcome: 'PROMOTED',
      reason: PROMOTED_REASON,
      endpointName: ENDPOINT,
      deploymentId: DEPLOYMENT_ID,
      executionArn: EXECUTION_ARN,
      modelPackageArn: PACKAGE_ARN,
      modelPackageVersion: 7,
      startedAt: LOCKED_AT,
      trigger: HEADER.trigger,
      verdict: 'PASS',
      resourcesCreated: [{ kind: 'model', name: NAMES.greenModelName }],
    });
    expect(summary.error).toBeUndefined();
    expect(summary.timeline.map((t) => t.event)).toEqual(['Rollout Started', 'Green Provisioned', 'Validation Verdict', 'Traffic Shifted', 'Rollout Promoted']);
    expect(summary.durationSeconds).toBe(Math.round((Date.parse(summary.endedAt) - Date.parse(LOCKED_AT)) / 1000));
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(20 * 60);
    expect(summary.text).toMatch(/^PROMOTED: fraud-detector v7 on fraud-detector-prod in /);
  });

  test('tags the model package with AddTags, never UpdateModelPackage (it would look like a new approval)', () => {
    expect(sageMaker).toHaveReceivedCommandTimes(AddTagsCommand, 1);
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, {
      ResourceArn: PACKAGE_ARN,
      Tags: [
        { Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'PROMOTED' },
        { Key: `bluegreen:${ENDPOINT}:deployed-at`, Value: summary.endedAt },
        { Key: `bluegreen:${ENDPOINT}:deployment-id`, Value: DEPLOYMENT_ID },
      ],
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateModelPackageCommand);
  });

  test('records and publishes Rollout Promoted', () => {
    const entries = publishedEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ EventBusName: BUS, DetailType: 'Rollout Promoted', Resources: [PACKAGE_ARN] });
    const detail = JSON.parse(entries[0]!.Detail!);
    expect(detail).toMatchObject({ type: 'Promoted', greenVariantName: NAMES.greenVariantName, durationSeconds: summary.durationSeconds, rollout: REF, at: summary.endedAt, notify: true });
    expect(JSON.parse(historyItem(`EVENT#${DEPLOYMENT_ID}#Promoted`)!.data!.S!)).toEqual(detail);
  });

  test('writes the outcome item with the summary', () => {
    const outcome = JSON.parse(historyItem(`OUTCOME#${DEPLOYMENT_ID}`)!.data!.S!);
    expect(outcome).toEqual({ ref: REF, endedAt: summary.endedAt, outcome: 'PROMOTED', reason: PROMOTED_REASON, durationSeconds: summary.durationSeconds, summary });
  });

  test('publishes RolloutsPromoted and the duration', () => {
    expect(metricValues()).toEqual([
      { name: 'RolloutsPromoted', value: 1, endpoint: ENDPOINT },
      { name: 'RolloutDurationSeconds', value: summary.durationSeconds, endpoint: ENDPOINT },
    ]);
  });

  test('concluded once: a retried invocation returns the summary and writes, tags, publishes nothing again', async () => {
    sageMaker.resetHistory();
    events.resetHistory();
    metrics = [];
    const itemsBefore = historyItems().length;
    const again = await summarizeRollout(parsed('PROMOTED'), deps());
    expect(again).toMatchObject({ outcome: 'PROMOTED', startedAt: LOCKED_AT, reason: PROMOTED_REASON });
    expect(sageMaker).not.toHaveReceivedCommand(AddTagsCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(metrics).toEqual([]);
    expect(historyItems()).toHaveLength(itemsBefore);
  });
});

describe('summarize-rollout: each path\'s error and reason', () => {
  test('ROLLED_BACK after a rejection: restore-blue\'s error and cause; the rejection is a decision', async () => {
    const summary = await summarizeRollout(
      parsed('ROLLED_BACK', {
        failure: { Error: 'RolloutRejected', Cause: 'Rejected by bob: p99 too high' },
        restore: { action: 'DONE', since: LOCKED_AT, error: 'RolloutRejected', cause: 'Rejected by bob: p99 too high. Blue restored: endpoint serves v6 alone.' },
        released: { deletedAlarms: [] },
      }),
      deps(),
    );
    expect(summary).toMatchObject({
      outcome: 'ROLLED_BACK',
      error: 'RolloutRejected',
      reason: 'Rejected by bob: p99 too high. Blue restored: endpoint serves v6 alone.',
      decisions: [{ decision: 'REJECTED', by: 'bob', reason: 'p99 too high', at: summary.endedAt }],
      // No header in the trail: the execution's start.
      startedAt: EXECUTION_START,
      trigger: PLAN.trigger,
    });
    const detail = JSON.parse(publishedEntries()[0]!.Detail!);
    expect(publishedEntries()[0]!.DetailType).toBe('Rollout Ended');
    expect(detail).toMatchObject({ type: 'Ended', outcome: 'ROLLED_BACK', error: 'RolloutRejected', reason: summary.reason });
    expect(metricValues().map((m) => m.name)).toEqual(['RolloutsRolledBack', 'RolloutDurationSeconds']);
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, { Tags: expect.arrayContaining([{ Key: `bluegreen:${ENDPOINT}:outcome`, Value: 'ROLLED_BACK' }]) });
  });

  test('ROLLBACK_BLOCKED: the Catch of "Restore blue" (Lambda\'s error document read)', async () => {
    const cause = JSON.stringify({ errorType: 'BlueUnhealthy', errorMessage: 'Blue cannot take the traffic back: 5xx on probe.', trace: ['at x'] });
    const summary = await summarizeRollout(
      parsed('ROLLBACK_BLOCKED', { failure: { Error: 'AlarmTriggered', Cause: 'alarm' }, rollbackFailure: { Error: 'BlueUnhealthy', Cause: cause } }),
      deps(),
    );
    expect(summary).toMatchObject({ outcome: 'ROLLBACK_BLOCKED', error: 'BlueUnhealthy', reason: 'Blue cannot take the traffic back: 5xx on probe.' });
    expect(metricValues().map((m) => m.name)).toEqual(['RolloutsFailed', 'RolloutDurationSeconds']);
  });

  test('ROLLBACK_FAILED: the Catch of "Restore blue"', async () => {
    const summary = await summarizeRollout(parsed('ROLLBACK_FAILED', { rollbackFailure: { Error: 'RollbackFailed', Cause: 'Blue cannot be restored.' } }), deps());
    expect(summary).toMatchObject({ outcome: 'ROLLBACK_FAILED', error: 'RollbackFailed', reason: 'Blue cannot be restored.' });
    expect(JSON.parse(publishedEntries()[0]!.Detail!)).toMatchObject({ type: 'Ended', outcome: 'ROLLBACK_FAILED' });
  });

  test('PROMOTION_INCOMPLETE: the Catch of blue\'s removal', async () => {
    const summary = await summarizeRollout(
      parsed('PROMOTION_INCOMPLETE', { failure: { Error: 'EndpointUpdateFailed', Cause: 'Update to the final config failed' } }),
      deps(),
    );
    expect(summary).toMatchObject({ outcome: 'PROMOTION_INCOMPLETE', error: 'EndpointUpdateFailed', reason: 'Update to the final config failed' });
    expect(metricValues().map((m) => m.name)).toEqual(['RolloutsFailed', 'RolloutDurationSeconds']);
  });
});

describe('summarize-rollout: nothing it records can fail it', () => {
  test('an unreadable trail: the state stands in (verdict, approval), and the text says so', async () => {
    dynamo.on(QueryCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const summary = await summarizeRollout(
      parsed('PROMOTED', {
        validation: { verdict: 'PASS', summary: 'all gates passed', reportUri: 's3://b/r.json', gates: [{ gate: 'latency', verdict: 'PASS' }] },
        approval: { decision: 'APPROVED', by: 'alice', reason: null, decidedAt: DECIDED_AT },
      }),
      deps(),
    );
    expect(summary).toMatchObject({
      outcome: 'PROMOTED',
      startedAt: EXECUTION_START,
      verdict: 'PASS',
      gates: [{ gate: 'latency', verdict: 'PASS' }],
      decisions: [{ decision: 'APPROVED', by: 'alice', at: DECIDED_AT }],
    });
    expect(summary.text).toContain('Note: the audit trail could not be read (AccessDeniedException: not allowed)');
    expect(warnings).toContain('Audit trail not read: summarizing from what the execution knows');
    // Still concluded everywhere else.
    expect(sageMaker).toHaveReceivedCommand(AddTagsCommand);
    expect(publishedEntries().map((e) => e.DetailType)).toEqual(['Rollout Promoted']);
    expect(historyItem(`OUTCOME#${DEPLOYMENT_ID}`)).toBeDefined();
  });

  test('tags, event, metrics and outcome item all refused: the summary is returned, each failure logged', async () => {
    sageMaker.on(AddTagsCommand).rejects(Object.assign(new Error('too many tags'), { name: 'ResourceLimitExceeded' }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error('no bus'), { name: 'ResourceNotFoundException' }));
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    configureMetricsSink(() => {
      throw new Error('metrics sink down');
    });
    const summary = await summarizeRollout(parsed('ROLLBACK_FAILED', { rollbackFailure: { Error: 'RollbackFailed', Cause: 'x' } }), deps());
    expect(summary.outcome).toBe('ROLLBACK_FAILED');
    expect(warnings).toEqual(
      expect.arrayContaining([
        'Model package not tagged with the outcome',
        'Lifecycle event not recorded in the audit trail: kept in this log line',
        'Lifecycle event not published: kept in this log line',
        'Outcome not written to the audit trail: kept in this log line',
      ]),
    );
  });

  test('an outcome item written by another conclusion after this one read the trail: the first one stands', async () => {
    await putRolloutOutcome(new DynamoDBClient({}), HISTORY, { ref: REF, endedAt: LOCKED_AT, outcome: 'ABORTED', reason: 'reconciled', durationSeconds: 1, summary: {} });
    // The read misses it (it is written "meanwhile"): only the conditional write finds it.
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, { S: string }> }) =>
      input.ExpressionAttributeValues[':prefix']!.S.startsWith('OUTCOME#') ? { Items: [] } : simulation.execute('Query', structuredClone(input)),
    );
    const summary = await summarizeRollout(parsed('PROMOTED'), deps());
    expect(summary.outcome).toBe('PROMOTED');
    expect(JSON.parse(historyItem(`OUTCOME#${DEPLOYMENT_ID}`)!.data!.S!)).toMatchObject({ outcome: 'ABORTED', reason: 'reconciled' });
    expect(infos).toContain('Outcome already in the audit trail (written by a concurrent conclusion): the first one stands');
  });
});

describe('summarize-rollout handler', () => {
  test('concludes with the history table from the environment and returns the summary (the execution\'s output)', async () => {
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY;
    const summary = await handler(payload('ROLLBACK_FAILED', { rollbackFailure: { Error: 'RollbackFailed', Cause: 'Blue cannot be restored.' } }));
    expect(summary).toMatchObject({ outcome: 'ROLLBACK_FAILED', error: 'RollbackFailed', startedAt: EXECUTION_START });
    expect(JSON.parse(historyItem(`OUTCOME#${DEPLOYMENT_ID}`)!.data!.S!)).toMatchObject({ outcome: 'ROLLBACK_FAILED', summary });
    expect(historyItem(`EVENT#${DEPLOYMENT_ID}#Ended`)).toBeDefined();
    expect(sageMaker).toHaveReceivedCommandWith(AddTagsCommand, { ResourceArn: PACKAGE_ARN });
  });

  test.each([
    [payload('DONE'), /outcome: must be one of PROMOTED, PROMOTION_INCOMPLETE, ROLLED_BACK, ROLLBACK_BLOCKED, ROLLBACK_FAILED/],
    [payload('ROLLED_BACK', { restore: { action: 'DONE' } }), /state\.restore\.error: is required when outcome is ROLLED_BACK/],
    [payload('ROLLBACK_FAILED'), /state\.rollbackFailure: is required when outcome is ROLLBACK_FAILED/],
    [payload('PROMOTION_INCOMPLETE'), /state\.failure: is required when outcome is PROMOTION_INCOMPLETE/],
    [{ ...payload('PROMOTED'), executionStartTime: 'yesterday' }, /executionStartTime: must be an ISO 8601 date-time/],
    [payload('PROMOTED', { plan: { ...PLAN, deploymentId: 'XYZ' } }), /state\.plan\.deploymentId: must be 8 lowercase hex characters/],
    [payload('PROMOTED', { plan: { ...PLAN, modelPackage: { ...PLAN.modelPackage, version: '7' } } }), /state\.plan\.modelPackage\.version: must be a number/],
  ])('rejects bad input %#, naming the field, before any call', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
  });
});

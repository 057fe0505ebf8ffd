/**
 * `history` against the rehearsal's DynamoDB simulation of the rollout history table, filled by the audit trail's
 * own writers (headers, lifecycle events, outcomes), so the command reads what the rollouts write.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { HistoryRow } from '../../cli/commands/history';
import { runCli } from '../../cli/runner';
import {
  putRolloutHeader,
  putRolloutOutcome,
  ROLLOUT_HISTORY_TABLE_ENV,
  type RolloutHeader,
  type RolloutOutcomeRecord,
} from '../../lambdas/shared/audit-trail';
import { recordLifecycleEvent, type LifecycleEvent, type RolloutOutcome, type RolloutRef, type RolloutTrigger } from '../../lambdas/shared/lifecycle-events';
import { ACCOUNT, REGION as FIXTURE_REGION } from '../lambdas/support/fixtures';
import type { SimulatedRolloutsTable } from '../lambdas/support/simulated-rollouts-table';
import { capturedContext, dynamoAccessDenied, HISTORY_TABLE, NOW, simulateRolloutTables } from './support';

const FRAUD = 'fraud-detector-prod';
const CREDIT = 'credit-scoring-prod';
const HISTORY_USAGE = 'Usage: npx sagemaker-blue-green history [--endpoint NAME] [--history-table TABLE] [--limit N] [--deployment ID]';
/** What the alarm's rollback recorded: long and on two lines, as a CloudWatch reason is. */
const ALARM_REASON =
  'Alarm sagemaker-blue-green-fraud-detector-prod-b2b2b2b2-green-5xx-rate went to ALARM: Threshold Crossed: 1 out of the last 1 datapoints ' +
  '[0.04 (02/03/25 10:15:00)] was greater than the threshold (0.01).\nBlue serves all traffic again.';

const dynamo = new DynamoDBClient({});
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };
let tables: SimulatedRolloutsTable;
const savedEnv = process.env[ROLLOUT_HISTORY_TABLE_ENV];

interface PastRollout {
  readonly ref: RolloutRef;
  readonly startedAt: string;
  readonly trigger: RolloutTrigger;
  readonly outcome?: { readonly outcome: RolloutOutcome; readonly error?: string; readonly reason: string; readonly durationSeconds: number };
}

function ref(endpointName: string, group: string, version: number, deploymentId: string): RolloutRef {
  return {
    executionArn: `arn:aws:states:${FIXTURE_REGION}:${ACCOUNT}:execution:sagemaker-blue-green-rollout:${group}-${version}-${deploymentId}`,
    deploymentId,
    endpointName,
    modelPackageArn: `arn:aws:sagemaker:${FIXTURE_REGION}:${ACCOUNT}:model-package/${group}/${version}`,
    modelPackageGroupName: group,
    modelPackageVersion: version,
  };
}

/** Four rollouts on two endpoints, oldest first: promoted, rolled back by an alarm, blocked, and one still running. */
const PROMOTED: PastRollout = {
  ref: ref(FRAUD, 'fraud-detector', 5, 'a1a1a1a1'),
  startedAt: '2025-03-01T09:00:00.000Z',
  trigger: { kind: 'MODEL_REGISTRY_APPROVAL', by: 'alice' },
  outcome: { outcome: 'PROMOTED', reason: 'green serves all traffic; blue retired', durationSeconds: 5_400 },
};
const ROLLED_BACK: PastRollout = {
  ref: ref(FRAUD, 'fraud-detector', 6, 'b2b2b2b2'),
  startedAt: '2025-03-02T10:00:00.000Z',
  trigger: { kind: 'MODEL_REGISTRY_APPROVAL', by: 'arn:aws:sts::123456789012:assumed-role/ml-approver/carol' },
  outcome: { outcome: 'ROLLED_BACK', error: 'AlarmTriggered', reason: ALARM_REASON, durationSeconds: 1_203 },
};
const BLOCKED: PastRollout = {
  ref: ref(CREDIT, 'credit-scoring', 12, 'c3c3c3c3'),
  startedAt: '2025-03-03T15:30:00.000Z',
  trigger: { kind: 'OPERATOR_DEPLOY', by: 'bob' },
  outcome: { outcome: 'ROLLBACK_BLOCKED', error: 'ValidationFailed', reason: 'blue did not answer its probe: traffic left on green', durationSeconds: 45 },
};
const RUNNING: PastRollout = {
  ref: ref(FRAUD, 'fraud-detector', 7, 'd4d4d4d4'),
  startedAt: '2025-03-04T11:20:00.000Z',
  trigger: { kind: 'MODEL_REGISTRY_APPROVAL' },
};

const SUMMARY_TEXT = 'ROLLED_BACK: fraud-detector v6 on fraud-detector-prod in 20 min 3 s\nTrigger: approval by carol\nVerdict: PASS';

function header(rollout: PastRollout): RolloutHeader {
  return {
    ref: rollout.ref,
    startedAt: rollout.startedAt,
    trigger: rollout.trigger,
    policy: { trafficMode: 'CANARY', stepPercents: [10, 100], bakeSeconds: 3600, stepBakeSeconds: 300, rollbackWindowSeconds: 600 },
    configHash: '0123456789abcdef',
    blueVariantName: 'v5-a0a0a0a0',
    greenVariantName: `v${rollout.ref.modelPackageVersion}-${rollout.ref.deploymentId}`,
    instanceType: 'ml.g5.xlarge',
    instanceCount: 2,
    firstDeployment: false,
  };
}

async function record(rollout: PastRollout): Promise<void> {
  await putRolloutHeader(dynamo, HISTORY_TABLE, header(rollout));
  if (!rollout.outcome) return;
  const outcome: RolloutOutcomeRecord = {
    ref: rollout.ref,
    endedAt: new Date(Date.parse(rollout.startedAt) + rollout.outcome.durationSeconds * 1000).toISOString(),
    ...rollout.outcome,
    summary: { outcome: rollout.outcome.outcome, text: rollout === ROLLED_BACK ? SUMMARY_TEXT : `${rollout.outcome.outcome}` },
  };
  await putRolloutOutcome(dynamo, HISTORY_TABLE, outcome);
}

/** ROLLED_BACK's lifecycle events, as its steps recorded them. */
const ROLLED_BACK_EVENTS: ReadonlyArray<readonly [string, LifecycleEvent]> = [
  [
    '2025-03-02T10:00:01.000Z',
    {
      type: 'RolloutStarted',
      trigger: ROLLED_BACK.trigger,
      trafficMode: 'CANARY',
      stepPercents: [10, 100],
      blueVariantName: 'v5-a0a0a0a0',
      greenVariantName: 'v6-b2b2b2b2',
      instanceType: 'ml.g5.xlarge',
      configHash: '0123456789abcdef',
    },
  ],
  ['2025-03-02T10:12:00.000Z', { type: 'ValidationVerdict', verdict: 'PASS', gates: [{ gate: 'health', verdict: 'PASS' }] }],
  ['2025-03-02T10:13:00.000Z', { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }],
  ['2025-03-02T10:15:30.000Z', { type: 'RolledBack', error: 'AlarmTriggered', reason: 'green 5xx rate 4% > 1%', requestedBy: 'sagemaker-blue-green-fraud-detector-prod-b2b2b2b2-green-5xx-rate' }],
];

beforeEach(async () => {
  delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
  tables = simulateRolloutTables();
  for (const rollout of [PROMOTED, ROLLED_BACK, BLOCKED, RUNNING]) await record(rollout);
  for (const [at, event] of ROLLED_BACK_EVENTS) await recordLifecycleEvent({ dynamo, auditTable: HISTORY_TABLE, logger: silent }, ROLLED_BACK.ref, event, { at });
  tables.mock.resetHistory();
});

afterEach(() => {
  tables.mock.restore();
  if (savedEnv === undefined) delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
  else process.env[ROLLOUT_HISTORY_TABLE_ENV] = savedEnv;
});

const args = (...extra: string[]) => ['history', '--history-table', HISTORY_TABLE, ...extra];
/** A message without the runner's `<program> history: ` prefix. */
const message = (line: string | undefined) => line?.replace(/^\S+ history: /, '');
/** A list line's cells (two spaces or more separate them). */
const cells = (line: string | undefined) => line?.split(/ {2,}/);

describe('history: the list', () => {
  test('every endpoint, newest first: start, endpoint, model, trigger, outcome (RUNNING without one), duration, one-line reason', async () => {
    const { context, out, err } = capturedContext();

    const code = await runCli(args(), context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(cells(out[0])).toEqual(['STARTED', 'ENDPOINT', 'DEPLOYMENT', 'MODEL', 'TRIGGER', 'OUTCOME', 'DURATION', 'REASON']);
    expect(out.slice(1).map(cells)).toEqual([
      // Started 40 minutes before NOW, no outcome yet.
      ['2025-03-04T11:20:00Z', FRAUD, 'd4d4d4d4', 'fraud-detector v7', 'approval', 'RUNNING', '40m 00s so far', '-'],
      ['2025-03-03T15:30:00Z', CREDIT, 'c3c3c3c3', 'credit-scoring v12', 'deploy by bob', 'ROLLBACK_BLOCKED', '45s', 'ValidationFailed: blue did not answer its probe: traffic left on green'],
      [
        '2025-03-02T10:00:00Z',
        FRAUD,
        'b2b2b2b2',
        'fraud-detector v6',
        'approval by arn:aws:sts::123456789012:assumed-role/ml-approver/carol',
        'ROLLED_BACK',
        '20m 03s',
        'AlarmTriggered: Alarm sagemaker-blue-green-fraud-detector-prod-b2b2b2b2-green-5xx-rate went to ALAR…',
      ],
      ['2025-03-01T09:00:00Z', FRAUD, 'a1a1a1a1', 'fraud-detector v5', 'approval by alice', 'PROMOTED', '1h 30m', 'green serves all traffic; blue retired'],
    ]);
    // The reason is cut to one line of MAX_REASON_CHARS (100) characters.
    expect(Array.from(cells(out[3])!.at(-1)!)).toHaveLength(100);
    expect(tables.mock).toHaveReceivedCommandWith(ScanCommand, { TableName: HISTORY_TABLE });
    expect(tables.mock).not.toHaveReceivedCommand(QueryCommand);
  });

  test('--endpoint: that endpoint only, read with Queries (no Scan)', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD), context)).toBe(0);

    expect(out.slice(1).map((line) => cells(line)![2])).toEqual(['d4d4d4d4', 'b2b2b2b2', 'a1a1a1a1']);
    expect(tables.mock).toHaveReceivedCommandWith(QueryCommand, { TableName: HISTORY_TABLE, ExpressionAttributeValues: expect.objectContaining({ ':endpoint': { S: FRAUD } }) });
    expect(tables.mock).not.toHaveReceivedCommand(ScanCommand);
  });

  test('--limit: the newest N, and how many there are', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--limit', '2'), context)).toBe(0);

    expect(out.slice(1, -1).map((line) => cells(line)![2])).toEqual(['d4d4d4d4', 'c3c3c3c3']);
    expect(out.at(-1)).toBe('(2 of 4 rollouts: --limit N shows more)');
  });

  test('--json: every field of each row, RUNNING with the time so far and no end', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD, '--limit', '2', '--json'), context)).toBe(0);

    const document = JSON.parse(out.join('\n')) as { historyTable: string; total: number; rollouts: HistoryRow[] };
    expect(document.historyTable).toBe(HISTORY_TABLE);
    expect(document.total).toBe(3);
    expect(document.rollouts).toEqual([
      {
        deploymentId: 'd4d4d4d4',
        endpointName: FRAUD,
        executionArn: RUNNING.ref.executionArn,
        modelPackageGroupName: 'fraud-detector',
        modelPackageVersion: 7,
        modelPackageArn: RUNNING.ref.modelPackageArn,
        startedAt: RUNNING.startedAt,
        trigger: { kind: 'MODEL_REGISTRY_APPROVAL' },
        outcome: 'RUNNING',
        durationSeconds: (NOW.getTime() - Date.parse(RUNNING.startedAt)) / 1000,
      },
      expect.objectContaining({
        deploymentId: 'b2b2b2b2',
        outcome: 'ROLLED_BACK',
        error: 'AlarmTriggered',
        reason: ALARM_REASON,
        durationSeconds: 1_203,
        endedAt: '2025-03-02T10:20:03.000Z',
        trigger: ROLLED_BACK.trigger,
      }),
    ]);
  });

  test('an empty trail: says so (exit 0)', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', 'churn-prod'), context)).toBe(0);

    expect(out).toEqual([`No rollouts recorded for endpoint churn-prod in the rollout history table ${HISTORY_TABLE}.`]);
  });

  test('ROLLOUT_HISTORY_TABLE names the table when --history-table is not given', async () => {
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY_TABLE;
    const { context, out } = capturedContext();

    expect(await runCli(['history', '--limit', '1'], context)).toBe(0);

    expect(cells(out[1])![2]).toBe('d4d4d4d4');
  });
});

describe('history --deployment: one rollout whole', () => {
  test('the header, each event with its time and message, the outcome and the summary text', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD, '--deployment', 'b2b2b2b2'), context)).toBe(0);

    expect(err).toEqual([]);
    expect(out).toEqual([
      `Rollout b2b2b2b2 on endpoint ${FRAUD}: ROLLED_BACK`,
      `  model package  fraud-detector v6 (${ROLLED_BACK.ref.modelPackageArn})`,
      `  execution      ${ROLLED_BACK.ref.executionArn}`,
      '  trigger        approval by arn:aws:sts::123456789012:assumed-role/ml-approver/carol',
      '  started        2025-03-02T10:00:00.000Z',
      '  policy         canary 10% → 100%, bake 3600 s, step bake 300 s, rollback window 600 s',
      '  variants       blue v5-a0a0a0a0, green v6-b2b2b2b2 on 2 × ml.g5.xlarge',
      '  config hash    0123456789abcdef',
      '  ended          2025-03-02T10:20:03.000Z (after 20m 03s)',
      '',
      'Events (4):',
      expect.stringMatching(/^ {2}2025-03-02T10:00:01Z {2}Rollout of fraud-detector v6 on fraud-detector-prod started \(approved in the Model Registry by arn:aws:sts::/),
      '  2025-03-02T10:12:00Z  Validation of fraud-detector v6 on fraud-detector-prod: PASS (health PASS)',
      `  2025-03-02T10:13:00Z  Traffic of ${FRAUD}: green (fraud-detector v6) 10%, blue 90%`,
      '  2025-03-02T10:15:30Z  Rollout of fraud-detector v6 on fraud-detector-prod ROLLED BACK (AlarmTriggered, by sagemaker-blue-green-fraud-detector-prod-b2b2b2b2-green-5xx-rate): green 5xx rate 4% > 1%',
      '',
      `Outcome: ROLLED_BACK (AlarmTriggered): ${ALARM_REASON.split('\n')[0]}`,
      ALARM_REASON.split('\n')[1],
      'Summary:',
      ...SUMMARY_TEXT.split('\n').map((line) => `  ${line}`),
    ]);
  });

  test('a running rollout: no outcome yet, how long it has run', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD, '--deployment', 'd4d4d4d4'), context)).toBe(0);

    expect(out[0]).toBe(`Rollout d4d4d4d4 on endpoint ${FRAUD}: RUNNING (no outcome recorded yet)`);
    expect(out).toContain('  running for    40m 00s');
    expect(out).toContain('Events: none recorded');
    expect(out.some((line) => line.startsWith('Outcome'))).toBe(false);
  });

  test('--json: the header, the events and the outcome as recorded', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD, '--deployment', 'b2b2b2b2', '--json'), context)).toBe(0);

    const document = JSON.parse(out.join('\n'));
    expect(document).toMatchObject({ endpointName: FRAUD, deploymentId: 'b2b2b2b2', header: header(ROLLED_BACK), outcome: { outcome: 'ROLLED_BACK', summary: { text: SUMMARY_TEXT } } });
    expect(document.events.map((event: { type: string; at: string }) => [event.type, event.at])).toEqual(ROLLED_BACK_EVENTS.map(([at, event]) => [event.type, at]));
  });

  test('a deployment the trail does not hold: exit 1, how to list them', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD, '--deployment', 'c3c3c3c3'), context)).toBe(1);

    expect(out).toEqual([]);
    expect(message(err[0])).toBe(
      `no rollout c3c3c3c3 on endpoint ${FRAUD} in the rollout history table ${HISTORY_TABLE}: list the endpoint's rollouts with npx sagemaker-blue-green history --endpoint ${FRAUD}`,
    );
  });
});

describe('history: AWS failures in plain words (exit 1)', () => {
  test('a history table that does not exist: which option, variable and stack output name it', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['history', '--history-table', 'rollout-histroy', '--region', 'us-east-1'], context)).toBe(1);

    expect(message(err[0])).toBe(
      'the rollout history table rollout-histroy was not found in us-east-1 (AWS said: Requested resource not found): ' +
        'check --history-table (or ROLLOUT_HISTORY_TABLE; the stack output RolloutHistoryTableName names the table) and --region',
    );
  });

  test('AccessDenied on the Scan names the action and the table', async () => {
    tables.mock.on(ScanCommand).rejects(dynamoAccessDenied('Scan'));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(message(err[0])).toBe(
      `permission missing: your AWS identity may not call dynamodb:Scan on the rollout history table ${HISTORY_TABLE} ` +
        '(AWS said: not authorized to perform: dynamodb:Scan). Ask for dynamodb:Scan on that table',
    );
  });

  test('AccessDenied on a Query (--endpoint) names dynamodb:Query', async () => {
    tables.mock.on(QueryCommand).rejects(dynamoAccessDenied('Query'));
    const { context, err } = capturedContext();

    expect(await runCli(args('--endpoint', FRAUD), context)).toBe(1);

    expect(message(err[0])).toMatch(/^permission missing: your AWS identity may not call dynamodb:Query on the rollout history table rollout-history /);
  });
});

describe('history: usage (exit 2, no AWS call)', () => {
  test.each([
    ['no history table', ['history'], /^--history-table: required: pass --history-table \(or set ROLLOUT_HISTORY_TABLE\): the stack output RolloutHistoryTableName names the table/],
    ['--deployment without --endpoint', args('--deployment', 'b2b2b2b2'), /^--deployment: requires --endpoint: the endpoint the rollout ran on$/],
    ['a deployment id that is not one', args('--endpoint', FRAUD, '--deployment', 'B2B2'), /^--deployment: expected a deployment id: 8 hex characters/],
    ['--limit 0', args('--limit', '0'), /^--limit: expected a whole number of rollouts from 1 to 1000$/],
    ['--limit ten', args('--limit', 'ten'), /^--limit: expected a whole number of rollouts from 1 to 1000$/],
    ['--limit 1001', args('--limit', '1001'), /^--limit: expected a whole number of rollouts from 1 to 1000$/],
    ['a bad endpoint name', args('--endpoint', 'fraud_prod'), /^--endpoint: expected a SageMaker endpoint name/],
  ])('%s', async (_, argv, expected) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(message(err[0])).toMatch(expected);
    expect(err).toContain(HISTORY_USAGE);
    expect(tables.mock.calls()).toHaveLength(0);
  });

  test('--help: every option, on stdout', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['history', '--help'], context)).toBe(0);

    expect(out[0]).toBe(HISTORY_USAGE);
    for (const text of ['--endpoint NAME', '--history-table TABLE', 'RolloutHistoryTableName', '--limit N', '--deployment ID', '--region REGION', '--json', '--help']) {
      expect(out.join('\n')).toContain(text);
    }
  });
});

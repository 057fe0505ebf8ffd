/**
 * `history`: past (and running) rollouts from the audit trail (the rollout history table, written by the rollout
 * itself: lambdas/shared/audit-trail.ts), newest first, one line each; or, with --deployment, one rollout's whole
 * record: its header, every lifecycle event, its outcome and its summary.
 */
import { z } from 'zod';
import { listRolloutHistory, readRolloutAudit, type RolloutAudit, type RolloutHistoryEntry } from '../../lambdas/shared/audit-trail';
import type { RolloutOutcome, RolloutTrigger } from '../../lambdas/shared/lifecycle-events';
import { OperationError, type Command, type OptionsConfig } from '../command';
import { clientsBeside, type CliContext } from '../context';
import {
  endpointField,
  HISTORY_TABLE_OPTION,
  historyTableUsage,
  REGION_OPTION,
  regionField,
  requireHistoryTableName,
  rolloutHistoryTable,
  tableCall,
  tableField,
} from '../options';
import { oneLine } from './trace';

/** Rollouts listed when --limit is not given. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** The most --limit accepts: the list is read whole (a Query or Scan) and cut here, not paged on the terminal. */
export const MAX_HISTORY_LIMIT = 1000;
/** Longest reason on a list line: one line per rollout. */
export const MAX_REASON_CHARS = 100;

const LIMIT_MESSAGE = `expected a whole number of rollouts from 1 to ${MAX_HISTORY_LIMIT}`;

const HistoryOptionsSchema = z
  .object({
    endpoint: endpointField('is listed').optional(),
    'history-table': tableField,
    limit: z
      .string()
      .regex(/^\d+$/, LIMIT_MESSAGE)
      .transform(Number)
      .pipe(z.number().int().min(1, LIMIT_MESSAGE).max(MAX_HISTORY_LIMIT, LIMIT_MESSAGE))
      .optional(),
    // The rollout's deployment id (names.ts: 8 hex characters), as the list shows it.
    deployment: z.string().regex(/^[0-9a-f]{8}$/, 'expected a deployment id: 8 hex characters, as `history` lists them').optional(),
    region: regionField,
    json: z.boolean().optional(),
  })
  .superRefine((options, context) => {
    // The table is keyed by endpoint: a rollout is found by endpoint and id, never by id alone (that would be a Scan).
    if (options.deployment !== undefined && options.endpoint === undefined) {
      context.addIssue({ code: 'custom', path: ['deployment'], message: 'requires --endpoint: the endpoint the rollout ran on' });
    }
  });

export type HistoryOptions = z.infer<typeof HistoryOptionsSchema>;

const HISTORY_OPTIONS = {
  endpoint: { type: 'string' },
  ...HISTORY_TABLE_OPTION,
  limit: { type: 'string' },
  deployment: { type: 'string' },
  ...REGION_OPTION,
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const historyCommand: Command<HistoryOptions> = {
  name: 'history',
  summary: 'past rollouts from the audit trail, newest first; --deployment ID for one whole record',
  usage: `Usage: npx sagemaker-blue-green history [--endpoint NAME] [--history-table TABLE] [--limit N] [--deployment ID]
                                     [--region REGION] [--json]
       (or npm run operator -- history ...)

Lists rollouts from the audit trail, newest first: start time, endpoint, model package group and version,
trigger (approval in the Model Registry or deploy by hand, and by whom), outcome (RUNNING while the rollout has
none yet), duration and the reason of the outcome. With --deployment, prints that rollout's whole record: what
it was asked to do, each lifecycle event with its time, the outcome and the summary.

Options:
  --endpoint NAME   only this endpoint's rollouts (default: every endpoint)
${historyTableUsage('Required.')}
  --limit N         list at most N rollouts (default ${DEFAULT_HISTORY_LIMIT}, at most ${MAX_HISTORY_LIMIT})
  --deployment ID   print one rollout's whole record (its deployment id, as the list shows it; needs --endpoint)
  --region REGION   AWS region of the stack (default: AWS_REGION or your profile's region)
  --json            one JSON document instead (every field, times in ISO 8601, durations in seconds)
  --help            this text`,
  options: HISTORY_OPTIONS,
  schema: HistoryOptionsSchema,
  run: (options, context) => history(options, context),
};

/** One rollout as the list shows it (and --json prints it). */
export interface HistoryRow {
  readonly deploymentId: string;
  readonly endpointName: string;
  readonly executionArn?: string;
  /** ISO 8601; absent when neither the header nor the outcome was recorded with it. */
  readonly startedAt?: string;
  readonly modelPackageGroupName?: string;
  readonly modelPackageVersion?: number;
  readonly modelPackageArn?: string;
  readonly trigger?: RolloutTrigger;
  /** RUNNING while no outcome is recorded (the rollout is still going, or ended without writing one). */
  readonly outcome: RolloutOutcome | 'RUNNING';
  readonly endedAt?: string;
  /** How long the rollout took (ended), or has taken so far (RUNNING). */
  readonly durationSeconds?: number;
  readonly error?: string;
  readonly reason?: string;
}

async function history(options: HistoryOptions, context: CliContext): Promise<void> {
  const table = rolloutHistoryTable(requireHistoryTableName(options['history-table']));
  const stepFunctions = context.aws.stepFunctions(options.region);
  const { dynamoDb } = clientsBeside(stepFunctions);
  const region = options.region ?? (await stepFunctions.config.region().catch(() => undefined));

  if (options.deployment !== undefined && options.endpoint !== undefined) {
    const { endpoint, deployment } = options;
    const audit = await tableCall(table, 'dynamodb:Query', region, () => readRolloutAudit(dynamoDb, table.name, endpoint, deployment));
    if (!audit.header && audit.events.length === 0 && !audit.outcome) {
      throw new OperationError(
        `no rollout ${deployment} on endpoint ${endpoint} in the rollout history table ${table.name}: ` +
          `list the endpoint's rollouts with npx sagemaker-blue-green history --endpoint ${endpoint}`,
      );
    }
    if (options.json) {
      context.out(JSON.stringify({ endpointName: endpoint, deploymentId: deployment, ...audit }, null, 2));
      return;
    }
    for (const line of rolloutRecordLines(endpoint, deployment, audit, context.now())) context.out(line);
    return;
  }

  const action = options.endpoint !== undefined ? 'dynamodb:Query' : 'dynamodb:Scan';
  const entries = await tableCall(table, action, region, () => listRolloutHistory(dynamoDb, table.name, options.endpoint));
  const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
  const rows = entries.slice(0, limit).map((entry) => historyRow(entry, context.now()));
  if (options.json) {
    context.out(JSON.stringify({ historyTable: table.name, total: entries.length, rollouts: rows }, null, 2));
    return;
  }
  const where = options.endpoint !== undefined ? ` for endpoint ${options.endpoint}` : '';
  if (rows.length === 0) {
    context.out(`No rollouts recorded${where} in the rollout history table ${table.name}.`);
    return;
  }
  for (const line of historyLines(rows)) context.out(line);
  if (entries.length > rows.length) context.out(`(${rows.length} of ${entries.length} rollouts${where}: --limit N shows more)`);
}

/** A history entry as a list row: the header's facts, the outcome's, and RUNNING with the time so far when none. */
export function historyRow(entry: RolloutHistoryEntry, now: Date): HistoryRow {
  const { header, outcome } = entry;
  const ref = header?.ref ?? outcome?.ref;
  const startedAt =
    header?.startedAt ?? (outcome ? new Date(Date.parse(outcome.endedAt) - outcome.durationSeconds * 1000).toISOString() : undefined);
  const durationSeconds = outcome
    ? outcome.durationSeconds
    : startedAt !== undefined
      ? Math.max(0, Math.floor((now.getTime() - Date.parse(startedAt)) / 1000))
      : undefined;
  return {
    deploymentId: entry.deploymentId,
    endpointName: entry.endpointName,
    ...(ref ? { executionArn: ref.executionArn, modelPackageGroupName: ref.modelPackageGroupName, modelPackageVersion: ref.modelPackageVersion, modelPackageArn: ref.modelPackageArn } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(header ? { trigger: header.trigger } : {}),
    outcome: outcome?.outcome ?? 'RUNNING',
    ...(outcome ? { endedAt: outcome.endedAt } : {}),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(outcome?.error ? { error: outcome.error } : {}),
    ...(outcome ? { reason: outcome.reason } : {}),
  };
}

function historyLines(rows: readonly HistoryRow[]): string[] {
  const table = [
    ['STARTED', 'ENDPOINT', 'DEPLOYMENT', 'MODEL', 'TRIGGER', 'OUTCOME', 'DURATION', 'REASON'],
    ...rows.map((row) => [
      row.startedAt !== undefined ? isoSeconds(row.startedAt) : '?',
      row.endpointName,
      row.deploymentId,
      modelLabel(row.modelPackageGroupName, row.modelPackageVersion),
      row.trigger ? triggerLabel(row.trigger) : '?',
      row.outcome,
      row.durationSeconds === undefined ? '?' : `${formatDuration(row.durationSeconds)}${row.outcome === 'RUNNING' ? ' so far' : ''}`,
      row.reason !== undefined ? oneLine(`${row.error ? `${row.error}: ` : ''}${row.reason}`, MAX_REASON_CHARS) : '-',
    ]),
  ];
  return columns(table);
}

/** One rollout's whole record, as text. */
function rolloutRecordLines(endpointName: string, deploymentId: string, audit: RolloutAudit, now: Date): string[] {
  const { header, events, outcome } = audit;
  const ref = header?.ref ?? outcome?.ref ?? events[0]?.rollout;
  const lines = [`Rollout ${deploymentId} on endpoint ${endpointName}: ${outcome?.outcome ?? 'RUNNING (no outcome recorded yet)'}`];
  const rows: Array<[string, string]> = [];
  if (ref) {
    rows.push(['model package', `${modelLabel(ref.modelPackageGroupName, ref.modelPackageVersion)} (${ref.modelPackageArn})`]);
    rows.push(['execution', ref.executionArn]);
  }
  if (header) {
    rows.push(['trigger', `${triggerLabel(header.trigger)}${header.trigger.eventId ? ` (event ${header.trigger.eventId})` : ''}`]);
    rows.push(['started', header.startedAt]);
    const { policy } = header;
    rows.push([
      'policy',
      `${policy.trafficMode.toLowerCase().replace(/_/g, ' ')} ${policy.stepPercents.join('% → ')}%, bake ${policy.bakeSeconds} s, ` +
        `step bake ${policy.stepBakeSeconds} s, rollback window ${policy.rollbackWindowSeconds} s` +
        `${policy.validationDecision ? `, validation ${policy.validationDecision}` : ''}`,
    ]);
    rows.push([
      'variants',
      `${header.blueVariantName ? `blue ${header.blueVariantName}, ` : ''}green ${header.greenVariantName} on ${header.instanceCount} × ${header.instanceType}` +
        `${header.firstDeployment ? ' (first deployment)' : ''}`,
    ]);
    rows.push(['config hash', header.configHash]);
  } else {
    rows.push(['header', 'not recorded']);
  }
  if (outcome) {
    rows.push(['ended', `${outcome.endedAt} (after ${formatDuration(outcome.durationSeconds)})`]);
  } else if (header) {
    rows.push(['running for', formatDuration(Math.max(0, Math.floor((now.getTime() - Date.parse(header.startedAt)) / 1000)))]);
  }
  lines.push(...labelled(rows));
  lines.push('', events.length > 0 ? `Events (${events.length}):` : 'Events: none recorded');
  for (const event of events) lines.push(`  ${isoSeconds(event.at)}  ${event.message}`);
  if (outcome) {
    lines.push('', `Outcome: ${outcome.outcome}${outcome.error ? ` (${outcome.error})` : ''}: ${outcome.reason}`);
    const text = summaryText(outcome.summary);
    if (text !== undefined) lines.push('Summary:', ...text.split('\n').map((line) => `  ${line}`));
  }
  return lines;
}

/** The summary's readable text: summarize-rollout's `text`, or a summary that is text itself. */
const SummaryWithTextSchema = z.union([z.string(), z.looseObject({ text: z.string() }).transform((summary) => summary.text)]);

function summaryText(summary: unknown): string | undefined {
  const parsed = SummaryWithTextSchema.safeParse(summary);
  return parsed.success && parsed.data.trim() !== '' ? parsed.data.trimEnd() : undefined;
}

/** `fraud-detector v7`. */
export function modelLabel(group: string | undefined, version: number | undefined): string {
  if (group === undefined) return '?';
  return version !== undefined ? `${group} v${version}` : group;
}

/** `approval by alice`, `deploy by bob`: who started the rollout, short. */
export function triggerLabel(trigger: RolloutTrigger): string {
  const kind = trigger.kind === 'OPERATOR_DEPLOY' ? 'deploy' : 'approval';
  return trigger.by ? `${kind} by ${trigger.by}` : kind;
}

/** `14m 03s`, `1h 02m`, `35s`: a duration at the precision an operator reads. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** An ISO 8601 time to the second (`2025-03-04T11:20:00Z`): milliseconds are noise on a terminal. */
export function isoSeconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** Rows padded to aligned columns (the last column is not padded). */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ').trimEnd());
}

/** `  label   value` lines with the values aligned. */
export function labelled(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`);
}

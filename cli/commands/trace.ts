/**
 * `operator trace`: what a rollout execution did, as a timeline read from its history (GetExecutionHistory, all
 * pages, without inputs and outputs): states entered and left, task failures and retries with their error,
 * waits, and how the execution ended. Times are relative to the execution's start.
 */
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { awsCall } from '../aws-errors';
import { UsageError, type Command, type OptionsConfig } from '../command';
import type { CliContext } from '../context';
import { EXECUTION_OPTION, EXECUTION_USAGE, executionArnField, executionRegion, REGION_OPTION, REGION_USAGE, regionField } from '../options';

/** Longest cause on a text line: the timeline stays one line an event. */
export const MAX_TRACE_CAUSE_CHARS = 160;
/** GetExecutionHistory's largest page. */
const PAGE_SIZE = 1000;

const TraceOptionsSchema = z.object({
  execution: executionArnField,
  region: regionField,
  json: z.boolean().optional(),
});

export type TraceOptions = z.infer<typeof TraceOptionsSchema>;

const TRACE_OPTIONS = { ...EXECUTION_OPTION, ...REGION_OPTION, json: { type: 'boolean' } } as const satisfies OptionsConfig;

export const traceCommand: Command<TraceOptions> = {
  name: 'trace',
  summary: "an execution's timeline: states, task failures and retries, waits, final status",
  usage: `Usage: npx sagemaker-blue-green trace --execution ARN [--region REGION] [--json]

Prints what a rollout execution did (or a reconciler's), from its Step Functions history: one line per state
entered or left, task failure, retry and the end, with the time since the execution started, e.g.
  +00:10:01  Smoke check green
Errors and causes are shown on one line, truncated to ${MAX_TRACE_CAUSE_CHARS} characters.

Options:
${EXECUTION_USAGE}
${REGION_USAGE.replace("AWS_REGION or your profile's region", 'the region in the ARN')}
  --json            one JSON object a line instead (the full cause, times in ISO 8601 and seconds)
  --help            this text`,
  options: TRACE_OPTIONS,
  schema: TraceOptionsSchema,
  run: (options, context) => trace(options, context),
};

/** One line of the timeline. */
export interface TraceEntry {
  /** `+HH:MM:SS` since the execution started. */
  readonly elapsed: string;
  readonly elapsedSeconds: number;
  /** ISO 8601. */
  readonly at: string;
  readonly kind: 'started' | 'entered' | 'exited' | 'failed' | 'retry' | 'ended' | 'redriven';
  /** The history event type, e.g. `TaskFailed`. */
  readonly event: string;
  readonly state?: string;
  /** Seconds spent in the state (on `exited`). */
  readonly seconds?: number;
  /** Which retry of the state's task (on `retry`), from 1. */
  readonly attempt?: number;
  /** The final status (on `ended`): SUCCEEDED, FAILED, TIMED_OUT or ABORTED. */
  readonly status?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** The execution's end, or that it has none yet. */
export interface TraceOutcome {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  /** The states entered and not left (RUNNING only), innermost last. */
  readonly inStates?: readonly string[];
}

async function trace(options: TraceOptions, context: CliContext): Promise<void> {
  const executionArn = options.execution;
  const arnRegion = executionRegion(executionArn);
  if (options.region && arnRegion && options.region !== arnRegion) {
    throw new UsageError(`--region: execution ${executionArn} is in ${arnRegion}, not ${options.region}: drop --region or use --region ${arnRegion}`);
  }
  const region = options.region ?? arnRegion;
  const stepFunctions = context.aws.stepFunctions(region);

  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall({ action: 'states:GetExecutionHistory', executionArn, region }, () =>
      stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false, maxResults: PAGE_SIZE, nextToken })),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);

  const { entries, outcome } = timeline(events);
  if (options.json) {
    for (const entry of entries) context.out(JSON.stringify(entry));
    context.out(JSON.stringify({ kind: 'status', ...outcome }));
    return;
  }
  context.out(`Execution ${executionArn}`);
  for (const entry of entries) context.out(textLine(entry));
  context.out(statusLine(outcome));
}

const END_STATUS: Readonly<Record<string, string>> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** Task (and Lambda, activity) events that mean the attempt failed; the state's Retry or Catch decides what next. */
const FAILURE_EVENTS = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'ActivityFailed',
  'ActivityTimedOut',
  'ActivityScheduleFailed',
  'EvaluationFailed',
]);
const SCHEDULE_EVENTS = new Set(['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']);

interface OpenState {
  readonly name: string;
  readonly enteredAt: Date;
  scheduled: number;
  lastError?: string;
}

/**
 * The timeline of a history in chronological order. Retries show as a task scheduled again inside the same state
 * (Step Functions records no retry event of its own); task events belong to the innermost state entered and not
 * yet left.
 */
export function timeline(events: readonly HistoryEvent[]): { readonly entries: TraceEntry[]; readonly outcome: TraceOutcome } {
  const start = events.find((event) => event.type === 'ExecutionStarted')?.timestamp ?? events[0]?.timestamp ?? new Date(0);
  const open: OpenState[] = [];
  const entries: TraceEntry[] = [];
  let outcome: TraceOutcome | undefined;

  const entry = (event: HistoryEvent, fields: Omit<TraceEntry, 'elapsed' | 'elapsedSeconds' | 'at' | 'event'>): void => {
    const at = event.timestamp ?? start;
    const elapsedSeconds = Math.max(0, Math.floor((at.getTime() - start.getTime()) / 1000));
    entries.push({ elapsed: formatElapsed(elapsedSeconds), elapsedSeconds, at: at.toISOString(), event: event.type ?? 'unknown', ...fields });
  };

  for (const event of events) {
    const type = event.type ?? '';
    if (type === 'ExecutionStarted') {
      entry(event, { kind: 'started' });
    } else if (type === 'ExecutionRedriven') {
      entry(event, { kind: 'redriven' });
    } else if (END_STATUS[type]) {
      const details = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
      outcome = { status: END_STATUS[type], ...errorFields(details?.error, details?.cause) };
      entry(event, { kind: 'ended', ...outcome });
    } else if (event.stateEnteredEventDetails) {
      const name = event.stateEnteredEventDetails.name ?? '(unnamed)';
      open.push({ name, enteredAt: event.timestamp ?? start, scheduled: 0 });
      entry(event, { kind: 'entered', state: name });
    } else if (event.stateExitedEventDetails) {
      const name = event.stateExitedEventDetails.name ?? '(unnamed)';
      const index = open.map((state) => state.name).lastIndexOf(name);
      const state = index >= 0 ? open.splice(index)[0] : undefined;
      const seconds = state && event.timestamp ? Math.max(0, Math.round((event.timestamp.getTime() - state.enteredAt.getTime()) / 1000)) : undefined;
      entry(event, { kind: 'exited', state: name, ...(seconds !== undefined ? { seconds } : {}) });
    } else if (SCHEDULE_EVENTS.has(type)) {
      const state = open.at(-1);
      if (state) {
        state.scheduled += 1;
        if (state.scheduled > 1) entry(event, { kind: 'retry', state: state.name, attempt: state.scheduled - 1, ...errorFields(state.lastError) });
      }
    } else if (FAILURE_EVENTS.has(type)) {
      const { error, cause } = failureDetails(event);
      const state = open.at(-1);
      if (state) state.lastError = error;
      entry(event, { kind: 'failed', ...(state ? { state: state.name } : {}), ...errorFields(error ?? type, cause) });
    }
  }
  return { entries, outcome: outcome ?? { status: 'RUNNING', inStates: open.map((state) => state.name) } };
}

/** `+HH:MM:SS`; hours go past 24 rather than adding days (a rollout's bake can last days). */
export function formatElapsed(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return `+${[hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join(':')}`;
}

/** A cause on one line: whitespace runs become one space, cut with an ellipsis. */
export function oneLine(text: string, max = MAX_TRACE_CAUSE_CHARS): string {
  const flat = Array.from(text.replace(/\s+/g, ' ').trim());
  return flat.length <= max ? flat.join('') : `${flat.slice(0, max - 1).join('')}…`;
}

function textLine(entry: TraceEntry): string {
  const what = ((): string => {
    switch (entry.kind) {
      case 'started':
        return `execution started (${entry.at})`;
      case 'redriven':
        return 'execution redriven';
      case 'entered':
        return entry.event === 'WaitStateEntered' ? `${entry.state} (waiting)` : entry.state!;
      case 'exited':
        return `${entry.state}: ${entry.event === 'WaitStateExited' ? 'waited' : 'left'}${entry.seconds !== undefined ? ` after ${entry.seconds} s` : ''}`;
      case 'failed':
        return `${entry.state ? `${entry.state}: ` : ''}${entry.event}${problem(entry)}`;
      case 'retry':
        return `${entry.state}: retry ${entry.attempt}${entry.error ? ` after ${entry.error}` : ''}`;
      case 'ended':
        return `execution ${entry.status}${problem(entry)}`;
    }
  })();
  return `${entry.elapsed}  ${what}`;
}

function statusLine(outcome: TraceOutcome): string {
  if (outcome.status !== 'RUNNING') return `Final status: ${outcome.status}${problem(outcome)}`;
  const states = outcome.inStates ?? [];
  return `Status: RUNNING${states.length ? ` (in ${states.map((name) => `"${name}"`).join(' > ')})` : ''}`;
}

function problem(fields: { readonly error?: string; readonly cause?: string }): string {
  if (!fields.error && !fields.cause) return '';
  return `: ${[fields.error, fields.cause !== undefined ? oneLine(fields.cause) : undefined].filter(Boolean).join(': ')}`;
}

function errorFields(error: string | undefined, cause?: string): { error?: string; cause?: string } {
  return { ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
}

function failureDetails(event: HistoryEvent): { error?: string; cause?: string } {
  const details =
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.activityTimedOutEventDetails ??
    event.activityScheduleFailedEventDetails ??
    event.evaluationFailedEventDetails;
  return { error: details?.error, cause: details?.cause };
}

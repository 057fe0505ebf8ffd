/**
 * approve and reject: the same checks, a different answer to the task token of "Wait for approval"
 * (state-machines/rollout.asl.json). The execution must be RUNNING and its latest approval task still open;
 * the operator sees what is being decided before the answer is sent.
 */
import { RolloutRejected } from '../lambdas/shared/errors';
import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { findPendingApproval, type NotWaiting, type PendingApproval } from './approval-task';
import { awsCall } from './aws-errors';
import { OperationError, UsageError, type OptionsConfig } from './command';
import type { CliContext } from './context';
import { EXECUTION_OPTION, EXECUTION_USAGE, executionRegion, REGION_OPTION, REGION_USAGE } from './options';

/** The Error "Wait for approval" fails with on a rejection; its Catch sends it to the rollback like any failure. */
/** The Error a rejected rollout fails with (one definition: lambdas/shared/errors.ts). */
export const REJECTION_ERROR = RolloutRejected.name;
/** SendTaskFailure's `cause` limit (API model: SensitiveCause, 0-32768 characters). */
export const MAX_CAUSE_CHARS = 32_768;
/**
 * Longest --reason. The decision lands in the execution's state ($.approval or $.failure), which carries the
 * plan too within Step Functions' 256 KB: a reason is a sentence or two, not a report.
 */
export const MAX_REASON_CHARS = 4_096;
/** Longest --by: a user name or an e-mail address. */
export const MAX_BY_CHARS = 128;

/** What SendTaskSuccess hands to "Wait for approval"; the state machine keeps it at `$.approval`. */
export interface ApprovalDecision {
  readonly decision: 'APPROVED';
  /** Who decided: --by, or the OS user name. */
  readonly by: string;
  /** Why, when the operator said; null otherwise (always present, so JSONPath on it never fails). */
  readonly reason: string | null;
  /** ISO 8601 time of the decision. */
  readonly decidedAt: string;
}

/** The options approve and reject share; only whether --reason is required differs. */
export const DECISION_OPTIONS = {
  ...EXECUTION_OPTION,
  by: { type: 'string' },
  reason: { type: 'string' },
  ...REGION_OPTION,
} as const satisfies OptionsConfig;

export const DECISION_OPTIONS_USAGE = [
  EXECUTION_USAGE,
  '  --by NAME         who decides (default: your OS user name)',
  `  --reason TEXT     why (at most ${MAX_REASON_CHARS} characters)`,
  REGION_USAGE,
].join('\n');

/** Who acts: --by, else the OS user name; neither is a usage error. */
export function operatorName(by: string | undefined, context: CliContext): string {
  const name = by ?? context.userName();
  if (!name) throw new UsageError('--by: your OS user name is not available here: give --by NAME');
  return name;
}

export const byField = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_BY_CHARS, `at most ${MAX_BY_CHARS} characters`)
  .optional();

export const reasonField = (whenMissing: string) =>
  z
    .string({ error: whenMissing })
    .trim()
    .min(1, whenMissing)
    .max(MAX_REASON_CHARS, `at most ${MAX_REASON_CHARS} characters`);

interface DecisionRequestBase {
  readonly executionArn: string;
  /** @default the OS user name */
  readonly by?: string;
  /** @default the default chain's region */
  readonly region?: string;
}

/** What the operator asked for: approve with an optional reason, or reject with a required one. */
export type DecisionRequest =
  | (DecisionRequestBase & { readonly kind: 'approve'; /** @default - none */ readonly reason?: string })
  | (DecisionRequestBase & { readonly kind: 'reject'; readonly reason: string });

/** Checks that the execution waits for a decision, shows what is decided, and sends the answer. */
export async function decide(request: DecisionRequest, context: CliContext): Promise<void> {
  const { executionArn } = request;
  const by = operatorName(request.by, context);

  const stepFunctions = context.aws.stepFunctions(request.region);
  const region = await awsCall({ action: 'finding the AWS region', executionArn }, () => stepFunctions.config.region());
  const arnRegion = executionRegion(executionArn);
  if (arnRegion && arnRegion !== region) {
    throw new OperationError(
      `execution ${executionArn} is in ${arnRegion}, but requests would go to ${region}` +
        `${request.region ? ' (--region)' : ' (your default region)'}: use --region ${arnRegion}`,
    );
  }

  const execution = await awsCall({ action: 'states:DescribeExecution', executionArn, region }, () =>
    stepFunctions.send(new DescribeExecutionCommand({ executionArn })),
  );
  if (execution.status !== 'RUNNING') throw new OperationError(`execution ${executionArn} is ${execution.status}: nothing to decide`);

  const lookup = await findPendingApproval(stepFunctions, executionArn, region);
  if (!lookup.waiting) throw new OperationError(notWaitingMessage(executionArn, lookup));

  const decidedAt = context.now();
  for (const line of describePendingApproval(executionArn, lookup, decidedAt)) context.out(line);
  context.out('');

  if (request.kind === 'approve') {
    const decision: ApprovalDecision = { decision: 'APPROVED', by, reason: request.reason ?? null, decidedAt: decidedAt.toISOString() };
    await awsCall({ action: 'states:SendTaskSuccess', executionArn, region }, () =>
      stepFunctions.send(new SendTaskSuccessCommand({ taskToken: lookup.taskToken, output: JSON.stringify(decision) })),
    );
    context.out(`Approved by ${by}: the rollout carries on with green.`);
  } else {
    await awsCall({ action: 'states:SendTaskFailure', executionArn, region }, () =>
      stepFunctions.send(
        new SendTaskFailureCommand({ taskToken: lookup.taskToken, error: REJECTION_ERROR, cause: rejectionCause(by, request.reason) }),
      ),
    );
    context.out(`Rejected by ${by}: the rollout rolls back (blue keeps serving, green is removed).`);
  }
}

/** `Rejected by <by>: <reason>`, cut to SendTaskFailure's limit (counted in code points, as the API counts). */
export function rejectionCause(by: string, reason: string): string {
  const cause = `Rejected by ${by}: ${reason}`;
  const characters = Array.from(cause);
  if (characters.length <= MAX_CAUSE_CHARS) return cause;
  return `${characters.slice(0, MAX_CAUSE_CHARS - 1).join('')}…`;
}

function notWaitingMessage(executionArn: string, lookup: NotWaiting): string {
  const state = lookup.currentState ? `it is in state "${lookup.currentState}"` : 'it has entered no state yet';
  const why = lookup.lastApprovalEnded
    ? `its approval task already ended (${lookup.lastApprovalEnded.type}${lookup.lastApprovalEnded.at ? ` at ${lookup.lastApprovalEnded.at.toISOString()}` : ''})`
    : 'it has not asked for approval';
  return `execution ${executionArn} is not waiting for a decision (${state}): ${why}`;
}

/** What the operator is about to decide on, as aligned lines. */
export function describePendingApproval(executionArn: string, approval: PendingApproval, now: Date): string[] {
  const rows: Array<[string, string]> = [
    ['execution', executionArn],
    ['endpoint', approval.endpointName],
    ['model package', `version ${approval.modelPackageVersion} (${approval.modelPackageArn})`],
    ['verdict', approval.verdict],
    ['summary', approval.summary || '(none)'],
  ];
  if (approval.reportUri) rows.push(['report', approval.reportUri]);
  if (approval.waitingSince) rows.push(['waiting since', `${approval.waitingSince.toISOString()}${deadlineNote(approval.deadline, now)}`]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = ['Rollout waiting for a decision:'];
  for (const [label, value] of rows) {
    const [first, ...rest] = value.split('\n');
    lines.push(`  ${label.padEnd(width)}${first}`);
    for (const line of rest) lines.push(`  ${' '.repeat(width)}${line}`);
  }
  return lines;
}

function deadlineNote(deadline: Date | undefined, now: Date): string {
  if (!deadline) return '';
  const remainingMs = deadline.getTime() - now.getTime();
  if (remainingMs <= 0) return ` (its timeout, ${deadline.toISOString()}, has passed)`;
  return ` (times out at ${deadline.toISOString()}, in ${formatDuration(remainingMs)})`;
}

/** `2 h 5 min`, `12 min`, `40 s`: precise enough to decide whether to hurry. */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return `${minutes} min`;
  return `${totalSeconds} s`;
}

/**
 * `operator abort`: stops the rollout in progress on an endpoint. Stopping is all it does, and that is what makes
 * it clean: the execution ends ABORTED, and the reconciler (an EventBridge rule on that status, README "Safety
 * nets") restores blue, removes green, deletes the rollout's alarms and releases the endpoint's lock, one
 * idempotent step at a time, whatever state the rollout was in.
 */
import { DescribeExecutionCommand, StopExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { RolloutError } from '../../lambdas/shared/errors';
import { getEndpointLock, type EndpointLock } from '../../lambdas/shared/rollout-record';
import { explainAwsError } from '../aws-errors';
import { OperationError, type Command, type OptionsConfig } from '../command';
import { clientsBeside, type CliContext } from '../context';
import { byField, operatorName, MAX_CAUSE_CHARS, reasonField } from '../decision';
import { ENDPOINT_TABLE_OPTIONS, endpointField, REGION_OPTION, regionField, TABLE_OUTPUT, TABLE_USAGE, tableField, tableName } from '../options';

/** The error the stopped execution records (StopExecution's `error`): an operator ended it on purpose. */
export const ABORT_ERROR = 'OperatorAbort';
/** What the cause records when the operator gives no --reason. */
export const DEFAULT_ABORT_REASON = 'no reason given';

const AbortOptionsSchema = z.object({
  endpoint: endpointField('is aborted'),
  reason: reasonField('must not be empty').optional(),
  by: byField,
  table: tableField,
  region: regionField,
});

export type AbortOptions = z.infer<typeof AbortOptionsSchema>;

const ABORT_OPTIONS = {
  ...ENDPOINT_TABLE_OPTIONS,
  reason: { type: 'string' },
  by: { type: 'string' },
  ...REGION_OPTION,
} as const satisfies OptionsConfig;

export const abortCommand: Command<AbortOptions> = {
  name: 'abort',
  summary: "stop an endpoint's rollout in progress; the reconciler restores blue and removes green",
  usage: `Usage: npx sagemaker-blue-green abort --endpoint NAME [--reason TEXT] [--by NAME] [--table TABLE] [--region REGION]

Aborts the rollout in progress on an endpoint, at any step: finds the execution holding the endpoint's lock
and stops it (StopExecution, error ${ABORT_ERROR}). The execution ends ABORTED, and the reconciler it starts
gives blue its weight back (once blue answers a probe), removes green, deletes the rollout's alarms and
releases the lock. Green is not touched by this command itself.
Prefer \`rollback\` while green takes traffic: it gives blue its weights back within seconds.

Options:
  --endpoint NAME   the SageMaker endpoint whose rollout is aborted
  --reason TEXT     why (default: "${DEFAULT_ABORT_REASON}"), recorded in the execution's cause
  --by NAME         who aborts (default: your OS user name)
${TABLE_USAGE}
  --region REGION   AWS region of the stack (default: AWS_REGION or your profile's region)
  --help            this text`,
  options: ABORT_OPTIONS,
  schema: AbortOptionsSchema,
  run: (options, context) => abort(options, context),
};

/** StopExecution's cause: who aborted and why, cut to the API's limit (counted in code points). */
export function abortCause(by: string, reason: string, at: Date): string {
  const cause = `Aborted by ${by} at ${at.toISOString()}: ${reason}`;
  const characters = Array.from(cause);
  return characters.length <= MAX_CAUSE_CHARS ? cause : `${characters.slice(0, MAX_CAUSE_CHARS - 1).join('')}…`;
}

async function abort(options: AbortOptions, context: CliContext): Promise<void> {
  const endpointName = options.endpoint;
  const by = operatorName(options.by, context);
  const table = tableName(options.table);

  const stepFunctions = context.aws.stepFunctions(options.region);
  const { dynamoDb } = clientsBeside(stepFunctions);

  let lock: EndpointLock | undefined;
  try {
    lock = await getEndpointLock(dynamoDb, table, endpointName);
  } catch (error) {
    throw new OperationError(explainLockError(error, endpointName, table, options.region));
  }
  if (!lock) {
    throw new OperationError(
      `no rollout in progress on endpoint ${endpointName} (table ${table} holds no lock for it): nothing to abort ` +
        '(check --endpoint, --table and --region if you expected one)',
    );
  }

  const { executionArn } = lock;
  const execution = await sfnCall(stepFunctions, 'states:DescribeExecution', lock, options.region, () =>
    stepFunctions.send(new DescribeExecutionCommand({ executionArn })),
  );
  if (execution.status !== 'RUNNING') throw new OperationError(alreadyEnded(lock, execution));

  const now = context.now();
  const stopped = await sfnCall(stepFunctions, 'states:StopExecution', lock, options.region, () =>
    stepFunctions.send(new StopExecutionCommand({ executionArn, error: ABORT_ERROR, cause: abortCause(by, options.reason ?? DEFAULT_ABORT_REASON, now) })),
  );
  for (const line of stoppedLines(lock, execution, stopped.stopDate ?? now, by)) context.out(line);
}

/** One Step Functions call on the lock's execution; an execution gone meanwhile reads as "already ended". */
async function sfnCall<T>(stepFunctions: SFNClient, action: string, lock: EndpointLock, region: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') throw new OperationError(alreadyEnded(lock));
    const resolvedRegion = region ?? (await stepFunctions.config.region().catch(() => undefined));
    throw new OperationError(explainAwsError(error, { action, executionArn: lock.executionArn, region: resolvedRegion }));
  }
}

/** Nothing to stop: who cleans up instead. */
function alreadyEnded(lock: EndpointLock, execution?: DescribeExecutionCommandOutput): string {
  const how = execution
    ? `already ended: it is ${execution.status}${execution.stopDate ? ` since ${execution.stopDate.toISOString()}` : ''}`
    : 'no longer exists (Step Functions does not know it: ended and expired, or in another region)';
  return (
    `execution ${lock.executionArn} holding endpoint ${lock.endpointName} ${how}: nothing to stop. ` +
    `The reconciler cleans up after an execution that failed, timed out or was stopped, and releases the lock; ` +
    `otherwise the lock expires at ${new Date(lock.expiresAt * 1000).toISOString()}.`
  );
}

function stoppedLines(lock: EndpointLock, execution: DescribeExecutionCommandOutput, stoppedAt: Date, by: string): string[] {
  const version = lock.plan.modelPackage?.version;
  const rows: Array<[string, string]> = [
    ['execution', lock.executionArn],
    ['model package', version !== undefined ? `version ${version} (${lock.modelPackageArn})` : lock.modelPackageArn],
    ['running since', execution.startDate ? execution.startDate.toISOString() : '(unknown)'],
    ['endpoint locked', lock.lockedAt],
    ['stopped at', `${stoppedAt.toISOString()} by ${by}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return [
    `Stopped the rollout on endpoint ${lock.endpointName}:`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
    '',
    'Next: the execution ends ABORTED and the reconciler takes over: it gives blue its weight back once blue answers a ' +
      "probe, removes green, deletes the rollout's alarms and releases the endpoint's lock.",
    `Follow it: npx sagemaker-blue-green trace --execution ${lock.executionArn}`,
  ];
}

/** The lock's read in plain words: the record's own complaint, the table, permissions, then AWS in general. */
function explainLockError(error: unknown, endpointName: string, table: string, region: string | undefined): string {
  if (error instanceof RolloutError) return error.message;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return (
      `permission missing (AWS said: ${message}). An abort needs dynamodb:GetItem on the active-rollouts table ${table}, ` +
      'and states:DescribeExecution and states:StopExecution on the rollout executions'
    );
  }
  if (name === 'ResourceNotFoundException') {
    return `the active-rollouts table was not found (${message}): check --table (the stack output ${TABLE_OUTPUT}) and --region`;
  }
  return explainAwsError(error, { action: 'dynamodb:GetItem', executionArn: `the rollout on ${endpointName}`, region });
}

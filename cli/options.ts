/**
 * Options several commands share: their parseArgs definitions, zod fields and usage lines, so `--execution`
 * and `--region` mean and read the same in every command.
 */
import { z } from 'zod';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../lambdas/shared/audit-trail';
import { RolloutError } from '../lambdas/shared/errors';
import { SAGEMAKER_NAME_PATTERN } from '../lambdas/shared/names';
import { ROLLOUTS_TABLE_ENV } from '../lambdas/shared/rollout-record';
import { explainAwsError } from './aws-errors';
import type { OptionsConfig } from './command';
import { OperationError, UsageError } from './command';

/** A Standard workflow execution: arn:PARTITION:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME. */
const EXECUTION_ARN_PATTERN = /^arn:aws[a-z-]*:states:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:execution:[^:\s]+:[^:\s]+$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const EXECUTION_OPTION = { execution: { type: 'string' } } as const satisfies OptionsConfig;
export const REGION_OPTION = { region: { type: 'string' } } as const satisfies OptionsConfig;

export const EXECUTION_USAGE = '  --execution ARN   the rollout execution (Step Functions execution ARN)';
export const REGION_USAGE = '  --region REGION   AWS region of the execution (default: AWS_REGION or your profile\'s region)';

export const executionArnField = z
  .string({ error: 'required: the ARN of the rollout execution' })
  .max(256, 'at most 256 characters (an execution ARN)')
  .regex(EXECUTION_ARN_PATTERN, 'expected an execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME');

export const regionField = z.string().regex(REGION_PATTERN, 'expected an AWS region such as eu-west-1').optional();

/** The region named in an execution ARN, or undefined when `arn` is not one. */
export function executionRegion(arn: string): string | undefined {
  return EXECUTION_ARN_PATTERN.exec(arn)?.[1];
}

/** Zod issues as one usage error, each naming its option: `--reason: required for reject`. */
export function usageErrorFrom(error: z.ZodError): UsageError {
  const lines = error.issues.map((issue) => `${issue.path.length ? `--${issue.path.join('.')}` : 'arguments'}: ${issue.message}`);
  return new UsageError(lines.join('\n'));
}

/** The stack output that names the active-rollouts table (lib/). */
export const TABLE_OUTPUT = 'ActiveRolloutsTableName';

/** A DynamoDB table name, or a table ARN (GetItem and UpdateItem accept both). */
const TABLE_PATTERN = /^([a-zA-Z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255})$/;

export const ENDPOINT_TABLE_OPTIONS = { endpoint: { type: 'string' }, table: { type: 'string' } } as const satisfies OptionsConfig;

/** `--endpoint`: `what` completes "required: the name of the endpoint whose rollout ...". */
export function endpointField(what: string) {
  return z
    .string({ error: `required: the name of the endpoint whose rollout ${what}` })
    .max(63, 'at most 63 characters (a SageMaker endpoint name)')
    .regex(SAGEMAKER_NAME_PATTERN, 'expected a SageMaker endpoint name (letters, digits, hyphens)');
}

export const tableField = z.string().trim().regex(TABLE_PATTERN, 'expected a DynamoDB table name or ARN').optional();

export const TABLE_USAGE = `  --table TABLE     the active-rollouts table (default: ${ROLLOUTS_TABLE_ENV}, else required: the stack
                    output ${TABLE_OUTPUT})`;

/** The active-rollouts table: --table, else ROLLOUTS_TABLE; neither is a usage error that says where to find it. */
export function tableName(table: string | undefined): string {
  const name = table ?? (process.env[ROLLOUTS_TABLE_ENV]?.trim() || undefined);
  if (name) return name;
  throw new UsageError(`--table: required (or set ${ROLLOUTS_TABLE_ENV}): the stack output ${TABLE_OUTPUT} names the table, e.g. ${stackOutputCommand(TABLE_OUTPUT)}`);
}

/** The AWS CLI command that prints one output of the stack. */
function stackOutputCommand(output: string): string {
  return `aws cloudformation describe-stacks --stack-name SageMakerBlueGreen --query "Stacks[0].Outputs[?OutputKey=='${output}'].OutputValue" --output text`;
}

/** The stack output that names the rollout history table (the audit trail, lib/). */
export const HISTORY_TABLE_OUTPUT = 'RolloutHistoryTableName';

export const HISTORY_TABLE_OPTION = { 'history-table': { type: 'string' } } as const satisfies OptionsConfig;

/** `--history-table`'s usage lines; `whenAbsent` says what the command does without the table. */
export function historyTableUsage(whenAbsent: string): string {
  return `  --history-table TABLE
                    the rollout history table (the audit trail; default: ${ROLLOUT_HISTORY_TABLE_ENV}; the stack
                    output ${HISTORY_TABLE_OUTPUT} names it). ${whenAbsent}`;
}

/** The history table: --history-table, else ROLLOUT_HISTORY_TABLE; undefined when neither names one. */
export function historyTableName(option: string | undefined): string | undefined {
  return option ?? (process.env[ROLLOUT_HISTORY_TABLE_ENV]?.trim() || undefined);
}

/** What to do when no history table is named: pass the option, set the variable, read the stack output. */
export const HISTORY_TABLE_HINT =
  `pass --history-table (or set ${ROLLOUT_HISTORY_TABLE_ENV}): the stack output ${HISTORY_TABLE_OUTPUT} names the table, ` +
  `e.g. ${stackOutputCommand(HISTORY_TABLE_OUTPUT)}`;

/** The history table, for a command that cannot work without it; neither option nor variable is a usage error. */
export function requireHistoryTableName(option: string | undefined): string {
  const name = historyTableName(option);
  if (name) return name;
  throw new UsageError(`--history-table: required: ${HISTORY_TABLE_HINT}`);
}

/** A DynamoDB table the operator names with an option, an environment variable or a stack output. */
export interface NamedTable {
  /** What the table is, for messages: `active-rollouts table`. */
  readonly description: string;
  /** The table's name or ARN, as given. */
  readonly name: string;
  /** The option that names it, e.g. `--table`. */
  readonly option: string;
  /** The environment variable read when the option is absent. */
  readonly env: string;
  /** The stack output that names it. */
  readonly output: string;
}

export function activeRolloutsTable(name: string): NamedTable {
  return { description: 'active-rollouts table', name, option: '--table', env: ROLLOUTS_TABLE_ENV, output: TABLE_OUTPUT };
}

export function rolloutHistoryTable(name: string): NamedTable {
  return { description: 'rollout history table', name, option: '--history-table', env: ROLLOUT_HISTORY_TABLE_ENV, output: HISTORY_TABLE_OUTPUT };
}

/**
 * A failed read of `table` in plain words: the record's own complaint (a RolloutError), a missing table (which
 * option, variable and stack output name the right one), a missing permission (on that table), else AWS in general.
 */
export function explainTableError(error: unknown, table: NamedTable, action: string, region: string | undefined): string {
  if (error instanceof RolloutError) return error.message;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ResourceNotFoundException') {
    return (
      `the ${table.description} ${table.name} was not found${region ? ` in ${region}` : ''} (AWS said: ${message}): ` +
      `check ${table.option} (or ${table.env}; the stack output ${table.output} names the table) and --region`
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return (
      `permission missing: your AWS identity may not call ${action} on the ${table.description} ${table.name} ` +
      `(AWS said: ${message}). Ask for ${action} on that table`
    );
  }
  return explainAwsError(error, { action, executionArn: `the ${table.description} ${table.name}`, region });
}

/** Runs one DynamoDB read of `table`; a failure becomes an OperationError in plain words. */
export async function tableCall<T>(table: NamedTable, action: string, region: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new OperationError(explainTableError(error, table, action, region));
  }
}

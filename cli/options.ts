/**
 * Options several commands share: their parseArgs definitions, zod fields and usage lines, so `--execution`
 * and `--region` mean and read the same in every command.
 */
import { z } from 'zod';
import { SAGEMAKER_NAME_PATTERN } from '../lambdas/shared/names';
import { ROLLOUTS_TABLE_ENV } from '../lambdas/shared/rollout-record';
import type { OptionsConfig } from './command';
import { UsageError } from './command';

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
  throw new UsageError(
    `--table: required (or set ${ROLLOUTS_TABLE_ENV}): the stack output ${TABLE_OUTPUT} names the table, e.g. ` +
      `aws cloudformation describe-stacks --stack-name SageMakerBlueGreen --query "Stacks[0].Outputs[?OutputKey=='${TABLE_OUTPUT}'].OutputValue" --output text`,
  );
}

/**
 * Options several commands share: their parseArgs definitions, zod fields and usage lines, so `--execution`
 * and `--region` mean and read the same in every command.
 */
import { z } from 'zod';
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

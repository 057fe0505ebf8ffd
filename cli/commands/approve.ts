/** `operator approve`: lets a rollout that waits for a person carry on to green. */
import { z } from 'zod';
import type { Command } from '../command';
import { byField, decide, DECISION_OPTIONS, DECISION_OPTIONS_USAGE, reasonField } from '../decision';
import { executionArnField, regionField } from '../options';

const ApproveOptionsSchema = z.object({
  execution: executionArnField,
  by: byField,
  reason: reasonField('must not be empty').optional(),
  region: regionField,
});

export type ApproveOptions = z.infer<typeof ApproveOptionsSchema>;

export const approveCommand: Command<ApproveOptions> = {
  name: 'approve',
  summary: 'approve a rollout that waits for a decision: it carries on with green',
  usage: `Usage: npx sagemaker-blue-green approve --execution ARN [--by NAME] [--reason TEXT] [--region REGION]

Approves a rollout waiting in "Wait for approval" (validation INCONCLUSIVE, or a policy that asks for a
person): shows the endpoint, model package version and validation verdict, then answers the task token
with SendTaskSuccess. The rollout goes on to shift traffic to green.

Options:
${DECISION_OPTIONS_USAGE}
  --help            this text`,
  options: DECISION_OPTIONS,
  schema: ApproveOptionsSchema,
  run: (options, context) =>
    decide({ kind: 'approve', executionArn: options.execution, by: options.by, reason: options.reason, region: options.region }, context),
};

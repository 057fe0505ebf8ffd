/** `operator reject`: stops a rollout that waits for a person; the state machine rolls back to blue. */
import { z } from 'zod';
import type { Command } from '../command';
import { byField, decide, DECISION_OPTIONS, DECISION_OPTIONS_USAGE, reasonField, REJECTION_ERROR } from '../decision';
import { executionArnField, regionField } from '../options';

const RejectOptionsSchema = z.object({
  execution: executionArnField,
  by: byField,
  reason: reasonField('required: say why the rollout is rejected'),
  region: regionField,
});

export type RejectOptions = z.infer<typeof RejectOptionsSchema>;

export const rejectCommand: Command<RejectOptions> = {
  name: 'reject',
  summary: 'reject a rollout that waits for a decision: it rolls back to blue',
  usage: `Usage: npx sagemaker-blue-green reject --execution ARN --reason TEXT [--by NAME] [--region REGION]

Rejects a rollout waiting in "Wait for approval": shows the endpoint, model package version and validation
verdict, then fails the task token with SendTaskFailure (error ${REJECTION_ERROR}, cause "Rejected by NAME:
REASON"). The rollout restores blue and deletes green. --reason is required.

Options:
${DECISION_OPTIONS_USAGE}
  --help            this text`,
  options: DECISION_OPTIONS,
  schema: RejectOptionsSchema,
  run: (options, context) =>
    decide({ kind: 'reject', executionArn: options.execution, by: options.by, reason: options.reason, region: options.region }, context),
};

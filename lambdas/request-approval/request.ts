/**
 * "Wait for approval": the rollout stops until an operator decides (the validation was INCONCLUSIVE, or the
 * policy asks a person even on PASS). This function only announces the wait, in one WARN log line that says
 * what to decide and how; the operator's command completes the task (SendTaskSuccess / SendTaskFailure with
 * the task token). It never completes the task itself, and never logs the token: the operator CLI finds it
 * from the execution.
 */
import { z } from 'zod';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema } from '../shared/plan';

export const STEP = 'request-approval';

export const RequestApprovalInputSchema = z.object({
  taskToken: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  executionArn: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  plan: RolloutPlanSchema,
  /** What "Judge green" returned. */
  validation: z.looseObject({
    verdict: z.enum(['PASS', 'FAIL', 'INCONCLUSIVE']),
    summary: z.string(),
    reportUri: z.string(),
  }),
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

export interface RequestApprovalResult {
  readonly notified: true;
}

export interface RequestApprovalDependencies {
  readonly logger: StepLogger;
}

/** The exact commands that decide a waiting rollout. */
export function decisionCommands(executionArn: string): { readonly approve: string; readonly reject: string } {
  return {
    approve: `npm run operator -- approve --execution ${executionArn}`,
    reject: `npm run operator -- reject --execution ${executionArn}`,
  };
}

export async function requestApproval(input: RequestApprovalInput, deps: RequestApprovalDependencies): Promise<RequestApprovalResult> {
  const { plan, validation, executionArn } = input;
  const commands = decisionCommands(executionArn);
  const why = validation.verdict === 'PASS' ? 'every gate passed, and the policy requires a person to approve (requireHumanApproval)' : `validation was ${validation.verdict}`;
  const deadline = new Date(Date.now() + plan.validation.approvalTimeoutSeconds * 1000).toISOString();
  deps.logger.warn(
    `Decision needed: rollout of ${plan.modelPackage.groupName} version ${plan.modelPackage.version} to endpoint ${plan.endpointName} ` +
      `waits for an operator because ${why}. Approve: ${commands.approve} | Reject: ${commands.reject} | ` +
      `Without a decision by ${deadline} the rollout is rejected. Validation: ${validation.summary.replace(/\n/g, ' | ')}`,
    {
      decisionNeeded: true,
      endpointName: plan.endpointName,
      modelPackageArn: plan.modelPackage.arn,
      modelPackageVersion: plan.modelPackage.version,
      verdict: validation.verdict,
      summary: validation.summary,
      reportUri: validation.reportUri,
      approveCommand: commands.approve,
      rejectCommand: commands.reject,
      decideBy: deadline,
    },
  );
  return { notified: true };
}

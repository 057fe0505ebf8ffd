/**
 * "Wait for approval": the rollout stops until an operator decides (the validation was INCONCLUSIVE, or the
 * policy asks a person even on PASS). This function only announces the wait, in one WARN log line that says
 * what to decide and how; the operator's command completes the task (SendTaskSuccess / SendTaskFailure with
 * the task token). It never completes the task itself, and never logs the token: the operator CLI finds it
 * from the execution.
 */
import { z } from 'zod';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
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
  /** Where Approval Requested is recorded; absent: not recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** Largest validation summary in the Approval Requested event, in UTF-8 bytes (the full report is in S3). */
export const MAX_EVENT_SUMMARY_BYTES = 1024;

/** `text` within `maxBytes` UTF-8 bytes: cut at a character boundary and ended with "..." when too long. */
export function fitBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  // By code point, so a character (or surrogate pair) is never split.
  for (const character of text) {
    const size = Buffer.byteLength(character);
    if (bytes + size > maxBytes - 3) break;
    bytes += size;
    end += character.length;
  }
  return `${text.slice(0, end)}...`;
}

/** The exact commands that decide a waiting rollout. */
export function decisionCommands(executionArn: string): { readonly approve: string; readonly reject: string } {
  return {
    approve: `npx sagemaker-blue-green approve --execution ${executionArn}`,
    reject: `npx sagemaker-blue-green reject --execution ${executionArn}`,
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
  if (deps.lifecycle) {
    await recordLifecycleEvent(deps.lifecycle, rolloutRef(plan), {
      type: 'ApprovalRequested',
      timeoutSeconds: plan.validation.approvalTimeoutSeconds,
      validationSummary: fitBytes(validation.summary, MAX_EVENT_SUMMARY_BYTES),
    });
  }
  return { notified: true };
}

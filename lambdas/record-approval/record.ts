/**
 * "Record approval decision": after an operator approved a waiting rollout (SendTaskSuccess on "Wait for approval"),
 * records who approved, why and when in the audit trail and on the lifecycle bus. Only approvals come here: a
 * rejection fails "Wait for approval" and is recorded with the rollback. Recording never fails the rollout.
 */
import { z } from 'zod';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema } from '../shared/plan';

export const STEP = 'record-approval';

/** The operator CLI's limits on --by and --reason (cli/decision.ts): a longer value did not come from it. */
const MAX_BY_CHARS = 128;
const MAX_REASON_CHARS = 4096;

export const RecordApprovalInputSchema = z.object({
  plan: RolloutPlanSchema,
  /** What the operator's approve command sent with SendTaskSuccess (`$.approval`). */
  approval: z.object({
    decision: z.literal('APPROVED', { error: 'must be "APPROVED" (a rejection never reaches this step)' }),
    by: z.string({ error: 'must be a string (who approved)' }).min(1, 'must not be empty').max(MAX_BY_CHARS, `must be at most ${MAX_BY_CHARS} characters`),
    reason: z
      .string({ error: 'must be a string or null' })
      .max(MAX_REASON_CHARS, `must be at most ${MAX_REASON_CHARS} characters`)
      .nullable(),
    decidedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  }),
});
export type RecordApprovalInput = z.infer<typeof RecordApprovalInputSchema>;

export interface RecordApprovalResult {
  readonly decision: 'APPROVED';
  readonly by: string;
}

export interface RecordApprovalDependencies {
  readonly logger: StepLogger;
  /** Where Approval Decided is recorded; absent: not recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** Records Approval Decided at the time the operator decided (not when this step ran). Never throws. */
export async function recordApproval(input: RecordApprovalInput, deps: RecordApprovalDependencies): Promise<RecordApprovalResult> {
  const { plan, approval } = input;
  deps.logger.info('Rollout approved by an operator', { by: approval.by, reason: approval.reason, decidedAt: approval.decidedAt });
  if (deps.lifecycle) {
    await recordLifecycleEvent(
      deps.lifecycle,
      rolloutRef(plan),
      { type: 'ApprovalDecided', decision: approval.decision, by: approval.by, ...(approval.reason ? { reason: approval.reason } : {}) },
      { at: approval.decidedAt },
    );
  }
  return { decision: approval.decision, by: approval.by };
}

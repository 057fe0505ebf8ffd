/**
 * "Summarize rollout": the last state of every path that took the endpoint's lock (after its "Release rollout*"
 * state). It concludes the rollout (rollout-summary.ts `concludeRollout`: the audit trail's outcome, the model
 * package's tags, the Rollout Promoted / Rollout Ended event, the outcome metrics) and returns the summary, which
 * becomes the execution's output. It never fails on what it records: the rollout is over.
 *
 * The ASL passes `{ outcome, state: $, executionStartTime: $$.Execution.StartTime }`; of the whole state it reads
 * only what the outcome's path sets (extra fields are allowed, and paths differ in which they have):
 * - PROMOTED: nothing more (the reason is PROMOTED_REASON);
 * - PROMOTION_INCOMPLETE: `failure` (the Catch of "Remove blue variant" / "Check blue removal");
 * - ROLLED_BACK: `restore` (restore-blue's DONE answer: the original error, and its cause with what was restored);
 * - ROLLBACK_BLOCKED / ROLLBACK_FAILED: `rollbackFailure` (the Catch of "Restore blue").
 * `validation`, `approval` and `plan.trigger` stand in for the audit trail when it lacks them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { failureMessage } from '../shared/failure';
import { rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { RolloutTriggerSchema } from '../shared/plan';
import { concludeRollout, PROMOTED_REASON, type RolloutFacts, type RolloutSummary } from '../shared/rollout-summary';
import { nowIso } from '../shared/time';

export const STEP = 'summarize-rollout';

/** The outcomes the state machine's paths end with (ABORTED is the reconciler's). */
export const SUMMARIZED_OUTCOMES = ['PROMOTED', 'PROMOTION_INCOMPLETE', 'ROLLED_BACK', 'ROLLBACK_BLOCKED', 'ROLLBACK_FAILED'] as const;
export type SummarizedOutcome = (typeof SUMMARIZED_OUTCOMES)[number];

const text = z.string({ error: 'must be a string' });
const nonEmpty = text.min(1, 'must not be empty');

/** What a Catch puts at its ResultPath. */
const CaughtSchema = z.looseObject({ Error: text, Cause: text.optional() });

/** The plan's fields the summary names (the whole plan is checked by every other step). */
const SummarizedPlanSchema = z.looseObject({
  deploymentId: z.string({ error: 'must be a string' }).regex(/^[0-9a-f]{8}$/, 'must be 8 lowercase hex characters'),
  executionArn: nonEmpty,
  endpointName: nonEmpty,
  modelPackage: z.looseObject({
    arn: nonEmpty,
    groupName: nonEmpty,
    version: z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be >= 1'),
  }),
  green: z.looseObject({ variantName: nonEmpty }),
  trigger: RolloutTriggerSchema.optional(),
});

const GateSchema = z.looseObject({ gate: text, verdict: text });

export const SummarizeRolloutInputSchema = z
  .object({
    outcome: z.enum(SUMMARIZED_OUTCOMES, { error: `must be one of ${SUMMARIZED_OUTCOMES.join(', ')}` }),
    /** The whole execution state (`$`). */
    state: z.looseObject({
      plan: SummarizedPlanSchema,
      failure: CaughtSchema.optional(),
      /** restore-blue's last answer ("Restore blue" ResultSelector). */
      restore: z.looseObject({ error: text.optional(), cause: text.optional() }).optional(),
      rollbackFailure: CaughtSchema.optional(),
      /** The operator's approval (SendTaskSuccess output of "Wait for approval"). */
      approval: z
        .looseObject({ decision: nonEmpty, by: nonEmpty, reason: text.nullable().optional(), decidedAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }) })
        .optional(),
      validation: z.looseObject({ verdict: nonEmpty, summary: text.optional(), gates: z.array(GateSchema, { error: 'must be an array' }).optional() }).optional(),
    }),
    /** `$$.Execution.StartTime`: the start when the audit trail has no header. */
    executionStartTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  })
  .superRefine((input, context) => {
    // Each path's own fields: a path that lacks them is not the path the outcome names.
    const require = (present: boolean, path: string[], what: string) => {
      if (!present) context.addIssue({ code: 'custom', path: ['state', ...path], message: `is required when outcome is ${input.outcome} (${what})` });
    };
    const { state } = input;
    switch (input.outcome) {
      case 'ROLLED_BACK':
        require(state.restore?.error !== undefined, ['restore', 'error'], "restore-blue's DONE answer");
        require(state.restore?.cause !== undefined, ['restore', 'cause'], "restore-blue's DONE answer");
        break;
      case 'ROLLBACK_BLOCKED':
      case 'ROLLBACK_FAILED':
        require(state.rollbackFailure !== undefined, ['rollbackFailure'], 'the Catch of "Restore blue"');
        break;
      case 'PROMOTION_INCOMPLETE':
        require(state.failure !== undefined, ['failure'], "the Catch of blue's removal");
        break;
      case 'PROMOTED':
        break;
    }
  });
export type SummarizeRolloutInput = z.infer<typeof SummarizeRolloutInputSchema>;

export interface SummarizeRolloutDependencies {
  readonly dynamo?: DynamoDBClient;
  readonly auditTable?: string;
  readonly sageMaker: SageMakerClient;
  readonly sink: LifecycleSink;
  readonly logger: StepLogger;
}

/** The error and reason each path ends with. */
export function outcomeErrorAndReason(input: SummarizeRolloutInput): { readonly error?: string; readonly reason: string } {
  const { state } = input;
  switch (input.outcome) {
    case 'PROMOTED':
      return { reason: PROMOTED_REASON };
    case 'PROMOTION_INCOMPLETE':
      return { error: state.failure!.Error, reason: failureMessage(state.failure!.Cause) };
    case 'ROLLED_BACK':
      return { error: state.restore!.error!, reason: failureMessage(state.restore!.cause) };
    case 'ROLLBACK_BLOCKED':
    case 'ROLLBACK_FAILED':
      return { error: state.rollbackFailure!.Error, reason: failureMessage(state.rollbackFailure!.Cause) };
  }
}

export async function summarizeRollout(input: SummarizeRolloutInput, deps: SummarizeRolloutDependencies): Promise<RolloutSummary> {
  const { plan, approval, validation, failure } = input.state;
  const ref = rolloutRef(plan);
  const facts: RolloutFacts = {
    ...(plan.trigger ? { trigger: plan.trigger } : {}),
    ...(validation ? { validation: { verdict: validation.verdict, gates: validation.gates ?? [] } } : {}),
    ...(approval
      ? { approval: { decision: approval.decision, by: approval.by, ...(approval.reason ? { reason: approval.reason } : {}), at: approval.decidedAt } }
      : {}),
    ...(failure ? { failure: { error: failure.Error, ...(failure.Cause !== undefined ? { cause: failure.Cause } : {}) } } : {}),
  };
  const summary = await concludeRollout(deps, {
    ref,
    outcome: input.outcome,
    ...outcomeErrorAndReason(input),
    startedAt: new Date(input.executionStartTime).toISOString(),
    endedAt: nowIso(),
    greenVariantName: plan.green.variantName,
    facts,
  });
  deps.logger.info(`Rollout ${summary.outcome}`, { outcome: summary.outcome, durationSeconds: summary.durationSeconds, error: summary.error });
  return summary;
}

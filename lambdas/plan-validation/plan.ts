/**
 * Splits validation into batches small enough for one Lambda invocation each. A dataset is read once, as a
 * stream: every line is checked (a malformed line fails the rollout here, before any validation traffic) and
 * each batch gets the byte range of its lines, so a batch later reads only its own part of the object.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { StepLogger } from '../shared/logger';
import { planBatches, type ValidationBatch } from '../shared/payloads';
import { type PayloadSource, type RolloutPlan, PlanInputSchema } from '../shared/plan';

export const STEP = 'plan-validation';

export const PlanValidationInputSchema = PlanInputSchema;
export type PlanValidationInput = z.infer<typeof PlanValidationInputSchema>;

export interface PlanValidationResult {
  /** The Map state's items: each is one "Validate batch" invocation. */
  readonly batches: readonly ValidationBatch[];
  /** Requests the batches send to green (and as many to blue). */
  readonly totalRequests: number;
  readonly source: PayloadSource['kind'];
}

export interface PlanValidationDependencies {
  readonly s3: S3Client;
  readonly logger: StepLogger;
}

export async function planValidation(plan: RolloutPlan, deps: PlanValidationDependencies): Promise<PlanValidationResult> {
  const { batchSize, fallbackRequests } = plan.validation;
  const { batches, totalRequests } = await planBatches(deps.s3, plan.payloads, batchSize, fallbackRequests);
  if (plan.payloads.kind !== 'dataset') {
    deps.logger.warn('No golden dataset: validation repeats one payload, so the golden and distribution gates cannot decide', {
      source: plan.payloads.kind,
      requests: totalRequests,
    });
  }
  return { batches, totalRequests, source: plan.payloads.kind };
}

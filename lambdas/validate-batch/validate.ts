/**
 * One validation batch: every payload of the batch goes to green and to blue at the same moment, so both are
 * measured under the same load on the same requests (a slow payload weighs on both sides alike). The paired
 * samples go to the artifacts bucket as JSON Lines; only counts return to the state machine (its state is
 * limited to 256 KB). Running the batch again (a Step Functions retry) sends it again and overwrites the same
 * object: one object per batch, whatever the attempts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { artifactsBucket, batchSamplesKey, putJsonLines } from '../shared/artifacts';
import { InputValidationError } from '../shared/errors';
import { invocationFor, invokeVariant, mapWithConcurrency, variantsUnderTest } from '../shared/invoke';
import type { StepLogger } from '../shared/logger';
import { firstPayload, isRepeatBatch, readPayloads, ValidationBatchSchema, type Payload, type ValidationBatch } from '../shared/payloads';
import { RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import type { PairedSample } from '../shared/validation-types';

export const STEP = 'validate-batch';

export const ValidateBatchInputSchema = z.object({ plan: RolloutPlanSchema, batch: ValidationBatchSchema });
export type ValidateBatchInput = z.infer<typeof ValidateBatchInputSchema>;

/** What "Validate batch" returns: counts and where the samples are, never the samples. */
export interface ValidateBatchResult {
  readonly index: number;
  /** Paired samples written. */
  readonly samples: number;
  /** Key of the samples object in the artifacts bucket. */
  readonly samplesKey: string;
}

/**
 * How long a batch may send requests. The state's timeout is 900 s (Lambda's limit); past this budget the
 * batch stops starting pairs and stores what it measured, so a slow or silent green ends in a report the
 * health gate fails, not in a killed function.
 */
export const BATCH_TIME_BUDGET_MS = 12 * 60 * 1000;

export interface ValidateBatchDependencies {
  /** A single-attempt client: SDK retries would hide errors and inflate latencies. */
  readonly runtime: SageMakerRuntimeClient;
  readonly s3: S3Client;
  readonly logger: StepLogger;
  /** @default process.env (ARTIFACTS_BUCKET) */
  readonly env?: NodeJS.ProcessEnv;
  /** @default BATCH_TIME_BUDGET_MS */
  readonly timeBudgetMs?: number;
}

export async function validateBatch(input: ValidateBatchInput, deps: ValidateBatchDependencies): Promise<ValidateBatchResult> {
  const { plan, batch } = input;
  // Known before any request: a function without a bucket must not send a batch it cannot store.
  const bucket = artifactsBucket(deps.env);
  const [green, blue] = variantsUnderTest(plan);
  const deadline = Date.now() + (deps.timeBudgetMs ?? BATCH_TIME_BUDGET_MS);
  let cutShort = false;
  async function* untilDeadline(payloads: AsyncIterable<Payload>): AsyncGenerator<Payload> {
    for await (const payload of payloads) {
      if (Date.now() >= deadline) {
        cutShort = true;
        return;
      }
      yield payload;
    }
  }

  const samples = await mapWithConcurrency(untilDeadline(batchPayloads(plan, batch, deps.s3)), plan.validation.concurrency, async (payload) => {
    const [greenSample, blueSample] = await Promise.all([
      invokeVariant(deps.runtime, invocationFor(plan, green!.variantName, payload)),
      blue ? invokeVariant(deps.runtime, invocationFor(plan, blue.variantName, payload)) : undefined,
    ]);
    const sample: PairedSample = {
      index: payload.index,
      green: greenSample,
      ...(blueSample ? { blue: blueSample } : {}),
      ...('expected' in payload ? { expected: payload.expected } : {}),
    };
    return sample;
  });

  const samplesKey = batchSamplesKey(plan.endpointName, plan.deploymentId, batch.index);
  await putJsonLines(deps.s3, bucket, samplesKey, samples);
  if (cutShort) {
    deps.logger.warn('Batch cut short: its time budget ran out before every payload was sent', {
      batch: batch.index,
      sent: samples.length,
      planned: batch.lines,
      budgetMs: deps.timeBudgetMs ?? BATCH_TIME_BUDGET_MS,
    });
  }
  return { index: batch.index, samples: samples.length, samplesKey };
}

/**
 * The batch's payloads: its byte range of the dataset (streamed), or the source's single payload `lines` times,
 * numbered from `firstRequest` so every sample of the validation has its own index.
 */
async function* batchPayloads(plan: RolloutPlan, batch: ValidationBatch, s3: S3Client): AsyncGenerator<Payload> {
  if (!isRepeatBatch(batch)) {
    if (plan.payloads.kind !== 'dataset') {
      throw new InputValidationError(`${STEP}: invalid input: batch: a byte range of a dataset, but plan.payloads.kind is ${plan.payloads.kind}`);
    }
    yield* readPayloads(s3, plan.payloads, batch);
    return;
  }
  const payload = await firstPayload(s3, plan.payloads);
  for (let i = 0; i < batch.lines; i++) yield { ...payload, index: batch.firstRequest + i };
}

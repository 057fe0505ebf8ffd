/**
 * Green must answer before it takes traffic: one InvokeEndpoint of the first payload (the dataset's first
 * request, the policy's sample payload or the model package's sample), sent to green with
 * TargetVariant (it reaches green whatever the weights). A container may report InService before its model
 * is loaded, so ModelNotReadyException is retried a few times; anything else wrong fails the check.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, type InvokeEndpointCommandOutput, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { SmokeCheckFailed } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { firstPayload } from '../shared/payloads';
import { type RolloutPlan, PlanInputSchema } from '../shared/plan';
import { sleep } from '../shared/time';

export const STEP = 'smoke-check';

export const SmokeCheckInputSchema = PlanInputSchema;
export type SmokeCheckInput = z.infer<typeof SmokeCheckInputSchema>;

export interface SmokeCheckResult {
  /** The variant that answered (always green when the check passes). */
  readonly invokedVariant: string;
  /** Round trip of the successful call, in milliseconds. */
  readonly latencyMs: number;
}

/** Retries after ModelNotReadyException (the first call not counted). */
export const MODEL_NOT_READY_RETRIES = 3;
/** Pause before each retry. */
export const MODEL_NOT_READY_DELAY_MS = 5000;

export interface SmokeCheckDependencies {
  readonly runtime: SageMakerRuntimeClient;
  /** Reads the payload source (a dataset or a model package sample in S3). */
  readonly s3: S3Client;
  readonly logger: StepLogger;
  /** Waits between retries. @default a `setTimeout` promise (faked in the rehearsal) */
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function smokeCheck(plan: RolloutPlan, deps: SmokeCheckDependencies): Promise<SmokeCheckResult> {
  const greenVariantName = plan.green.variantName;
  const fail = (what: string) =>
    new SmokeCheckFailed(`Smoke check of green variant ${greenVariantName} on endpoint ${plan.endpointName} failed: ${what}`);
  const wait = deps.sleep ?? sleep;
  // A payload that cannot be read fails as PayloadUnavailable, before green is called.
  const payload = await firstPayload(deps.s3, plan.payloads);

  let response: InvokeEndpointCommandOutput | undefined;
  let latencyMs = 0;
  for (let retry = 0; response === undefined; retry++) {
    const startedAt = Date.now();
    try {
      response = await deps.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: plan.endpointName,
          TargetVariant: greenVariantName,
          ContentType: payload.contentType,
          Body: new TextEncoder().encode(payload.body),
        }),
      );
      latencyMs = Date.now() - startedAt;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (name === 'ModelNotReadyException' && retry < MODEL_NOT_READY_RETRIES) {
        deps.logger.warn('Green not ready yet: retrying', { attempt: retry + 1, delayMs: MODEL_NOT_READY_DELAY_MS });
        await wait(MODEL_NOT_READY_DELAY_MS);
        continue;
      }
      const attempts = name === 'ModelNotReadyException' ? ` (after ${retry + 1} attempts)` : '';
      throw fail(`${describeInvokeError(error)}${attempts}`);
    }
  }

  if (!response.Body || response.Body.byteLength === 0) throw fail('the response body is empty.');
  if (response.InvokedProductionVariant !== greenVariantName) {
    throw fail(`variant ${response.InvokedProductionVariant ?? '(none named)'} answered, not ${greenVariantName}.`);
  }
  return { invokedVariant: response.InvokedProductionVariant, latencyMs };
}

/** `ModelError (OriginalStatusCode 500): message`, or `Name: message` for other errors. */
function describeInvokeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { OriginalStatusCode?: number }).OriginalStatusCode;
  const original = (error as { OriginalMessage?: string }).OriginalMessage;
  if (error.name === 'ModelError') {
    return `ModelError (OriginalStatusCode ${status ?? 'unknown'}): ${error.message}${original && original !== error.message ? ` (${original})` : ''}`;
  }
  return `${error.name}: ${error.message}`;
}

/**
 * One measured request to one variant, and bounded concurrency for many of them. A request never throws:
 * whatever happens (an answer, a container error, a refusal, a throttle, silence) becomes an
 * InvocationSample whose outcome the gates count. Latency is read from `Date.now()`, which the rehearsal's
 * fake clock controls.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Payload } from './payloads';
import type { RolloutPlan } from './plan';
import { extractAt } from './score-path';
import type { InvocationOutcome, InvocationSample } from './validation-types';

export interface InvokeVariantRequest {
  readonly endpointName: string;
  /** The variant that must answer (TargetVariant: it is reached whatever the weights). */
  readonly variantName: string;
  /** The request body; a string is sent as UTF-8. */
  readonly body: string | Uint8Array;
  readonly contentType: string;
  /** Unanswered after this long: the request is aborted and counts as TIMEOUT. */
  readonly timeoutMs: number;
  /** Where the numeric score is in the response (JSON pointer or JMESPath field path). @default none: no score read */
  readonly scorePath?: string;
  /** Where the prediction is in the response. @default none: no prediction read */
  readonly predictionPath?: string;
}

/** A variant validation sends traffic to. */
export interface VariantUnderTest {
  readonly role: 'green' | 'blue';
  readonly variantName: string;
}

/** Green, and blue unless this is a first deployment (there is no blue then). */
export function variantsUnderTest(plan: RolloutPlan): VariantUnderTest[] {
  const green: VariantUnderTest = { role: 'green', variantName: plan.green.variantName };
  return !plan.firstDeployment && plan.blue ? [green, { role: 'blue', variantName: plan.blue.variantName }] : [green];
}

/** The request that sends `payload` to `variantName` under the plan's validation policy. */
export function invocationFor(plan: RolloutPlan, variantName: string, payload: Pick<Payload, 'body' | 'contentType'>): InvokeVariantRequest {
  return {
    endpointName: plan.endpointName,
    variantName,
    body: payload.body,
    contentType: payload.contentType,
    timeoutMs: plan.validation.requestTimeoutMs,
    scorePath: plan.validation.scorePath,
    predictionPath: plan.validation.predictionPath,
  };
}

/** Error names SageMaker Runtime uses for its own failures (not the container's). */
const SERVICE_FAILURES: ReadonlySet<string> = new Set(['InternalFailure', 'ServiceUnavailable', 'InternalDependencyException', 'InternalStreamFailure']);
const THROTTLING_ERRORS: ReadonlySet<string> = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException']);

/**
 * Sends one request to one variant and reports how it ended (never throws for an AWS or network error).
 * The SDK's abortSignal gets the timeout, so a real transport drops the socket; the wait itself is bounded
 * here too, so a transport that ignores the signal cannot hold the step.
 */
export async function invokeVariant(runtime: SageMakerRuntimeClient, request: InvokeVariantRequest): Promise<InvocationSample> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, request.timeoutMs);
  });
  const body = typeof request.body === 'string' ? new TextEncoder().encode(request.body) : request.body;
  const startedAt = Date.now();
  try {
    const call = runtime.send(
      new InvokeEndpointCommand({ EndpointName: request.endpointName, TargetVariant: request.variantName, ContentType: request.contentType, Body: body }),
      { abortSignal: controller.signal },
    );
    // The call settles later than the timeout when the transport ignores the signal: nothing may reject unheard.
    call.catch(() => undefined);
    const result = await Promise.race([call, timedOut]);
    const latencyMs = Date.now() - startedAt;
    if (result === 'timeout') return { outcome: 'TIMEOUT', latencyMs, errorName: 'TimeoutError' };
    if (result.InvokedProductionVariant !== undefined && result.InvokedProductionVariant !== request.variantName) {
      // TargetVariant was not honoured: the measurement is not green's (or blue's). SageMaker's fault.
      return { outcome: 'FAILED', statusCode: 200, latencyMs, errorName: 'UnexpectedVariant' };
    }
    return { outcome: 'OK', statusCode: 200, latencyMs, ...readResponse(result.Body, request) };
  } catch (error) {
    const latencyMs = Date.now() - startedAt;
    if (controller.signal.aborted) return { outcome: 'TIMEOUT', latencyMs, errorName: 'TimeoutError' };
    return { ...classifyInvocationError(error), latencyMs };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How a failed InvokeEndpoint ended:
 * - ModelError: the container answered non-2xx: MODEL_ERROR with its OriginalStatusCode;
 * - ModelNotReadyException (HTTP 429, but the model is not loaded, not a rate limit): FAILED;
 * - ThrottlingException or any other 429: THROTTLED;
 * - ValidationError and other 4xx: CLIENT_ERROR (SageMaker refused the request);
 * - SageMaker's own 5xx (InternalFailure, ServiceUnavailable, ...), a network error, anything else: FAILED.
 */
export function classifyInvocationError(error: unknown): { outcome: InvocationOutcome; statusCode?: number; errorName: string } {
  const errorName = error instanceof Error ? error.name : typeof error;
  const httpStatus = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const withStatus = (outcome: InvocationOutcome, statusCode: number | undefined) => ({
    outcome,
    errorName,
    ...(statusCode !== undefined ? { statusCode } : {}),
  });
  if (errorName === 'ModelError') {
    const original = (error as { OriginalStatusCode?: number }).OriginalStatusCode;
    return withStatus('MODEL_ERROR', typeof original === 'number' ? original : httpStatus);
  }
  if (errorName === 'ModelNotReadyException') return withStatus('FAILED', httpStatus ?? 429);
  if (THROTTLING_ERRORS.has(errorName) || httpStatus === 429) return withStatus('THROTTLED', httpStatus ?? 429);
  if (errorName === 'ValidationError' || errorName === 'ValidationException') return withStatus('CLIENT_ERROR', httpStatus ?? 400);
  if (SERVICE_FAILURES.has(errorName)) return withStatus('FAILED', httpStatus);
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500) return withStatus('CLIENT_ERROR', httpStatus);
  return withStatus('FAILED', httpStatus);
}

/** Score (a finite number) and prediction read from a JSON response; nothing when it is not JSON. */
function readResponse(body: Uint8Array | undefined, request: InvokeVariantRequest): { score?: number; prediction?: unknown } {
  if (!body || body.byteLength === 0 || (request.scorePath === undefined && request.predictionPath === undefined)) return {};
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return {};
  }
  const score = request.scorePath !== undefined ? extractAt(document, request.scorePath) : undefined;
  const prediction = request.predictionPath !== undefined ? extractAt(document, request.predictionPath) : undefined;
  return {
    ...(typeof score === 'number' && Number.isFinite(score) ? { score } : {}),
    ...(prediction !== undefined ? { prediction } : {}),
  };
}

/**
 * `fn` over every item with at most `limit` calls in flight; results in the items' order. Items may be an
 * async iterable (a streamed dataset): it is pulled only as workers free up, so at most `limit` items are
 * held at once. The first rejection stops new calls and rejects the whole.
 */
export async function mapWithConcurrency<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, position: number) => Promise<R>,
): Promise<R[]> {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  const iterator =
    Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : toAsyncIterator((items as Iterable<T>)[Symbol.iterator]());
  const results: R[] = [];
  let next = 0;
  let failed = false;
  // Pulls are chained: an async iterator is not asked for an item before the previous one arrived, and each
  // item gets its position as it arrives, so results keep the items' order.
  let pulling: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<{ readonly item: T; readonly position: number } | undefined> => {
    const pulled = pulling.then(async () => {
      const step = await iterator.next();
      return step.done ? undefined : { item: step.value, position: next++ };
    });
    pulling = pulled.catch(() => undefined);
    return pulled;
  };
  const worker = async (): Promise<void> => {
    try {
      while (!failed) {
        const pulled = await pull();
        if (pulled === undefined || failed) return;
        results[pulled.position] = await fn(pulled.item, pulled.position);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  try {
    await Promise.all(Array.from({ length: limit }, worker));
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  return results;
}

function toAsyncIterator<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}

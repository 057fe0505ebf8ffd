/**
 * Robustness probes: malformed and adversarial requests to green. A sound container answers each with a
 * client error (a 4xx, or SageMaker refusing the request); a 5xx, a hang or a crash means a bad request from
 * one client can take green down for everyone. After the probes, the normal first payload must still be
 * answered: a container that crashed on a probe fails that. The probes go one at a time, so each outcome
 * belongs to its probe.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { invocationFor, invokeVariant } from '../shared/invoke';
import type { StepLogger } from '../shared/logger';
import { firstPayload, type Payload } from '../shared/payloads';
import { type RolloutPlan, PlanInputSchema } from '../shared/plan';
import type { InvocationSample, RobustnessProbe, RobustnessResult } from '../shared/validation-types';

export const STEP = 'probe-robustness';

export const ProbeRobustnessInputSchema = PlanInputSchema;
export type ProbeRobustnessInput = z.infer<typeof ProbeRobustnessInputSchema>;

export interface ProbeRobustnessDependencies {
  /** A single-attempt client: a probe is one request, not one plus the SDK's retries. */
  readonly runtime: SageMakerRuntimeClient;
  readonly s3: S3Client;
  readonly logger: StepLogger;
}

/** A malformed request derived from a well-formed payload. */
export interface ProbeRequest {
  readonly name: string;
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** JSON nesting of the deeply-nested probe: deeper than most parsers' recursion allows by default. */
export const NESTING_DEPTH = 1000;

/**
 * The "Probe robustness" state allows 120 s. Every probe and the recovery request share this budget, so each
 * waits at most budget / requests (or requestTimeoutMs, if shorter) before counting as a timeout.
 */
export const PROBE_TIME_BUDGET_MS = 100_000;

/** The probes, in the order they are sent, derived from `payload`. */
export function probeRequests(payload: Pick<Payload, 'body' | 'contentType'>): ProbeRequest[] {
  const bytes = new TextEncoder().encode(payload.body);
  const { contentType } = payload;
  return [
    {
      name: 'wrong-content-type',
      body: bytes,
      contentType: contentType.toLowerCase().startsWith('text/plain') ? 'application/octet-stream' : 'text/plain',
    },
    { name: 'truncated-payload', body: bytes.subarray(0, Math.floor(bytes.length / 2)), contentType },
    { name: 'huge-values', body: new TextEncoder().encode(withHugeNumbers(payload.body)), contentType },
    { name: 'empty-body', body: new Uint8Array(0), contentType },
    { name: 'deeply-nested', body: new TextEncoder().encode(`${'['.repeat(NESTING_DEPTH)}${']'.repeat(NESTING_DEPTH)}`), contentType },
  ];
}

/**
 * The payload with every number replaced by 1e300 (close to the largest double: overflows float32 tensors and
 * many feature scalers). JSON is rewritten structurally; other text (CSV, ...) by replacing numeric tokens.
 */
export function withHugeNumbers(body: string): string {
  try {
    return JSON.stringify(replaceNumbers(JSON.parse(body)));
  } catch {
    return body.replace(/-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g, '1e300');
  }
}

function replaceNumbers(value: unknown): unknown {
  if (typeof value === 'number') return 1e300;
  if (Array.isArray(value)) return value.map(replaceNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, replaceNumbers(inner)]));
  }
  return value;
}

export async function probeRobustness(plan: RolloutPlan, deps: ProbeRobustnessDependencies): Promise<RobustnessResult> {
  const payload = await firstPayload(deps.s3, plan.payloads);
  const requests = probeRequests(payload);
  const timeoutMs = Math.min(plan.validation.requestTimeoutMs, Math.floor(PROBE_TIME_BUDGET_MS / (requests.length + 1)));
  const green = plan.green.variantName;

  const probes: RobustnessProbe[] = [];
  for (const request of requests) {
    const sample = await invokeVariant(deps.runtime, {
      ...invocationFor(plan, green, payload),
      body: request.body,
      contentType: request.contentType,
      timeoutMs,
    });
    const probe = toProbe(request, sample);
    deps.logger.info('Probe answered', { probe: probe.name, outcome: probe.outcome, statusCode: probe.statusCode, errorName: sample.errorName });
    probes.push(probe);
  }
  const recovery = await invokeVariant(deps.runtime, { ...invocationFor(plan, green, payload), timeoutMs });
  const recoveredAfterwards = recovery.outcome === 'OK';
  if (!recoveredAfterwards) {
    deps.logger.warn('Green did not answer a well-formed request after the probes', { outcome: recovery.outcome, statusCode: recovery.statusCode, errorName: recovery.errorName });
  }
  return { probes, recoveredAfterwards };
}

function toProbe(request: ProbeRequest, sample: InvocationSample): RobustnessProbe {
  // An empty body refused before it reached SageMaker (no HTTP status: the SDK's own check) is a client error too.
  const refusedLocally = request.body.length === 0 && sample.outcome === 'FAILED' && sample.statusCode === undefined;
  return {
    name: request.name,
    outcome: refusedLocally ? 'CLIENT_ERROR' : sample.outcome,
    ...(sample.statusCode !== undefined ? { statusCode: sample.statusCode } : {}),
    latencyMs: sample.latencyMs,
  };
}

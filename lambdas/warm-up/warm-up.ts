/**
 * Warm-up: representative requests to every variant the UpdateEndpoint (re)deployed, until its tail latency
 * settles. A fresh GPU fleet answers its first requests slowly (model loading, CUDA kernels compiled on first
 * use, caches): measured as is, green would look slower than it is, and blue too when its fleet was redeployed.
 * Requests go in windows; a variant is warm when the p99 of its last window is within `stabilityFraction` of
 * the window before, and its latency has stopped falling (see `isStable`). Nothing measured here is kept.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { WarmUpDidNotStabilize } from '../shared/errors';
import { invocationFor, invokeVariant, mapWithConcurrency, variantsUnderTest, type VariantUnderTest } from '../shared/invoke';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { leadingPayloads, type Payload } from '../shared/payloads';
import { type RolloutPlan, PlanInputSchema } from '../shared/plan';
import { percentiles } from '../shared/statistics';

export const STEP = 'warm-up';

export const WarmUpInputSchema = PlanInputSchema;
export type WarmUpInput = z.infer<typeof WarmUpInputSchema>;

/** A variant once warm. */
export interface WarmedVariant {
  readonly role: 'green' | 'blue';
  readonly variantName: string;
  /** Requests sent, all windows together. */
  readonly requests: number;
  /** How long its warm-up took. */
  readonly seconds: number;
  /** p99 of the first window (the cold fleet), in ms; null when no request of that window succeeded. */
  readonly firstWindowP99Ms: number | null;
  /** p99 of the last window (the warm fleet), in ms. */
  readonly lastWindowP99Ms: number | null;
  readonly stable: true;
}

export interface WarmUpResult {
  readonly variants: readonly WarmedVariant[];
}

export interface WarmUpDependencies {
  /** A single-attempt client: a retried request would blur the latency being watched. */
  readonly runtime: SageMakerRuntimeClient;
  readonly s3: S3Client;
  readonly logger: StepLogger;
  /** Where Warm-up Completed is recorded; absent: not recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** How many windows' p99 a failure message shows. */
const TRAIL_SHOWN = 6;

/**
 * Warms green (and blue, unless this is a first deployment) in parallel.
 * @throws WarmUpDidNotStabilize naming every variant that did not settle within maxRequests / maxSeconds
 */
export async function warmUp(plan: RolloutPlan, deps: WarmUpDependencies): Promise<WarmUpResult> {
  // One window's worth of distinct requests, cycled: representative, and read from the source only once.
  const pool = await leadingPayloads(deps.s3, plan.payloads, plan.validation.warmUp.windowSize);
  const variants = variantsUnderTest(plan);
  const settled = await Promise.allSettled(variants.map((variant) => warmVariant(plan, variant, pool, deps)));
  const unstable = settled.flatMap((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof WarmUpDidNotStabilize ? [outcome.reason] : []));
  const other = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected' && !(outcome.reason instanceof WarmUpDidNotStabilize));
  if (other) throw other.reason;
  if (unstable.length > 0) throw new WarmUpDidNotStabilize(unstable.map((error) => error.message).join(' '));
  const warmed = settled.map((outcome) => (outcome as PromiseFulfilledResult<WarmedVariant>).value);
  if (deps.lifecycle) {
    await recordLifecycleEvent(deps.lifecycle, rolloutRef(plan), {
      type: 'WarmUpCompleted',
      variants: warmed.map(({ role, variantName, requests, seconds, lastWindowP99Ms }) => ({ role, variantName, requests, seconds, lastWindowP99Ms })),
    });
  }
  return { variants: warmed };
}

async function warmVariant(plan: RolloutPlan, variant: VariantUnderTest, pool: readonly Payload[], deps: WarmUpDependencies): Promise<WarmedVariant> {
  const { windowSize, stabilityFraction, maxRequests, maxSeconds } = plan.validation.warmUp;
  const lookback = trendLookback(windowSize, maxRequests);
  const startedAt = Date.now();
  const trail: (WindowLatency | null)[] = [];
  let requests = 0;
  for (;;) {
    const first = requests;
    const window = await mapWithConcurrency(Array.from({ length: windowSize }, (_unused, i) => pool[(first + i) % pool.length]!), plan.validation.concurrency, (payload) =>
      // Only latency matters here: responses are not parsed for scores.
      invokeVariant(deps.runtime, { ...invocationFor(plan, variant.variantName, payload), scorePath: undefined, predictionPath: undefined }),
    );
    requests += window.length;
    const answered = window.filter((sample) => sample.outcome === 'OK').map((sample) => sample.latencyMs);
    // A window mostly answered with errors says nothing about the warm latency.
    if (answered.length * 2 >= window.length) {
      const [p50Ms, p99Ms] = percentiles(answered, [50, 99]) as [number, number];
      trail.push({ p50Ms, p99Ms });
    } else {
      trail.push(null);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    deps.logger.debug('Warm-up window', { variant: variant.variantName, window: trail.length, latency: trail.at(-1), answered: answered.length, requests });

    if (isStable(trail, stabilityFraction, lookback)) {
      deps.logger.info('Variant warm', { variant: variant.variantName, role: variant.role, requests, seconds, p99Ms: trail.map((w) => w?.p99Ms ?? null) });
      return {
        role: variant.role,
        variantName: variant.variantName,
        requests,
        seconds: Math.round(seconds * 10) / 10,
        firstWindowP99Ms: trail[0]?.p99Ms ?? null,
        lastWindowP99Ms: trail.at(-1)?.p99Ms ?? null,
        stable: true,
      };
    }
    // Whole windows only, so the request bound is never exceeded.
    const requestsExhausted = requests + windowSize > maxRequests;
    if (requestsExhausted || seconds >= maxSeconds) {
      const bound = requestsExhausted ? `the ${maxRequests}-request limit (warmUp.maxRequests)` : `the ${maxSeconds} s limit (warmUp.maxSeconds)`;
      throw new WarmUpDidNotStabilize(
        `The ${variant.role} variant ${variant.variantName} did not stabilize before ${bound}: ${requests} requests in ` +
          `${Math.round(seconds)} s; p99 of the last windows of ${windowSize}: ${describeTrail(trail)} (warm needs two successive ` +
          `windows within ${Math.round(stabilityFraction * 100)}% of each other, and a median that moved less than that over the last ` +
          `${lookback * windowSize} requests).`,
      );
    }
  }
}

/** Latency of one warm-up window (its successful requests). */
export interface WindowLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Requests over which the median must have stopped moving. A window's p99 is nearly its slowest request, so
 * noisy: while a cold fleet speeds up by, say, 10% a window, two successive windows often land within 10% of
 * each other by chance. Over this many requests a fading cold start moves the median well beyond the
 * stability fraction, while noise alone rarely does.
 */
export const TREND_SPAN_REQUESTS = 200;

/** How many windows back the median is compared: TREND_SPAN_REQUESTS worth, at least 1, within maxRequests. */
export function trendLookback(windowSize: number, maxRequests: number): number {
  const span = Math.max(1, Math.ceil(TREND_SPAN_REQUESTS / windowSize));
  return Math.max(1, Math.min(span, Math.floor(maxRequests / windowSize) - 1));
}

/**
 * Whether the windows so far show a warm variant:
 * - the last window's p99 is within `fraction` of the window before (the policy's stability criterion);
 * - and the latency has stopped falling: the last window's median is within `fraction` of the median
 *   `lookback` windows earlier (see TREND_SPAN_REQUESTS).
 * `null` marks a window answered mostly with errors: never stable across it.
 */
export function isStable(trail: readonly (WindowLatency | null)[], fraction: number, lookback = 1): boolean {
  if (trail.length < Math.max(2, lookback + 1)) return false;
  const last = trail[trail.length - 1];
  const previous = trail[trail.length - 2];
  const reference = trail[trail.length - 1 - lookback];
  if (!last || !previous || !reference) return false;
  return within(previous.p99Ms, last.p99Ms, fraction) && within(reference.p50Ms, last.p50Ms, fraction);
}

/** `value` differs from `base` by less than `fraction` of `base` (0 only matches 0). */
function within(base: number, value: number, fraction: number): boolean {
  return base === 0 ? value === 0 : Math.abs(value - base) / base < fraction;
}

function describeTrail(trail: readonly (WindowLatency | null)[]): string {
  const shown = trail.slice(-TRAIL_SHOWN).map((window) => (window === null ? 'mostly errors' : `${Math.round(window.p99Ms)} ms`));
  return `${trail.length > TRAIL_SHOWN ? '..., ' : ''}${shown.join(', ')}`;
}

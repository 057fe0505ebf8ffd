/**
 * The validation contract. Before green (the new model variant) takes traffic, the rollout sends the same
 * payloads to green and blue (the live variant) and records paired samples; `evaluateGates` (gates.ts)
 * judges them. The invoker, the judge and the config schema all build on these types: rename nothing here
 * without them.
 */

/**
 * How one InvokeEndpoint call ended.
 * - `OK`: HTTP 200 from the container.
 * - `MODEL_ERROR`: the container answered non-2xx (SageMaker's ModelError; `statusCode` = its OriginalStatusCode).
 * - `CLIENT_ERROR`: SageMaker refused the request (ValidationError, other 4xx).
 * - `THROTTLED`: SageMaker throttled the call.
 * - `TIMEOUT`: no answer within the request timeout.
 * - `FAILED`: a 5xx from SageMaker itself (InternalFailure, ServiceUnavailable, ...).
 */
export type InvocationOutcome = 'OK' | 'MODEL_ERROR' | 'CLIENT_ERROR' | 'THROTTLED' | 'TIMEOUT' | 'FAILED';

/** One request to one variant. */
export interface InvocationSample {
  readonly outcome: InvocationOutcome;
  /** HTTP status: the container's OriginalStatusCode for MODEL_ERROR, SageMaker's status otherwise. */
  readonly statusCode?: number;
  /** Latency observed by the client, in milliseconds. */
  readonly latencyMs: number;
  /** The numeric value at the policy's scorePath, when the response had one. */
  readonly score?: number;
  /** The value at the policy's golden predictionPath, when present. */
  readonly prediction?: unknown;
  /** The SDK error's name, when the call failed. */
  readonly errorName?: string;
}

/** The same dataset line sent to green and to blue. */
export interface PairedSample {
  /** Line number in the golden dataset (0-based). */
  readonly index: number;
  readonly green: InvocationSample;
  /** Absent on a first deployment (there is no blue). */
  readonly blue?: InvocationSample;
  /** The dataset line's expected output, when it has one. */
  readonly expected?: unknown;
}

/** A malformed or adversarial request sent to green. */
export interface RobustnessProbe {
  /** What the probe tried, e.g. `wrong-content-type`, `truncated-payload`, `huge-values`, `empty-body`. */
  readonly name: string;
  readonly outcome: InvocationOutcome;
  readonly statusCode?: number;
  readonly latencyMs: number;
}

export interface RobustnessResult {
  readonly probes: readonly RobustnessProbe[];
  /** Whether green answered a well-formed request correctly after the probes. */
  readonly recoveredAfterwards: boolean;
}

export type GateName = 'health' | 'latency' | 'errors' | 'golden' | 'distribution' | 'robustness';
export type GateVerdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'SKIPPED';

/** One measured quantity against its threshold. */
export interface GateCheck {
  /** What was measured, e.g. `green p99 / blue p99`. */
  readonly name: string;
  /** The measured value; null when it could not be computed (no data). */
  readonly statistic: number | null;
  readonly threshold: number;
  /** The check passes when `statistic <comparison> threshold`. */
  readonly comparison: '<=' | '>=';
  /** null when the statistic could not be computed. */
  readonly passed: boolean | null;
}

export interface GateResult {
  readonly gate: GateName;
  readonly verdict: GateVerdict;
  /** Usable samples the gate judged (pairs, samples with an expected output, probes, ... depending on the gate). */
  readonly samples: number;
  /** Usable samples the gate needs before it can PASS. */
  readonly minSamples: number;
  readonly checks: readonly GateCheck[];
  /** One readable sentence: what was measured against what, or why the gate could not decide. */
  readonly reason: string;
}

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

/** A request worth looking at: failed, or among the slowest. */
export interface WorstRequest {
  readonly index: number;
  readonly variant: 'green' | 'blue';
  readonly outcome: InvocationOutcome;
  readonly latencyMs: number;
  readonly statusCode?: number;
}

export interface ValidationReport {
  /** Any gate FAIL -> FAIL; else any INCONCLUSIVE -> INCONCLUSIVE; else PASS (SKIPPED gates do not count). */
  readonly verdict: Verdict;
  /** One result per gate, in the order of `GATE_NAMES`. */
  readonly gates: readonly GateResult[];
  /** Paired samples judged. */
  readonly sampleCount: number;
  /** Up to 10 requests: failed ones first, then the slowest. */
  readonly worstRequests: readonly WorstRequest[];
  /** One line per gate, e.g. `latency PASS: green p99 92 ms <= 1.2 x blue p99 88 ms`. */
  readonly summary: string;
}

/** The gates in the order they are evaluated and reported. */
export const GATE_NAMES: readonly GateName[] = ['health', 'latency', 'errors', 'golden', 'distribution', 'robustness'];

/** Every green request must be answered (no TIMEOUT, no FAILED). */
export interface HealthGatePolicy {
  /** @default true */
  readonly enabled: boolean;
  /** @default 100 */
  readonly minSamples: number;
}

/** Green's latency percentiles, absolute and relative to blue's on the same requests. Unset thresholds are not checked. */
export interface LatencyGatePolicy {
  /** @default true */
  readonly enabled: boolean;
  /** @default 200 */
  readonly minSamples: number;
  /** Largest allowed green p50 / blue p50. @default - (not checked) */
  readonly maxRelativeP50?: number;
  /** Largest allowed green p95 / blue p95. @default - (not checked) */
  readonly maxRelativeP95?: number;
  /** Largest allowed green p99 / blue p99. @default 1.2 */
  readonly maxRelativeP99?: number;
  /** Largest allowed green p50, in ms. @default - (not checked) */
  readonly maxP50Ms?: number;
  /** Largest allowed green p95, in ms. @default - (not checked) */
  readonly maxP95Ms?: number;
  /** Largest allowed green p99, in ms. @default - (not checked) */
  readonly maxP99Ms?: number;
}

/** Green's server-side error rate (MODEL_ERROR 5xx and FAILED). */
export interface ErrorsGatePolicy {
  /** @default true */
  readonly enabled: boolean;
  /** @default 200 */
  readonly minSamples: number;
  /** Largest allowed error rate, 0-1. @default 0.01 */
  readonly maxErrorRate: number;
}

/** Green's predictions against the golden dataset's expected outputs. */
export interface GoldenGatePolicy {
  /** @default true */
  readonly enabled: boolean;
  /** @default 50 */
  readonly minSamples: number;
  /** classification: prediction JSON-equal to expected; regression: |prediction - expected| <= tolerance. @default 'classification' */
  readonly mode: 'classification' | 'regression';
  /** Smallest allowed share of agreeing samples, 0-1. @default 0.95 */
  readonly minAgreement: number;
  /** Absolute tolerance in regression mode. @default 0.05 */
  readonly tolerance: number;
}

/** Green's output distribution against blue's on the same inputs. */
export interface DistributionGatePolicy {
  /** @default true */
  readonly enabled: boolean;
  /** @default 200 */
  readonly minSamples: number;
  /** Two-sample Kolmogorov-Smirnov or population stability index. @default 'ks' */
  readonly method: 'ks' | 'psi';
  /** KS significance level: FAIL needs pValue < alpha (and D > maxKsStatistic). @default 0.01 */
  readonly alpha: number;
  /** KS effect-size floor: FAIL needs D > maxKsStatistic (and pValue < alpha). @default 0.1 */
  readonly maxKsStatistic: number;
  /** PSI bin cut points (ascending). @default - (blue's deciles) */
  readonly bins?: readonly number[];
  /** Largest allowed PSI. @default 0.2 */
  readonly maxPsi: number;
}

/** Green's answers to malformed requests: a 4xx, never a 5xx or a hang, and still healthy afterwards. */
export interface RobustnessGatePolicy {
  /** @default true */
  readonly enabled: boolean;
}

/** Which gates run and their thresholds: part of the target config (the config schema produces exactly this). */
export interface GatePolicy {
  readonly health: HealthGatePolicy;
  readonly latency: LatencyGatePolicy;
  readonly errors: ErrorsGatePolicy;
  readonly golden: GoldenGatePolicy;
  readonly distribution: DistributionGatePolicy;
  readonly robustness: RobustnessGatePolicy;
}

/** The defaults above as one value: the config schema's defaults should come from here, so they exist once. */
export const DEFAULT_GATE_POLICY: GatePolicy = {
  health: { enabled: true, minSamples: 100 },
  latency: { enabled: true, minSamples: 200, maxRelativeP99: 1.2 },
  errors: { enabled: true, minSamples: 200, maxErrorRate: 0.01 },
  golden: { enabled: true, minSamples: 50, mode: 'classification', minAgreement: 0.95, tolerance: 0.05 },
  distribution: { enabled: true, minSamples: 200, method: 'ks', alpha: 0.01, maxKsStatistic: 0.1, maxPsi: 0.2 },
  robustness: { enabled: true },
};

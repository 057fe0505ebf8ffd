/**
 * The validation gates: green (the new variant) judged on paired samples, against blue (the live variant) on
 * the same requests, and against the golden dataset's expected outputs. Pure: no AWS calls, no clock.
 *
 * Principles every gate follows:
 * - Too little data is never a PASS: an enabled gate with fewer usable samples than its `minSamples` is
 *   INCONCLUSIVE. The one exception goes the other way: an unanswered request is a fact that more samples
 *   cannot undo, so health FAILs on it whatever the sample count.
 * - Every check reports its statistic, threshold and comparison, so a verdict can be audited from the report.
 * - Blue is compared on the SAME requests as green (pairs where both sides have data), so a slow payload
 *   weighs on both sides equally.
 */
import {
  percentileOfSorted,
  populationStabilityIndex,
  psiCategorical,
  sortAscending,
  twoSampleKolmogorovSmirnov,
  decileEdges,
} from './statistics';
import type {
  DistributionGatePolicy,
  ErrorsGatePolicy,
  GateCheck,
  GateName,
  GatePolicy,
  GateResult,
  GateVerdict,
  GoldenGatePolicy,
  HealthGatePolicy,
  InvocationSample,
  LatencyGatePolicy,
  PairedSample,
  RobustnessProbe,
  RobustnessResult,
  ValidationReport,
  Verdict,
  WorstRequest,
} from './validation-types';

export interface EvaluateGatesInput {
  /** The paired green/blue samples, in any order. */
  readonly samples: readonly PairedSample[];
  /** The robustness probes' outcomes. @default none (the robustness gate is INCONCLUSIVE when enabled) */
  readonly robustness?: RobustnessResult;
  /** Which gates run, with their thresholds. */
  readonly policy: GatePolicy;
  /** True when there is no blue: relative latency and distribution checks have nothing to compare with. */
  readonly firstDeployment: boolean;
}

/** How many requests `worstRequests` lists. */
export const MAX_WORST_REQUESTS = 10;

/**
 * Blue's latency percentile is floored at this many ms before it divides green's, so the ratio stays finite
 * (and JSON-safe) when a simulated or cached blue answers in 0 ms.
 */
export const MIN_LATENCY_MS_FOR_RATIO = 1e-3;

/** Judges green on `samples` with every gate of `policy`, in the order of GATE_NAMES. */
export function evaluateGates(input: EvaluateGatesInput): ValidationReport {
  const { samples, policy, firstDeployment } = input;
  const gates: GateResult[] = [
    policy.health.enabled ? healthGate(samples, policy.health) : skipped('health', policy.health.minSamples),
    policy.latency.enabled ? latencyGate(samples, policy.latency, firstDeployment) : skipped('latency', policy.latency.minSamples),
    policy.errors.enabled ? errorsGate(samples, policy.errors) : skipped('errors', policy.errors.minSamples),
    policy.golden.enabled ? goldenGate(samples, policy.golden) : skipped('golden', policy.golden.minSamples),
    policy.distribution.enabled
      ? distributionGate(samples, policy.distribution, firstDeployment)
      : skipped('distribution', policy.distribution.minSamples),
    policy.robustness.enabled ? robustnessGate(input.robustness) : skipped('robustness', ROBUSTNESS_MIN_PROBES),
  ];
  return {
    verdict: overallVerdict(gates),
    gates,
    sampleCount: samples.length,
    worstRequests: worstRequests(samples),
    summary: gates.map((gate) => `${gate.gate} ${gate.verdict}: ${gate.reason}`).join('\n'),
  };
}

/** Any FAIL -> FAIL; else any INCONCLUSIVE -> INCONCLUSIVE; else PASS. SKIPPED gates do not count. */
export function overallVerdict(gates: readonly Pick<GateResult, 'verdict'>[]): Verdict {
  if (gates.some((gate) => gate.verdict === 'FAIL')) return 'FAIL';
  if (gates.some((gate) => gate.verdict === 'INCONCLUSIVE')) return 'INCONCLUSIVE';
  return 'PASS';
}

// ---------------------------------------------------------------------------------------------------------
// Gates

function healthGate(samples: readonly PairedSample[], policy: HealthGatePolicy): GateResult {
  let timeouts = 0;
  let failures = 0;
  for (const { green } of samples) {
    if (green.outcome === 'TIMEOUT') timeouts++;
    else if (green.outcome === 'FAILED') failures++;
  }
  const unanswered = timeouts + failures;
  const checks = [check('unanswered green requests (TIMEOUT or FAILED)', unanswered, 0, '<=')];
  const counts = `${timeouts} TIMEOUT, ${failures} FAILED`;
  // An unanswered request cannot be undone by more samples: FAIL even below minSamples.
  if (unanswered > 0) return result('health', 'FAIL', samples.length, policy.minSamples, checks, `${unanswered} of ${samples.length} green requests unanswered (${counts})`);
  if (tooFewSamples(samples.length, policy.minSamples)) return tooFew('health', samples.length, policy.minSamples, checks, 'green requests');
  return result('health', 'PASS', samples.length, policy.minSamples, checks, `all ${samples.length} green requests answered (${counts})`);
}

const LATENCY_PERCENTILES = [50, 95, 99] as const;
const ABSOLUTE_LIMIT = { 50: 'maxP50Ms', 95: 'maxP95Ms', 99: 'maxP99Ms' } as const;
const RELATIVE_LIMIT = { 50: 'maxRelativeP50', 95: 'maxRelativeP95', 99: 'maxRelativeP99' } as const;

function latencyGate(samples: readonly PairedSample[], policy: LatencyGatePolicy, firstDeployment: boolean): GateResult {
  const absolute = LATENCY_PERCENTILES.filter((p) => policy[ABSOLUTE_LIMIT[p]] !== undefined);
  const relative = firstDeployment ? [] : LATENCY_PERCENTILES.filter((p) => policy[RELATIVE_LIMIT[p]] !== undefined);
  if (absolute.length === 0 && relative.length === 0) {
    const why = firstDeployment
      ? 'first deployment: no blue to compare with, and no absolute threshold (maxP50Ms, maxP95Ms, maxP99Ms) configured'
      : 'no latency threshold configured';
    return result('latency', 'SKIPPED', 0, policy.minSamples, [], why);
  }

  // Green's OK latencies for absolute thresholds; both sides' latencies on pairs where both are OK for relative ones.
  const greenLatencies: number[] = [];
  const pairedGreen: number[] = [];
  const pairedBlue: number[] = [];
  for (const { green, blue } of samples) {
    if (!answeredOk(green)) continue;
    greenLatencies.push(green.latencyMs);
    if (blue !== undefined && answeredOk(blue)) {
      pairedGreen.push(green.latencyMs);
      pairedBlue.push(blue.latencyMs);
    }
  }
  const greenSorted = sortAscending(greenLatencies);
  const pairedGreenSorted = sortAscending(pairedGreen);
  const pairedBlueSorted = sortAscending(pairedBlue);

  const checks: GateCheck[] = [];
  const clauses: { readonly passed: boolean | null; readonly text: string }[] = [];
  for (const p of absolute) {
    const limit = policy[ABSOLUTE_LIMIT[p]]!;
    const greenMs = greenSorted.length > 0 ? percentileOfSorted(greenSorted, p) : null;
    const latencyCheck = check(`green p${p} (ms)`, greenMs, limit, '<=');
    checks.push(latencyCheck);
    clauses.push({
      passed: latencyCheck.passed,
      text: greenMs === null ? `green p${p}: no OK request` : `green p${p} ${formatMs(greenMs)} ms ${latencyCheck.passed ? '<=' : '>'} ${formatMs(limit)} ms`,
    });
  }
  for (const p of relative) {
    const limit = policy[RELATIVE_LIMIT[p]]!;
    const computable = pairedGreenSorted.length > 0;
    const greenMs = computable ? percentileOfSorted(pairedGreenSorted, p) : null;
    const blueMs = computable ? percentileOfSorted(pairedBlueSorted, p) : null;
    const ratio = greenMs !== null && blueMs !== null ? latencyRatio(greenMs, blueMs) : null;
    const ratioCheck = check(`green p${p} / blue p${p}`, ratio, limit, '<=');
    checks.push(ratioCheck);
    clauses.push({
      passed: ratioCheck.passed,
      text:
        greenMs === null || blueMs === null || ratio === null
          ? `green p${p} / blue p${p}: no pair where both answered OK`
          : `green p${p} ${formatMs(greenMs)} ms ${ratioCheck.passed ? '<=' : '>'} ${limit} x blue p${p} ${formatMs(blueMs)} ms` +
            (ratioCheck.passed ? '' : ` (ratio ${formatNumber(ratio)})`),
    });
  }

  // Relative checks are the binding ones when present: they see only the pairs, a subset of green's OK samples.
  const usable = relative.length > 0 ? pairedGreen.length : greenLatencies.length;
  const what = relative.length > 0 ? 'pairs where green and blue both answered OK' : 'green requests answered OK';
  const failing = clauses.filter((clause) => clause.passed === false);
  const reason = (failing.length > 0 ? failing : clauses).map((clause) => clause.text).join('; ');
  if (tooFewSamples(usable, policy.minSamples)) {
    return tooFew('latency', usable, policy.minSamples, checks, failing.length === 0 ? what : `${what}; so far ${reason}`);
  }
  return result('latency', verdictOf(checks), usable, policy.minSamples, checks, `${reason} (${usable} ${what})`);
}

function errorsGate(samples: readonly PairedSample[], policy: ErrorsGatePolicy): GateResult {
  let errors = 0;
  for (const { green } of samples) if (isServerError(green)) errors++;
  const rate = samples.length > 0 ? errors / samples.length : null;
  const checks = [check('green server error rate (MODEL_ERROR 5xx or FAILED)', rate, policy.maxErrorRate, '<=')];
  if (tooFewSamples(samples.length, policy.minSamples)) return tooFew('errors', samples.length, policy.minSamples, checks, 'green requests');
  const passed = checks[0]!.passed;
  const reason = `green error rate ${formatPercent(rate!)} (${errors} of ${samples.length} MODEL_ERROR 5xx or FAILED) ${passed ? '<=' : '>'} ${formatPercent(policy.maxErrorRate)}`;
  return result('errors', verdictOf(checks), samples.length, policy.minSamples, checks, reason);
}

function goldenGate(samples: readonly PairedSample[], policy: GoldenGatePolicy): GateResult {
  let usable = 0;
  let agreeing = 0;
  for (const sample of samples) {
    if (sample.expected === undefined) continue;
    usable++;
    if (agrees(sample.green.prediction, sample.expected, policy)) agreeing++;
  }
  const agreement = usable > 0 ? agreeing / usable : null;
  const checks = [check(`golden agreement (${policy.mode})`, agreement, policy.minAgreement, '>=')];
  if (usable === 0) return result('golden', 'INCONCLUSIVE', 0, policy.minSamples, checks, 'no sample has an expected output (no data)');
  if (tooFewSamples(usable, policy.minSamples)) return tooFew('golden', usable, policy.minSamples, checks, 'samples with an expected output');
  const passed = checks[0]!.passed;
  const mode = policy.mode === 'regression' ? `regression, tolerance ${policy.tolerance}` : 'classification';
  const reason = `green agrees with ${agreeing} of ${usable} expected outputs (${formatPercent(agreement!)}) ${passed ? '>=' : '<'} ${formatPercent(policy.minAgreement)} (${mode})`;
  return result('golden', verdictOf(checks), usable, policy.minSamples, checks, reason);
}

function distributionGate(samples: readonly PairedSample[], policy: DistributionGatePolicy, firstDeployment: boolean): GateResult {
  if (firstDeployment) return result('distribution', 'SKIPPED', 0, policy.minSamples, [], 'first deployment: no blue outputs to compare with');
  const data = comparableOutputs(samples);
  if (data.kind === 'none') {
    const checks = [check('distribution shift', null, policy.method === 'ks' ? policy.maxKsStatistic : policy.maxPsi, '<=')];
    return tooFew('distribution', 0, policy.minSamples, checks, 'pairs where green and blue both have a score or a prediction');
  }
  const usable = data.green.length;
  const what = data.kind === 'numeric' && data.source === 'scores' ? 'score pairs' : 'prediction pairs';
  const tooFewPairs = tooFewSamples(usable, policy.minSamples);

  if (data.kind === 'categorical') {
    const psi = psiCategorical(data.blue, data.green);
    const checks = [check('PSI of prediction labels', psi, policy.maxPsi, '<=')];
    if (tooFewPairs) return tooFew('distribution', usable, policy.minSamples, checks, what);
    const reason = `PSI of green vs blue prediction labels ${formatNumber(psi)} ${checks[0]!.passed ? '<=' : '>'} ${policy.maxPsi} (${usable} ${what})`;
    return result('distribution', verdictOf(checks), usable, policy.minSamples, checks, reason);
  }

  if (policy.method === 'psi') {
    const edges = policy.bins !== undefined ? [...policy.bins] : decileEdges(data.blue);
    const psi = populationStabilityIndex(data.blue, data.green, edges);
    const checks = [check(`PSI of ${data.source}`, psi, policy.maxPsi, '<=')];
    if (tooFewPairs) return tooFew('distribution', usable, policy.minSamples, checks, what);
    const bins = policy.bins !== undefined ? 'configured bins' : "blue's deciles";
    const reason = `PSI of green vs blue ${data.source} ${formatNumber(psi)} ${checks[0]!.passed ? '<=' : '>'} ${policy.maxPsi} (${bins}, ${usable} ${what})`;
    return result('distribution', verdictOf(checks), usable, policy.minSamples, checks, reason);
  }

  const ks = twoSampleKolmogorovSmirnov(data.green, data.blue);
  const checks = [
    check('KS p-value', ks.pValue, policy.alpha, '>='),
    check('KS statistic D', ks.statistic, policy.maxKsStatistic, '<='),
  ];
  if (tooFewPairs) return tooFew('distribution', usable, policy.minSamples, checks, what);
  // Significance alone fails large samples on differences too small to matter; the D floor alone fails small
  // samples on noise. A shift must be both significant and large enough.
  const shifted = ks.pValue < policy.alpha && ks.statistic > policy.maxKsStatistic;
  const comparison = `KS D ${formatNumber(ks.statistic)}, p ${formatProbability(ks.pValue)}`;
  const reason = shifted
    ? `green ${data.source} differ from blue's: ${comparison} (D > ${policy.maxKsStatistic} and p < ${policy.alpha}; ${usable} ${what})`
    : `no material shift of green ${data.source} from blue's: ${comparison} (FAIL needs D > ${policy.maxKsStatistic} and p < ${policy.alpha}; ${usable} ${what})`;
  return result('distribution', shifted ? 'FAIL' : 'PASS', usable, policy.minSamples, checks, reason);
}

/** Probes are a handful of crafted requests, not a statistical sample: one is enough to judge. */
const ROBUSTNESS_MIN_PROBES = 1;

function robustnessGate(robustness: RobustnessResult | undefined): GateResult {
  const probes = robustness?.probes ?? [];
  if (robustness === undefined || probes.length === 0) {
    const checks = [check('probes answered 5xx or not at all', null, 0, '<='), check('recovered afterwards (1 = yes)', null, 1, '>=')];
    return result('robustness', 'INCONCLUSIVE', 0, ROBUSTNESS_MIN_PROBES, checks, 'no robustness probe was run (no data)');
  }
  const broken = probes.filter((probe) => probeHandling(probe) === 'broken');
  const undecided = probes.filter((probe) => probeHandling(probe) === 'undecided');
  const checks = [
    check('probes answered 5xx or not at all', broken.length, 0, '<='),
    check('recovered afterwards (1 = yes)', robustness.recoveredAfterwards ? 1 : 0, 1, '>='),
  ];
  const failures = broken.map((probe) => `${probe.name}: ${describeOutcome(probe)}`);
  if (!robustness.recoveredAfterwards) failures.push('green did not answer a well-formed request correctly afterwards');
  if (failures.length > 0) return result('robustness', 'FAIL', probes.length, ROBUSTNESS_MIN_PROBES, checks, failures.join('; '));
  if (undecided.length > 0) {
    const list = undecided.map((probe) => `${probe.name}: ${describeOutcome(probe)}`).join('; ');
    return result('robustness', 'INCONCLUSIVE', probes.length, ROBUSTNESS_MIN_PROBES, checks, `no verdict for ${list}`);
  }
  return result(
    'robustness',
    'PASS',
    probes.length,
    ROBUSTNESS_MIN_PROBES,
    checks,
    `${probes.length} malformed ${probes.length === 1 ? 'request' : 'requests'} answered without a 5xx or a hang (${probes.map((probe) => `${probe.name}: ${describeOutcome(probe)}`).join(', ')}); green recovered afterwards`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Sample classification

function answeredOk(sample: InvocationSample): boolean {
  return sample.outcome === 'OK' && Number.isFinite(sample.latencyMs);
}

/**
 * A server-side failure: FAILED, or MODEL_ERROR with a 5xx. A MODEL_ERROR without a status code is counted
 * as one too: the container failed and nothing says it was the caller's fault.
 */
function isServerError(sample: Pick<InvocationSample, 'outcome' | 'statusCode'>): boolean {
  if (sample.outcome === 'FAILED') return true;
  return sample.outcome === 'MODEL_ERROR' && (sample.statusCode === undefined || sample.statusCode >= 500);
}

/**
 * How green handled a malformed request: refused it (a 4xx) or answered it (OK) is `handled`; a 5xx, a
 * MODEL_ERROR without status or no answer is `broken`; a throttle (or an odd status) says nothing: `undecided`.
 */
function probeHandling(probe: RobustnessProbe): 'handled' | 'broken' | 'undecided' {
  if (probe.outcome === 'TIMEOUT' || isServerError(probe)) return 'broken';
  if (probe.outcome === 'OK' || probe.outcome === 'CLIENT_ERROR') return 'handled';
  if (probe.outcome === 'MODEL_ERROR' && probe.statusCode !== undefined && probe.statusCode >= 400 && probe.statusCode < 500) return 'handled';
  return 'undecided';
}

function describeOutcome(request: { readonly outcome: string; readonly statusCode?: number }): string {
  return request.statusCode === undefined ? request.outcome : `${request.outcome} ${request.statusCode}`;
}

type ComparableOutputs =
  | { readonly kind: 'numeric'; readonly source: 'scores' | 'predictions'; readonly green: number[]; readonly blue: number[] }
  | { readonly kind: 'categorical'; readonly green: unknown[]; readonly blue: unknown[] }
  | { readonly kind: 'none' };

/**
 * What the distribution gate compares, from pairs where both sides have it: numeric scores when any pair has
 * them (a configured scorePath); otherwise predictions, as numbers if they all are, else as labels.
 */
function comparableOutputs(samples: readonly PairedSample[]): ComparableOutputs {
  const greenScores: number[] = [];
  const blueScores: number[] = [];
  const greenPredictions: unknown[] = [];
  const bluePredictions: unknown[] = [];
  let allPredictionsNumeric = true;
  for (const { green, blue } of samples) {
    if (blue === undefined) continue;
    if (isFiniteNumber(green.score) && isFiniteNumber(blue.score)) {
      greenScores.push(green.score);
      blueScores.push(blue.score);
    }
    if (green.prediction !== undefined && blue.prediction !== undefined) {
      greenPredictions.push(green.prediction);
      bluePredictions.push(blue.prediction);
      allPredictionsNumeric &&= isFiniteNumber(green.prediction) && isFiniteNumber(blue.prediction);
    }
  }
  if (greenScores.length > 0) return { kind: 'numeric', source: 'scores', green: greenScores, blue: blueScores };
  if (greenPredictions.length === 0) return { kind: 'none' };
  if (allPredictionsNumeric) {
    return { kind: 'numeric', source: 'predictions', green: greenPredictions as number[], blue: bluePredictions as number[] };
  }
  return { kind: 'categorical', green: greenPredictions, blue: bluePredictions };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Classification: JSON-equal. Regression: both numbers, within the tolerance (plus a few ulps of rounding). */
function agrees(prediction: unknown, expected: unknown, policy: GoldenGatePolicy): boolean {
  if (policy.mode === 'classification') return jsonEqual(prediction, expected);
  if (!isFiniteNumber(prediction) || !isFiniteNumber(expected)) return false;
  const slack = 4 * Number.EPSILON * Math.max(1, Math.abs(prediction), Math.abs(expected));
  return Math.abs(prediction - expected) <= policy.tolerance + slack;
}

/** Equal as JSON documents: same primitives, arrays element by element, objects key by key in any order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  // JSON drops undefined members: {a: 1, b: undefined} is {a: 1}.
  const leftKeys = Object.keys(left).filter((key) => left[key] !== undefined);
  const rightKeys = Object.keys(right).filter((key) => right[key] !== undefined);
  if (leftKeys.length !== rightKeys.length) return false;
  return leftKeys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && jsonEqual(left[key], right[key]));
}

/** Green's percentile over blue's, blue floored at MIN_LATENCY_MS_FOR_RATIO. */
function latencyRatio(greenMs: number, blueMs: number): number {
  if (greenMs === 0 && blueMs === 0) return 1;
  return greenMs / Math.max(blueMs, MIN_LATENCY_MS_FOR_RATIO);
}

// ---------------------------------------------------------------------------------------------------------
// Worst requests

/**
 * Up to MAX_WORST_REQUESTS green and blue requests: failed ones (any outcome but OK) first, then the slowest;
 * ties by index, green before blue. One pass, keeping a short sorted list (O(n) for n samples).
 */
function worstRequests(samples: readonly PairedSample[]): WorstRequest[] {
  const worst: WorstRequest[] = [];
  const consider = (index: number, variant: 'green' | 'blue', sample: InvocationSample): void => {
    const failed = sample.outcome !== 'OK';
    // Most requests do not make a full list: rank them before building anything.
    if (worst.length === MAX_WORST_REQUESTS && rankAgainst(failed, sample.latencyMs, index, variant, worst[worst.length - 1]!) >= 0) return;
    let position = worst.length;
    while (position > 0 && rankAgainst(failed, sample.latencyMs, index, variant, worst[position - 1]!) < 0) position--;
    worst.splice(position, 0, {
      index,
      variant,
      outcome: sample.outcome,
      latencyMs: sample.latencyMs,
      ...(sample.statusCode !== undefined ? { statusCode: sample.statusCode } : {}),
    });
    if (worst.length > MAX_WORST_REQUESTS) worst.pop();
  };
  for (const sample of samples) {
    consider(sample.index, 'green', sample.green);
    if (sample.blue !== undefined) consider(sample.index, 'blue', sample.blue);
  }
  return worst;
}

/** Negative when the request described first is worse than `other` (comes before it in the list). */
function rankAgainst(failed: boolean, latencyMs: number, index: number, variant: 'green' | 'blue', other: WorstRequest): number {
  const otherFailed = other.outcome !== 'OK';
  if (failed !== otherFailed) return failed ? -1 : 1;
  const latency = Number.isFinite(latencyMs) ? latencyMs : Number.NEGATIVE_INFINITY;
  const otherLatency = Number.isFinite(other.latencyMs) ? other.latencyMs : Number.NEGATIVE_INFINITY;
  if (latency !== otherLatency) return otherLatency > latency ? 1 : -1;
  if (index !== other.index) return index - other.index;
  return variant === other.variant ? 0 : variant === 'green' ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------------------
// Results and formatting

function check(name: string, statistic: number | null, threshold: number, comparison: '<=' | '>='): GateCheck {
  const passed = statistic === null ? null : comparison === '<=' ? statistic <= threshold : statistic >= threshold;
  return { name, statistic, threshold, comparison, passed };
}

/** FAIL when a check failed; INCONCLUSIVE when one could not be computed; else PASS. */
function verdictOf(checks: readonly GateCheck[]): GateVerdict {
  if (checks.some((c) => c.passed === false)) return 'FAIL';
  if (checks.some((c) => c.passed === null)) return 'INCONCLUSIVE';
  return 'PASS';
}

function result(gate: GateName, verdict: GateVerdict, samples: number, minSamples: number, checks: readonly GateCheck[], reason: string): GateResult {
  return { gate, verdict, samples, minSamples, checks, reason };
}

/** Below minSamples, or no data at all (a policy may set minSamples to 0; nothing still proves nothing). */
function tooFewSamples(usable: number, minSamples: number): boolean {
  return usable === 0 || usable < minSamples;
}

function tooFew(gate: GateName, samples: number, minSamples: number, checks: readonly GateCheck[], what: string): GateResult {
  const reason = samples < minSamples ? `too few samples: ${samples} < ${minSamples} (${what})` : `no data (${what})`;
  return result(gate, 'INCONCLUSIVE', samples, minSamples, checks, reason);
}

function skipped(gate: GateName, minSamples: number): GateResult {
  return result(gate, 'SKIPPED', 0, minSamples, [], 'disabled by policy');
}

/** Whole milliseconds from 10 ms up, two significant digits below. */
function formatMs(ms: number): string {
  return Math.abs(ms) >= 10 ? String(Math.round(ms)) : String(Number(ms.toPrecision(2)));
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function formatPercent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

function formatProbability(p: number): string {
  return p !== 0 && p < 1e-4 ? p.toExponential(1) : formatNumber(p);
}

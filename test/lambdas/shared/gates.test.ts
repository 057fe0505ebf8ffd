import fc from 'fast-check';
import { evaluateGates, jsonEqual, MAX_WORST_REQUESTS, overallVerdict } from '../../../lambdas/shared/gates';
import { percentile, twoSampleKolmogorovSmirnov } from '../../../lambdas/shared/statistics';
import {
  DEFAULT_GATE_POLICY,
  GATE_NAMES,
  type GateName,
  type GatePolicy,
  type GateResult,
  type InvocationOutcome,
  type InvocationSample,
  type PairedSample,
  type RobustnessResult,
  type ValidationReport,
} from '../../../lambdas/shared/validation-types';
import { SeededRandom, mulberry32 } from '../../../rehearsal/sim/rng';

/** Seeded uniform [0, 1) draws (mulberry32): the same samples on every run. */
const seededUniform = mulberry32;
/** Seeded standard normal draws (the simulation's generator: reproducible on every run). */
const seededNormal = (seed: number): (() => number) => {
  const random = new SeededRandom(seed);
  return () => random.normal();
};

// ---------------------------------------------------------------------------------------------------------
// Seeded data

/** A typical latency: log-normal around 50 ms, p99 about twice the median. */
const latencyFrom = (z: number) => 50 * Math.exp(0.3 * z);

const ok = (latencyMs: number, extra: Partial<InvocationSample> = {}): InvocationSample => ({ outcome: 'OK', statusCode: 200, latencyMs, ...extra });

interface SideShape {
  /** Latency from a standard normal draw. @default latencyFrom */
  readonly latency?: (z: number, index: number) => number;
  /** Score from a standard normal draw. @default z */
  readonly score?: (z: number) => number;
}

/**
 * N pairs with independent draws for green and blue (the same dataset line, two models). Green and blue
 * draw from their own seeded streams, so changing one side's shape never changes the other's values.
 */
function pairs(n: number, seed: number, shape: { green?: SideShape; blue?: SideShape | null } = {}): PairedSample[] {
  const greenNormal = seededNormal(seed);
  const blueNormal = seededNormal(seed + 7919);
  const green = { latency: latencyFrom, score: (z: number) => z, ...shape.green };
  const blue = shape.blue === null ? null : { latency: latencyFrom, score: (z: number) => z, ...shape.blue };
  return Array.from({ length: n }, (_, index) => {
    const greenSample = ok(green.latency(greenNormal(), index), { score: green.score(greenNormal()) });
    if (blue === null) return { index, green: greenSample };
    return { index, green: greenSample, blue: ok(blue.latency(blueNormal(), index), { score: blue.score(blueNormal()) }) };
  });
}

type PolicyOverrides = { readonly [G in keyof GatePolicy]?: Partial<GatePolicy[G]> };

function policyWith(overrides: PolicyOverrides = {}): GatePolicy {
  return {
    health: { ...DEFAULT_GATE_POLICY.health, ...overrides.health },
    latency: { ...DEFAULT_GATE_POLICY.latency, ...overrides.latency },
    errors: { ...DEFAULT_GATE_POLICY.errors, ...overrides.errors },
    golden: { ...DEFAULT_GATE_POLICY.golden, ...overrides.golden },
    distribution: { ...DEFAULT_GATE_POLICY.distribution, ...overrides.distribution },
    robustness: { ...DEFAULT_GATE_POLICY.robustness, ...overrides.robustness },
  };
}

const cleanProbes: RobustnessResult = {
  probes: [
    { name: 'wrong-content-type', outcome: 'CLIENT_ERROR', statusCode: 415, latencyMs: 4 },
    { name: 'truncated-payload', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 9 },
    { name: 'huge-values', outcome: 'OK', statusCode: 200, latencyMs: 30 },
    { name: 'empty-body', outcome: 'MODEL_ERROR', statusCode: 422, latencyMs: 5 },
  ],
  recoveredAfterwards: true,
};

function evaluate(samples: readonly PairedSample[], options: { policy?: PolicyOverrides; firstDeployment?: boolean; robustness?: RobustnessResult } = {}): ValidationReport {
  return evaluateGates({
    samples,
    policy: policyWith(options.policy),
    firstDeployment: options.firstDeployment ?? false,
    robustness: 'robustness' in options ? options.robustness : cleanProbes,
  });
}

function gate(report: ValidationReport, name: GateName): GateResult {
  const found = report.gates.find((g) => g.gate === name);
  if (!found) throw new Error(`no ${name} gate in the report`);
  return found;
}

function checkNamed(result: GateResult, name: string) {
  const found = result.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" in ${result.gate}: ${result.checks.map((c) => c.name).join(', ')}`);
  return found;
}

/**
 * Mann-Whitney U (two-sided, normal approximation with tie correction), the rank-sum test Kayenta uses:
 * here only to show what it misses.
 */
function mannWhitneyZ(a: readonly number[], b: readonly number[]): number {
  const all = [...a.map((value) => ({ value, fromA: true })), ...b.map((value) => ({ value, fromA: false }))].sort((x, y) => x.value - y.value);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < all.length; ) {
    let end = start;
    while (end + 1 < all.length && all[end + 1]!.value === all[start]!.value) end++;
    const averageRank = (start + end) / 2 + 1;
    const tied = end - start + 1;
    tieTerm += tied ** 3 - tied;
    for (let k = start; k <= end; k++) if (all[k]!.fromA) rankSumA += averageRank;
    start = end + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const total = n1 + n2;
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  return (u - (n1 * n2) / 2) / Math.sqrt(variance);
}
/** Two-sided 1% critical value of the standard normal. */
const Z_CRITICAL_1_PERCENT = 2.5758;

const scoresOf = (samples: readonly PairedSample[], side: 'green' | 'blue') => samples.map((s) => s[side]!.score!);

// ---------------------------------------------------------------------------------------------------------

describe('distribution gate (two-sample KS)', () => {
  test('same distribution, N = 2000 per side: PASS under 20 different seeds (no false alarm)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = gate(evaluate(pairs(2000, seed)), 'distribution');
      expect({ seed, verdict: result.verdict }).toEqual({ seed, verdict: 'PASS' });
      expect(checkNamed(result, 'KS statistic D').statistic!).toBeLessThan(0.1);
      expect(result.samples).toBe(2000);
    }
  });

  test('mean shifted by 0.5 sd: FAIL, with p < alpha and D above the floor', () => {
    const result = gate(evaluate(pairs(2000, 42, { green: { score: (z) => z + 0.5 } })), 'distribution');
    expect(result.verdict).toBe('FAIL');
    const d = checkNamed(result, 'KS statistic D');
    const p = checkNamed(result, 'KS p-value');
    // Theory: D = 2 Phi(0.25) - 1 = 0.197.
    expect(d.statistic!).toBeGreaterThan(0.15);
    expect(d).toMatchObject({ threshold: 0.1, comparison: '<=', passed: false });
    expect(p.statistic!).toBeLessThan(1e-6);
    expect(p).toMatchObject({ threshold: 0.01, comparison: '>=', passed: false });
    expect(result.reason).toMatch(/^green scores differ from blue's: KS D 0\.\d+, p [\d.e-]+ \(D > 0\.1 and p < 0\.01; 2000 score pairs\)$/);
  });

  test('same mean, twice the spread: KS FAILs where Mann-Whitney sees nothing', () => {
    const samples = pairs(2000, 42, { green: { score: (z) => 2 * z } });
    const result = gate(evaluate(samples), 'distribution');
    expect(result.verdict).toBe('FAIL');
    // Theory: max |Phi(x) - Phi(x / 2)| = 0.161 at x = 1.36.
    expect(checkNamed(result, 'KS statistic D').statistic!).toBeGreaterThan(0.12);

    const green = scoresOf(samples, 'green');
    const blue = scoresOf(samples, 'blue');
    expect(Math.abs(mannWhitneyZ(green, blue))).toBeLessThan(Z_CRITICAL_1_PERCENT);
    // ...and the Mann-Whitney above works: it does catch the mean shift.
    const shifted = scoresOf(pairs(2000, 42, { green: { score: (z) => z + 0.5 } }), 'green');
    expect(Math.abs(mannWhitneyZ(shifted, blue))).toBeGreaterThan(10);
  });

  test('a significant but tiny shift on a huge sample passes: D must also exceed maxKsStatistic', () => {
    const samples = pairs(20_000, 5, { green: { score: (z) => z + 0.1 } });
    const result = gate(evaluate(samples), 'distribution');
    expect(checkNamed(result, 'KS p-value').passed).toBe(false);
    expect(checkNamed(result, 'KS statistic D').passed).toBe(true);
    expect(result.verdict).toBe('PASS');
    expect(result.reason).toContain('FAIL needs D > 0.1 and p < 0.01');
  });

  test('compares only pairs where both sides have a numeric score', () => {
    const samples = pairs(300, 3).map((sample, i) =>
      i % 3 === 0 ? { ...sample, blue: { ...sample.blue!, score: undefined } } : i % 3 === 1 ? { ...sample, green: { ...sample.green, score: Number.NaN } } : sample,
    );
    const result = gate(evaluate(samples, { policy: { distribution: { minSamples: 50 } } }), 'distribution');
    expect(result.samples).toBe(100);
    expect(checkNamed(result, 'KS statistic D').statistic).toBe(
      twoSampleKolmogorovSmirnov(
        samples.filter((_, i) => i % 3 === 2).map((s) => s.green.score!),
        samples.filter((_, i) => i % 3 === 2).map((s) => s.blue!.score!),
      ).statistic,
    );
  });

  test('first deployment: SKIPPED (nothing to compare with)', () => {
    const result = gate(evaluate(pairs(2000, 1, { blue: null }), { firstDeployment: true }), 'distribution');
    expect(result).toMatchObject({ verdict: 'SKIPPED', checks: [] });
    expect(result.reason).toBe('first deployment: no blue outputs to compare with');
  });
});

describe('distribution gate (PSI)', () => {
  const psiPolicy = { distribution: { method: 'psi' as const } };

  test("same distribution: PASS; bins default to blue's deciles", () => {
    const result = gate(evaluate(pairs(2000, 8), { policy: psiPolicy }), 'distribution');
    expect(result.verdict).toBe('PASS');
    expect(checkNamed(result, 'PSI of scores').statistic!).toBeLessThan(0.05);
    expect(result.reason).toContain("blue's deciles");
  });

  test('mean shifted by 0.5 sd: FAIL (PSI > 0.2)', () => {
    const result = gate(evaluate(pairs(2000, 8, { green: { score: (z) => z + 0.5 } }), { policy: psiPolicy }), 'distribution');
    expect(result.verdict).toBe('FAIL');
    expect(checkNamed(result, 'PSI of scores')).toMatchObject({ threshold: 0.2, comparison: '<=', passed: false });
  });

  test('configured bins are used: one cut point far from the data cannot see the shift', () => {
    const samples = pairs(2000, 8, { green: { score: (z) => z + 0.5 } });
    const result = gate(evaluate(samples, { policy: { distribution: { method: 'psi', bins: [100] } } }), 'distribution');
    expect(checkNamed(result, 'PSI of scores').statistic).toBe(0);
    expect(result.verdict).toBe('PASS');
    expect(result.reason).toContain('configured bins');
  });

  test('label predictions (no scores): PSI over the labels, whatever the method', () => {
    const labelled = (share: number, seed: number) => {
      const uniform = seededUniform(seed);
      const blueUniform = seededUniform(seed + 1);
      return Array.from({ length: 1000 }, (_, index) => ({
        index,
        green: ok(40, { prediction: uniform() < share ? 'fraud' : 'ok' }),
        blue: ok(40, { prediction: blueUniform() < 0.1 ? 'fraud' : 'ok' }),
      }));
    };
    for (const method of ['ks', 'psi'] as const) {
      const same = gate(evaluate(labelled(0.1, 4), { policy: { distribution: { method } } }), 'distribution');
      expect(same.verdict).toBe('PASS');
      const shifted = gate(evaluate(labelled(0.4, 4), { policy: { distribution: { method } } }), 'distribution');
      expect(shifted.verdict).toBe('FAIL');
      expect(checkNamed(shifted, 'PSI of prediction labels').passed).toBe(false);
      expect(shifted.reason).toMatch(/^PSI of green vs blue prediction labels [\d.]+ > 0\.2 \(1000 prediction pairs\)$/);
    }
  });

  test('numeric predictions (no scores) are compared as numbers', () => {
    const samples = pairs(1000, 9, { green: { score: (z) => z + 1 } }).map((s) => ({
      ...s,
      green: { ...s.green, score: undefined, prediction: s.green.score },
      blue: { ...s.blue!, score: undefined, prediction: s.blue!.score },
    }));
    const result = gate(evaluate(samples), 'distribution');
    expect(result.verdict).toBe('FAIL');
    expect(result.reason).toContain('green predictions differ');
  });

  test('no score and no prediction on any pair: INCONCLUSIVE (no data)', () => {
    const samples = pairs(500, 2).map((s) => ({ ...s, green: ok(s.green.latencyMs), blue: ok(s.blue!.latencyMs) }));
    const result = gate(evaluate(samples), 'distribution');
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.reason).toBe('too few samples: 0 < 200 (pairs where green and blue both have a score or a prediction)');
    expect(result.checks[0]!.passed).toBeNull();
  });
});

describe('latency gate', () => {
  test('same distribution: PASS, reported like "green p99 92 ms <= 1.2 x blue p99 88 ms"', () => {
    const report = evaluate(pairs(2000, 11));
    const result = gate(report, 'latency');
    expect(result.verdict).toBe('PASS');
    expect(result.reason).toMatch(/^green p99 \d+ ms <= 1\.2 x blue p99 \d+ ms \(2000 pairs where green and blue both answered OK\)$/);
    expect(report.summary.split('\n')).toContain(`latency PASS: ${result.reason}`);
  });

  test('green p99 1.5 x: FAIL, the ratio reported as the statistic', () => {
    const samples = pairs(2000, 12, { green: { latency: (z) => 1.5 * latencyFrom(z) } });
    const result = gate(evaluate(samples), 'latency');
    expect(result.verdict).toBe('FAIL');
    const ratio = checkNamed(result, 'green p99 / blue p99');
    const expectedRatio =
      percentile(samples.map((s) => s.green.latencyMs), 99) / percentile(samples.map((s) => s.blue!.latencyMs), 99);
    expect(ratio.statistic).toBeCloseTo(expectedRatio, 12);
    expect(ratio.statistic!).toBeGreaterThan(1.3);
    expect(ratio).toMatchObject({ threshold: 1.2, comparison: '<=', passed: false });
    expect(result.reason).toMatch(/^green p99 \d+ ms > 1\.2 x blue p99 \d+ ms \(ratio [\d.]+\)/);
  });

  test('same p50, p99 3 x: FAIL on p99 while p50 passes', () => {
    // Green's slowest 5% (z > 1.645) take three times as long: the median is untouched, the tail triples.
    const samples = pairs(2000, 13, { green: { latency: (z) => latencyFrom(z) * (z > 1.645 ? 3 : 1) } });
    const green = samples.map((s) => s.green.latencyMs);
    const blue = samples.map((s) => s.blue!.latencyMs);
    expect(percentile(green, 50) / percentile(blue, 50)).toBeLessThan(1.05);
    expect(percentile(green, 99) / percentile(blue, 99)).toBeGreaterThan(2.5);

    const result = gate(evaluate(samples, { policy: { latency: { maxRelativeP50: 1.2, maxRelativeP99: 1.2 } } }), 'latency');
    expect(result.verdict).toBe('FAIL');
    expect(checkNamed(result, 'green p50 / blue p50').passed).toBe(true);
    expect(checkNamed(result, 'green p99 / blue p99').passed).toBe(false);
    expect(result.reason).not.toContain('p50');
  });

  test('relative checks use only the indexes where both answered OK; absolute checks use every OK green request', () => {
    // Green is slow exactly on the requests blue failed: those pairs say nothing about green relative to blue.
    const samples = pairs(2000, 14).map((s) =>
      s.index % 20 === 0 ? { ...s, green: ok(5000), blue: { outcome: 'MODEL_ERROR' as const, statusCode: 500, latencyMs: 20 } } : s,
    );
    const result = gate(evaluate(samples, { policy: { latency: { maxP99Ms: 1000 } } }), 'latency');
    expect(result.samples).toBe(1900);
    expect(checkNamed(result, 'green p99 / blue p99').passed).toBe(true);
    expect(checkNamed(result, 'green p99 (ms)')).toMatchObject({ statistic: 5000, threshold: 1000, passed: false });
    expect(result.verdict).toBe('FAIL');
    expect(result.reason).toBe('green p99 5000 ms > 1000 ms (1900 pairs where green and blue both answered OK)');
  });

  test('first deployment without absolute thresholds: SKIPPED', () => {
    const result = gate(evaluate(pairs(500, 15, { blue: null }), { firstDeployment: true }), 'latency');
    expect(result.verdict).toBe('SKIPPED');
    expect(result.reason).toContain('first deployment: no blue to compare with, and no absolute threshold');
  });

  test('first deployment with absolute thresholds: only those are checked', () => {
    const samples = pairs(500, 15, { blue: null });
    const result = gate(evaluate(samples, { firstDeployment: true, policy: { latency: { maxP50Ms: 60, maxP99Ms: 80 } } }), 'latency');
    expect(result.checks.map((c) => c.name)).toEqual(['green p50 (ms)', 'green p99 (ms)']);
    expect(checkNamed(result, 'green p50 (ms)').passed).toBe(true);
    // p99 of 50 * exp(0.3 z) is about 100 ms.
    expect(checkNamed(result, 'green p99 (ms)').passed).toBe(false);
    expect(result.verdict).toBe('FAIL');
    expect(result.samples).toBe(500);
  });

  test('no threshold configured at all: SKIPPED', () => {
    const result = gate(evaluate(pairs(500, 15), { policy: { latency: { maxRelativeP99: undefined } } }), 'latency');
    expect(result).toMatchObject({ verdict: 'SKIPPED', reason: 'no latency threshold configured' });
  });

  test('blue answering in 0 ms keeps the ratio finite', () => {
    const samples = pairs(300, 16).map((s) => ({ ...s, blue: ok(0) }));
    const ratio = checkNamed(gate(evaluate(samples), 'latency'), 'green p99 / blue p99');
    expect(Number.isFinite(ratio.statistic)).toBe(true);
    expect(ratio.passed).toBe(false);
    expect(JSON.parse(JSON.stringify(ratio)).statistic).toBe(ratio.statistic);
  });

  test('no pair where both answered: INCONCLUSIVE with a null statistic', () => {
    const samples = pairs(300, 17).map((s) => ({ ...s, blue: { outcome: 'THROTTLED' as const, latencyMs: 3 } }));
    const result = gate(evaluate(samples), 'latency');
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.checks[0]).toMatchObject({ statistic: null, passed: null });
  });
});

describe('errors gate', () => {
  const withGreenOutcomes = (samples: PairedSample[], every: number, green: Omit<InvocationSample, 'latencyMs'>) =>
    samples.map((s) => (s.index % every === 0 ? { ...s, green: { ...green, latencyMs: 30 } } : s));

  test('2% server errors with a 1% threshold: FAIL', () => {
    const samples = withGreenOutcomes(pairs(2000, 21), 50, { outcome: 'MODEL_ERROR', statusCode: 500 });
    const result = gate(evaluate(samples), 'errors');
    expect(result.verdict).toBe('FAIL');
    expect(result.checks[0]).toMatchObject({ statistic: 0.02, threshold: 0.01, comparison: '<=', passed: false });
    expect(result.reason).toBe('green error rate 2% (40 of 2000 MODEL_ERROR 5xx or FAILED) > 1%');
  });

  test('0.5% FAILED: PASS', () => {
    const samples = withGreenOutcomes(pairs(2000, 22), 200, { outcome: 'FAILED', statusCode: 503 });
    const result = gate(evaluate(samples), 'errors');
    expect(result.verdict).toBe('PASS');
    expect(result.checks[0]!.statistic).toBe(0.005);
  });

  test.each<[string, number, Omit<InvocationSample, 'latencyMs'>]>([
    ['MODEL_ERROR 500', 0.1, { outcome: 'MODEL_ERROR', statusCode: 500 }],
    ['MODEL_ERROR without status', 0.1, { outcome: 'MODEL_ERROR' }],
    ['FAILED', 0.1, { outcome: 'FAILED', statusCode: 500 }],
    ["MODEL_ERROR 422 (the caller's fault)", 0, { outcome: 'MODEL_ERROR', statusCode: 422 }],
    ['CLIENT_ERROR', 0, { outcome: 'CLIENT_ERROR', statusCode: 400 }],
    ['THROTTLED', 0, { outcome: 'THROTTLED', statusCode: 429 }],
    ["TIMEOUT (the health gate's business)", 0, { outcome: 'TIMEOUT' }],
  ])('every 10th green request a %s: error rate %p', (_, rate, green) => {
    const result = gate(evaluate(withGreenOutcomes(pairs(500, 23), 10, green)), 'errors');
    expect(result.checks[0]!.statistic).toBe(rate);
  });
});

describe('golden gate', () => {
  const golden = (n: number, predictionFor: (i: number) => unknown, expectedFor: (i: number) => unknown): PairedSample[] =>
    Array.from({ length: n }, (_, index) => ({
      index,
      green: ok(40, { prediction: predictionFor(index) }),
      blue: ok(40),
      expected: expectedFor(index),
    }));

  test('classification: JSON-equal, keys in any order; agreement below minAgreement FAILs', () => {
    const expected = (i: number) => ({ label: i % 2 ? 'fraud' : 'ok', rank: 1 });
    const agreeing = golden(100, (i) => ({ rank: 1, label: i % 2 ? 'fraud' : 'ok' }), expected);
    expect(gate(evaluate(agreeing), 'golden')).toMatchObject({ verdict: 'PASS', samples: 100 });
    expect(gate(evaluate(agreeing), 'golden').checks[0]!.statistic).toBe(1);

    // 94 of 100 agree: 0.94 < 0.95.
    const mostly = golden(100, (i) => (i < 6 ? 'wrong' : expected(i)), expected);
    const result = gate(evaluate(mostly), 'golden');
    expect(result.verdict).toBe('FAIL');
    expect(result.checks[0]).toMatchObject({ statistic: 0.94, threshold: 0.95, comparison: '>=', passed: false });
    expect(result.reason).toBe('green agrees with 94 of 100 expected outputs (94%) < 95% (classification)');
  });

  test('regression: within tolerance (rounding included), a missing prediction disagrees', () => {
    const policy = { golden: { mode: 'regression' as const, tolerance: 0.05, minAgreement: 0.9 } };
    // 1.05 - 1.0 is 0.050000000000000044 in doubles: still within a 0.05 tolerance.
    const samples = golden(100, (i) => (i < 5 ? undefined : i < 10 ? 1.2 : 1.05), () => 1.0);
    const result = gate(evaluate(samples, { policy }), 'golden');
    expect(result.checks[0]!.statistic).toBe(0.9);
    expect(result.verdict).toBe('PASS');
    expect(result.reason).toContain('(regression, tolerance 0.05)');
  });

  test('only samples with an expected output count; none at all: INCONCLUSIVE', () => {
    const some = golden(200, () => 'a', (i) => (i < 60 ? 'a' : undefined));
    expect(gate(evaluate(some), 'golden').samples).toBe(60);
    const none = gate(evaluate(pairs(200, 31)), 'golden');
    expect(none).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 0, reason: 'no sample has an expected output (no data)' });
    expect(none.checks[0]).toMatchObject({ statistic: null, passed: null });
  });
});

describe('health gate', () => {
  test('every green request answered: PASS', () => {
    const result = gate(evaluate(pairs(200, 41)), 'health');
    expect(result).toMatchObject({ verdict: 'PASS', samples: 200, minSamples: 100 });
    expect(result.checks[0]).toMatchObject({ statistic: 0, threshold: 0, comparison: '<=', passed: true });
  });

  test('one TIMEOUT fails it, even below minSamples (an unanswered request is not undone by more data)', () => {
    const samples = pairs(12, 42);
    const timedOut = samples.map((s, i) => (i === 3 ? { ...s, green: { outcome: 'TIMEOUT' as const, latencyMs: 60_000 } } : s));
    const result = gate(evaluate(timedOut), 'health');
    expect(result.verdict).toBe('FAIL');
    expect(result.reason).toBe('1 of 12 green requests unanswered (1 TIMEOUT, 0 FAILED)');
  });

  test('blue failures do not count against green', () => {
    const samples = pairs(200, 43).map((s) => ({ ...s, blue: { outcome: 'FAILED' as const, latencyMs: 10 } }));
    expect(gate(evaluate(samples), 'health').verdict).toBe('PASS');
  });
});

describe('robustness gate', () => {
  const probe = (outcome: InvocationOutcome, statusCode?: number) => ({ name: 'truncated-payload', outcome, statusCode, latencyMs: 10 });
  const withProbe = (extra: ReturnType<typeof probe>, recoveredAfterwards = true): RobustnessResult => ({
    probes: [...cleanProbes.probes, extra],
    recoveredAfterwards,
  });

  test('4xx refusals and OK answers, then recovery: PASS', () => {
    const result = gate(evaluate(pairs(200, 51)), 'robustness');
    expect(result).toMatchObject({ verdict: 'PASS', samples: 4 });
    expect(result.reason).toContain('wrong-content-type: CLIENT_ERROR 415');
  });

  test.each<[string, ReturnType<typeof probe>]>([
    ['a 5xx from the container', probe('MODEL_ERROR', 500)],
    ['a MODEL_ERROR without status', probe('MODEL_ERROR')],
    ['FAILED', probe('FAILED', 500)],
    ['a TIMEOUT', probe('TIMEOUT')],
  ])('%s: FAIL', (_, bad) => {
    const result = gate(evaluate(pairs(200, 52), { robustness: withProbe(bad) }), 'robustness');
    expect(result.verdict).toBe('FAIL');
    expect(result.checks[0]).toMatchObject({ statistic: 1, passed: false });
    expect(result.reason).toMatch(/^truncated-payload: /);
  });

  test('not recovered afterwards: FAIL', () => {
    const result = gate(evaluate(pairs(200, 53), { robustness: { ...cleanProbes, recoveredAfterwards: false } }), 'robustness');
    expect(result.verdict).toBe('FAIL');
    expect(result.checks[1]).toMatchObject({ statistic: 0, threshold: 1, comparison: '>=', passed: false });
  });

  test('a throttled probe says nothing: INCONCLUSIVE', () => {
    const result = gate(evaluate(pairs(200, 54), { robustness: withProbe(probe('THROTTLED', 429)) }), 'robustness');
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.reason).toBe('no verdict for truncated-payload: THROTTLED 429');
  });

  test('no probes: INCONCLUSIVE', () => {
    expect(gate(evaluate(pairs(200, 55), { robustness: undefined }), 'robustness').verdict).toBe('INCONCLUSIVE');
    expect(gate(evaluate(pairs(200, 55), { robustness: { probes: [], recoveredAfterwards: true } }), 'robustness').verdict).toBe('INCONCLUSIVE');
  });
});

describe('too few samples, disabled gates, verdict', () => {
  test('12 samples: every statistical gate INCONCLUSIVE ("too few samples: 12 < N"), never PASS', () => {
    const samples = pairs(12, 61).map((s) => ({ ...s, expected: 'x', green: { ...s.green, prediction: 'x' } }));
    const report = evaluate(samples);
    expect(report.verdict).toBe('INCONCLUSIVE');
    expect(gate(report, 'health').reason).toBe('too few samples: 12 < 100 (green requests)');
    expect(gate(report, 'latency').reason).toBe('too few samples: 12 < 200 (pairs where green and blue both answered OK)');
    expect(gate(report, 'errors').reason).toBe('too few samples: 12 < 200 (green requests)');
    expect(gate(report, 'golden').reason).toBe('too few samples: 12 < 50 (samples with an expected output)');
    expect(gate(report, 'distribution').reason).toBe('too few samples: 12 < 200 (score pairs)');
    for (const name of ['health', 'latency', 'errors', 'golden', 'distribution'] as const) {
      expect(gate(report, name)).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 12 });
    }
  });

  test('property: a gate judged on fewer samples than its minSamples is never PASS', () => {
    const outcome = fc.constantFrom<InvocationOutcome>('OK', 'OK', 'OK', 'MODEL_ERROR', 'CLIENT_ERROR', 'THROTTLED', 'TIMEOUT', 'FAILED');
    const invocation = fc.record({
      outcome,
      statusCode: fc.option(fc.constantFrom(200, 400, 422, 500, 503), { nil: undefined }),
      latencyMs: fc.double({ min: 0, max: 5000, noNaN: true }),
      score: fc.option(fc.double({ min: -5, max: 5, noNaN: true }), { nil: undefined }),
      prediction: fc.option(fc.constantFrom('a', 'b', 1, 2), { nil: undefined }),
    });
    const sample = fc.record({ green: invocation, blue: fc.option(invocation, { nil: undefined }), expected: fc.option(fc.constantFrom('a', 'b', 1), { nil: undefined }) });
    const minSamples = fc.integer({ min: 0, max: 40 });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 40 }), minSamples, fc.boolean(), (raw, min, firstDeployment) => {
        const samples = raw.map((s, index) => ({ index, ...s })) as PairedSample[];
        const report = evaluateGates({
          samples,
          firstDeployment,
          robustness: cleanProbes,
          policy: policyWith({
            health: { minSamples: min },
            latency: { minSamples: min, maxP99Ms: 1000 },
            errors: { minSamples: min },
            golden: { minSamples: min },
            distribution: { minSamples: min },
          }),
        });
        for (const result of report.gates) {
          if (result.samples < result.minSamples || result.samples === 0) expect(result.verdict).not.toBe('PASS');
          // Every check's verdict matches its own statistic, threshold and comparison.
          for (const c of result.checks) {
            if (c.statistic === null) expect(c.passed).toBeNull();
            else expect(c.passed).toBe(c.comparison === '<=' ? c.statistic <= c.threshold : c.statistic >= c.threshold);
          }
        }
        expect(report.verdict).toBe(overallVerdict(report.gates));
        expect(report.gates.map((g) => g.gate)).toEqual(GATE_NAMES);
      }),
      { numRuns: 300 },
    );
  });

  test('no data is never a PASS, even with minSamples 0', () => {
    const zero = { minSamples: 0 };
    const report = evaluate([], { policy: { health: zero, latency: zero, errors: zero, golden: zero, distribution: zero } });
    for (const name of ['health', 'latency', 'errors', 'golden', 'distribution'] as const) {
      expect(gate(report, name)).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 0, minSamples: 0 });
    }
    expect(gate(report, 'errors').reason).toBe('no data (green requests)');
    expect(gate(report, 'errors').checks[0]).toMatchObject({ statistic: null, passed: null });
    expect(gate(report, 'health').reason).toBe('no data (green requests)');
  });

  test('a disabled gate is SKIPPED and does not decide the verdict', () => {
    const failingLatency = pairs(2000, 62, { green: { latency: (z) => 2 * latencyFrom(z) } });
    const expectedAll = failingLatency.map((s) => ({ ...s, expected: 1, green: { ...s.green, prediction: 1 } }));
    expect(evaluate(expectedAll).verdict).toBe('FAIL');
    const report = evaluate(expectedAll, { policy: { latency: { enabled: false } } });
    expect(gate(report, 'latency')).toMatchObject({ verdict: 'SKIPPED', reason: 'disabled by policy', checks: [] });
    expect(report.verdict).toBe('PASS');
  });

  test('verdict: any FAIL wins over INCONCLUSIVE, INCONCLUSIVE over PASS; SKIPPED does not count', () => {
    expect(overallVerdict([{ verdict: 'PASS' }, { verdict: 'INCONCLUSIVE' }, { verdict: 'FAIL' }])).toBe('FAIL');
    expect(overallVerdict([{ verdict: 'PASS' }, { verdict: 'INCONCLUSIVE' }, { verdict: 'SKIPPED' }])).toBe('INCONCLUSIVE');
    expect(overallVerdict([{ verdict: 'PASS' }, { verdict: 'SKIPPED' }])).toBe('PASS');
    // No expected outputs: golden is INCONCLUSIVE while every other gate passes.
    expect(evaluate(pairs(2000, 63)).verdict).toBe('INCONCLUSIVE');
  });
});

describe('report', () => {
  test('summary: one line per gate, "<gate> <VERDICT>: <reason>", in gate order', () => {
    const report = evaluate(pairs(2000, 71));
    const lines = report.summary.split('\n');
    expect(lines).toHaveLength(GATE_NAMES.length);
    lines.forEach((line, i) => expect(line).toBe(`${report.gates[i]!.gate} ${report.gates[i]!.verdict}: ${report.gates[i]!.reason}`));
    expect(report.sampleCount).toBe(2000);
  });

  test('worstRequests: failed ones first, then the slowest, green and blue, at most 10', () => {
    const samples = pairs(500, 72).map((s) => {
      if (s.index === 7) return { ...s, blue: { outcome: 'FAILED' as const, statusCode: 503, latencyMs: 2 } };
      if (s.index === 9) return { ...s, green: { outcome: 'TIMEOUT' as const, latencyMs: 60_000 } };
      return s;
    });
    const worst = evaluate(samples).worstRequests;
    expect(worst).toHaveLength(MAX_WORST_REQUESTS);
    expect(worst[0]).toEqual({ index: 9, variant: 'green', outcome: 'TIMEOUT', latencyMs: 60_000 });
    expect(worst[1]).toEqual({ index: 7, variant: 'blue', outcome: 'FAILED', statusCode: 503, latencyMs: 2 });
    // The rest: the 8 slowest OK requests over both variants, slowest first.
    const okLatencies = samples
      .flatMap((s) => [s.green, s.blue!])
      .filter((x) => x.outcome === 'OK')
      .map((x) => x.latencyMs)
      .sort((a, b) => b - a);
    expect(worst.slice(2).map((w) => w.latencyMs)).toEqual(okLatencies.slice(0, 8));
  });

  test('the report survives JSON (what the state machine carries)', () => {
    const report = evaluate(pairs(300, 73, { green: { score: (z) => z + 1 } }));
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe('jsonEqual', () => {
  test.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [[1, 2], [2, 1], false],
    ['1', 1, false],
    [null, {}, false],
    [[], {}, false],
    [{ a: 1 }, { a: 1, b: 2 }, false],
  ])('%p vs %p: %p', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });

  test('agrees with comparing canonical JSON text on generated values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonEqual(a, JSON.parse(JSON.stringify(a)))).toBe(true);
        if (jsonEqual(a, b)) expect(JSON.stringify(sortKeys(a))).toBe(JSON.stringify(sortKeys(b)));
      }),
    );
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
}

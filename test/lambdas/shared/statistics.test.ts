import fc from 'fast-check';
import {
  decileEdges,
  kolmogorovSurvival,
  mean,
  percentile,
  percentileOfSorted,
  percentiles,
  populationStabilityIndex,
  psiCategorical,
  sortAscending,
  stdDev,
  twoSampleKolmogorovSmirnov,
} from '../../../lambdas/shared/statistics';
import { mulberry32 } from '../../../rehearsal/sim/rng';

/** Seeded uniform [0, 1) draws (mulberry32): the same samples on every run. */
const seededUniform = mulberry32;

/** Independent oracle for D: the CDF distance evaluated at every observed value, O((n + m)^2). */
function naiveKsStatistic(a: readonly number[], b: readonly number[]): number {
  const cdf = (sample: readonly number[], x: number) => sample.filter((v) => v <= x).length / sample.length;
  return Math.max(...[...a, ...b].map((x) => Math.abs(cdf(a, x) - cdf(b, x))));
}

const finiteValues = fc.array(
  // Small integers produce ties (discrete scores); doubles cover the continuous case.
  fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  { minLength: 1, maxLength: 60 },
);

describe('percentile (type 7)', () => {
  test.each([
    // [values, p, expected]: NumPy's default (linear) method gives the same values
    [[1, 2, 3, 4], 50, 2.5],
    [[1, 2, 3, 4], 25, 1.75],
    [[15, 20, 35, 40, 50], 40, 29],
    [[15, 20, 35, 40, 50], 0, 15],
    [[15, 20, 35, 40, 50], 100, 50],
    [[7], 99, 7],
    [[10, 0], 90, 9],
  ])('%p at %p = %p', (values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 12);
  });

  test('sorts a copy: the input keeps its order', () => {
    const values = [3, 1, 2];
    expect(percentile(values, 50)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
  });

  test('percentiles sorts once and agrees with percentile for each p', () => {
    fc.assert(
      fc.property(finiteValues, fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 5 }), (values, ps) => {
        expect(percentiles(values, ps)).toEqual(ps.map((p) => percentile(values, p)));
      }),
    );
  });

  test('is monotone in p and stays within [min, max]', () => {
    fc.assert(
      fc.property(finiteValues, fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (values, p, q) => {
        const sorted = sortAscending(values);
        const [low, high] = p <= q ? [p, q] : [q, p];
        const atLow = percentileOfSorted(sorted, low);
        const atHigh = percentileOfSorted(sorted, high);
        expect(atLow).toBeLessThanOrEqual(atHigh);
        expect(atLow).toBeGreaterThanOrEqual(sorted[0]!);
        expect(atHigh).toBeLessThanOrEqual(sorted[sorted.length - 1]!);
      }),
    );
  });

  test('refuses an empty sample, p outside [0, 100] and NaN values', () => {
    expect(() => percentile([], 50)).toThrow('percentile of an empty sample');
    expect(() => percentile([1, 2], 101)).toThrow('percentile must be in [0, 100], got 101');
    expect(() => percentile([1, 2], -1)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow('value at position 1 is NaN');
  });
});

describe('mean and stdDev', () => {
  test('known values: mean 5, sample standard deviation sqrt(32 / 7)', () => {
    const values = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(values)).toBe(5);
    expect(stdDev(values)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  test('stdDev keeps its precision when the mean dwarfs the spread', () => {
    expect(stdDev([1e9 + 1, 1e9 + 2, 1e9 + 3])).toBeCloseTo(1, 9);
  });

  test('refuses samples too small to have them', () => {
    expect(() => mean([])).toThrow('mean of an empty sample');
    expect(() => stdDev([1])).toThrow('standard deviation needs at least 2 values, got 1');
  });
});

describe('twoSampleKolmogorovSmirnov', () => {
  test.each([
    // [a, b, D] computed by hand
    [[1, 2, 3], [4, 5, 6], 1],
    [[1, 2, 3, 4], [3, 4, 5, 6], 0.5],
    // Ties: at 1 the CDFs are 3/4 and 1/4 once every 1 is counted on both sides, never 3/4 and 0.
    [[1, 1, 1, 2], [1, 2, 2, 2], 0.5],
    [[5, 5, 5], [5, 5], 0],
    [[0], [1], 1],
  ])('D(%p, %p) = %p', (a, b, expected) => {
    expect(twoSampleKolmogorovSmirnov(a, b).statistic).toBeCloseTo(expected, 12);
  });

  test('p-value matches the Stephens-corrected asymptotic formula and scipy', () => {
    const a = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47];
    const b = [2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, 0.38, 0.7, 0.52, -0.17];
    const result = twoSampleKolmogorovSmirnov(a, b);
    expect(result.statistic).toBeCloseTo(0.28, 12);
    // scipy.special.kolmogorov((sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * 0.28), ne = 25 * 20 / 45
    expect(result.pValue).toBeCloseTo(0.29642094723268286, 10);
    // scipy.stats.ks_2samp(a, b, method='asymp').pvalue (scipy 1.17, a different finite-n approximation)
    expect(Math.abs(result.pValue - 0.29590926388673755)).toBeLessThan(1e-3);
  });

  test('D equals the brute-force CDF distance, lies in [0, 1] and is symmetric', () => {
    fc.assert(
      fc.property(finiteValues, finiteValues, (a, b) => {
        const forward = twoSampleKolmogorovSmirnov(a, b);
        const backward = twoSampleKolmogorovSmirnov(b, a);
        expect(forward.statistic).toBeCloseTo(naiveKsStatistic(a, b), 12);
        expect(forward.statistic).toBeGreaterThanOrEqual(0);
        expect(forward.statistic).toBeLessThanOrEqual(1);
        expect(backward.statistic).toBe(forward.statistic);
        expect(backward.pValue).toBe(forward.pValue);
        expect(forward.pValue).toBeGreaterThanOrEqual(0);
        expect(forward.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('identical samples (in any order): D = 0 and p = 1', () => {
    fc.assert(
      fc.property(finiteValues, (a) => {
        const result = twoSampleKolmogorovSmirnov(a, [...a].reverse());
        expect(result.statistic).toBe(0);
        expect(result.pValue).toBe(1);
      }),
    );
  });

  test('the p-value is calibrated: about 5% of same-distribution pairs have p < 0.05', () => {
    const uniform = seededUniform(20240601);
    const replications = 600;
    let rejections = 0;
    for (let r = 0; r < replications; r++) {
      const a = Array.from({ length: 150 }, uniform);
      const b = Array.from({ length: 200 }, uniform);
      if (twoSampleKolmogorovSmirnov(a, b).pValue < 0.05) rejections++;
    }
    // Binomial(600, 0.05): mean 30, sd 5.3; the KS test is slightly conservative at finite n.
    expect(rejections / replications).toBeGreaterThan(0.02);
    expect(rejections / replications).toBeLessThan(0.08);
  });

  test('refuses empty samples and NaN', () => {
    expect(() => twoSampleKolmogorovSmirnov([], [1])).toThrow('Kolmogorov-Smirnov needs two non-empty samples, got 0 and 1 values');
    expect(() => twoSampleKolmogorovSmirnov([1, Number.NaN], [1])).toThrow('value at position 1 is NaN');
  });
});

describe('kolmogorovSurvival', () => {
  test.each([
    // [lambda, P(K > lambda)] from scipy.special.kolmogorov; 1.0728 ... 1.9495 are the classic table's critical values
    [0.3, 0.9999906941986655],
    [0.5, 0.9639452436648751],
    [1.0, 0.26999967167735456],
    [1.0728, 0.19995651699807943],
    [1.2238, 0.10002342783567782],
    [1.3581, 0.0499996304316674],
    [1.6276, 0.010001537333060776],
    [1.9495, 0.0009998019790258981],
    [3.0, 3.045995948942526e-8],
  ])('Q(%p) = %p', (lambda, expected) => {
    expect(kolmogorovSurvival(lambda)).toBeCloseTo(expected, 12);
  });

  test('is 1 at 0 and below, 0 at infinity, and decreasing, with no jump where the series switch', () => {
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSurvival(-1)).toBe(1);
    // Every series term underflows here; the CDF is 0, not NaN.
    expect(kolmogorovSurvival(Number.MIN_VALUE)).toBe(1);
    expect(kolmogorovSurvival(0.03)).toBe(1);
    expect(kolmogorovSurvival(Number.POSITIVE_INFINITY)).toBe(0);
    expect(Math.abs(kolmogorovSurvival(1.18 - 1e-12) - kolmogorovSurvival(1.18))).toBeLessThan(1e-11);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }), (x, y) => {
        const [low, high] = x <= y ? [x, y] : [y, x];
        expect(kolmogorovSurvival(low)).toBeGreaterThanOrEqual(kolmogorovSurvival(high) - 1e-15);
      }),
    );
  });
});

describe('populationStabilityIndex', () => {
  test('identical distributions: 0', () => {
    const values = Array.from({ length: 500 }, seededUniform(7));
    expect(populationStabilityIndex(values, [...values].reverse())).toBe(0);
  });

  test('hand-computed: shares (0.5, 0.5) -> (0.25, 0.75) give 0.25 ln 2 + 0.25 ln 1.5', () => {
    const expected = [0.1, 0.2, 0.7, 0.8];
    const actual = [0.1, 0.6, 0.7, 0.8];
    expect(populationStabilityIndex(expected, actual, [0.5])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 12);
  });

  test('bins are right-closed: a value equal to an edge counts in the bin below it', () => {
    // With (-inf, 1], (1, inf): both samples split 1 / 1, so nothing moved.
    expect(populationStabilityIndex([1, 2], [1, 2], [1])).toBe(0);
    expect(populationStabilityIndex([1, 2], [1, 1], [1])).toBeGreaterThan(0);
  });

  test('an empty bin is smoothed with epsilon, so the index stays finite', () => {
    const psi = populationStabilityIndex([0.1, 0.2], [0.8, 0.9], [0.5]);
    const epsilon = 1e-4;
    expect(psi).toBeCloseTo(2 * (1 - epsilon) * Math.log(1 / epsilon), 10);
    expect(populationStabilityIndex([0.1, 0.2], [0.8, 0.9], [0.5], { epsilon: 0.01 })).toBeCloseTo(2 * 0.99 * Math.log(100), 10);
  });

  test("default bins are expected's deciles; outer bounds and unsorted or repeated edges change nothing", () => {
    const uniform = seededUniform(11);
    const expected = Array.from({ length: 1000 }, () => 0.001 + 0.998 * uniform());
    const actual = Array.from({ length: 1000 }, () => 0.001 + 0.998 * uniform() ** 1.5);
    const decilePsi = populationStabilityIndex(expected, actual, decileEdges(expected));
    expect(populationStabilityIndex(expected, actual)).toBe(decilePsi);
    const tenths = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    const inner = populationStabilityIndex(expected, actual, tenths);
    expect(populationStabilityIndex(expected, actual, [0, ...tenths, 1])).toBeCloseTo(inner, 12);
    expect(populationStabilityIndex(expected, actual, [...tenths].reverse().concat([0.5, 0.5]))).toBeCloseTo(inner, 12);
    expect(inner).toBeGreaterThan(0.05);
  });

  test('is never negative', () => {
    fc.assert(
      fc.property(finiteValues, finiteValues, (expected, actual) => {
        expect(populationStabilityIndex(expected, actual)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  test('refuses empty samples and NaN edges', () => {
    expect(() => populationStabilityIndex([], [1])).toThrow('PSI needs two non-empty samples, got 0 and 1 values');
    expect(() => populationStabilityIndex([1], [1], [Number.NaN])).toThrow(RangeError);
  });
});

describe('decileEdges', () => {
  test('type-7 deciles of 1..100', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const expected = [10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1];
    decileEdges(values).forEach((edge, i) => expect(edge).toBeCloseTo(expected[i]!, 10));
  });

  test('repeated deciles collapse to one edge', () => {
    expect(decileEdges([3, 3, 3, 3])).toEqual([3]);
    // Eight 0s and two 1s: deciles 0 (x7), then 0.2 at p80 (between x[7] = 0 and x[8] = 1), then 1 at p90.
    const edges = decileEdges([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(edges).toHaveLength(3);
    expect(edges[0]).toBe(0);
    expect(edges[1]).toBeCloseTo(0.2, 12);
    expect(edges[2]).toBe(1);
  });
});

describe('psiCategorical', () => {
  test('identical label distributions: 0', () => {
    expect(psiCategorical(['cat', 'dog', 'dog'], ['dog', 'cat', 'dog'])).toBe(0);
  });

  test('hand-computed: label shares (0.5, 0.5) -> (0.25, 0.75)', () => {
    expect(psiCategorical(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'b'])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 12);
  });

  test('a label only one side has counts, smoothed with epsilon', () => {
    const epsilon = 1e-4;
    // expected {a: 1}, actual {a: 0.5, b: 0.5}
    const psi = psiCategorical(['a', 'a'], ['a', 'b']);
    expect(psi).toBeCloseTo((0.5 - 1) * Math.log(0.5) + (0.5 - epsilon) * Math.log(0.5 / epsilon), 12);
  });

  test('values compare as JSON: key order does not matter, "1" and 1 are different labels', () => {
    expect(psiCategorical([{ label: 'x', rank: 1 }], [{ rank: 1, label: 'x' }])).toBe(0);
    expect(psiCategorical(['1'], [1])).toBeGreaterThan(1);
    expect(psiCategorical([null, true], [true, null])).toBe(0);
  });
});

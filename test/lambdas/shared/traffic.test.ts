import fc from 'fast-check';
import { greenShareOf, weightsEqual, weightsForGreenShare } from '../../../lambdas/shared/traffic';

/** Independent oracle: is there a double green, within `radius` doubles of the ideal, with an exact share? */
function exactGreenExists(blue: number, share: number, radius = 2000): boolean {
  const doubles = new Float64Array(1);
  const bits = new BigInt64Array(doubles.buffer);
  doubles[0] = (blue * share) / (1 - share);
  const ideal = bits[0]!;
  for (let offset = -radius; offset <= radius; offset++) {
    bits[0] = ideal + BigInt(offset);
    const green = doubles[0]!;
    if (green > 0 && green / (blue + green) === share) return true;
  }
  return false;
}

const blueWeights = fc.double({ min: 1e-3, max: 1e4, noNaN: true, noDefaultInfinity: true });
// Realistic shares: SageMaker keeps weights as 32-bit floats, so shares below 1e-9 mean nothing to it.
const sharesBelowOne = fc.double({ min: 1e-9, max: 1, maxExcluded: true, noNaN: true });

describe('weightsForGreenShare', () => {
  test.each([
    // [blue, share, green]: cases whose exact answer is known by hand
    [1, 0.5, 1],
    [3, 0.25, 1],
    [4, 0.2, 1],
    [2.5, 0.2, 0.625],
    [10, 0.5, 10],
  ])('blue %p at share %p: green %p, blue unchanged', (blue, share, green) => {
    expect(weightsForGreenShare(blue, share)).toEqual({ blueWeight: blue, greenWeight: green });
  });

  // For 0.05, 0.07 and 0.11, green = blue * s / (1 - s) computed in doubles gives a share one ulp off.
  test.each([0.05, 0.07, 0.1, 0.11, 0.3, 0.9])('blue 1, share %p: exact', (share) => {
    const naiveGreen = share / (1 - share);
    if ([0.05, 0.07, 0.11].includes(share)) expect(naiveGreen / (1 + naiveGreen)).not.toBe(share);
    const weights = weightsForGreenShare(1, share);
    expect(weights.blueWeight).toBe(1);
    expect(greenShareOf(weights)).toBe(share);
    expect(weights.greenWeight / (weights.blueWeight + weights.greenWeight)).toBe(share);
  });

  test('share 1: blue 0 and green takes blue\'s weight, so the total weight is unchanged', () => {
    fc.assert(
      fc.property(blueWeights, (blue) => {
        expect(weightsForGreenShare(blue, 1)).toEqual({ blueWeight: 0, greenWeight: blue });
      }),
    );
  });

  test('share 1 with a blue of weight 0: green gets weight 1 (never an endpoint without weight)', () => {
    expect(weightsForGreenShare(0, 1)).toEqual({ blueWeight: 0, greenWeight: 1 });
  });

  test('share < 1: blue keeps its weight, green is positive and its share is within one ulp of the target', () => {
    fc.assert(
      fc.property(blueWeights, sharesBelowOne, (blue, share) => {
        const weights = weightsForGreenShare(blue, share);
        expect(weights.blueWeight).toBe(blue);
        expect(weights.greenWeight).toBeGreaterThan(0);
        expect(Number.isFinite(weights.greenWeight)).toBe(true);
        expect(Math.abs(greenShareOf(weights) - share)).toBeLessThanOrEqual(share * Number.EPSILON);
      }),
      { numRuns: 2000 },
    );
  });

  test('share < 1: the share is exact whenever some double makes it exact', () => {
    fc.assert(
      fc.property(blueWeights, sharesBelowOne, (blue, share) => {
        fc.pre(exactGreenExists(blue, share));
        expect(greenShareOf(weightsForGreenShare(blue, share))).toBe(share);
      }),
      { numRuns: 500 },
    );
  });

  // Measured: 93.7% exact (the rest have no exact double at all); blue * s / (1 - s) alone gets 77%.
  test('shares on a percent grid with integer blue weights: exact unless impossible, never off by more than one ulp', () => {
    let exact = 0;
    let total = 0;
    for (let blue = 1; blue <= 20; blue++) {
      for (let percent = 1; percent < 100; percent++) {
        const share = percent / 100;
        const achieved = greenShareOf(weightsForGreenShare(blue, share));
        total++;
        if (achieved === share) exact++;
        else expect(exactGreenExists(blue, share)).toBe(false);
        expect(Math.abs(achieved - share)).toBeLessThanOrEqual(share * Number.EPSILON);
      }
    }
    expect(exact / total).toBeGreaterThan(0.9);
  });

  test('a larger share never gives green a smaller weight', () => {
    fc.assert(
      fc.property(blueWeights, sharesBelowOne, sharesBelowOne, (blue, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(weightsForGreenShare(blue, high).greenWeight).toBeGreaterThanOrEqual(weightsForGreenShare(blue, low).greenWeight);
      }),
    );
  });

  test.each([
    [1, 0],
    [1, -0.1],
    [1, 1.5],
    [1, Number.NaN],
    [-1, 0.5],
    [Number.POSITIVE_INFINITY, 0.5],
    [Number.NaN, 0.5],
  ])('blue %p, share %p: RangeError', (blue, share) => {
    expect(() => weightsForGreenShare(blue, share)).toThrow(RangeError);
  });

  test('a share no double weight can express (subnormal) is refused, not approximated', () => {
    expect(() => weightsForGreenShare(0.001, Number.MIN_VALUE)).toThrow(/no weight gives green a share/);
  });

  test('blue of weight 0 cannot give green a share below 1 without changing blue', () => {
    expect(() => weightsForGreenShare(0, 0.5)).toThrow(/blue has weight 0/);
  });
});

describe('weightsEqual', () => {
  test('a weight read back after SageMaker stored it as a 32-bit float equals the one sent', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (weight) => {
        expect(weightsEqual(Math.fround(weight), weight)).toBe(true);
      }),
    );
  });

  test('weights that differ by 0.1% or more are different', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (weight) => {
        expect(weightsEqual(weight, weight * 1.001)).toBe(false);
      }),
    );
  });

  test('zero equals only zero', () => {
    expect(weightsEqual(0, 0)).toBe(true);
    expect(weightsEqual(0, 1e-9)).toBe(false);
  });
});

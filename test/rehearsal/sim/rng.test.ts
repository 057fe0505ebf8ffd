/** The seeded PRNG and its samplers. */
import fc from 'fast-check';
import { lognormalFromPercentiles, SeededRandom } from '../../../rehearsal/sim/rng';

const draws = (random: SeededRandom, count: number): number[] => Array.from({ length: count }, () => random.next());

test('the same seed gives the same sequence; another seed or another derived stream does not', () => {
  expect(draws(new SeededRandom(7), 20)).toEqual(draws(new SeededRandom(7), 20));
  expect(draws(new SeededRandom(7), 20)).not.toEqual(draws(new SeededRandom(8), 20));
  const root = new SeededRandom(7);
  expect(draws(root.derive('routing'), 20)).toEqual(draws(new SeededRandom(7).derive('routing'), 20));
  expect(draws(root.derive('routing'), 20)).not.toEqual(draws(root.derive('latency'), 20));
});

test('uniform draws stay in [0, 1) and spread evenly', () => {
  const values = draws(new SeededRandom(3), 20_000);
  expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...values)).toBeLessThan(1);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  expect(mean).toBeGreaterThan(0.49);
  expect(mean).toBeLessThan(0.51);
});

test('normal draws have the requested mean and standard deviation', () => {
  const random = new SeededRandom(11);
  const values = Array.from({ length: 20_000 }, () => random.normal(5, 2));
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  expect(mean).toBeCloseTo(5, 1);
  expect(Math.sqrt(variance)).toBeCloseTo(2, 1);
});

test('a lognormal fitted to p50 and p99 reproduces them', () => {
  const parameters = lognormalFromPercentiles(40, 90);
  const random = new SeededRandom(5);
  const values = Array.from({ length: 40_000 }, () => random.lognormal(parameters)).sort((a, b) => a - b);
  expect(values[20_000]! / 40).toBeCloseTo(1, 1);
  expect(values[39_600]! / 90).toBeCloseTo(1, 1);
  // p99 == p50: no spread at all.
  expect(lognormalFromPercentiles(100, 100).sigma).toBe(0);
  expect(() => lognormalFromPercentiles(0, 10)).toThrow(RangeError);
});

test('pickWeighted never picks a non-positive weight and returns undefined when nothing is positive', () => {
  fc.assert(
    fc.property(fc.integer(), fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })), { minLength: 1, maxLength: 10 }), (seed, weights) => {
      const picked = new SeededRandom(seed).pickWeighted(weights);
      if (weights.every((weight) => !(weight > 0))) return picked === undefined;
      return picked !== undefined && weights[picked]! > 0;
    }),
  );
});

test('pickWeighted follows the weights', () => {
  const random = new SeededRandom(9);
  const counts = [0, 0, 0];
  for (let index = 0; index < 30_000; index++) counts[random.pickWeighted([1, 0, 3])!]! += 1;
  expect(counts[1]).toBe(0);
  expect(counts[2]! / 30_000).toBeCloseTo(0.75, 1);
});

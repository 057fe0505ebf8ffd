/**
 * Traffic weights. SageMaker sends a variant weight / (sum of weights) of the traffic. To give green a share
 * without touching blue, blue keeps its weight and green's weight is solved for: green = blue * s / (1 - s).
 */

export interface VariantWeights {
  readonly blueWeight: number;
  readonly greenWeight: number;
}

/** How far (in representable doubles) around the ideal total weight the exact solution is searched for. */
const SEARCH_RADIUS = 64;

/**
 * Weights that give green `greenShare` (0 < share <= 1) of the traffic.
 * - share 1: blue 0, green = blue's weight (or 1 if blue had none), so the total weight is unchanged.
 * - share < 1: blue keeps `blueWeight` (its traffic share changes, its weight and capacity are not touched);
 *   green is the double for which `green / (blue + green) === greenShare` exactly. For a few (blue, share)
 *   pairs no double satisfies this (e.g. blue 1, share 0.24: the neighbouring quotients straddle 0.24); the
 *   closest one is returned then, within a few units in the last place.
 * @throws RangeError when the share is outside (0, 1], the blue weight is negative or not finite, blue has
 *   weight 0 and share < 1 (no weight for green gives it less than all of the traffic), or no double weight
 *   comes within rounding of the share (subnormal shares, weights that would overflow).
 */
export function weightsForGreenShare(blueWeight: number, greenShare: number): VariantWeights {
  if (!Number.isFinite(blueWeight) || blueWeight < 0) {
    throw new RangeError(`blueWeight must be a finite number >= 0, got ${blueWeight}`);
  }
  if (!(greenShare > 0 && greenShare <= 1)) throw new RangeError(`greenShare must be in (0, 1], got ${greenShare}`);
  if (greenShare === 1) return { blueWeight: 0, greenWeight: blueWeight > 0 ? blueWeight : 1 };
  if (blueWeight === 0) {
    throw new RangeError(`blue has weight 0: green cannot get a share of ${greenShare} without changing blue's weight`);
  }
  const greenWeight = greenWeightFor(blueWeight, greenShare);
  const achieved = greenWeight / (blueWeight + greenWeight);
  // Off by more than rounding only at the edges of the doubles (subnormal shares, overflowing weights).
  if (!Number.isFinite(greenWeight) || !(greenWeight > 0) || Math.abs(achieved - greenShare) > greenShare * Number.EPSILON) {
    throw new RangeError(`no weight gives green a share of ${greenShare} beside blue's ${blueWeight} (closest: ${achieved})`);
  }
  return { blueWeight, greenWeight };
}

/** Green's share of the traffic under these weights (what SageMaker computes). */
export function greenShareOf(weights: VariantWeights): number {
  return weights.greenWeight / (weights.blueWeight + weights.greenWeight);
}

/**
 * Whether two weights are the same for SageMaker. It stores weights as 32-bit floats, so a weight read back
 * from DescribeEndpoint may differ from the one sent in its last digits.
 */
export function weightsEqual(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The green weight whose computed share is exactly `greenShare`, else the closest one found, in two stages:
 * 1. around the ideal total (blue / (1 - share)): for each nearby total, green candidates near
 *    `total - blue` and `share * total`. This finds the answer almost always, in a few hundred divisions;
 * 2. where the computed share crosses the target: near share 1 many greens round to the same share and the
 *    exact ones can lie hundreds of doubles from the ideal, so a binary search over green's bit pattern
 *    (the share grows with green, up to rounding wiggles) finds the crossing, and its neighbours are tried.
 */
function greenWeightFor(blueWeight: number, greenShare: number): number {
  const shareOf = (greenWeight: number) => greenWeight / (blueWeight + greenWeight);
  let closest = { greenWeight: Number.NaN, error: Number.POSITIVE_INFINITY };
  /** Records a candidate; true when it is exact. */
  const consider = (greenWeight: number): boolean => {
    if (!(greenWeight > 0) || !Number.isFinite(greenWeight)) return false;
    const error = Math.abs(shareOf(greenWeight) - greenShare);
    if (error < closest.error) closest = { greenWeight, error };
    return error === 0;
  };

  const idealTotal = blueWeight / (1 - greenShare);
  for (let distance = 0; distance <= SEARCH_RADIUS; distance++) {
    const totals = distance === 0 ? [idealTotal] : [nextDouble(idealTotal, distance), nextDouble(idealTotal, -distance)];
    for (const total of totals) {
      for (const base of [total - blueWeight, greenShare * total]) {
        for (let offset = -2; offset <= 2; offset++) {
          if (consider(nextDouble(base, offset))) return closest.greenWeight;
        }
      }
    }
  }

  const idealGreen = (blueWeight * greenShare) / (1 - greenShare);
  if (!(idealGreen > 0) || !Number.isFinite(idealGreen)) return closest.greenWeight;
  const idealBits = bitsOf(idealGreen);
  let below = idealBits - CROSSING_WINDOW > 0n ? idealBits - CROSSING_WINDOW : 1n;
  let above = idealBits + CROSSING_WINDOW < MAX_FINITE_BITS ? idealBits + CROSSING_WINDOW : MAX_FINITE_BITS;
  if (shareOf(doubleOf(below)) < greenShare && shareOf(doubleOf(above)) >= greenShare) {
    while (above - below > 1n) {
      const middle = (below + above) / 2n;
      if (shareOf(doubleOf(middle)) < greenShare) below = middle;
      else above = middle;
    }
    for (let offset = 0; offset <= SEARCH_RADIUS; offset++) {
      if (consider(doubleOf(above + BigInt(offset))) || consider(doubleOf(above - BigInt(offset)))) return closest.greenWeight;
    }
  }
  return closest.greenWeight;
}

/** Half-width, in doubles, of the crossing search: green within about 0.4% of the ideal. */
const CROSSING_WINDOW = 1n << 44n;

const scratchDouble = new Float64Array(1);
const scratchBits = new BigInt64Array(scratchDouble.buffer);
const MAX_FINITE_BITS = bitsOf(Number.MAX_VALUE);

/** The bit pattern of a double, as an integer (ordered like the doubles, for positive ones). */
function bitsOf(x: number): bigint {
  scratchDouble[0] = x;
  return scratchBits[0]!;
}

function doubleOf(bits: bigint): number {
  scratchBits[0] = bits;
  return scratchDouble[0]!;
}

/** The double `steps` representable values above (below, if negative) the positive double `x`. */
function nextDouble(x: number, steps: number): number {
  if (steps === 0 || !Number.isFinite(x) || x <= 0) return x;
  return doubleOf(bitsOf(x) + BigInt(steps));
}

/** The traffic steps' fields of the policy (lambdas/shared/config.ts TrafficPolicySchema). */
export interface TrafficSchedulePolicy {
  readonly mode: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR';
  readonly canaryPercent: number;
  readonly linearStepPercent: number;
}

/**
 * Green's share of the traffic after each step, as whole percentages ending at 100:
 * ALL_AT_ONCE [100]; CANARY 10 -> [10, 100]; LINEAR 25 -> [25, 50, 75, 100], 30 -> [30, 60, 90, 100].
 * Percentages (not fractions) because they name the states ("Shift traffic to 10%") and are exact.
 */
export function trafficStepPercents(policy: TrafficSchedulePolicy): number[] {
  switch (policy.mode) {
    case 'ALL_AT_ONCE':
      return [100];
    case 'CANARY':
      return policy.canaryPercent >= 100 ? [100] : [policy.canaryPercent, 100];
    case 'LINEAR': {
      const step = policy.linearStepPercent;
      if (!(Number.isInteger(step) && step > 0)) throw new RangeError(`linearStepPercent must be a positive integer, got ${step}`);
      const steps: number[] = [];
      for (let percent = step; percent < 100; percent += step) steps.push(percent);
      return [...steps, 100];
    }
  }
}

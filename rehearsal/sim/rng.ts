/**
 * Seeded randomness. Every random draw in the simulation comes from a SeededRandom derived from the
 * simulation's seed, so a rehearsal with a fixed seed and the same calls gives the same results.
 */

/** z-score of the 99th percentile of the standard normal distribution. */
const Z_P99 = 2.3263478740408408;

/** mulberry32: a small, fast 32-bit PRNG with good statistical quality for simulations. */
/** Uniform [0, 1) generator (mulberry32): small, fast, and the same sequence for the same seed everywhere. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a label, to derive independent streams from one seed. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Parameters of a lognormal distribution (of the variable's natural log). */
export interface LognormalParameters {
  readonly mu: number;
  readonly sigma: number;
}

/**
 * The lognormal whose median is `p50` and whose 99th percentile is `p99`.
 * A p99 at or below p50 gives sigma 0: every sample equals p50.
 */
export function lognormalFromPercentiles(p50: number, p99: number): LognormalParameters {
  if (!(p50 > 0)) throw new RangeError(`p50 must be positive, got ${p50}`);
  const sigma = p99 > p50 ? Math.log(p99 / p50) / Z_P99 : 0;
  return { mu: Math.log(p50), sigma };
}

export class SeededRandom {
  private readonly nextUniform: () => number;
  /** Box-Muller yields two normals per draw; the second is kept for the next call. */
  private spareNormal: number | undefined;

  constructor(readonly seed: number) {
    this.nextUniform = mulberry32(seed);
  }

  /**
   * An independent stream for one purpose (routing, latency, ...), so that drawing more numbers for one
   * purpose does not shift the draws of another.
   */
  derive(label: string): SeededRandom {
    return new SeededRandom((Math.imul(this.seed >>> 0, 0x9e3779b1) ^ hashLabel(label)) >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUniform();
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  /** Standard normal draw scaled to `mean` and `stdDev`. */
  normal(mean = 0, stdDev = 1): number {
    let standard: number;
    if (this.spareNormal !== undefined) {
      standard = this.spareNormal;
      this.spareNormal = undefined;
    } else {
      // 1 - next() is in (0, 1]: log never sees 0.
      const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
      const angle = 2 * Math.PI * this.next();
      standard = radius * Math.cos(angle);
      this.spareNormal = radius * Math.sin(angle);
    }
    return mean + stdDev * standard;
  }

  lognormal(parameters: LognormalParameters): number {
    return Math.exp(this.normal(parameters.mu, parameters.sigma));
  }

  /**
   * Index of an item picked with probability weight / sum of weights; undefined when no weight is
   * positive.
   */
  pickWeighted(weights: readonly number[]): number | undefined {
    const total = weights.reduce((sum, weight) => sum + Math.max(0, weight), 0);
    if (!(total > 0)) return undefined;
    let target = this.next() * total;
    let lastPositive = -1;
    for (let index = 0; index < weights.length; index++) {
      const weight = Math.max(0, weights[index]);
      if (weight <= 0) continue;
      lastPositive = index;
      if (target < weight) return index;
      target -= weight;
    }
    // Floating-point rounding can leave target a hair above the last weight.
    return lastPositive;
  }
}

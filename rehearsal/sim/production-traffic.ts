/**
 * The production traffic of the rehearsal's endpoints: every period, each serving endpoint receives
 * requestsPerSecond x period requests, split between its variants by their CURRENT weights (weight / sum of
 * weights), and each variant's model behaviour decides how many fail and how long they take. The samples
 * feed CloudWatch (alarms) and Application Auto Scaling (target tracking).
 *
 * Simplifications, for speed at high request rates: the failures are drawn as one binomial count per
 * variant and period (exact below 1,000 requests, else its normal or Poisson approximation); at most
 * MAX_LATENCY_SAMPLES_PER_PERIOD latencies are drawn, each standing for invocations / samples requests; the
 * cold start of a fresh fleet is ignored (it shapes the first few hundred requests, far fewer than a period
 * carries). Production requests are well-formed: they never produce 4xx errors.
 */
import type { VariantTrafficSample } from './cloudwatch';
export type { VariantTrafficSample } from './cloudwatch';
import type { SeededRandom } from './rng';
import { sampleBaseLatencyMs, type SageMakerRuntimeSimulation } from './runtime';
import type { SageMakerSimulation, ServingVariant } from './sagemaker';

export interface ProductionTrafficOptions {
  /** Requests per second each serving endpoint receives (0: no traffic). */
  readonly requestsPerSecond: number;
  /** The simulation's random stream; the traffic derives its own streams from it. */
  readonly random: SeededRandom;
}

/** At most this many ModelLatency values are drawn per variant and period. */
export const MAX_LATENCY_SAMPLES_PER_PERIOD = 200;
/** Below this many requests the failure count is drawn request by request. */
const EXACT_BINOMIAL_LIMIT = 1000;

export class ProductionTraffic {
  private readonly requestsPerSecond: number;
  private readonly random: SeededRandom;
  /**
   * Endpoints seen through the control plane's change events: construct the traffic before any endpoint
   * is seeded or created (SimulatedAws does), or it never sends them requests.
   */
  private readonly endpointNames = new Set<string>();
  /** One stream per variant and purpose: a new variant's traffic never shifts another variant's draws. */
  private readonly streams = new Map<string, SeededRandom>();

  constructor(
    private readonly sagemaker: SageMakerSimulation,
    private readonly runtime: SageMakerRuntimeSimulation,
    options: ProductionTrafficOptions,
  ) {
    if (!(Number.isFinite(options.requestsPerSecond) && options.requestsPerSecond >= 0)) {
      throw new RangeError(`requestsPerSecond must be a number >= 0, got ${options.requestsPerSecond}`);
    }
    this.requestsPerSecond = options.requestsPerSecond;
    this.random = options.random;
    sagemaker.onEndpointChange((change) => {
      if (change.status === 'Deleted') this.endpointNames.delete(change.endpointName);
      else this.endpointNames.add(change.endpointName);
    });
  }

  /**
   * One period of traffic to every serving endpoint (InService, or Updating while its old fleet serves),
   * split by the variants' CURRENT weights: one sample per variant, including variants that received no
   * request (invocations 0) in the period that ends at virtual time `atMs`.
   */
  sample(periodSeconds: number, atMs: number): VariantTrafficSample[] {
    if (!(Number.isFinite(periodSeconds) && periodSeconds > 0)) throw new RangeError(`periodSeconds must be a positive number, got ${periodSeconds}`);
    const samples: VariantTrafficSample[] = [];
    for (const name of [...this.endpointNames].sort()) {
      const endpoint = this.sagemaker.servingEndpoint(name);
      if (!endpoint || (endpoint.status !== 'InService' && endpoint.status !== 'Updating') || endpoint.variants.length === 0) continue;
      const endpointConfigName = this.sagemaker.endpointSnapshot(name)?.endpointConfigName;
      const totalWeight = endpoint.variants.reduce((sum, variant) => sum + Math.max(0, variant.currentWeight), 0);
      for (const variant of endpoint.variants) {
        const share = totalWeight > 0 ? Math.max(0, variant.currentWeight) / totalWeight : 0;
        const invocations = Math.round(this.requestsPerSecond * periodSeconds * share);
        samples.push(this.variantSample(endpoint.endpointName, endpointConfigName, variant, invocations, periodSeconds, atMs));
      }
    }
    return samples;
  }

  private variantSample(
    endpointName: string,
    endpointConfigName: string | undefined,
    variant: ServingVariant,
    invocations: number,
    periodSeconds: number,
    atMs: number,
  ): VariantTrafficSample {
    const behaviour = this.runtime.behaviourFor(variant.modelDataUrl);
    // During an outage every request fails; a period that straddles its start or end fails in proportion.
    const outage = this.runtime.outageWindowFor(variant.modelDataUrl);
    const periodMs = periodSeconds * 1000;
    const outageMs = outage ? Math.max(0, Math.min(atMs, outage.toMs) - Math.max(atMs - periodMs, outage.fromMs)) : 0;
    const outageFailures = Math.round((invocations * outageMs) / periodMs);
    const stream = (purpose: string): SeededRandom => this.stream(`${endpointName}/${variant.variantName}/${purpose}`);
    const sampledFailures = binomial(stream('errors'), invocations - outageFailures, behaviour.errorRate ?? 0);
    const failures = outageFailures + sampledFailures;
    const latencyRandom = stream('latency');
    const modelLatenciesUs = Array.from({ length: Math.min(invocations, MAX_LATENCY_SAMPLES_PER_PERIOD) }, () =>
      Math.round(sampleBaseLatencyMs(latencyRandom, behaviour) * 1000),
    );
    return {
      endpointName,
      variantName: variant.variantName,
      ...(endpointConfigName !== undefined ? { endpointConfigName } : {}),
      invocations,
      // A model failure is a ModelError: it counts as a 5xx and as a model error.
      invocation5xxErrors: failures,
      invocation4xxErrors: 0,
      modelErrors: failures,
      modelLatenciesUs,
    };
  }

  private stream(label: string): SeededRandom {
    let stream = this.streams.get(label);
    if (!stream) {
      stream = this.random.derive(`traffic/${label}`);
      this.streams.set(label, stream);
    }
    return stream;
  }
}

/**
 * A Binomial(trials, probability) draw: exact (one uniform per trial) up to EXACT_BINOMIAL_LIMIT trials,
 * else the normal approximation when the variance is large enough (>= 25) and the Poisson one otherwise.
 */
export function binomial(random: SeededRandom, trials: number, probability: number): number {
  if (trials <= 0 || probability <= 0) return 0;
  if (probability >= 1) return trials;
  if (probability > 0.5) return trials - binomial(random, trials, 1 - probability);
  if (trials <= EXACT_BINOMIAL_LIMIT) {
    let successes = 0;
    for (let trial = 0; trial < trials; trial++) if (random.next() < probability) successes += 1;
    return successes;
  }
  const mean = trials * probability;
  const variance = mean * (1 - probability);
  if (variance >= 25) return Math.min(trials, Math.max(0, Math.round(random.normal(mean, Math.sqrt(variance)))));
  // Poisson by inversion (mean < 50 here, since p <= 0.5 and variance < 25).
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random.next();
  while (product > limit) {
    count += 1;
    product *= random.next();
  }
  return Math.min(trials, count);
}

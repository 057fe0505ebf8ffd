/**
 * Benchmark: evaluateGates over 100,000 paired samples (seeded, so every run judges the same data).
 * Run with `npx tsx bench/gates.bench.ts`. Prints one JSON line
 * {"benchmark":"gates-100k","samples":100000,"medianMs":...,"runsMs":[...]} and exits non-zero when the
 * median of 5 runs exceeds 1000 ms (or the report is not about the samples given).
 *
 * The samples exercise every gate's work: mostly OK requests with a few 5xx, throttles and timeouts,
 * log-normal latencies on both sides, a numeric score on both sides (KS), and a label prediction with an
 * expected label on every line (golden). Every latency threshold is set, so all six latency checks run.
 */
import { performance } from 'node:perf_hooks';
import { evaluateGates } from '../lambdas/shared/gates';
import {
  DEFAULT_GATE_POLICY,
  type GatePolicy,
  type InvocationOutcome,
  type InvocationSample,
  type PairedSample,
  type RobustnessResult,
} from '../lambdas/shared/validation-types';
import { mulberry32 } from '../rehearsal/sim/rng';

/** Seeded uniform [0, 1) draws (mulberry32): the same samples on every run. */
const seededUniform = mulberry32;

const SAMPLE_COUNT = 100_000;
const RUNS = 5;
const BUDGET_MS = 1000;
const SEED = 20_240_601;

const LABELS = ['approve', 'review', 'decline'] as const;

function buildSamples(count: number, seed: number): PairedSample[] {
  const uniform = seededUniform(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const invocation = (latencyScale: number): InvocationSample => {
    const roll = uniform();
    const outcome: InvocationOutcome = roll < 0.004 ? 'MODEL_ERROR' : roll < 0.006 ? 'THROTTLED' : roll < 0.0065 ? 'TIMEOUT' : 'OK';
    const latencyMs = latencyScale * 45 * Math.exp(0.35 * normal());
    if (outcome !== 'OK') return { outcome, statusCode: outcome === 'MODEL_ERROR' ? 500 : outcome === 'THROTTLED' ? 429 : undefined, latencyMs };
    const score = normal();
    return { outcome, statusCode: 200, latencyMs, score, prediction: LABELS[score < -0.5 ? 0 : score < 0.8 ? 1 : 2] };
  };
  return Array.from({ length: count }, (_, index) => {
    const green = invocation(1.05);
    const blue = invocation(1);
    const expected = green.prediction !== undefined && uniform() < 0.97 ? green.prediction : LABELS[index % LABELS.length];
    return { index, green, blue, expected };
  });
}

const policy: GatePolicy = {
  ...DEFAULT_GATE_POLICY,
  latency: {
    ...DEFAULT_GATE_POLICY.latency,
    maxRelativeP50: 1.2,
    maxRelativeP95: 1.2,
    maxRelativeP99: 1.2,
    maxP50Ms: 200,
    maxP95Ms: 400,
    maxP99Ms: 800,
  },
};

const robustness: RobustnessResult = {
  probes: [
    { name: 'wrong-content-type', outcome: 'CLIENT_ERROR', statusCode: 415, latencyMs: 4 },
    { name: 'empty-body', outcome: 'MODEL_ERROR', statusCode: 400, latencyMs: 6 },
  ],
  recoveredAfterwards: true,
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function main(): number {
  const samples = buildSamples(SAMPLE_COUNT, SEED);
  const runsMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const report = evaluateGates({ samples, policy, robustness, firstDeployment: false });
    runsMs.push(performance.now() - started);
    // Uses the result (so no work can be skipped) and guards against timing a report about nothing.
    if (report.sampleCount !== SAMPLE_COUNT || report.gates.length !== 6) {
      process.stderr.write(`unexpected report: ${report.sampleCount} samples, ${report.gates.length} gates\n`);
      return 2;
    }
  }
  const medianMs = median(runsMs);
  process.stdout.write(`${JSON.stringify({ benchmark: 'gates-100k', samples: SAMPLE_COUNT, medianMs: round(medianMs), runsMs: runsMs.map(round) })}\n`);
  if (medianMs > BUDGET_MS) {
    process.stderr.write(`median ${round(medianMs)} ms exceeds the ${BUDGET_MS} ms budget\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();

/**
 * Golden datasets for rehearsals: JSON Lines `{"input": {...}, "expected": <label>}`, generated from the
 * scenario's seed. The expected label is what the reference version's simulated model predicts for the
 * input (the simulation's score is a function of the request body), so a green that behaves like the
 * reference agrees with the dataset, and one whose predictions moved does not.
 */
import { createHash } from 'node:crypto';
import { requestBodyOf } from '../lambdas/shared/payloads';
import type { Scenario } from './scenario';
import { labelForScore, scoreForBody, type ModelBehaviour } from './sim/runtime';

type DatasetSpec = NonNullable<Scenario['dataset']>;

/** Deterministic feature values in [0, 10) for line `index`. */
function features(seed: number, index: number): number[] {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  return [0, 1, 2, 3].map((i) => Math.round((digest.readUInt32BE(i * 4) / 0x1_0000_0000) * 10_000) / 1000);
}

export function generateDataset(spec: DatasetSpec, seed: number, reference: ModelBehaviour | undefined): string {
  const items =
    spec.items ??
    Array.from({ length: spec.lines }, (_unused, index) => {
      const input = { features: features(seed, index) };
      if (!spec.withExpected) return { input };
      // Noise 0: the reference model's own answer, without the per-request jitter.
      return { input, expected: labelForScore(scoreForBody(reference ?? {}, requestBodyOf(input), 0)) };
    });
  return items.map((item) => JSON.stringify(item)).join('\n') + '\n';
}

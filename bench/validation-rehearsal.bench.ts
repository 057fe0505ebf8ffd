/**
 * Benchmark: warm-up + validation of a 5,000-request golden dataset in the rehearsal, at the policy's
 * concurrency (8 requests in flight per variant by default). Run with `npx tsx bench/validation-rehearsal.bench.ts`.
 * Prints one JSON line with the wall time of the warm-up and validation states (from the timeline's first
 * "Warm up variants" to the verdict), their virtual (AWS) time, the requests sent, and the whole rehearsal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wallNow } from '../rehearsal/clock';
import { runRehearsal, type TimelineEntry } from '../rehearsal/runner';
import { builtInScenario } from '../rehearsal/scenario';

const DATASET_LINES = 5000;

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const config = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')).context.blueGreen;
  const scenario = { ...builtInScenario('equivalent-model'), name: 'bench-validation-5000', dataset: { lines: DATASET_LINES, withExpected: true } };
  // Wall time of each timeline entry, so the validation states can be timed on the real clock.
  const wallAt = new Map<TimelineEntry, number>();
  const started = wallNow();
  const report = await runRehearsal({ scenario, config, onTimeline: (entry) => wallAt.set(entry, wallNow()) });
  const total = wallNow() - started;
  const first = report.timeline.find((e) => e.state === 'Warm up variants')!;
  const verdict = report.timeline.find((e) => e.kind === 'task' && e.state === 'Judge green')!;
  const invocations = report.awsCalls.byOperation['sagemaker-runtime:InvokeEndpoint'] ?? 0;
  const result = {
    benchmark: 'validation-rehearsal-5000',
    datasetLines: DATASET_LINES,
    concurrency: 8,
    verdict: report.validation?.verdict,
    outcome: report.outcome,
    invokeEndpointCalls: invocations,
    warmUpAndValidationWallMs: Math.round(wallAt.get(verdict)! - wallAt.get(first)!),
    warmUpAndValidationVirtualSeconds: Math.round((verdict.t - first.t) * 10) / 10,
    wholeRehearsalWallMs: Math.round(total),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (report.validation?.verdict !== 'PASS') process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run faults -- [--runs N] [--seed S] [--json]`: runs N randomized fault schedules (rehearsal/fault-schedules.ts)
 * through the rehearsal, schedule i drawn from seed S + i, and checks the invariants at every simulated instant.
 * Prints the count, the outcomes and every violation with the seed that replays it (`--runs 1 --seed <seed>`).
 * Exits 1 if any invariant was violated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run faults -- [--runs N] [--seed S] [--workers W] [--json] [--verbose]
  --runs N     schedules to run (default 1000)
  --seed S     first seed (default 1); schedule i uses seed S + i, so --runs 1 --seed <seed> replays one
  --workers W  processes to spread the schedules over (default 1; each takes one core)
  --json       one JSON line per schedule, then a summary line
  --verbose    print each schedule as it runs`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const runs = Number(values.runs ?? 1000);
  const firstSeed = Number(values.seed ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, got ${values.runs}`);
  if (!Number.isInteger(firstSeed)) throw new Error(`--seed: an integer, got ${values.seed}`);
  const workers = Number(values.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers: a positive integer, got ${values.workers}`);
  if (workers > 1) return inWorkers(runs, firstSeed, workers, values.json === true);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const fc = (await import('fast-check')).default;
  const { faultScheduleArbitrary, runSchedule } = await import('../rehearsal/fault-schedules');
  const config = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')).context.blueGreen;

  const started = performance.now();
  const outcomes: Record<string, number> = {};
  const failures: Array<{ seed: number; violations: unknown; schedule: unknown }> = [];
  let rolloutsPerRun = 0;
  for (let i = 0; i < runs; i++) {
    const seed = firstSeed + i;
    const [schedule] = fc.sample(faultScheduleArbitrary, { seed, numRuns: 1 });
    if (values.verbose) process.stderr.write(`seed ${seed}: ${JSON.stringify(schedule)}\n`);
    let result;
    try {
      result = await runSchedule(schedule, seed, config);
    } catch (error) {
      failures.push({ seed, violations: [{ invariant: 'rehearsal', detail: String(error) }], schedule });
      continue;
    }
    const { report, violations } = result;
    outcomes[report.outcome] = (outcomes[report.outcome] ?? 0) + 1;
    rolloutsPerRun = Math.max(rolloutsPerRun, report.rollouts);
    if (violations.length > 0) failures.push({ seed, violations, schedule });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ seed, outcome: report.outcome, rollouts: report.rollouts, reconciliations: report.reconciliations.length, violations })}\n`);
    }
  }
  const summary: Summary = {
    benchmark: 'fault-schedules',
    schedules: runs,
    firstSeed,
    violations: failures.length,
    outcomes,
    maxRolloutsInOneRun: rolloutsPerRun,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    failures: failures.map((f) => ({ seed: f.seed, replay: `npm run faults -- --runs 1 --seed ${f.seed} --verbose`, violations: f.violations })),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

interface Summary {
  readonly benchmark: string;
  readonly schedules: number;
  readonly firstSeed: number;
  readonly violations: number;
  readonly outcomes: Record<string, number>;
  readonly maxRolloutsInOneRun: number;
  readonly wallSeconds: number;
  readonly failures: unknown[];
}

/** Splits the seeds into `workers` contiguous ranges, one child process each (same loader), and merges their summaries. */
async function inWorkers(runs: number, firstSeed: number, workers: number, json: boolean): Promise<void> {
  const { fork } = await import('node:child_process');
  const started = performance.now();
  const size = Math.ceil(runs / workers);
  const ranges = Array.from({ length: workers }, (_, i) => ({ seed: firstSeed + i * size, runs: Math.min(size, runs - i * size) })).filter((r) => r.runs > 0);
  const summaries = await Promise.all(
    ranges.map(
      (range) =>
        new Promise<Summary>((resolve, reject) => {
          const args = ['--runs', String(range.runs), '--seed', String(range.seed), ...(json ? ['--json'] : [])];
          const child = fork(__filename, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
          let output = '';
          child.stdout!.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (!json) return;
            // Per-schedule lines pass through as they come; the summary line is merged below.
            const lines = output.split('\n');
            output = lines.pop()!;
            for (const line of lines) if (!line.includes('"benchmark"')) process.stdout.write(`${line}\n`);
            else output = `${line}\n${output}`;
          });
          child.on('error', reject);
          child.on('exit', (code) => {
            const line = output.split('\n').find((l) => l.includes('"benchmark"'));
            if (!line) return reject(new Error(`worker for seeds ${range.seed}+${range.runs} exited ${code} without a summary`));
            resolve(JSON.parse(line) as Summary);
          });
        }),
    ),
  );
  const outcomes: Record<string, number> = {};
  for (const s of summaries) for (const [k, v] of Object.entries(s.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  const merged: Summary = {
    benchmark: 'fault-schedules',
    schedules: summaries.reduce((n, s) => n + s.schedules, 0),
    firstSeed,
    violations: summaries.reduce((n, s) => n + s.violations, 0),
    outcomes,
    maxRolloutsInOneRun: Math.max(...summaries.map((s) => s.maxRolloutsInOneRun)),
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    failures: summaries.flatMap((s) => s.failures),
  };
  process.stdout.write(`${JSON.stringify({ ...merged, workers })}\n`);
  if (merged.violations > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});

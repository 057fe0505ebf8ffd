/**
 * Benchmark: issue 4's figures from the rehearsal (cdk.json's target with each scenario's overrides).
 * - alarm-to-rollback: virtual and wall time from the alarm event to blue's weights requested back, for an alarm
 *   during the canary, during the bake and in the rollback window (target: under 1 s of wall time);
 * - state transitions of a canary with a one-hour bake, against the same rollout with 30 s polling loops;
 * - double-capacity instance-seconds for the happy path and a rollback, next to SageMaker's native blue/green.
 * Run with `npx tsx bench/rollout-figures.bench.ts`; prints one JSON line per scenario.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRehearsal } from '../rehearsal/runner';
import { builtInScenario } from '../rehearsal/scenario';

const SCENARIOS = ['canary-happy', 'alarm-during-canary', 'alarm-during-bake', 'alarm-in-rollback-window', 'manual-rollback'];

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const config = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')).context.blueGreen;
  for (const name of SCENARIOS) {
    const report = await runRehearsal({ scenario: builtInScenario(name), config });
    const { metrics } = report;
    const result = {
      benchmark: `rollout-figures/${name}`,
      outcome: report.outcome,
      alarmToRollback: metrics.alarmToRollback,
      operatorRollbackVirtualMs: report.rollbacks.find((r) => r.trigger === 'OPERATOR')?.virtualMs ?? null,
      stateTransitions: metrics.stateTransitions,
      capacity: metrics.capacity,
      virtualSeconds: metrics.virtualSeconds,
      wallMs: metrics.wallMs,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    const expected = builtInScenario(name).expect?.outcome;
    if (expected && report.outcome !== expected) process.exitCode = 1;
    if (metrics.alarmToRollback && metrics.alarmToRollback.wallMs >= 1000) process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});

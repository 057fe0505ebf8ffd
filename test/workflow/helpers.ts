import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RolloutConfigInput } from '../../lambdas/shared/config';
import { runRehearsal, type RehearsalOptions, type RehearsalReport } from '../../rehearsal/runner';
import { builtInScenario, parseScenario, type ScenarioInput } from '../../rehearsal/scenario';

/** The deployment targets in cdk.json: what `npm run rehearse` rehearses by default. */
export function cdkJsonConfig(): RolloutConfigInput {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context.blueGreen;
}

export function rehearseBuiltIn(name: string, extra: Partial<RehearsalOptions> = {}): Promise<RehearsalReport> {
  return runRehearsal({ scenario: builtInScenario(name), config: cdkJsonConfig(), ...extra });
}

export function rehearseScenario(scenario: ScenarioInput, extra: Partial<RehearsalOptions> = {}): Promise<RehearsalReport> {
  return runRehearsal({ scenario: parseScenario(scenario, 'test'), config: cdkJsonConfig(), ...extra });
}

/** The variant names an endpoint ends with, with their weights. */
export function variantsOf(report: RehearsalReport): Array<[string, number]> {
  return (report.endpoint?.variants ?? []).map((v) => [v.variantName, v.weight]);
}

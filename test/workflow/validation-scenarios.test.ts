/**
 * Warm-up and validation gates, end to end: each scenario of the validation milestone through the rehearsal,
 * asserting the verdict, the gate that decided it, and where the endpoint ended.
 */
import type { RehearsalReport } from '../../rehearsal/runner';
import { builtInScenario } from '../../rehearsal/scenario';
import { cdkJsonConfig, rehearseBuiltIn, rehearseScenario, variantsOf } from './helpers';
import { runRehearsal } from '../../rehearsal/runner';

const BLUE_CONFIG = 'fraud-detector-prod-v6-00000000';
const BLUE_VARIANT = 'v6-00000000';

interface GateView {
  gate: string;
  verdict: string;
  samples: number;
  checks: Array<{ name: string; statistic: number | null; threshold: number; passed: boolean | null }>;
}

function gate(report: RehearsalReport, name: string): GateView {
  const gates = (report.validation?.report as { gates?: GateView[] } | null)?.gates ?? [];
  const found = gates.find((g) => g.gate === name);
  if (!found) throw new Error(`no ${name} gate in the report: ${JSON.stringify(report.validation)}`);
  return found;
}

function expectBlueAloneAsBefore(report: RehearsalReport): void {
  expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
  expect(variantsOf(report)).toEqual([[BLUE_VARIANT, 1]]);
  expect(report.endpoint!.variants[0].instanceCount).toBe(2);
  expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
  // Traffic never moved to a green that failed validation.
  expect(report.awsCalls.byOperation['sagemaker:UpdateEndpointWeightsAndCapacities']).toBeUndefined();
}

function expectGreenAlone(report: RehearsalReport, version: number): void {
  expect(report.endpoint?.status).toBe('InService');
  expect(report.endpoint!.variants).toHaveLength(1);
  expect(report.endpoint!.variants[0]).toMatchObject({ weight: 1, instanceCount: 2 });
  expect(report.endpoint!.variants[0].variantName).toMatch(new RegExp(`^v${version}-[0-9a-f]{8}$`));
  expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
}

describe('cold-start', () => {
  it('warm-up absorbs the 20x slow start of green (and of blue, redeployed by the update); validation passes', async () => {
    const report = await rehearseBuiltIn('cold-start');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.validation?.verdict).toBe('PASS');
    const warm = (report.validation!.warmUp as { variants: Array<{ variantName: string; firstWindowP99Ms: number; lastWindowP99Ms: number; requests: number }> }).variants;
    const green = warm.find((v) => v.variantName.startsWith('v7-'))!;
    expect(green.firstWindowP99Ms).toBeGreaterThan(5 * green.lastWindowP99Ms);
    expect(warm.map((v) => v.variantName)).toContain(BLUE_VARIANT);
    expect(gate(report, 'latency').verdict).toBe('PASS');
    expectGreenAlone(report, 7);
  });
});

describe.each([
  ['slow-green', 'latency'],
  ['tail-latency', 'latency'],
  ['erroring-green', 'errors'],
  ['shifted-predictions', 'distribution'],
  ['wider-predictions', 'distribution'],
  ['crash-on-malformed', 'robustness'],
])('%s', (name, failingGate) => {
  it(`fails the ${failingGate} gate, removes green and leaves blue serving as before`, async () => {
    const report = await rehearseBuiltIn(name);
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'ValidationFailed', finalState: 'Rollout failed' });
    expect(report.validation?.verdict).toBe('FAIL');
    const decisive = gate(report, failingGate);
    expect(decisive.verdict).toBe('FAIL');
    expect(decisive.checks.some((c) => c.passed === false && c.statistic !== null)).toBe(true);
    expect(report.execution!.cause).toContain(failingGate);
    expectBlueAloneAsBefore(report);
  });
});

describe('slow-green and tail-latency', () => {
  it('report the p99 ratio against blue measured on the same payloads', async () => {
    for (const [name, minRatio] of [['slow-green', 1.3], ['tail-latency', 2]] as const) {
      const report = await rehearseBuiltIn(name);
      const p99 = gate(report, 'latency').checks.find((c) => /p99/.test(c.name) && /blue|relative/i.test(c.name))!;
      expect(p99.statistic! / p99.threshold).toBeGreaterThan(minRatio / 1.2);
    }
  });
});

describe('equivalent-model', () => {
  it.each([1, 2, 3, 4, 5])('passes every gate under seed %i (no false alarm) and is promoted', async (seed) => {
    const scenario = { ...builtInScenario('equivalent-model'), seed };
    const report = await runRehearsal({ scenario, config: cdkJsonConfig() });
    expect(report.validation?.verdict).toBe('PASS');
    for (const name of ['health', 'latency', 'errors', 'golden', 'distribution', 'robustness']) expect(gate(report, name).verdict).toBe('PASS');
    expect(report.outcome).toBe('PROMOTED');
    expectGreenAlone(report, 7);
  });
});

describe('too-few-samples', () => {
  it('is INCONCLUSIVE (never a pass); the operator approves and green is promoted', async () => {
    const report = await rehearseBuiltIn('too-few-samples');
    expect(report.validation?.verdict).toBe('INCONCLUSIVE');
    expect(gate(report, 'latency')).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 30 });
    expect(report.decision).toMatchObject({ decision: 'APPROVED', by: 'alice' });
    expect(report.outcome).toBe('PROMOTED');
    const waited = report.timeline.find((e) => e.state === 'Wait for approval')!;
    const shifted = report.timeline.find((e) => e.state?.startsWith('Shift traffic to'))!;
    expect(shifted.t - waited.t).toBeGreaterThanOrEqual(900);
    expectGreenAlone(report, 7);
  });

  it('rejected by the operator: green removed, blue as before, the rejection in the error', async () => {
    const report = await rehearseBuiltIn('too-few-samples-rejected');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ error: 'RolloutRejected' });
    expect(report.execution!.cause).toMatch(/Rejected by bob: not enough evidence/);
    expect(report.decision).toMatchObject({ decision: 'REJECTED', by: 'bob' });
    expectBlueAloneAsBefore(report);
  });

  it('nobody decides: the approval times out after the policy hour and rejects', async () => {
    const report = await rehearseBuiltIn('approval-timeout');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ error: 'ApprovalTimedOut' });
    expect(report.execution!.cause).toMatch(/No decision within 3600 seconds/);
    const waited = report.timeline.find((e) => e.state === 'Wait for approval')!;
    const restored = report.timeline.find((e) => e.state === 'Prepare rollback')!;
    expect(restored.t - waited.t).toBeGreaterThanOrEqual(3600);
    expectBlueAloneAsBefore(report);
  });
});

describe('requireHumanApproval', () => {
  it('waits for a person even when every gate passes, and shifts traffic only after the approval', async () => {
    const report = await rehearseScenario({
      name: 'human-gate',
      description: 'every gate passes; the policy asks for a person',
      target: { policy: { validation: { requireHumanApproval: true } } },
      modelPackages: [{ version: 6 }, { version: 7 }],
      endpoint: { liveVersion: 6 },
      approval: { decision: 'approve', afterSeconds: 120, by: 'carol' },
    });
    expect(report.validation?.verdict).toBe('PASS');
    expect(report.decision).toMatchObject({ decision: 'APPROVED', by: 'carol' });
    const waited = report.timeline.find((e) => e.state === 'Wait for approval')!;
    const shifted = report.timeline.find((e) => e.state?.startsWith('Shift traffic to'))!;
    expect(shifted.t - waited.t).toBeGreaterThanOrEqual(120);
    expect(report.outcome).toBe('PROMOTED');
    expectGreenAlone(report, 7);
  });
});

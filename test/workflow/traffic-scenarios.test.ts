/**
 * Issue 4's scenarios through the rehearsal: traffic steps, alarm-driven rollback, the rollback window, auto
 * scaling. Every test checks the endpoint's final state and that nothing of the rollout is left behind.
 */
import type { RehearsalReport } from '../../rehearsal/runner';
import { rehearseBuiltIn, variantsOf } from './helpers';

const BLUE_CONFIG = 'fraud-detector-prod-v6-00000000';
const BLUE_VARIANT = 'v6-00000000';
const NO_ORPHANS = { models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] };

/** The weights each successful UpdateEndpointWeightsAndCapacities asked for, as green's share. */
function requestedGreenShares(calls: ReadonlyArray<{ operation: string; input: unknown; error?: string }>): number[] {
  return calls
    .filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities' && !c.error)
    .map((c) => {
      const weights = (c.input as { DesiredWeightsAndCapacities: Array<{ VariantName: string; DesiredWeight: number }> }).DesiredWeightsAndCapacities;
      const green = weights.find((w) => w.VariantName !== BLUE_VARIANT)!.DesiredWeight;
      const total = weights.reduce((sum, w) => sum + w.DesiredWeight, 0);
      return green / total;
    });
}

type RecordedCall = { service: string; operation: string; input: unknown; error?: string };
const runs = new Map<string, Promise<{ report: RehearsalReport; calls: RecordedCall[] }>>();

/** One rehearsal per scenario, shared by its tests (each takes seconds of wall time); SageMaker's calls kept. */
function rehearseWithCalls(name: string): Promise<{ report: RehearsalReport; calls: RecordedCall[] }> {
  if (!runs.has(name)) {
    let calls: RecordedCall[] = [];
    runs.set(
      name,
      rehearseBuiltIn(name, { onAwsCalls: (recorded) => (calls = [...recorded]) }).then((report) => ({
        report,
        calls: calls.filter((c) => c.service === 'sagemaker'),
      })),
    );
  }
  return runs.get(name)!;
}

async function rehearsed(name: string): Promise<RehearsalReport> {
  return (await rehearseWithCalls(name)).report;
}

/** Virtual second at which an execution first entered `state`. */
function entered(report: RehearsalReport, state: string): number {
  const entry = report.timeline.find((e) => e.kind === 'state' && e.state === state && e.message.startsWith('Entered'));
  if (!entry) throw new Error(`the execution never entered "${state}"`);
  return entry.t;
}

function expectPromotedGreenAlone(report: RehearsalReport): void {
  expect(report.outcome).toBe('PROMOTED');
  expect(report.endpoint?.status).toBe('InService');
  expect(report.endpoint!.variants).toHaveLength(1);
  expect(report.endpoint!.variants[0]!.variantName).toMatch(/^v7-[0-9a-f]{8}$/);
  expect(report.endpoint!.variants[0]).toMatchObject({ weight: 1, instanceType: 'ml.g5.xlarge' });
  expect(report.orphans).toEqual(NO_ORPHANS);
}

function expectBlueRestoredAlone(report: RehearsalReport, error: string): void {
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.execution?.error).toBe(error);
  expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
  expect(variantsOf(report)).toEqual([[BLUE_VARIANT, 1]]);
  expect(report.endpoint!.variants[0]!.instanceCount).toBe(2);
  expect(report.orphans).toEqual(NO_ORPHANS);
}

describe('canary-happy', () => {
  it('shifts 10% then 100%, each an in-place weight change, and promotes green with two fleet redeploys in all', async () => {
    const { report, calls } = await rehearseWithCalls('canary-happy');
    expectPromotedGreenAlone(report);
    expect(requestedGreenShares(calls)).toEqual([0.1, 1]);
    // One UpdateEndpoint adds green, one removes blue: the traffic steps redeploy nothing.
    expect(report.awsCalls.byOperation['sagemaker:UpdateEndpoint']).toBe(2);
    const states = report.timeline.filter((e) => e.kind === 'state').map((e) => e.state);
    expect(states).toEqual(expect.arrayContaining(['Shift traffic to 10%', 'Watch 10% step', 'Shift traffic to 100%', 'Watch 100% step', 'Watch rollback window']));
  });

  it('bakes 10 minutes at 10%, an hour at 100%, keeps blue 10 minutes more, and deletes the alarms it created', async () => {
    const report = await rehearsed('canary-happy');
    expect(entered(report, 'Shift traffic to 100%') - entered(report, 'Check 10% step')).toBeGreaterThanOrEqual(600);
    expect(entered(report, "Give green blue's auto scaling") - entered(report, 'Check 100% step')).toBeGreaterThanOrEqual(3600);
    expect(entered(report, 'Remove blue variant') - entered(report, 'Check rollback window')).toBeGreaterThanOrEqual(600);
    expect(report.awsCalls.byOperation['cloudwatch:PutMetricAlarm']).toBe(3);
    expect(report.orphans.alarms).toEqual([]);
    // No alarm fired: production traffic kept green's alarms OK.
    expect(report.rollbacks).toEqual([]);
  });

  it('reports far fewer state transitions than a 30 s polling loop, and its double-capacity cost', async () => {
    const report = await rehearsed('canary-happy');
    const transitions = report.metrics.stateTransitions!;
    expect(transitions.watchedSeconds).toBeGreaterThanOrEqual(600 + 3600 + 600);
    expect(transitions.pollingEquivalent).toBeGreaterThan(transitions.actual * 2);
    const capacity = report.metrics.capacity!;
    expect(capacity.rollout.doubleCapacitySeconds).toBeGreaterThan(600 + 3600 + 600);
    expect(capacity.rollout.doubleCapacityInstanceSeconds).toBeGreaterThan(capacity.rollout.doubleCapacitySeconds * 4);
    // Native blue/green for the same policy: provisioning (600 s) + 10% bake (600) + 100% bake (3600) + termination wait (600),
    // with a full copy of blue's two instances beside them.
    expect(capacity.nativeBlueGreen).toMatchObject({ doubleCapacitySeconds: 5400, doubleCapacityInstanceSeconds: 5400 * 4 });
  });
});

describe('linear-happy', () => {
  it('moves green through 25, 50, 75 and 100%, exactly, and promotes it', async () => {
    const { report, calls } = await rehearseWithCalls('linear-happy');
    expectPromotedGreenAlone(report);
    expect(requestedGreenShares(calls)).toEqual([0.25, 0.5, 0.75, 1]);
    for (const percent of [25, 50, 75]) {
      expect(entered(report, `Shift traffic to ${percent + 25}%`) - entered(report, `Check ${percent}% step`)).toBeGreaterThanOrEqual(300);
    }
  });
});

describe.each([
  ['alarm-during-canary', 'Watch 10% step', 120, 0.1],
  ['alarm-during-bake', 'Watch 100% step', 950, 1],
  ['alarm-in-rollback-window', 'Watch rollback window', 330, 1],
])('%s', (name, watchState, afterSeconds, shareBeforeAlarm) => {
  it('restores blue alone on its config, removes green and deletes the rollout alarms', async () => {
    const report = await rehearsed(name);
    expectBlueRestoredAlone(report, 'AlarmTriggered');
    expect(report.execution?.cause).toMatch(/ALARM/);
  });

  it('gives blue its weight back within a second of the alarm event, before the execution acts', async () => {
    const { report, calls } = await rehearseWithCalls(name);
    const rollback = report.rollbacks.find((r) => r.trigger === 'ALARM');
    expect(rollback).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    expect(rollback!.atSecond).toBeGreaterThanOrEqual(entered(report, watchState) + afterSeconds);
    // Event delivery (0.5 s) plus a few API calls: well under the 30 s a poll would take on average.
    expect(report.metrics.alarmToRollback!.virtualMs).toBeLessThan(2000);
    expect(report.metrics.alarmToRollback!.wallMs).toBeLessThan(1000);
    const shares = requestedGreenShares(calls);
    expect(shares[shares.length - 2]).toBe(shareBeforeAlarm);
    expect(shares[shares.length - 1]).toBe(0);
  });
});

describe('alarm-other-endpoint', () => {
  it("ignores another endpoint's alarms and promotes green", async () => {
    const report = await rehearsed('alarm-other-endpoint');
    expectPromotedGreenAlone(report);
    const other = report.alarmEvents.filter((e) => e.state === 'ALARM');
    expect(other.map((e) => [e.alarmName, e.matchedRule])).toEqual([
      ['checkout-api-prod-5xx', false],
      ['sagemaker-blue-green-recommender-prod-1a2b3c4d-green-5xx-rate', true],
    ]);
    expect(report.rollbacks.every((r) => r.outcome === 'NOT_WATCHED_ALARM' || r.outcome === 'NO_ACTIVE_ROLLOUT')).toBe(true);
  });
});

describe('throttled-weight-update', () => {
  it('retries the throttled weight changes and still gives green exactly 10% then 100%', async () => {
    const { report, calls } = await rehearseWithCalls('throttled-weight-update');
    expectPromotedGreenAlone(report);
    const weightCalls = calls.filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities');
    expect(weightCalls.filter((c) => c.error === 'ThrottlingException')).toHaveLength(6);
    expect(requestedGreenShares(calls)).toEqual([0.1, 1]);
  });
});

describe('blue-unhealthy-at-rollback', () => {
  it('does not move traffic onto a blue that fails its probe: green keeps serving and the rollout stops for an operator', async () => {
    const { report, calls } = await rehearseWithCalls('blue-unhealthy-at-rollback');
    expect(report.outcome).toBe('FAILED');
    expect(report.execution?.finalState).toBe('Rollback blocked');
    expect(report.execution?.error).toBe('BlueUnhealthy');
    const weights = Object.fromEntries(variantsOf(report));
    const green = Object.keys(weights).find((v) => v !== BLUE_VARIANT)!;
    expect(weights[green]).toBeGreaterThan(0);
    expect(weights[BLUE_VARIANT]).toBe(0);
    expect(requestedGreenShares(calls)).toEqual([0.1, 1]);
    expect(report.rollbacks[0]).toMatchObject({ trigger: 'ALARM', outcome: 'BLUE_UNHEALTHY' });
    expect(report.orphans.alarms).toEqual([]);
    expect(report.orphans.activeRollouts).toEqual([]);
  });
});

describe('autoscaled-blue', () => {
  it("holds blue's capacity while it drains, gives green its auto scaling, and deregisters blue before removing it", async () => {
    const report = await rehearsed('autoscaled-blue');
    expectPromotedGreenAlone(report);
    const green = report.endpoint!.variants[0]!.variantName;
    expect(report.scalableTargets).toEqual([
      { resourceId: `endpoint/fraud-detector-prod/variant/${green}`, minCapacity: 1, maxCapacity: 4, scaleInSuspended: false },
    ]);
    // Blue never lost an instance while it waited at weight 0.
    const blueScaledIn = report.timeline.some((e) => e.kind === 'endpoint' && new RegExp(`${BLUE_VARIANT}=0 \\(1 x`).test(e.message));
    expect(blueScaledIn).toBe(false);
    expect(report.awsCalls.byOperation['application-autoscaling:DeregisterScalableTarget']).toBeGreaterThanOrEqual(1);
  });
});

describe('manual-rollback', () => {
  it("restores blue at once on the operator's command, then removes green", async () => {
    const report = await rehearsed('manual-rollback');
    expectBlueRestoredAlone(report, 'RollbackRequested');
    expect(report.rollbacks[0]).toMatchObject({ trigger: 'OPERATOR', by: 'alice@example.com', outcome: 'ROLLED_BACK', notified: true });
    expect(report.rollbacks[0]!.virtualMs).toBeLessThan(2000);
  });
});

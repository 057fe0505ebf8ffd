/**
 * Issue 6 through the rehearsal: what a rollout tells the people who run it. For promoted, alarm-rolled-back,
 * human-approved, human-rejected and console-stopped rollouts: the lifecycle events on the bus (in order), the
 * notifications the rule sends, the audit trail (one record per rollout, its outcome, who triggered and decided),
 * the result on the model package's tags, the metrics, and the execution's summary, next to the endpoint's state.
 */
import type { RehearsalReport } from '../../rehearsal/runner';
import { rehearseBuiltIn, rehearseScenario } from './helpers';

const ENDPOINT = 'fraud-detector-prod';
const BLUE = { variantName: 'v6-00000000', weight: 1, instanceCount: 2 };
const NO_ORPHANS = { models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] };

const runs = new Map<string, Promise<RehearsalReport>>();
function rehearsed(name: string): Promise<RehearsalReport> {
  if (!runs.has(name)) runs.set(name, rehearseBuiltIn(name));
  return runs.get(name)!;
}

const eventTypes = (report: RehearsalReport): string[] => report.lifecycleEvents.map((event) => event.detailType);
const tagsOf = (report: RehearsalReport, key: string): string | undefined => report.modelPackageTags[`bluegreen:${ENDPOINT}:${key}`];

describe('happy-path: a promoted rollout', () => {
  test('the bus hears every step in order, and only the promotion is notified', async () => {
    const report = await rehearsed('happy-path');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint!.variants).toEqual([expect.objectContaining({ variantName: expect.stringMatching(/^v7-/), weight: 1 })]);
    expect(eventTypes(report)).toEqual([
      'Rollout Started',
      'Green Provisioned',
      'Warm-up Completed',
      'Validation Verdict',
      'Traffic Shifted',
      'Traffic Shifted',
      'Cleanup Completed',
      'Cleanup Completed',
      'Cleanup Completed',
      'Rollout Promoted',
    ]);
    const shifts = report.lifecycleEvents.filter((event) => event.detailType === 'Traffic Shifted').map((event) => event.message);
    expect(shifts).toEqual([expect.stringContaining('10%, blue 90%'), expect.stringContaining('100%, blue 0%')]);
    const deploymentIds = new Set(report.lifecycleEvents.map((event) => event.deploymentId));
    expect(deploymentIds.size).toBe(1);
    expect(report.notifications.map((n) => n.message)).toEqual([expect.stringMatching(/^fraud-detector v7 on fraud-detector-prod PROMOTED: green v7-\w+ serves all traffic/)]);
  });

  test("the execution's output is the summary: outcome, verdict with statistics, timeline, resources", async () => {
    const report = await rehearsed('happy-path');
    const summary = report.execution!.output as Record<string, any>;
    expect(summary).toMatchObject({ outcome: 'PROMOTED', endpointName: ENDPOINT, modelPackageVersion: 7, verdict: 'PASS' });
    expect(summary.gates.map((gate: { gate: string }) => gate.gate)).toEqual(['health', 'latency', 'errors', 'golden', 'distribution', 'robustness']);
    expect(summary.gates.find((gate: { gate: string }) => gate.gate === 'latency').checks[0]).toMatchObject({ name: 'green p99 / blue p99', comparison: '<=', threshold: 1.2 });
    expect(summary.timeline.map((entry: { event: string }) => entry.event)).toEqual(eventTypes(report));
    expect(summary.resourcesCreated.map((r: { kind: string }) => r.kind).sort()).toEqual(['endpoint-config', 'model']);
    expect(summary.resourcesRemoved).toEqual(expect.arrayContaining([{ kind: 'variant', name: BLUE.variantName }]));
    expect(summary.text).toMatch(/^PROMOTED: fraud-detector v7 on fraud-detector-prod in /);
    expect(summary.text).toContain('latency PASS: green p99 / blue p99 = ');
    // Small enough for the console (and far below Step Functions' 256 KB).
    expect(JSON.stringify(summary).length).toBeLessThan(16 * 1024);
  });

  test('the audit trail holds one record: trigger, outcome, every event; the package carries the result; metrics counted', async () => {
    const report = await rehearsed('happy-path');
    expect(report.history).toHaveLength(1);
    const [record] = report.history;
    expect(record!.header).toMatchObject({
      ref: { endpointName: ENDPOINT, modelPackageVersion: 7 },
      trigger: { kind: 'MODEL_REGISTRY_APPROVAL' },
      policy: { trafficMode: 'CANARY', stepPercents: [10, 100] },
      configHash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(record!.outcome).toMatchObject({ outcome: 'PROMOTED' });
    expect(record!.events).toBe(report.lifecycleEvents.length);
    expect(tagsOf(report, 'outcome')).toBe('PROMOTED');
    expect(tagsOf(report, 'deployment-id')).toBe(record!.deploymentId);
    expect(report.publishedMetrics.RolloutsStarted).toMatchObject({ sum: 1, unit: 'Count' });
    expect(report.publishedMetrics.RolloutsPromoted).toMatchObject({ sum: 1 });
    expect(report.publishedMetrics.RolloutsRolledBack).toBeUndefined();
    expect(report.publishedMetrics.GateFailed).toMatchObject({ count: 6, sum: 0 });
    expect(report.publishedMetrics.RolloutDurationSeconds!.max).toBeGreaterThan(3600);
    expect(report.orphans).toEqual(NO_ORPHANS);
  });
});

describe('alarm-during-canary: rolled back by an alarm', () => {
  test('the rollback says why and who; it is notified; the outcome, the tags and the alarm-to-rollback latency are recorded', async () => {
    const report = await rehearsed('alarm-during-canary');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.endpoint!.variants).toEqual([expect.objectContaining(BLUE)]);
    expect(report.orphans).toEqual(NO_ORPHANS);
    expect(eventTypes(report)).toEqual(expect.arrayContaining(['Traffic Shifted', 'Rollout Rolled Back', 'Rollout Ended']));
    expect(eventTypes(report)).not.toContain('Rollout Promoted');
    const rolledBack = report.lifecycleEvents.find((event) => event.detailType === 'Rollout Rolled Back')!;
    expect(rolledBack.message).toMatch(/ROLLED BACK \(AlarmTriggered, by sagemaker-blue-green-fraud-detector-prod-\w+-green-5xx-rate\)/);
    expect(report.notifications.map((n) => n.message)).toEqual([
      expect.stringContaining('ROLLED BACK (AlarmTriggered'),
      expect.stringContaining('ended ROLLED_BACK (AlarmTriggered)'),
    ]);
    expect(report.history[0]!.outcome).toMatchObject({ outcome: 'ROLLED_BACK', error: 'AlarmTriggered' });
    expect(tagsOf(report, 'outcome')).toBe('ROLLED_BACK');
    expect(report.publishedMetrics.RolloutsRolledBack).toMatchObject({ sum: 1 });
    expect(report.publishedMetrics.AlarmToRollbackSeconds!.max).toBeLessThan(10);
    // A failed execution has no output: its Cause is the summary.
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'AlarmTriggered', output: null });
    expect(report.execution!.cause).toMatch(/^ROLLED_BACK: fraud-detector v7 on fraud-detector-prod in /);
    expect(report.execution!.cause).toContain('Rollout Rolled Back');
  });
});

describe('human decisions are recorded with who made them', () => {
  test('too-few-samples: INCONCLUSIVE is notified, the wait is notified, the approval by alice is recorded', async () => {
    const report = await rehearsed('too-few-samples');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint!.variants).toEqual([expect.objectContaining({ variantName: expect.stringMatching(/^v7-/), weight: 1 })]);
    const types = eventTypes(report);
    expect(types.indexOf('Approval Requested')).toBeGreaterThan(types.indexOf('Validation Verdict'));
    expect(types.indexOf('Approval Decided')).toBeLessThan(types.indexOf('Traffic Shifted'));
    const decided = report.lifecycleEvents.find((event) => event.detailType === 'Approval Decided')!;
    expect(decided.message).toContain('approved by alice');
    expect(report.notifications.map((n) => n.message)).toEqual([
      expect.stringContaining('INCONCLUSIVE'),
      expect.stringContaining("waits for an operator's decision"),
      expect.stringContaining('PROMOTED'),
    ]);
    expect((report.execution!.output as { decisions: unknown[] }).decisions).toEqual([expect.objectContaining({ decision: 'APPROVED', by: 'alice' })]);
  });

  test('too-few-samples-rejected: the rejection by bob is recorded, blue serves alone', async () => {
    const report = await rehearsed('too-few-samples-rejected');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.endpoint!.variants).toEqual([expect.objectContaining(BLUE)]);
    const decided = report.lifecycleEvents.find((event) => event.detailType === 'Approval Decided')!;
    expect(decided.message).toContain('rejected by bob: not enough evidence');
    expect(report.history[0]!.outcome).toMatchObject({ outcome: 'ROLLED_BACK', error: 'RolloutRejected' });
    expect(eventTypes(report)).not.toContain('Traffic Shifted');
  });
});

describe('stopped-during-canary: the reconciler concludes a stopped rollout', () => {
  test('ABORTED is recorded, notified and tagged; blue serves alone; nothing is left behind', async () => {
    const report = await rehearsed('stopped-during-canary');
    expect(report.execution).toMatchObject({ status: 'ABORTED' });
    expect(report.endpoint!.variants).toEqual([expect.objectContaining(BLUE)]);
    expect(report.orphans).toEqual(NO_ORPHANS);
    expect(eventTypes(report).slice(-3)).toEqual(['Rollout Rolled Back', 'Cleanup Completed', 'Rollout Ended']);
    expect(report.history[0]!.outcome).toMatchObject({ outcome: 'ABORTED' });
    expect(tagsOf(report, 'outcome')).toBe('ABORTED');
    expect(report.notifications.at(-1)!.message).toContain('ended ABORTED');
    expect(report.publishedMetrics.RolloutsFailed).toMatchObject({ sum: 1 });
  });
});

describe('duplicate-approval: the duplicate leaves no trace', () => {
  test('one rollout in the audit trail, one Rollout Started, one promotion', async () => {
    const report = await rehearsed('duplicate-approval');
    expect(report.executions).toHaveLength(2);
    expect(report.history).toHaveLength(1);
    expect(eventTypes(report).filter((type) => type === 'Rollout Started')).toHaveLength(1);
    expect(eventTypes(report).filter((type) => type === 'Rollout Promoted')).toHaveLength(1);
    expect(report.publishedMetrics.RolloutsStarted).toMatchObject({ sum: 1 });
  });
});

describe('stopped before its summary: the reconciler concludes a released rollout from the endpoint', () => {
  /** The happy path, stopped from the console on entering `atState`. */
  const stoppedIn = (atState: string) =>
    rehearseScenario({
      name: 'stopped-before-summary',
      description: `The happy path, stopped in the console on entering "${atState}".`,
      modelPackages: [
        { version: 6, behaviour: { latencyMs: { p50: 45, p99: 110 }, prediction: { mean: 0.3, stdDev: 0.1 } } },
        { version: 7, behaviour: { latencyMs: { p50: 42, p99: 100 }, coldStart: { factor: 20, requests: 50 }, prediction: { mean: 0.31, stdDev: 0.1 } } },
      ],
      endpoint: { liveVersion: 6, instanceCount: 2 },
      operator: [{ action: 'stop', atState, afterSeconds: 0, by: 'console-operator', reason: 'Stopped from the console' }],
    });
  const promotedOnce = (report: RehearsalReport) => {
    expect(report.history).toHaveLength(1);
    expect(report.history[0]!.outcome).toMatchObject({ outcome: 'PROMOTED' });
    expect(tagsOf(report, 'outcome')).toBe('PROMOTED');
    expect(tagsOf(report, 'deployment-id')).toBe(report.history[0]!.deploymentId);
    expect(eventTypes(report).filter((type) => type === 'Rollout Promoted')).toHaveLength(1);
    expect(eventTypes(report).at(-1)).toBe('Rollout Promoted');
    expect(report.publishedMetrics.RolloutsPromoted).toMatchObject({ sum: 1 });
    // Blue is gone, green serves alone; nothing is left behind.
    expect(report.endpoint!.variants).toEqual([expect.objectContaining({ variantName: expect.stringMatching(/^v7-/), weight: 1 })]);
    expect(report.endpoint!.variants.map((variant) => variant.variantName)).not.toContain(BLUE.variantName);
    expect(report.orphans).toEqual(NO_ORPHANS);
  };

  test('stopped in "Release rollout" (its invocation completes: the lock is released, "Summarize rollout" never runs): PROMOTED, concluded by the reconciler', async () => {
    const report = await stoppedIn('Release rollout');
    expect(report.execution).toMatchObject({ status: 'ABORTED', finalState: 'Release rollout' });
    // No lock: nothing to restore; the header without an outcome is concluded from the endpoint.
    expect(report.reconciliations).toEqual([
      expect.objectContaining({
        status: 'SUCCEEDED',
        result: expect.objectContaining({ action: 'NOTHING_TO_DO', message: expect.stringMatching(/was not summarized: concluded PROMOTED from the endpoint's state/) }),
      }),
    ]);
    expect(report.history[0]!.outcome).toMatchObject({
      error: 'ABORTED',
      reason: expect.stringMatching(/^The execution ended ABORTED after releasing the endpoint, before its summary; concluded by the reconciler from the endpoint's state: .*green v7-\w+ alone\.$/),
    });
    promotedOnce(report);
  });

  test('stopped on entering "Summarize rollout" (its invocation was sent, and completes): the summary concludes, the reconciler adds nothing', async () => {
    const report = await stoppedIn('Summarize rollout');
    expect(report.execution).toMatchObject({ status: 'ABORTED', finalState: 'Summarize rollout' });
    expect(report.reconciliations).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', result: expect.objectContaining({ action: 'NOTHING_TO_DO', message: expect.not.stringMatching(/concluded/) }) }),
    ]);
    expect(report.history[0]!.outcome).toMatchObject({ reason: 'green serves all traffic; blue retired' });
    promotedOnce(report);
  });
});

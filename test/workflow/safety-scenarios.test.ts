/**
 * Issue 5's scenarios through the rehearsal: duplicate and concurrent approvals (one lock per endpoint), console
 * stops (the reconciler), capacity (Service Quotas pre-flight and fallback), bad input. Every test checks the
 * endpoint's final state, how many rollouts changed it, and that nothing of this system is left behind.
 */
import type { RehearsalReport } from '../../rehearsal/runner';
import { rehearseBuiltIn } from './helpers';

const BLUE = { variantName: 'v6-00000000', weight: 1, instanceType: 'ml.g5.xlarge', instanceCount: 2 };
const BLUE_CONFIG = 'fraud-detector-prod-v6-00000000';
const NO_ORPHANS = { models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] };

const runs = new Map<string, Promise<RehearsalReport>>();
/** One rehearsal per scenario, shared by its tests. */
function rehearsed(name: string): Promise<RehearsalReport> {
  if (!runs.has(name)) runs.set(name, rehearseBuiltIn(name));
  return runs.get(name)!;
}

function expectBlueUntouched(report: RehearsalReport): void {
  expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
  expect(report.endpoint!.variants).toEqual([expect.objectContaining(BLUE)]);
  expect(report.orphans).toEqual(NO_ORPHANS);
}

function finalStates(report: RehearsalReport): string[] {
  return report.executions.map((e) => e.finalState ?? '');
}

describe('duplicates: one rollout per approval', () => {
  test.each(['duplicate-approval', 'approval-burst'])('%s: exactly one rollout changes the endpoint; the others end "Duplicate approval"', async (name) => {
    const report = await rehearsed(name);
    const deliveries = name === 'approval-burst' ? 5 : 2;
    expect(report.executions).toHaveLength(deliveries);
    expect(report.rollouts).toBe(1);
    expect(finalStates(report).filter((s) => s === 'Duplicate approval')).toHaveLength(deliveries - 1);
    expect(finalStates(report).filter((s) => s === 'Promoted')).toHaveLength(1);
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint!.variants).toHaveLength(1);
    expect(report.endpoint!.variants[0]!.variantName).toMatch(/^v7-[0-9a-f]{8}$/);
    expect(report.orphans).toEqual(NO_ORPHANS);
    // The duplicates changed nothing: not even a model or a config of their own.
    for (const duplicate of report.executions.filter((e) => e.finalState === 'Duplicate approval')) {
      expect(duplicate).toMatchObject({ status: 'SUCCEEDED', mutated: false });
    }
  });
});

describe('concurrent-approvals: the second version waits its turn', () => {
  test('v8 queues behind v7, then rolls out against v7 as blue; the two never change the endpoint at once', async () => {
    const report = await rehearsed('concurrent-approvals');
    expect(report.executions).toHaveLength(2);
    expect(report.rollouts).toBe(2);
    const [v7, v8] = report.executions;
    expect(v7!.finalState).toBe('Promoted');
    expect(v8!.finalState).toBe('Promoted');
    expect(v7!.mutationSeconds![1]).toBeLessThan(v8!.mutationSeconds![0]);
    const queued = report.timeline.filter((e) => e.kind === 'state' && e.state === 'Wait for endpoint lock');
    expect(queued.length).toBeGreaterThan(0);
    expect(report.endpoint!.variants).toHaveLength(1);
    expect(report.endpoint!.variants[0]!.variantName).toMatch(/^v8-[0-9a-f]{8}$/);
    expect(report.orphans).toEqual(NO_ORPHANS);
  });
});

describe('console stops: the reconciler restores blue alone', () => {
  test.each([
    ['stopped-during-canary', 'Watch 10% step'],
    ['stopped-during-bake', 'Watch 100% step'],
  ])('%s: ABORTED in "%s", then blue serves alone, green and its alarms are gone, the lock is free', async (name, state) => {
    const report = await rehearsed(name);
    expect(report.executions).toHaveLength(1);
    expect(report.executions[0]).toMatchObject({ status: 'ABORTED', finalState: state, mutated: true });
    expect(report.reconciliations).toHaveLength(1);
    expect(report.reconciliations[0]).toMatchObject({ executionStatus: 'ABORTED', status: 'SUCCEEDED', result: expect.objectContaining({ action: 'DONE' }) });
    expect(report.outcome).toBe('ROLLED_BACK');
    expectBlueUntouched(report);
  });
});

describe('capacity', () => {
  test('capacity-fallback: ml.g5.xlarge is over quota beside blue, so green is promoted on ml.g5.2xlarge', async () => {
    const report = await rehearsed('capacity-fallback');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint!.variants).toEqual([expect.objectContaining({ weight: 1, instanceType: 'ml.g5.2xlarge', instanceCount: 2 })]);
    expect(report.endpoint!.variants[0]!.variantName).toMatch(/^v7-[0-9a-f]{8}$/);
    expect(report.orphans).toEqual(NO_ORPHANS);
  });

  test('capacity-rollback-fallback: no ml.g5.xlarge capacity, the update rolls back, green is promoted on ml.g5.2xlarge', async () => {
    const report = await rehearsed('capacity-rollback-fallback');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.timeline.some((e) => e.kind === 'state' && e.state === 'Try next instance type')).toBe(true);
    expect(report.endpoint!.variants).toEqual([expect.objectContaining({ weight: 1, instanceType: 'ml.g5.2xlarge' })]);
    expect(report.orphans).toEqual(NO_ORPHANS);
  });

  test('no-capacity: fails before any change, naming each missing quota; blue untouched', async () => {
    const report = await rehearsed('no-capacity');
    expect(report.outcome).toBe('FAILED');
    expect(report.rollouts).toBe(0);
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'InsufficientCapacity' });
    expect(report.execution!.cause).toContain('ml.g5.xlarge for endpoint usage');
    expect(report.execution!.cause).toContain('ml.g5.2xlarge for endpoint usage');
    expectBlueUntouched(report);
  });
});

describe('bad input: refused before any change', () => {
  test('missing-model-package: the approval names a package that does not exist', async () => {
    const report = await rehearsed('missing-model-package');
    expect(report.rollouts).toBe(0);
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'ModelPackageInvalid', finalState: 'Rollout rejected' });
    expect(report.execution!.cause).toMatch(/does not exist/);
    expect(report.awsCalls.byOperation).not.toHaveProperty('sagemaker:CreateModel');
    expectBlueUntouched(report);
  });

  test('endpoint-failed: an endpoint in Failed is refused, with its status and reason named', async () => {
    const report = await rehearsed('endpoint-failed');
    expect(report.rollouts).toBe(0);
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'EndpointNotReady', finalState: 'Rollout rejected' });
    expect(report.execution!.cause).toContain('Failed');
    expect(report.endpoint!.status).toBe('Failed');
    expect(report.orphans).toEqual(NO_ORPHANS);
  });
});

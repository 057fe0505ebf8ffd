/**
 * The randomized fault-schedule property (rehearsal/fault-schedules.ts) on a few schedules: `npm run faults`
 * runs 1,000. And the invariant monitor itself, on made-up endpoint histories: it must catch each violation.
 */
import fc from 'fast-check';
import { faultScheduleArbitrary, runSchedule, scheduleScenario } from '../../rehearsal/fault-schedules';
import { InvariantMonitor } from '../../rehearsal/invariants';
import type { RehearsalReport } from '../../rehearsal/runner';
import type { SimulatedAws } from '../../rehearsal/sim/world';
import { cdkJsonConfig } from './helpers';

const SCHEDULES = Number(process.env.FAULT_SCHEDULES ?? 3);

test(`${SCHEDULES} random fault schedules: every invariant holds at every instant and at the end`, async () => {
  await fc.assert(
    fc.asyncProperty(faultScheduleArbitrary, fc.integer({ min: 1, max: 1_000_000 }), async (schedule, seed) => {
      const { violations, report } = await runSchedule(schedule, seed, cdkJsonConfig());
      expect(violations).toEqual([]);
      // Whatever happened, the endpoint ends serving with one variant and nothing of the system left behind.
      expect(report.endpoint?.status).toBe('InService');
      expect(report.endpoint!.variants.filter((v) => v.weight > 0).length).toBeGreaterThanOrEqual(1);
      expect(report.orphans.activeRollouts).toEqual([]);
    }),
    { numRuns: SCHEDULES, seed: 20261122, endOnFailure: true },
  );
}, 600_000);

test('a schedule becomes a scenario with its duplicates, concurrent version, faults, alarm and stop', () => {
  const scenario = scheduleScenario(
    {
      faults: [{ kind: 'api-error', service: 'dynamodb', operation: 'PutItem', error: 'ThrottlingException', times: 2, after: 0 }],
      updateRollback: true,
      alarmAtSecond: 900,
      stop: { atState: 'Watch 10% step', afterSeconds: 30 },
      duplicateAtSeconds: [0, 5],
      concurrentAtSecond: 600,
    },
    7,
  );
  expect(scenario.deliveries).toEqual([
    { atSecond: 0, version: 7 },
    { atSecond: 0, version: 7 },
    { atSecond: 5, version: 7 },
    { atSecond: 600, version: 8 },
  ]);
  expect(scenario.faults).toEqual([
    { kind: 'api-error', service: 'dynamodb', operation: 'PutItem', error: 'ThrottlingException', times: 2, after: 0 },
    { kind: 'update-rollback' },
  ]);
  expect(scenario.alarms).toEqual([{ atSecond: 900, alarmName: '*-green-5xx-rate', state: 'ALARM' }]);
  expect(scenario.operator).toEqual([{ action: 'stop', atState: 'Watch 10% step', afterSeconds: 30 }]);
});

describe('the invariant monitor catches each violation', () => {
  type Variant = { variantName: string; weight: number; instanceCount: number };
  const START = Date.UTC(2026, 0, 1, 9);
  const simWith = (state: { status: string; variants: Variant[] } | undefined) =>
    ({
      sagemaker: {
        endpointSnapshot: () =>
          state && { status: state.status, endpointConfigName: 'c', variants: state.variants.map((v) => ({ ...v, modelName: 'm' })) },
      },
    }) as unknown as SimulatedAws;
  const monitor = () => new InvariantMonitor({ endpointName: 'e', blueVariantName: 'blue', bakeSeconds: 600, startMs: START });
  const blue = (weight: number): Variant => ({ variantName: 'blue', weight, instanceCount: 2 });
  const green = (weight: number, instanceCount = 2): Variant => ({ variantName: 'green', weight, instanceCount });

  test('a healthy history: blue leaves after green carried everything for the whole bake', () => {
    const m = monitor();
    m.observe(simWith({ status: 'InService', variants: [blue(1), green(0)] }), START);
    m.observe(simWith({ status: 'InService', variants: [blue(0), green(1)] }), START + 1_000);
    m.observe(simWith({ status: 'InService', variants: [green(1)] }), START + 601_000);
    expect(m.violations).toEqual([]);
  });

  test('no variant with instances and weight > 0', () => {
    const m = monitor();
    m.observe(simWith({ status: 'InService', variants: [blue(0), green(1, 0)] }), START + 5_000);
    expect(m.violations).toEqual([expect.objectContaining({ invariant: 'serving', atSecond: 5 })]);
  });

  test('the endpoint deleted or Failed', () => {
    const m = monitor();
    m.observe(simWith(undefined), START);
    m.observe(simWith({ status: 'Failed', variants: [blue(1)] }), START + 1_000);
    expect(m.violations.map((v) => v.invariant)).toEqual(['serving', 'serving']);
  });

  test('blue removed before green baked', () => {
    const m = monitor();
    m.observe(simWith({ status: 'InService', variants: [blue(0), green(1)] }), START);
    m.observe(simWith({ status: 'InService', variants: [blue(1), green(0)] }), START + 300_000);
    m.observe(simWith({ status: 'InService', variants: [blue(0), green(1)] }), START + 301_000);
    m.observe(simWith({ status: 'InService', variants: [green(1)] }), START + 700_000);
    expect(m.violations).toEqual([expect.objectContaining({ invariant: 'blue-kept', detail: expect.stringContaining('399 s, less than the 600 s bake') })]);
  });

  test('orphans, overlapping rollouts and unfinished reconcilers at the end', () => {
    const m = monitor();
    const report = {
      orphans: { models: ['m1'], endpointConfigs: [], alarms: ['sagemaker-blue-green-x'], activeRollouts: [], scalableTargets: [] },
      executions: [
        { name: 'a', mutationSeconds: [0, 100] },
        { name: 'b', mutationSeconds: [50, 200] },
        { name: 'c', mutationSeconds: null },
      ],
      reconciliations: [{ execution: 'a', status: 'RUNNING', error: null, cause: null }],
    } as unknown as RehearsalReport;
    m.finish(report, START + 1_000);
    expect(m.violations.map((v) => v.invariant).sort()).toEqual(['clean-end', 'clean-end', 'clean-end', 'one-rollout']);
  });
});

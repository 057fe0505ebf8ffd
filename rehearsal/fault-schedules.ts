/**
 * Randomized fault schedules: fast-check arbitraries of what can go wrong during a rollout (throttling and
 * failures of any AWS call the system makes, updates rolled back, alarms at random moments, console stops at
 * random states, duplicate and concurrent approvals), each run through the rehearsal with the invariants of
 * rehearsal/invariants.ts checked at every simulated instant. `npm test` runs a few; `npm run faults` runs 1,000
 * and prints the seed that replays any failure.
 */
import fc from 'fast-check';
import type { RolloutConfigInput } from '../lambdas/shared/config';
import { REHEARSAL_EPOCH_MS } from './clock';
import { InvariantMonitor, type InvariantViolation } from './invariants';
import { rehearsalConfig, runRehearsal, type RehearsalReport } from './runner';
import { parseScenario, type ScenarioInput } from './scenario';

/** The calls the system makes, per simulated service, with error names that service really answers. */
const FAULTABLE: ReadonlyArray<{ readonly service: FaultableService; readonly operations: readonly string[]; readonly errors: readonly string[] }> = [
  {
    service: 'sagemaker',
    operations: [
      'DescribeModelPackage', 'DescribeEndpoint', 'DescribeEndpointConfig', 'DescribeModel', 'CreateModel', 'CreateEndpointConfig',
      'UpdateEndpoint', 'UpdateEndpointWeightsAndCapacities', 'DeleteModel', 'DeleteEndpointConfig', 'ListTags', 'ListEndpoints', 'AddTags',
    ],
    errors: ['ThrottlingException', 'InternalFailure'],
  },
  { service: 'sagemaker-runtime', operations: ['InvokeEndpoint'], errors: ['ThrottlingException', 'ServiceUnavailable', 'InternalFailure'] },
  { service: 'cloudwatch', operations: ['PutMetricAlarm', 'DescribeAlarms', 'DeleteAlarms'], errors: ['Throttling', 'InternalServiceFault'] },
  { service: 'dynamodb', operations: ['PutItem', 'GetItem', 'UpdateItem', 'DeleteItem', 'Scan', 'Query'], errors: ['ThrottlingException', 'InternalServerError'] },
  { service: 'events', operations: ['PutEvents'], errors: ['ThrottlingException', 'InternalException'] },
  { service: 'application-autoscaling', operations: ['DescribeScalableTargets'], errors: ['ConcurrentUpdateException', 'InternalServiceException'] },
  { service: 's3', operations: ['GetObject', 'PutObject'], errors: ['SlowDown', 'InternalError'] },
  { service: 'servicequotas', operations: ['ListServiceQuotas'], errors: ['TooManyRequestsException', 'ServiceException'] },
];

/** States a console Stop may land in (the canary template's names). */
export const STOP_STATES = [
  'Lock endpoint',
  'Provision green variant',
  'Wait for green InService',
  'Warm up variants',
  'Validate against blue',
  'Arm alarms',
  'Shift traffic to 10%',
  'Watch 10% step',
  'Shift traffic to 100%',
  'Wait for 100% shift',
  'Watch 100% step',
  'Watch rollback window',
  'Remove blue variant',
  'Wait for blue removal',
  'Restore blue',
] as const;

type FaultableService = 'sagemaker' | 'sagemaker-runtime' | 's3' | 'cloudwatch' | 'application-autoscaling' | 'dynamodb' | 'servicequotas' | 'events';

export interface ApiFault {
  readonly kind: 'api-error';
  readonly service: FaultableService;
  readonly operation: string;
  readonly error: string;
  readonly times: number;
  readonly after: number;
}

export interface FaultSchedule {
  readonly faults: readonly ApiFault[];
  /** An update (green's provisioning, a weight change, blue's removal) rolled back by SageMaker. */
  readonly updateRollback: boolean;
  /** Green's 5xx alarm forced to ALARM at this virtual second. */
  readonly alarmAtSecond: number | null;
  /** A console Stop of the running execution, some seconds after it entered a state. */
  readonly stop: { readonly atState: string; readonly afterSeconds: number } | null;
  /** Extra deliveries of the same approval (EventBridge at-least-once, SageMaker's repeated events). */
  readonly duplicateAtSeconds: readonly number[];
  /** Another version approved for the same endpoint at this second. */
  readonly concurrentAtSecond: number | null;
}

const apiFault: fc.Arbitrary<ApiFault> = fc
  .constantFrom(...FAULTABLE)
  .chain(({ service, operations, errors }) =>
    fc.record({
      kind: fc.constant('api-error' as const),
      service: fc.constant(service),
      operation: fc.constantFrom(...operations),
      error: fc.constantFrom(...errors),
      times: fc.integer({ min: 1, max: 3 }),
      after: fc.integer({ min: 0, max: 40 }),
    }),
  );

export const faultScheduleArbitrary: fc.Arbitrary<FaultSchedule> = fc.record({
  faults: fc.array(apiFault, { maxLength: 4 }),
  updateRollback: fc.boolean(),
  alarmAtSecond: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
  stop: fc.option(fc.record({ atState: fc.constantFrom(...STOP_STATES), afterSeconds: fc.integer({ min: 0, max: 400 }) }), { nil: null }),
  duplicateAtSeconds: fc.array(fc.integer({ min: 0, max: 2400 }), { maxLength: 3 }),
  concurrentAtSecond: fc.option(fc.integer({ min: 0, max: 2400 }), { nil: null }),
});

/** Short bakes so that a schedule runs in about a second of wall time; the shape is the example canary's. */
const BAKE_SECONDS = 300;

/** The rehearsal scenario a schedule describes: blue v6 live, v7 approved (and maybe v8). */
export function scheduleScenario(schedule: FaultSchedule, seed: number): ScenarioInput {
  const behaviour = (p99: number, mean: number) => ({ latencyMs: { p50: p99 / 2.5, p99 }, prediction: { mean, stdDev: 0.1 } });
  return {
    name: `fault-schedule-${seed}`,
    description: 'A randomized fault schedule (rehearsal/fault-schedules.ts)',
    seed,
    target: {
      policy: {
        traffic: { mode: 'CANARY', canaryPercent: 10, stepBakeSeconds: 120 },
        bakeSeconds: BAKE_SECONDS,
        rollbackWindowSeconds: 120,
        queue: { maxWaitSeconds: 7200, pollSeconds: 60 },
        // Fewer requests per rollout than the defaults (the SDK's per-call cost dominates a run's wall time).
        validation: {
          warmUp: { windowSize: 10, stabilityFraction: 0.5, maxRequests: 300 },
          gates: { latency: { minSamples: 80 }, errors: { minSamples: 80 }, distribution: { minSamples: 80 } },
        },
      },
      // A capacity rollback moves on to the fallback instead of ending the rollout.
      green: { fallbackInstanceTypes: ['ml.g5.2xlarge'] },
    },
    modelPackages: [
      { version: 6, behaviour: behaviour(110, 0.3) },
      { version: 7, behaviour: behaviour(100, 0.31) },
      { version: 8, behaviour: behaviour(105, 0.3) },
    ],
    endpoint: { liveVersion: 6, instanceCount: 2 },
    dataset: { lines: 100 },
    traffic: { requestsPerSecond: 2 },
    deliveries: [
      { atSecond: 0, version: 7 },
      ...schedule.duplicateAtSeconds.map((atSecond) => ({ atSecond, version: 7 })),
      ...(schedule.concurrentAtSecond === null ? [] : [{ atSecond: schedule.concurrentAtSecond, version: 8 }]),
    ],
    faults: [...schedule.faults, ...(schedule.updateRollback ? [{ kind: 'update-rollback' as const }] : [])],
    alarms: schedule.alarmAtSecond === null ? [] : [{ atSecond: schedule.alarmAtSecond, alarmName: '*-green-5xx-rate', state: 'ALARM' as const }],
    operator: schedule.stop ? [{ action: 'stop' as const, atState: schedule.stop.atState, afterSeconds: schedule.stop.afterSeconds }] : [],
  };
}

export interface ScheduleRun {
  readonly violations: readonly InvariantViolation[];
  readonly report: RehearsalReport;
}

/** Runs one schedule through the rehearsal, checking the invariants at every instant and at the end. */
export async function runSchedule(schedule: FaultSchedule, seed: number, config: RolloutConfigInput): Promise<ScheduleRun> {
  const scenario = parseScenario(scheduleScenario(schedule, seed), `fault schedule ${seed}`);
  const monitor = new InvariantMonitor({
    endpointName: rehearsalConfig(config, scenario).targets[0].endpointName,
    blueVariantName: `v${scenario.endpoint!.liveVersion}-00000000`,
    bakeSeconds: BAKE_SECONDS,
    startMs: REHEARSAL_EPOCH_MS,
  });
  let lastMs = REHEARSAL_EPOCH_MS;
  const report = await runRehearsal({
    scenario,
    config,
    onInstant: (sim, nowMs) => {
      lastMs = nowMs;
      monitor.observe(sim, nowMs);
    },
  });
  monitor.finish(report, lastMs);
  return { violations: monitor.violations, report };
}

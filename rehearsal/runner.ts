/**
 * Runs one scenario: the real state machine definition on aws-local-stepfunctions, the real handlers in
 * process, AWS replaced by the in-memory simulation at the SDK transport, on the virtual clock. Returns a
 * report (the `--json` document) and streams timeline entries as they happen.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { configureAwsClients } from '../lambdas/shared/aws-clients';
import { parseRolloutConfig, TARGETS_ENV, type DeploymentTarget, type RolloutConfig, type RolloutConfigInput } from '../lambdas/shared/config';
import { rejectionCause } from '../cli/decision';
import { RolloutRejected } from '../lambdas/shared/errors';
import { alarmEventPattern, approvalEventPattern } from '../lambdas/shared/events';
import { executionEndedEventPattern } from '../lambdas/shared/execution-events';
import { ALARM_NAME_PREFIX, deploymentIdFor } from '../lambdas/shared/names';
import { ROLLOUTS_TABLE_ENV } from '../lambdas/shared/rollout-record';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { listRolloutHistory, readRolloutAudit, ROLLOUT_HISTORY_TABLE_ENV, type RolloutHistoryEntry } from '../lambdas/shared/audit-trail';
import { LIFECYCLE_BUS_ENV, LIFECYCLE_EVENT_SOURCE, NOTIFICATION_EVENT_PATTERN } from '../lambdas/shared/lifecycle-events';
import { configureMetricsSink } from '../lambdas/shared/metrics';
import { rollBackNow, type RollBackNowResult } from '../lambdas/shared/rollback';
import { createLogger } from '../lambdas/shared/logger';
import { dynamoDbClient, s3Client, sageMakerClient, sageMakerRuntimeClient, sfnClient } from '../lambdas/shared/aws-clients';
import { trafficStepPercents } from '../lambdas/shared/traffic';
import { executionTimeoutSeconds } from '../state-machines/rollout-definition';
import { EVENT_HANDLERS } from '../lambdas/steps';
import { isManagedBySystem, rolloutTags } from '../lambdas/shared/tags';
import type { RolloutStep } from '../lambdas/steps';
import { VirtualClock, REHEARSAL_EPOCH_MS, wallNow } from './clock';
import { loadReconcilerDefinition, loadRolloutDefinition, taskStates } from './definition';
import { matchesPattern, type EventPattern } from './event-bus';
import { localTaskHandlers, loadStepHandler, type LambdaInvocation, type StepHandler } from './local-lambda';
import { parseS3Uri } from '../lambdas/shared/payloads';
import { generateDataset } from './dataset';
import { sleep } from './sim/clock';
import { describeInvocation } from './narration';
import type { ModelPackageSpec, Outcome, Scenario } from './scenario';
import { isMutatingOperation, isolateSdkFromHostConfig, SimulatedAws } from './sim/world';
import { capacityFigures, nativeBlueGreenCapacity, transitionFigures, type CapacityFigures, type StateEntry, type TransitionFigures } from './figures';
import { matchesWildcard, ScriptedActions, type ScriptedAction } from './scripted-actions';

import './polyfills';

export const REHEARSAL_REGION = 'us-east-1';
export const REHEARSAL_ACCOUNT = '123456789012';
const STATE_MACHINE_NAME = 'SageMakerBlueGreenRollout';
const RECONCILER_STATE_MACHINE_NAME = 'SageMakerBlueGreenReconciler';
/** Where a scenario's dataset goes when the target names no dataset location. */
export const REHEARSAL_DATASET_BUCKET = 'rehearsal-golden-datasets';
/** The system's artifacts bucket (validation samples and reports) in the rehearsal's account. */
export const REHEARSAL_ARTIFACTS_BUCKET = `sagemaker-blue-green-artifacts-${REHEARSAL_ACCOUNT}`;
/** The active-rollouts table in the rehearsal's account. */
export const REHEARSAL_ROLLOUTS_TABLE = 'sagemaker-blue-green-active-rollouts';
/** The audit trail's table, the lifecycle events' bus and the notifications topic, as the stack names them. */
export const REHEARSAL_HISTORY_TABLE = 'sagemaker-blue-green-rollout-history';
export const REHEARSAL_EVENT_BUS = 'sagemaker-blue-green-rollout-events';
export const REHEARSAL_NOTIFICATIONS_TOPIC = 'sagemaker-blue-green-notifications';
/** EventBridge's delivery of an event to a Lambda target, by default (virtual milliseconds). */
const DEFAULT_EVENT_DELIVERY_MS = 500;
const DEFAULT_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312';

export interface TimelineEntry {
  /** Virtual seconds since the rehearsal began. */
  readonly t: number;
  readonly kind: 'event' | 'execution' | 'state' | 'task' | 'endpoint';
  /** The state the entry belongs to, when it belongs to one. */
  readonly state?: string;
  readonly message: string;
}

export interface VariantReport {
  readonly variantName: string;
  readonly modelName: string;
  readonly weight: number;
  readonly instanceType?: string;
  readonly instanceCount: number;
}

export interface RehearsalReport {
  readonly scenario: string;
  readonly description: string;
  readonly outcome: Outcome;
  readonly target: { readonly modelPackageGroupName: string; readonly endpointName: string };
  readonly modelPackageArn: string | null;
  /** The tags of that package when the run ended: the rollout writes its result there (`bluegreen:<endpoint>:*`). */
  readonly modelPackageTags: Readonly<Record<string, string>>;
  readonly execution: {
    readonly name: string;
    readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
    readonly error: string | null;
    readonly cause: string | null;
    readonly stateTransitions: number;
    readonly finalState: string | null;
    /** The execution's output: the rollout's summary (a failed execution has none: its cause is the summary's text). */
    readonly output: unknown;
  } | null;
  readonly endpoint: {
    readonly status: string;
    readonly endpointConfigName: string;
    readonly failureReason?: string;
    readonly variants: readonly VariantReport[];
  } | null;
  /**
   * What this system created that nothing uses any more (should be empty): models, endpoint configs, alarms (by
   * the system's name prefix), active-rollout records and scalable targets of variants no longer on the endpoint.
   */
  readonly orphans: {
    readonly models: readonly string[];
    readonly endpointConfigs: readonly string[];
    readonly alarms: readonly string[];
    readonly activeRollouts: readonly string[];
    readonly scalableTargets: readonly string[];
  };
  /** Warm-up and validation of green: the verdict, and the full report the judge wrote to S3. */
  readonly validation: {
    readonly verdict: string;
    readonly summary: string;
    readonly reportUri: string;
    readonly report: unknown;
    readonly warmUp: unknown;
  } | null;
  /** The operator's decision, when the rollout waited for one. */
  readonly decision: { readonly decision: 'APPROVED' | 'REJECTED'; readonly by: string; readonly atSecond: number } | null;
  /**
   * How many rollouts made a mutating SageMaker call (several deliveries may start several executions; one lock
   * per endpoint lets exactly one of them change it at a time). A call counts for the execution whose deployment
   * id it names (green's resources carry it).
   */
  readonly rollouts: number;
  /** Every rollout execution: its status and the state it ended in. */
  readonly executions: readonly {
    readonly name: string;
    readonly status: string;
    readonly finalState: string | null;
    readonly mutated: boolean;
    /** Virtual seconds of its first and last mutating SageMaker call: two rollouts' spans never overlap. */
    readonly mutationSeconds: readonly [number, number] | null;
    readonly error: string | null;
  }[];
  /** The reconciler's runs after executions that failed, timed out or were stopped. */
  readonly reconciliations: readonly ReconciliationReport[];
  /** The lifecycle events published on the system's bus, in order. */
  readonly lifecycleEvents: readonly { readonly atSecond: number; readonly detailType: string; readonly deploymentId: string; readonly message: string }[];
  /** What the notifications topic received (the rule on the bus, as the stack sets it up). */
  readonly notifications: readonly { readonly atSecond: number; readonly message: string }[];
  /** The audit trail when the run ended: every rollout recorded, newest first, with its events' count. */
  readonly history: readonly (RolloutHistoryEntry & { readonly events: number })[];
  /** The EMF metrics the functions published, summed by name. */
  readonly publishedMetrics: Readonly<Record<string, { readonly count: number; readonly sum: number; readonly max: number; readonly unit: string }>>;
  /** Alarm state changes seen on the bus, and what the rollback handler did with those that matched its rule. */
  readonly alarmEvents: readonly AlarmEventReport[];
  /** Rollbacks asked for by an alarm or an operator (the fast path, before the execution's own restore). */
  readonly rollbacks: readonly RollbackReport[];
  /** Application Auto Scaling's scalable targets of the endpoint when the run ended. */
  readonly scalableTargets: readonly { readonly resourceId: string; readonly minCapacity: number; readonly maxCapacity: number; readonly scaleInSuspended: boolean }[];
  readonly timeline: readonly TimelineEntry[];
  readonly awsCalls: { readonly total: number; readonly mutating: number; readonly byOperation: Readonly<Record<string, number>> };
  readonly metrics: {
    readonly virtualSeconds: number;
    readonly wallMs: number;
    /** From the alarm event to blue's weights requested back (the first alarm rollback of the run), or null. */
    readonly alarmToRollback: { readonly virtualMs: number; readonly wallMs: number } | null;
    /** The rollout's state transitions, against the same rollout with 30 s polling loops in its watched steps. */
    readonly stateTransitions: TransitionFigures | null;
    /** Instance-seconds with both fleets provisioned, against SageMaker's native blue/green for the same policy. */
    readonly capacity: { readonly rollout: CapacityFigures; readonly nativeBlueGreen: CapacityFigures & { readonly assumptions: string } } | null;
  };
}

export interface ReconciliationReport {
  /** The rollout execution the status-change event was about, and how it ended. */
  readonly execution: string;
  readonly executionStatus: string;
  readonly atSecond: number;
  // Filled in as the reconciler's execution runs.
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'RUNNING';
  finalState: string | null;
  error: string | null;
  cause: string | null;
  /** The reconcile Lambda's last answer (action and message). */
  result: unknown;
}

export interface AlarmEventReport {
  readonly atSecond: number;
  readonly alarmName: string;
  readonly state: string;
  /** Whether the event matched the rollback rule (and so invoked the handler). */
  readonly matchedRule: boolean;
}

export interface RollbackReport {
  readonly trigger: 'ALARM' | 'OPERATOR';
  readonly by: string;
  readonly atSecond: number;
  readonly outcome: RollBackNowResult['outcome'] | 'ERROR';
  readonly message: string;
  /** Virtual ms from the trigger (alarm event or command) to blue's weights requested back. */
  readonly virtualMs: number | null;
  /** Wall-clock ms the orchestration took from the trigger to the handler's return. */
  readonly wallMs: number;
  readonly notified: boolean;
}

export interface RehearsalOptions {
  readonly scenario: Scenario;
  /** The deployment targets (cdk.json's `blueGreen`); the scenario's `target` overrides the first one. */
  readonly config: RolloutConfigInput;
  /** Start from this raw EventBridge event instead of the scenario's deliveries. */
  readonly rawEvent?: unknown;
  /** Receives each timeline entry as it happens. */
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /**
   * Called at every simulated instant (after each timer fires) with the simulated AWS: the fault-schedule
   * property test checks its invariants here.
   */
  readonly onInstant?: (sim: SimulatedAws, nowMs: number) => void;
  /** Receives every AWS call the handlers made (for --record-calls). */
  readonly onAwsCalls?: (calls: ReadonlyArray<{ service: string; operation: string; input: unknown; error?: string }>) => void;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value);
  return merged;
}

/** The configuration the rehearsal deploys with: the first target with the scenario's overrides. */
export function rehearsalConfig(config: RolloutConfigInput, scenario: Scenario): RolloutConfig {
  const targets = Array.isArray(config?.targets) ? [...config.targets] : [];
  if (targets.length === 0) throw new Error('The configuration has no targets to rehearse');
  targets[0] = deepMerge(targets[0], scenario.target ?? {}) as (typeof targets)[number];
  const first = targets[0] as { modelPackageGroupName?: string; policy?: { validation?: { datasetS3Uri?: string } } };
  if (scenario.dataset && !first.policy?.validation?.datasetS3Uri) {
    // The scenario brings a dataset but the target names none: put it where the rehearsal can find it.
    targets[0] = deepMerge(first, {
      policy: { validation: { datasetS3Uri: `s3://${REHEARSAL_DATASET_BUCKET}/${first.modelPackageGroupName ?? 'models'}/golden.jsonl` } },
    }) as (typeof targets)[number];
  }
  return parseRolloutConfig({ ...config, targets }, `configuration of scenario ${scenario.name}`);
}

function modelDataUrlOf(pkg: ModelPackageSpec, target: DeploymentTarget): string {
  return pkg.modelDataUrl ?? `s3://sagemaker-models-${REHEARSAL_ACCOUNT}/${target.modelPackageGroupName}/v${pkg.version}/model.tar.gz`;
}

/** A deterministic UUID-shaped id (EventBridge event ids, execution names). */
function pseudoUuid(seed: number, index: number): string {
  let h = (seed * 2654435761 + index * 40503 + 1) >>> 0;
  let hex = '';
  while (hex.length < 32) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 3266489909) >>> 0;
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The event SageMaker sends when a package's approval status changes (as captured from EventBridge). */
export function approvalEvent(input: {
  id: string;
  timeMs: number;
  groupName: string;
  version: number;
  arn: string;
  approvalStatus: string;
}): Record<string, unknown> {
  return {
    version: '0',
    id: input.id,
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: REHEARSAL_ACCOUNT,
    time: new Date(input.timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REHEARSAL_REGION,
    resources: [input.arn],
    detail: {
      ModelPackageGroupName: input.groupName,
      ModelPackageVersion: input.version,
      ModelPackageArn: input.arn,
      ModelPackageName: `${input.groupName}/${input.version}`,
      CreationTime: input.timeMs - 3_600_000,
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: input.approvalStatus,
      UpdatedModelPackageFields: ['ModelApprovalStatus'],
    },
  };
}

interface ExecutionRecord {
  readonly name: string;
  readonly arn: string;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'RUNNING';
  error: string | null;
  cause: string | null;
  stateTransitions: number;
  finalState: string | null;
  mutated: boolean;
  /** Virtual seconds of its first and last mutating SageMaker call (its own, or made on its behalf). */
  mutationSeconds: [first: number, last: number] | null;
  /** Virtual time the execution ended. */
  endedAtMs?: number;
  /** Every state entered, with its virtual time (for the transition figures). */
  entries: StateEntry[];
  /** The execution's output (SUCCEEDED only). */
  output?: unknown;
}

export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalReport> {
  const { scenario } = options;
  const config = rehearsalConfig(options.config, scenario);
  const target = config.targets[0];
  const wallStart = wallNow();
  const savedEnv = { ...process.env };
  // The host's AWS settings (profile, retry mode, endpoints) must not change what a rehearsal does.
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
  const restoreHostConfig = isolateSdkFromHostConfig();
  const timeline: TimelineEntry[] = [];
  const executions: ExecutionRecord[] = [];
  let firstPackageArn: string | null = null;

  try {
    return await VirtualClock.run(async (clock) => {
      const elapsed = () => Math.round((clock.now() - REHEARSAL_EPOCH_MS) / 100) / 10;
      const note = (entry: Omit<TimelineEntry, 't'>) => {
        const full = { t: elapsed(), ...entry };
        timeline.push(full);
        options.onTimeline?.(full);
      };

      const { eventDeliveryMs = DEFAULT_EVENT_DELIVERY_MS, ...endpointTimings } = scenario.timings;
      const sim = new SimulatedAws({
        region: REHEARSAL_REGION,
        accountId: REHEARSAL_ACCOUNT,
        seed: scenario.seed,
        timings: endpointTimings,
        faults: scenario.faults,
        productionRequestsPerSecond: scenario.traffic.requestsPerSecond,
      });

      // The registry and the live endpoint as they are before the approval.
      const packageArns = new Map<number, string>();
      for (const pkg of scenario.modelPackages) {
        const image = pkg.image ?? DEFAULT_IMAGE;
        const modelDataUrl = modelDataUrlOf(pkg, target);
        const arn = sim.sagemaker.putModelPackage({
          groupName: target.modelPackageGroupName,
          version: pkg.version,
          approvalStatus: pkg.approvalStatus,
          containers: pkg.withoutInferenceSpecification ? [] : [{ image, modelDataUrl }],
          supportedContentTypes: pkg.supportedContentTypes ?? ['application/json'],
          supportedRealtimeInferenceInstanceTypes: pkg.supportedRealtimeInferenceInstanceTypes,
        });
        packageArns.set(pkg.version, arn);
        sim.runtime.setBehaviour(modelDataUrl, pkg.behaviour);
      }
      if (scenario.endpoint) {
        const live = scenario.endpoint;
        const pkg = scenario.modelPackages.find((p) => p.version === live.liveVersion);
        if (!pkg) throw new Error(`scenario ${scenario.name}: endpoint.liveVersion ${live.liveVersion} is not among modelPackages`);
        const seedId = '00000000';
        const tags = live.managedBySystem ? rolloutTags(seedId, packageArns.get(pkg.version)!) : [];
        sim.sagemaker.seedEndpoint({
          endpointName: target.endpointName,
          endpointConfigName: `${target.endpointName}-v${pkg.version}-${seedId}`.slice(0, 63),
          tags,
          ...(live.status !== 'InService' ? { status: live.status, failureReason: live.failureReason } : {}),
          variants: [
            {
              variantName: blueVariantOf(scenario),
              modelName: `${target.modelPackageGroupName}-v${pkg.version}-${seedId}`.slice(0, 63),
              image: pkg.image ?? DEFAULT_IMAGE,
              modelDataUrl: modelDataUrlOf(pkg, target),
              instanceType: live.instanceType,
              instanceCount: live.instanceCount,
              weight: live.weight,
            },
          ],
        });
      }
      for (const [instanceType, quota] of Object.entries(scenario.quotas)) sim.servicequotas.setEndpointQuota(instanceType, quota);
      for (const [instanceType, instances] of Object.entries(scenario.capacity)) sim.sagemaker.setInstanceCapacity(instanceType, instances);
      if (scenario.endpoint?.autoScaling) seedBlueAutoScaling(sim, target.endpointName, blueVariantOf(scenario), scenario.endpoint.autoScaling);
      for (const alarm of scenario.existingAlarms) seedExistingAlarm(sim, alarm, target.endpointName, scenario.endpoint ? blueVariantOf(scenario) : 'AllTraffic');
      sim.dynamodb.createTable(REHEARSAL_ROLLOUTS_TABLE, { partitionKey: 'endpointName' });
      sim.dynamodb.createTable(REHEARSAL_HISTORY_TABLE, { partitionKey: 'endpointName', sortKey: 'recordKey' });
      sim.eventBridge.createEventBus(REHEARSAL_EVENT_BUS);
      const notificationsTopicArn = `arn:aws:sns:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:${REHEARSAL_NOTIFICATIONS_TOPIC}`;
      sim.eventBridge.putRule({
        busName: REHEARSAL_EVENT_BUS,
        ruleName: 'notifications',
        pattern: NOTIFICATION_EVENT_PATTERN as never,
        target: { kind: 'sns', topicArn: notificationsTopicArn, messagePath: '$.detail.message' },
      });
      sim.eventBridge.putRule({
        busName: REHEARSAL_EVENT_BUS,
        ruleName: 'rehearsal-timeline',
        pattern: { source: [LIFECYCLE_EVENT_SOURCE] },
        target: { kind: 'callback', deliver: (event) => note({ kind: 'event', message: `Lifecycle event "${event['detail-type']}": ${String(event.detail.message)}` }) },
      });
      const publishedMetrics: Record<string, { count: number; sum: number; max: number; unit: string }> = {};
      configureMetricsSink((emf) => collectEmf(emf, publishedMetrics));
      sim.s3.createBucket(REHEARSAL_ARTIFACTS_BUCKET);
      const datasetUri = target.policy.validation.datasetS3Uri;
      if (datasetUri) {
        const spec = scenario.dataset ?? { lines: 1000, withExpected: true };
        const referenceVersion =
          spec.expectedFromVersion ?? scenario.endpoint?.liveVersion ?? Math.max(...scenario.modelPackages.map((p) => p.version));
        const reference = scenario.modelPackages.find((p) => p.version === referenceVersion)?.behaviour;
        const { bucket, key } = requireS3Location(datasetUri);
        sim.s3.createBucket(bucket);
        sim.s3.putObject(bucket, key, generateDataset(spec, scenario.seed, reference), 'application/jsonl');
      }
      sim.sagemaker.onEndpointChange((change) => note({ kind: 'endpoint', message: change.message }));

      // The Lambdas' environment and AWS clients, as in the deployed functions.
      process.env[TARGETS_ENV] = JSON.stringify({ targets: config.targets });
      process.env.AWS_REGION = REHEARSAL_REGION;
      process.env.ARTIFACTS_BUCKET = REHEARSAL_ARTIFACTS_BUCKET;
      process.env[ROLLOUTS_TABLE_ENV] = REHEARSAL_ROLLOUTS_TABLE;
      process.env[ROLLOUT_HISTORY_TABLE_ENV] = REHEARSAL_HISTORY_TABLE;
      process.env[LIFECYCLE_BUS_ENV] = REHEARSAL_EVENT_BUS;
      // The functions run on Node.js 22 in Lambda; the SDK's warning about the local Node 20 is noise here.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      configureAwsClients({ region: REHEARSAL_REGION, credentials: sim.credentials, requestHandler: sim.requestHandler });

      const stepPercents = trafficStepPercents(target.policy.traffic);
      const { definition, stepsByFunctionArn } = loadRolloutDefinition(REHEARSAL_REGION, REHEARSAL_ACCOUNT, {
        stepPercents,
        timeoutSeconds: executionTimeoutSeconds(target.policy, stepPercents),
      });
      const handlerCache = new Map<string, StepHandler>();
      const handlerFor = (step: RolloutStep) => {
        if (!handlerCache.has(step.dir)) handlerCache.set(step.dir, loadStepHandler(step));
        return handlerCache.get(step.dir)!;
      };
      const pattern = approvalEventPattern(config.targets.map((t) => t.modelPackageGroupName)) as unknown as EventPattern;
      const stateMachine = validatedStateMachine(definition);
      const tasks = taskStates(definition.States);

      let judged: { verdict: string; summary: string; reportUri: string } | undefined;
      let warmUp: unknown;
      let decision: RehearsalReport['decision'] = null;
      // The operator, as the scenario scripts them: SendTaskSuccess / SendTaskFailure after a while, or never.
      const resolveTaskToken = (stateName: string, payload: unknown, taskToken: string): Promise<unknown> => {
        if (stateName !== APPROVAL_STATE) return waitForToken(payload, taskToken);
        const script = scenario.approval;
        note({ kind: 'state', state: stateName, message: `Waiting for an operator decision${script ? ` (scripted: ${script.decision} after ${script.afterSeconds} s)` : ' (none scripted)'}` });
        if (!script || script.decision === 'none') return new Promise(() => undefined);
        return new Promise((resolve, reject) =>
          setTimeout(() => {
            const decided = script.decision === 'approve' ? 'APPROVED' : 'REJECTED';
            decision = { decision: decided, by: script.by, atSecond: elapsed() };
            note({ kind: 'event', message: `Operator ${script.by} ${decided.toLowerCase()} the rollout${script.reason ? `: ${script.reason}` : ''}` });
            if (decided === 'APPROVED') resolve({ decision: decided, by: script.by, reason: script.reason ?? null, decidedAt: new Date().toISOString() });
            // What SendTaskFailure from the operator command sends: the same error name and cause.
            else reject(new RolloutRejected(rejectionCause(script.by, script.reason ?? 'no reason given')));
          }, script.afterSeconds * 1000),
        );
      };

      // A watched step's task: whoever holds its token (the alarm handler, an operator) completes it through the
      // simulated Step Functions API; its window's end (the Task timeout) makes the token stale, as in AWS.
      const waitForToken = (payload: unknown, taskToken: string): Promise<unknown> =>
        new Promise((resolve, reject) => {
          sim.stepfunctions.registerTaskToken(taskToken, {
            succeed: (output: unknown) => resolve(output),
            fail: (error: string, cause: string) => reject(Object.assign(new Error(cause), { name: error })),
          });
          const watchSeconds = (payload as { watchSeconds?: unknown } | null)?.watchSeconds;
          if (typeof watchSeconds === 'number') setTimeout(() => sim.stepfunctions.settleTaskToken(taskToken), watchSeconds * 1000);
        });

      let scripted: ScriptedActions<ScenarioAction> | undefined;
      const instant = options.onInstant ? () => options.onInstant!(sim, clock.now()) : undefined;
      const rolloutStateMachineArn = `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
      /** Executions still running, for a console Stop. */
      const running = new Map<string, { readonly record: ExecutionRecord; readonly abort: () => void }>();
      // Functions and scripted actions run beside the executions; the run ends when they are done too.
      const handlerRuns: Promise<void>[] = [];

      // The reconciler: the stack's rule on "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED of
      // the rollout state machines) starts the reconciler state machine with the event, after EventBridge's delay.
      const reconciler = loadReconcilerDefinition(REHEARSAL_REGION, REHEARSAL_ACCOUNT);
      const reconcilerMachine = validatedStateMachine(reconciler.definition);
      const reconcilerTasks = taskStates(reconciler.definition.States);
      const executionEndedPattern = executionEndedEventPattern([rolloutStateMachineArn]) as unknown as EventPattern;
      const reconciliations: ReconciliationReport[] = [];
      /** When each execution's reconciler ended (its changes count as the execution's). */
      const reconciledAtMs = new Map<string, number>();
      const reconcile = async (statusEvent: Record<string, unknown>, record: ExecutionRecord): Promise<void> => {
        const name = pseudoUuid(scenario.seed, 5000 + reconciliations.length);
        const report: ReconciliationReport = {
          execution: record.name,
          executionStatus: record.status,
          atSecond: elapsed(),
          status: 'RUNNING',
          finalState: null,
          error: null,
          cause: null,
          result: null,
        };
        reconciliations.push(report);
        note({ kind: 'execution', message: `Reconciler ${name} started for execution ${record.name} (${record.status})` });
        const run = reconcilerMachine.run(statusEvent as never, {
          overrides: {
            taskResourceLocalHandlers: localTaskHandlers({
              taskStates: reconcilerTasks,
              stepsByFunctionArn: reconciler.stepsByFunctionArn,
              handlerFor,
              onInvocation: (invocation) => {
                if (invocation.output !== undefined) report.result = invocation.output;
                note({ kind: 'task', state: invocation.stateName, message: `Reconciler: ${describeInvocation(invocation)}` });
              },
            }) as never,
          },
          context: {
            Execution: {
              Id: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:execution:${RECONCILER_STATE_MACHINE_NAME}:${name}`,
              Name: name,
              Input: statusEvent,
              StartTime: new Date(clock.now()).toISOString(),
            },
            StateMachine: { Id: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:stateMachine:${RECONCILER_STATE_MACHINE_NAME}`, Name: RECONCILER_STATE_MACHINE_NAME },
          } as never,
        });
        const logs = (async () => {
          for await (const log of run.eventLogs) {
            if (log.type === 'StateEntered') report.finalState = log.state.name;
            else if (log.type === 'ExecutionFailed') {
              report.status = 'FAILED';
              report.error = log.Error ?? null;
              report.cause = typeof log.Cause === 'string' ? log.Cause : JSON.stringify(log.Cause ?? null);
            } else if (log.type === 'ExecutionSucceeded') report.status = 'SUCCEEDED';
            else if (log.type === 'ExecutionTimeout') report.status = 'TIMED_OUT';
          }
        })();
        await run.result.catch(() => undefined);
        await logs;
        if (report.status === 'RUNNING') report.status = 'FAILED';
        reconciledAtMs.set(record.name, clock.now());
        note({ kind: 'execution', message: `Reconciler ${name} ${report.status} in "${report.finalState}"${report.error ? `: ${report.error}: ${report.cause}` : ''}` });
      };
      const executionEnded = (record: ExecutionRecord, input: unknown, startedAtMs: number): void => {
        const statusEvent = {
          version: '0',
          id: pseudoUuid(scenario.seed, 7000 + executions.indexOf(record)),
          'detail-type': 'Step Functions Execution Status Change',
          source: 'aws.states',
          account: REHEARSAL_ACCOUNT,
          time: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: REHEARSAL_REGION,
          resources: [record.arn],
          detail: {
            executionArn: record.arn,
            stateMachineArn: rolloutStateMachineArn,
            name: record.name,
            status: record.status,
            startDate: startedAtMs,
            stopDate: clock.now(),
            input: JSON.stringify(input),
            inputDetails: { included: true },
            output: null,
            outputDetails: { included: true },
            error: record.error,
            cause: record.cause,
          },
        };
        if (!matchesPattern(executionEndedPattern, statusEvent)) return;
        note({ kind: 'event', message: `EventBridge: execution ${record.name} ${record.status}: matches the reconciler rule` });
        handlerRuns.push(sleep(eventDeliveryMs).then(() => reconcile(statusEvent, record)));
      };

      const startExecution = async (event: unknown, index: number): Promise<void> => {
        const name = pseudoUuid(scenario.seed, 1000 + index);
        const record: ExecutionRecord = {
          name,
          arn: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:execution:${STATE_MACHINE_NAME}:${name}`,
          status: 'RUNNING',
          error: null,
          cause: null,
          stateTransitions: 0,
          finalState: null,
          mutated: false,
          mutationSeconds: null,
          entries: [],
        };
        executions.push(record);
        note({ kind: 'execution', message: `Execution ${name} started` });
        const startedAtMs = clock.now();
        const onInvocation = (invocation: LambdaInvocation) => {
          if (invocation.step === 'judge-validation' && invocation.output) judged = invocation.output as typeof judged;
          if (invocation.step === 'warm-up' && invocation.output) warmUp = invocation.output;
          note({ kind: 'task', state: invocation.stateName, message: describeInvocation(invocation) });
        };
        const contextTaskToken = `rehearsal-task-token-${name}`;
        const run = stateMachine.run(event as never, {
          overrides: {
            taskResourceLocalHandlers: localTaskHandlers({ taskStates: tasks, stepsByFunctionArn, handlerFor, onInvocation, resolveTaskToken, contextTaskToken }) as never,
          },
          context: {
            Execution: {
              Id: record.arn,
              Name: name,
              RoleArn: `arn:aws:iam::${REHEARSAL_ACCOUNT}:role/${STATE_MACHINE_NAME}Role`,
              Input: event,
              StartTime: new Date(startedAtMs).toISOString(),
            },
            Task: { Token: contextTaskToken },
            StateMachine: { Id: rolloutStateMachineArn, Name: STATE_MACHINE_NAME },
          } as never,
        });
        running.set(name, { record, abort: run.abort });
        const logs = (async () => {
          for await (const log of run.eventLogs) {
            if (log.type === 'StateEntered') {
              record.stateTransitions += 1;
              record.finalState = log.state.name;
              record.entries.push({ name: log.state.name, atMs: clock.now() });
              scripted?.stateEntered(log.state.name);
              note({ kind: 'state', state: log.state.name, message: `Entered "${log.state.name}"` });
            } else if (log.type === 'StateRetried') {
              note({ kind: 'state', state: log.state.name, message: `Retrying "${log.state.name}" (attempt ${log.retry.attempt + 1})` });
            } else if (log.type === 'ExecutionFailed') {
              record.status = 'FAILED';
              record.error = log.Error;
              record.cause = typeof log.Cause === 'string' ? log.Cause : JSON.stringify(log.Cause ?? null);
            } else if (log.type === 'ExecutionSucceeded') {
              record.status = 'SUCCEEDED';
            } else if (log.type === 'ExecutionTimeout') {
              // What Step Functions reports for an execution past the state machine's TimeoutSeconds.
              record.status = 'TIMED_OUT';
              record.error = 'States.Timeout';
              record.cause = 'The execution exceeded the state machine\'s TimeoutSeconds';
            } else if (log.type === 'ExecutionAborted') {
              record.status = 'ABORTED';
            }
          }
        })();
        record.output = await run.result.catch(() => undefined);
        await logs;
        running.delete(name);
        record.endedAtMs = clock.now();
        if (record.status === 'RUNNING') record.status = 'FAILED';
        note({
          kind: 'execution',
          message: record.status === 'SUCCEEDED' ? `Execution ${name} succeeded in "${record.finalState}"` : `Execution ${name} ${record.status}: ${record.error}: ${record.cause}`,
        });
        if (record.status !== 'SUCCEEDED') executionEnded(record, event, startedAtMs);
      };

      /** A Stop in the console (StopExecution) of every running rollout execution. */
      const stopExecutions = (by: string, reason: string): void => {
        if (running.size === 0) note({ kind: 'event', message: `Operator ${by}: no running execution to stop` });
        for (const { record, abort } of [...running.values()]) {
          note({ kind: 'event', message: `Operator ${by} stopped execution ${record.name} in the console (in "${record.finalState}"): ${reason}` });
          record.error = null;
          record.cause = `Stopped by ${by}: ${reason}`;
          abort();
        }
      };

      const deliver = async (event: unknown, index: number): Promise<void> => {
        const detail = (event as { detail?: Record<string, unknown> })?.detail ?? {};
        const summary = `${String(detail.ModelPackageGroupName)} v${String(detail.ModelPackageVersion)} ${String(detail.ModelApprovalStatus)}`;
        if (!matchesPattern(pattern, event)) {
          note({ kind: 'event', message: `EventBridge: event (${summary}) does not match the rollout rule: ignored` });
          return;
        }
        note({ kind: 'event', message: `EventBridge: approval (${summary}) matches the rollout rule: starting the state machine` });
        await startExecution(event, index);
      };

      // The alarm rule: CloudWatch's state changes (and raw events a scenario puts on the bus) reach the
      // rollback handler after EventBridge's delivery delay, as the deployed rule's Lambda target does.
      const alarmPattern = alarmEventPattern(
        ALARM_NAME_PREFIX,
        config.targets.flatMap((t) => t.policy.alarms.existingAlarmNames),
      ) as unknown as EventPattern;
      const onAlarm = loadStepHandler(EVENT_HANDLERS.find((h) => h.dir === 'on-alarm')!);
      const alarmEvents: AlarmEventReport[] = [];
      const rollbacks: RollbackReport[] = [];
      const recordRollbacks = (trigger: 'ALARM' | 'OPERATOR', by: string, startedAtMs: number, wallStart: number, results: readonly RollBackNowResult[]) => {
        for (const result of results) {
          const requested = result.weightsRequestedAt ? Date.parse(result.weightsRequestedAt) - startedAtMs : null;
          rollbacks.push({
            trigger,
            by,
            atSecond: Math.round((startedAtMs - REHEARSAL_EPOCH_MS) / 100) / 10,
            outcome: result.outcome,
            message: result.message,
            virtualMs: requested,
            wallMs: Math.round((wallNow() - wallStart) * 10) / 10,
            notified: result.notified,
          });
          note({ kind: 'event', message: `Rollback (${trigger.toLowerCase()} ${by}): ${result.outcome}: ${result.message}` });
        }
      };
      const putOnBus = (event: Record<string, unknown>, origin: string): void => {
        const detail = (event.detail ?? {}) as { alarmName?: unknown; state?: { value?: unknown } };
        if (event.source === 'aws.cloudwatch') {
          const matchedRule = matchesPattern(alarmPattern, event);
          alarmEvents.push({ atSecond: elapsed(), alarmName: String(detail.alarmName), state: String(detail.state?.value), matchedRule });
          note({ kind: 'event', message: `${origin}: alarm ${String(detail.alarmName)} is ${String(detail.state?.value)}${matchedRule ? ': matches the rollback rule' : ''}` });
          if (!matchedRule) return;
          const emittedAtMs = clock.now();
          const wallStart = wallNow();
          handlerRuns.push(
            sleep(eventDeliveryMs).then(async () => {
              try {
                const output = (await onAlarm(JSON.parse(JSON.stringify(event)))) as { results?: RollBackNowResult[] } | undefined;
                recordRollbacks('ALARM', String(detail.alarmName), emittedAtMs, wallStart, output?.results ?? []);
              } catch (error) {
                // EventBridge would retry; the execution's periodic check is the fallback either way.
                rollbacks.push({ trigger: 'ALARM', by: String(detail.alarmName), atSecond: elapsed(), outcome: 'ERROR', message: (error as Error).message, virtualMs: null, wallMs: 0, notified: false });
                note({ kind: 'event', message: `Rollback handler failed: ${(error as Error).name}: ${(error as Error).message}` });
              }
            }),
          );
          return;
        }
        void deliver(event, 1000 + alarmEvents.length);
      };
      sim.cloudwatch.onAlarmStateChange((event) => putOnBus(event, 'CloudWatch'));

      const operatorRollback = async (by: string, reason: string): Promise<void> => {
        const startedAtMs = clock.now();
        const wallStart = wallNow();
        note({ kind: 'event', message: `Operator ${by}: npm run operator -- rollback --endpoint ${target.endpointName} (${reason})` });
        const result = await rollBackNow(target.endpointName, { kind: 'OPERATOR', by, reason }, {
          sageMaker: sageMakerClient(),
          runtime: sageMakerRuntimeClient(),
          s3: s3Client(),
          dynamo: dynamoDbClient(),
          sfn: sfnClient(),
          logger: createLogger('operator-rollback'),
          table: REHEARSAL_ROLLOUTS_TABLE,
        });
        recordRollbacks('OPERATOR', by, startedAtMs, wallStart, [result]);
      };
      scripted = new ScriptedActions<ScenarioAction>(scenarioActions(scenario), ({ action, source }) => {
        if (action.kind === 'alarm') {
          const names = sim.cloudwatch.alarmNames().filter((name) => matchesWildcard(action.alarmName, name));
          if (names.length === 0) note({ kind: 'event', message: `Scenario ${source}: no alarm matches "${action.alarmName}"` });
          for (const name of names) sim.cloudwatch.setAlarmState(name, action.state, action.reason);
        } else if (action.kind === 'event') {
          putOnBus(action.event, `Scenario ${source}`);
        } else if (action.kind === 'operator-stop') {
          stopExecutions(action.by, action.reason);
        } else {
          handlerRuns.push(operatorRollback(action.by, action.reason).catch((error: unknown) => note({ kind: 'event', message: `Operator rollback failed: ${(error as Error).message}` })));
        }
      });
      scripted.start();
      sim.startMetrics();

      const everything = (async () => {
        if (options.rawEvent !== undefined) {
          const arn = (options.rawEvent as { detail?: { ModelPackageArn?: unknown } })?.detail?.ModelPackageArn;
          firstPackageArn = typeof arn === 'string' ? arn : null;
          await deliver(options.rawEvent, 0);
          return;
        }
        const latest = Math.max(...scenario.modelPackages.map((p) => p.version));
        const runs: Promise<void>[] = [];
        const deliveries = [...scenario.deliveries].sort((a, b) => a.atSecond - b.atSecond);
        for (const [index, delivery] of deliveries.entries()) {
          const waitMs = REHEARSAL_EPOCH_MS + delivery.atSecond * 1000 - clock.now();
          if (waitMs > 0) await sleep(waitMs);
          const version = delivery.version ?? latest;
          const groupName = delivery.modelPackageGroupName ?? target.modelPackageGroupName;
          const arn =
            packageArns.get(version) ??
            `arn:aws:sagemaker:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:model-package/${groupName.toLowerCase()}/${version}`;
          firstPackageArn ??= arn;
          const event = approvalEvent({ id: pseudoUuid(scenario.seed, index), timeMs: clock.now(), groupName, version, arn, approvalStatus: delivery.approvalStatus });
          runs.push(deliver(event, index));
        }
        await Promise.all(runs);
      })();
      await clock.drive(everything, undefined, instant);
      sim.stopMetrics();
      // Handlers and reconcilers may start more of each other (a reconciler after a handler's failure): drain.
      for (let drained = 0; drained < handlerRuns.length; ) {
        const batch = handlerRuns.slice(drained);
        drained = handlerRuns.length;
        await clock.drive(Promise.all(batch), undefined, instant);
      }
      for (const record of executions) {
        const mutations = endpointMutations(sim, record.arn, Math.max(record.endedAtMs ?? clock.now(), reconciledAtMs.get(record.name) ?? 0));
        record.mutated = mutations !== null;
        record.mutationSeconds = mutations && [(mutations.firstMs - REHEARSAL_EPOCH_MS) / 1000, (mutations.lastMs - REHEARSAL_EPOCH_MS) / 1000];
      }

      options.onAwsCalls?.(sim.calls.map(({ service, operation, input, error }) => ({ service, operation, input, ...(error ? { error } : {}) })));
      const validation = judged
        ? { ...judged, report: readReport(sim, judged.reportUri), warmUp: warmUp ?? null }
        : null;
      // Read straight from the simulated table (not through the transport): the report's reads are not the system's calls.
      const historyReader = directDynamoDbClient(sim);
      const history = await Promise.all(
        (await listRolloutHistory(historyReader, REHEARSAL_HISTORY_TABLE)).map(async (entry) => ({
          ...entry,
          events: (await readRolloutAudit(historyReader, REHEARSAL_HISTORY_TABLE, entry.endpointName, entry.deploymentId)).events.length,
        })),
      );
      return buildReport({
        history,
        publishedMetrics,
        scenario,
        target,
        sim,
        executions,
        timeline,
        validation,
        decision,
        alarmEvents,
        rollbacks,
        reconciliations,
        stepPercents,
        endMs: clock.now(),
        modelPackageArn: firstPackageArn,
        virtualSeconds: elapsed(),
        wallMs: wallNow() - wallStart,
      });
    });
  } finally {
    restoreHostConfig();
    configureAwsClients({});
    configureMetricsSink(undefined);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

/**
 * The engine's state machine for a definition, validated (paths, ARNs) once per distinct definition: validation
 * compiles JSON schemas, the largest cost of a short rehearsal, and a run never changes the machine.
 */
const stateMachines = new Map<string, StateMachine>();
function validatedStateMachine(definition: object): StateMachine {
  const text = JSON.stringify(definition);
  let machine = stateMachines.get(text);
  if (!machine) {
    machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
    stateMachines.set(text, machine);
  }
  return machine;
}

/** The state that waits for an operator's decision on the verdict (the other token waits are watched steps). */
const APPROVAL_STATE = 'Wait for approval';

/** What a scenario makes happen during the run. */
type ScenarioAction =
  | { readonly kind: 'alarm'; readonly alarmName: string; readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; readonly reason: string }
  | { readonly kind: 'event'; readonly event: Record<string, unknown> }
  | { readonly kind: 'operator-rollback'; readonly by: string; readonly reason: string }
  | { readonly kind: 'operator-stop'; readonly by: string; readonly reason: string };

function scenarioActions(scenario: Scenario): ScriptedAction<ScenarioAction>[] {
  const when = (w: { atSecond?: number; atState?: string; afterSeconds: number }) => ({
    afterSeconds: w.afterSeconds,
    ...(w.atSecond !== undefined ? { atSecond: w.atSecond } : {}),
    ...(w.atState !== undefined ? { atState: w.atState } : {}),
  });
  return [
    ...scenario.alarms.map((a, i) => ({ when: when(a), source: `alarms[${i}]`, action: { kind: 'alarm' as const, alarmName: a.alarmName, state: a.state, reason: a.reason } })),
    ...scenario.events.map((e, i) => ({ when: when(e), source: `events[${i}]`, action: { kind: 'event' as const, event: e.event } })),
    ...scenario.operator.map((o, i) => ({ when: when(o), source: `operator[${i}]`, action: { kind: o.action === 'stop' ? ('operator-stop' as const) : ('operator-rollback' as const), by: o.by, reason: o.reason } })),
  ];
}

/** Blue's variant name in a scenario with a live endpoint. */
function blueVariantOf(scenario: Scenario): string {
  const live = scenario.endpoint;
  if (!live) throw new Error(`scenario ${scenario.name} has no live endpoint`);
  return live.variantName ?? `v${live.liveVersion}-00000000`;
}

/** Blue's scalable target and target-tracking policy, as a platform team would have set them up. */
function seedBlueAutoScaling(sim: SimulatedAws, endpointName: string, variantName: string, spec: NonNullable<NonNullable<Scenario['endpoint']>['autoScaling']>): void {
  const resourceId = `endpoint/${endpointName}/variant/${variantName}`;
  const common = { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' };
  sim.autoscaling.execute('RegisterScalableTarget', { ...common, MinCapacity: spec.minCapacity, MaxCapacity: spec.maxCapacity });
  sim.autoscaling.execute('PutScalingPolicy', {
    ...common,
    PolicyName: `${variantName}-invocations-per-instance`,
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: spec.targetInvocationsPerInstance,
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      ScaleInCooldown: spec.scaleInCooldownSeconds,
      ScaleOutCooldown: 60,
    },
  });
}

/** An alarm that exists before the rollout (metric on a variant's 5xx rate, or composite). */
function seedExistingAlarm(sim: SimulatedAws, alarm: Scenario['existingAlarms'][number], endpointName: string, variantName: string): void {
  if (alarm.alarmRule) {
    sim.cloudwatch.execute('PutCompositeAlarm', { AlarmName: alarm.name, AlarmRule: alarm.alarmRule, ActionsEnabled: false });
    return;
  }
  sim.cloudwatch.execute('PutMetricAlarm', {
    AlarmName: alarm.name,
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Dimensions: [
      { Name: 'EndpointName', Value: alarm.endpointName ?? endpointName },
      { Name: 'VariantName', Value: alarm.variantName ?? variantName },
    ],
    Statistic: 'Average',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: alarm.threshold,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ActionsEnabled: false,
  });
}

function requireS3Location(uri: string): { bucket: string; key: string } {
  const location = parseS3Uri(uri);
  if (!location) throw new Error(`not an S3 URI: ${uri}`);
  return location;
}

/** The full validation report the judge wrote to the artifacts bucket. */
function readReport(sim: SimulatedAws, reportUri: string): unknown {
  const { bucket, key } = requireS3Location(reportUri);
  const text = sim.s3.getObjectText(bucket, key);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * Whether any successful mutating SageMaker call named the execution's deployment id (green's model, configs
 * and variant carry it; so do the weights a rollback or the reconciler sets on its behalf).
 */
function endpointMutations(sim: SimulatedAws, executionArn: string, untilMs: number): { firstMs: number; lastMs: number } | null {
  const deploymentId = deploymentIdFor(executionArn);
  // Until the execution (and its reconciler) ended: a later rollout retiring this one's green names it too.
  const times = sim.calls
    .filter((c) => c.atMs <= untilMs && c.service === 'sagemaker' && !c.error && isMutatingOperation(c.service, c.operation))
    .filter((c) => !recordsOnModelPackage(c.operation, c.input))
    .filter((c) => JSON.stringify(c.input ?? null).includes(deploymentId))
    .map((c) => c.atMs);
  return times.length > 0 ? { firstMs: Math.min(...times), lastMs: Math.max(...times) } : null;
}

/** The outcome written on the model package (its tags or metadata): a record of the rollout, not a change of the endpoint. */
function recordsOnModelPackage(operation: string, input: unknown): boolean {
  if (operation === 'UpdateModelPackage') return true;
  const resourceArn = (input as { ResourceArn?: unknown } | null)?.ResourceArn;
  return (operation === 'AddTags' || operation === 'DeleteTags') && typeof resourceArn === 'string' && resourceArn.includes(':model-package/');
}

/**
 * What happened to the endpoint, decided by the last execution that changed it: promoted, rolled back (by its
 * failure path, or by the reconciler after a stop, a timeout or a failed rollback), or failed. With none, the
 * last execution decides: one that changed nothing is IGNORED if it succeeded (a duplicate, already live) and
 * FAILED if not (a rejected event, no capacity: it failed cleanly, before any change).
 */
function outcomeOf(executions: readonly ExecutionRecord[], reconciliations: readonly ReconciliationReport[]): Outcome {
  const mutated = [...executions].reverse().find((e) => e.mutated);
  const deciding = mutated ?? executions[executions.length - 1];
  if (!deciding) return 'IGNORED';
  if (!mutated) return deciding.status === 'SUCCEEDED' ? 'IGNORED' : 'FAILED';
  if (deciding.status === 'SUCCEEDED') return 'PROMOTED';
  if (deciding.finalState === 'Rollout failed') return 'ROLLED_BACK';
  const reconciled = [...reconciliations].reverse().find((r) => r.execution === deciding.name && r.status === 'SUCCEEDED');
  const action = (reconciled?.result as { action?: string } | null)?.action;
  if (action === 'DONE') return 'ROLLED_BACK';
  if (action === 'KEPT_GREEN') return 'PROMOTED';
  return 'FAILED';
}

function buildReport(input: {
  scenario: Scenario;
  target: DeploymentTarget;
  sim: SimulatedAws;
  executions: readonly ExecutionRecord[];
  timeline: readonly TimelineEntry[];
  validation: RehearsalReport['validation'];
  decision: RehearsalReport['decision'];
  alarmEvents: readonly AlarmEventReport[];
  rollbacks: readonly RollbackReport[];
  reconciliations: readonly ReconciliationReport[];
  stepPercents: readonly number[];
  endMs: number;
  modelPackageArn: string | null;
  virtualSeconds: number;
  wallMs: number;
  history: RehearsalReport['history'];
  publishedMetrics: RehearsalReport['publishedMetrics'];
}): RehearsalReport {
  const { sim, target, executions } = input;
  const endpoint = sim.sagemaker.endpointSnapshot(target.endpointName);
  const usedConfigs = new Set(endpoint ? [endpoint.endpointConfigName] : []);
  // A Failed endpoint lists no variants; the models of the config it runs are still in use.
  const runningConfig = endpoint
    ? (sim.sagemaker.execute('DescribeEndpointConfig', { EndpointConfigName: endpoint.endpointConfigName }) as { ProductionVariants?: { ModelName?: string }[] })
    : undefined;
  const usedModels = new Set([
    ...(endpoint?.variants.map((v) => v.modelName) ?? []),
    ...(runningConfig?.ProductionVariants ?? []).flatMap((v) => (v.ModelName ? [v.ModelName] : [])),
  ]);
  const byOperation: Record<string, number> = {};
  for (const call of sim.calls) {
    const key = `${call.service}:${call.operation}`;
    byOperation[key] = (byOperation[key] ?? 0) + 1;
  }
  const last = executions[executions.length - 1];
  const deciding = [...executions].reverse().find((e) => e.mutated);
  const scalableTargets = scalableTargetsOf(sim, target.endpointName);
  return {
    scenario: input.scenario.name,
    description: input.scenario.description,
    outcome: outcomeOf(executions, input.reconciliations),
    target: { modelPackageGroupName: target.modelPackageGroupName, endpointName: target.endpointName },
    modelPackageArn: input.modelPackageArn,
    modelPackageTags: modelPackageTagsOf(sim, input.modelPackageArn),
    execution: last
      ? {
          name: last.name,
          status: last.status === 'RUNNING' ? 'FAILED' : last.status,
          error: last.error,
          cause: last.cause,
          stateTransitions: last.stateTransitions,
          finalState: last.finalState,
          output: last.status === 'SUCCEEDED' ? (last.output ?? null) : null,
        }
      : null,
    endpoint: endpoint
      ? {
          status: endpoint.status,
          endpointConfigName: endpoint.endpointConfigName,
          ...(endpoint.failureReason ? { failureReason: endpoint.failureReason } : {}),
          variants: endpoint.variants.map((v) => ({
            variantName: v.variantName,
            modelName: v.modelName,
            weight: v.weight,
            instanceType: v.instanceType,
            instanceCount: v.instanceCount,
          })),
        }
      : null,
    orphans: {
      models: sim.sagemaker.listModels().filter((m) => isManagedBySystem(m.tags) && !usedModels.has(m.name)).map((m) => m.name),
      endpointConfigs: sim.sagemaker
        .listEndpointConfigs()
        .filter((c) => isManagedBySystem(c.tags) && !usedConfigs.has(c.name))
        .map((c) => c.name),
      alarms: sim.cloudwatch.alarmNames().filter((name) => name.startsWith(ALARM_NAME_PREFIX)),
      activeRollouts: sim.dynamodb.items(REHEARSAL_ROLLOUTS_TABLE).map((item) => String((item.endpointName as { S?: string } | undefined)?.S)),
      scalableTargets: scalableTargets
        .filter((t) => !endpoint?.variants.some((v) => t.resourceId === `endpoint/${target.endpointName}/variant/${v.variantName}`))
        .map((t) => t.resourceId),
    },
    alarmEvents: input.alarmEvents,
    rollbacks: input.rollbacks,
    scalableTargets,
    validation: input.validation,
    decision: input.decision,
    rollouts: executions.filter((e) => e.mutated).length,
    executions: executions.map((e) => ({ name: e.name, status: e.status, finalState: e.finalState, mutated: e.mutated, mutationSeconds: e.mutationSeconds, error: e.error })),
    reconciliations: input.reconciliations,
    lifecycleEvents: sim.eventBridge.publishedEvents(REHEARSAL_EVENT_BUS).map((event) => ({
      atSecond: (Date.parse(event.time) - REHEARSAL_EPOCH_MS) / 1000,
      detailType: event['detail-type'],
      deploymentId: String((event.detail.rollout as { deploymentId?: unknown } | undefined)?.deploymentId ?? ''),
      message: String(event.detail.message ?? ''),
    })),
    notifications: sim.eventBridge.snsDeliveries().map((delivery) => ({ atSecond: (delivery.atMs - REHEARSAL_EPOCH_MS) / 1000, message: delivery.message })),
    history: input.history,
    publishedMetrics: input.publishedMetrics,
    timeline: input.timeline,
    awsCalls: {
      total: sim.calls.length,
      mutating: sim.calls.filter((c) => isMutatingOperation(c.service, c.operation)).length,
      byOperation,
    },
    metrics: {
      virtualSeconds: input.virtualSeconds,
      wallMs: Math.round(input.wallMs),
      alarmToRollback: alarmToRollback(input.rollbacks),
      stateTransitions: deciding ? transitionFigures(deciding.entries, input.endMs) : null,
      capacity: capacityOf(input, deciding),
    },
  };
}

function scalableTargetsOf(sim: SimulatedAws, endpointName: string): RehearsalReport['scalableTargets'] {
  const { ScalableTargets = [] } = sim.autoscaling.execute('DescribeScalableTargets', { ServiceNamespace: 'sagemaker' }) as {
    ScalableTargets?: Array<{ ResourceId: string; MinCapacity: number; MaxCapacity: number; SuspendedState?: { DynamicScalingInSuspended?: boolean } }>;
  };
  return ScalableTargets.filter((t) => t.ResourceId.startsWith(`endpoint/${endpointName}/variant/`)).map((t) => ({
    resourceId: t.ResourceId,
    minCapacity: t.MinCapacity,
    maxCapacity: t.MaxCapacity,
    scaleInSuspended: t.SuspendedState?.DynamicScalingInSuspended === true,
  }));
}

/** The tags of a model package (none when there is no package, or it does not exist). */
function modelPackageTagsOf(sim: SimulatedAws, modelPackageArn: string | null): Record<string, string> {
  if (!modelPackageArn) return {};
  try {
    const { Tags = [] } = sim.sagemaker.execute('ListTags', { ResourceArn: modelPackageArn }) as { Tags?: { Key: string; Value: string }[] };
    return Object.fromEntries(Tags.map((tag) => [tag.Key, tag.Value]));
  } catch {
    return {};
  }
}

/** A DynamoDB client answered by the simulation directly: operations named after the command (QueryCommand → Query). */
function directDynamoDbClient(sim: SimulatedAws): DynamoDBClient {
  return {
    send: async (command: { constructor: { name: string }; input: unknown }) =>
      sim.dynamodb.execute(command.constructor.name.replace(/Command$/, ''), structuredClone(command.input)),
  } as unknown as DynamoDBClient;
}

/** Adds one EMF document's metrics (every metric of its directive) to the sums by name. */
function collectEmf(emf: Record<string, unknown>, sums: Record<string, { count: number; sum: number; max: number; unit: string }>): void {
  const directives = ((emf._aws as { CloudWatchMetrics?: { Metrics?: { Name: string; Unit?: string }[] }[] } | undefined)?.CloudWatchMetrics ?? []);
  for (const metric of directives.flatMap((directive) => directive.Metrics ?? [])) {
    const values = ([] as unknown[]).concat(emf[metric.Name]).filter((value): value is number => typeof value === 'number');
    const entry = (sums[metric.Name] ??= { count: 0, sum: 0, max: Number.NEGATIVE_INFINITY, unit: metric.Unit ?? 'None' });
    for (const value of values) {
      entry.count += 1;
      entry.sum += value;
      entry.max = Math.max(entry.max, value);
    }
  }
}

/** The first alarm rollback that restored blue's weights: from the alarm event to the weights requested. */
function alarmToRollback(rollbacks: readonly RollbackReport[]): RehearsalReport['metrics']['alarmToRollback'] {
  const first = rollbacks.find((r) => r.trigger === 'ALARM' && r.outcome === 'ROLLED_BACK' && r.virtualMs !== null);
  return first ? { virtualMs: first.virtualMs!, wallMs: first.wallMs } : null;
}

/** Double-capacity figures of the rollout that changed the endpoint, next to native blue/green for the same policy. */
function capacityOf(
  input: { sim: SimulatedAws; target: DeploymentTarget; scenario: Scenario; stepPercents: readonly number[]; endMs: number; rollbacks: readonly RollbackReport[] },
  deciding: ExecutionRecord | undefined,
): RehearsalReport['metrics']['capacity'] {
  const { sim, target, scenario } = input;
  if (!deciding || !scenario.endpoint) return null;
  const deploymentGreen = greenVariantFrom(sim, target.endpointName, blueVariantOf(scenario));
  if (!deploymentGreen) return null;
  const rollout = capacityFigures(sim.sagemaker.instanceSegments(), target.endpointName, blueVariantOf(scenario), deploymentGreen, input.endMs);
  const firstShift = deciding.entries.find((e) => e.name.startsWith('Shift traffic to'));
  const rollbackAt = deciding.entries.find((e) => e.name === 'Prepare rollback');
  const policy = target.policy;
  return {
    rollout,
    nativeBlueGreen: nativeBlueGreenCapacity({
      provisionSeconds: sim.timings.updateEndpointSeconds,
      blueInstanceCount: scenario.endpoint.instanceCount,
      stepBakeSeconds: input.stepPercents.map((p) => (p === 100 ? policy.bakeSeconds : policy.traffic.stepBakeSeconds)),
      terminationWaitSeconds: policy.rollbackWindowSeconds,
      ...(firstShift && rollbackAt && rollbackAt.atMs > firstShift.atMs ? { rolledBackAfterSeconds: (rollbackAt.atMs - firstShift.atMs) / 1000 } : {}),
    }),
  };
}

/** The variant a rollout added beside blue (any variant of the endpoint's history other than blue's). */
function greenVariantFrom(sim: SimulatedAws, endpointName: string, blueVariantName: string): string | undefined {
  return sim.sagemaker.instanceSegments().find((s) => s.endpointName === endpointName && s.variantName !== blueVariantName)?.variantName;
}

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
import { approvalEventPattern } from '../lambdas/shared/events';
import { isManagedBySystem, rolloutTags } from '../lambdas/shared/tags';
import type { RolloutStep } from '../lambdas/steps';
import { VirtualClock, REHEARSAL_EPOCH_MS, wallNow } from './clock';
import { loadRolloutDefinition, taskStates } from './definition';
import { matchesPattern, type EventPattern } from './event-bus';
import { localTaskHandlers, loadStepHandler, type LambdaInvocation, type StepHandler } from './local-lambda';
import { parseS3Uri } from '../lambdas/shared/payloads';
import { generateDataset } from './dataset';
import { sleep } from './sim/clock';
import { describeInvocation } from './narration';
import type { ModelPackageSpec, Outcome, Scenario } from './scenario';
import { isMutatingOperation, isolateSdkFromHostConfig, SimulatedAws } from './sim/world';

import './polyfills';

export const REHEARSAL_REGION = 'us-east-1';
export const REHEARSAL_ACCOUNT = '123456789012';
const STATE_MACHINE_NAME = 'SageMakerBlueGreenRollout';
/** Where a scenario's dataset goes when the target names no dataset location. */
export const REHEARSAL_DATASET_BUCKET = 'rehearsal-golden-datasets';
/** The system's artifacts bucket (validation samples and reports) in the rehearsal's account. */
export const REHEARSAL_ARTIFACTS_BUCKET = `sagemaker-blue-green-artifacts-${REHEARSAL_ACCOUNT}`;
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
  readonly execution: {
    readonly name: string;
    readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
    readonly error: string | null;
    readonly cause: string | null;
    readonly stateTransitions: number;
    readonly finalState: string | null;
  } | null;
  readonly endpoint: {
    readonly status: string;
    readonly endpointConfigName: string;
    readonly failureReason?: string;
    readonly variants: readonly VariantReport[];
  } | null;
  /** Models and endpoint configs this system created that nothing uses any more (should be empty). */
  readonly orphans: { readonly models: readonly string[]; readonly endpointConfigs: readonly string[] };
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
  /** How many rollouts made a mutating call to the endpoint (several deliveries may start several executions). */
  readonly rollouts: number;
  readonly timeline: readonly TimelineEntry[];
  readonly awsCalls: { readonly total: number; readonly mutating: number; readonly byOperation: Readonly<Record<string, number>> };
  readonly metrics: { readonly virtualSeconds: number; readonly wallMs: number };
}

export interface RehearsalOptions {
  readonly scenario: Scenario;
  /** The deployment targets (cdk.json's `blueGreen`); the scenario's `target` overrides the first one. */
  readonly config: RolloutConfigInput;
  /** Start from this raw EventBridge event instead of the scenario's deliveries. */
  readonly rawEvent?: unknown;
  /** Receives each timeline entry as it happens. */
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /** Receives every AWS call the handlers made (for --record-calls). */
  readonly onAwsCalls?: (calls: ReadonlyArray<{ service: string; operation: string; input: unknown }>) => void;
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

      const sim = new SimulatedAws({
        region: REHEARSAL_REGION,
        accountId: REHEARSAL_ACCOUNT,
        seed: scenario.seed,
        timings: scenario.timings,
        faults: scenario.faults,
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
          variants: [
            {
              variantName: live.variantName ?? `v${pkg.version}-${seedId}`,
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
      // The functions run on Node.js 22 in Lambda; the SDK's warning about the local Node 20 is noise here.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      configureAwsClients({ region: REHEARSAL_REGION, credentials: sim.credentials, requestHandler: sim.requestHandler });

      const { definition, stepsByFunctionArn } = loadRolloutDefinition(REHEARSAL_REGION, REHEARSAL_ACCOUNT);
      const handlerCache = new Map<string, StepHandler>();
      const handlerFor = (step: RolloutStep) => {
        if (!handlerCache.has(step.dir)) handlerCache.set(step.dir, loadStepHandler(step));
        return handlerCache.get(step.dir)!;
      };
      const pattern = approvalEventPattern(config.targets.map((t) => t.modelPackageGroupName)) as unknown as EventPattern;
      const stateMachine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
      const tasks = taskStates(definition.States);

      let judged: { verdict: string; summary: string; reportUri: string } | undefined;
      let warmUp: unknown;
      let decision: RehearsalReport['decision'] = null;
      // The operator, as the scenario scripts them: SendTaskSuccess / SendTaskFailure after a while, or never.
      const resolveTaskToken = (stateName: string): Promise<unknown> => {
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
        };
        executions.push(record);
        note({ kind: 'execution', message: `Execution ${name} started` });
        const callsBefore = sim.calls.length;
        const onInvocation = (invocation: LambdaInvocation) => {
          if (invocation.step === 'judge-validation' && invocation.output) judged = invocation.output as typeof judged;
          if (invocation.step === 'warm-up' && invocation.output) warmUp = invocation.output;
          note({ kind: 'task', state: invocation.stateName, message: describeInvocation(invocation) });
        };
        const run = stateMachine.run(event as never, {
          overrides: {
            taskResourceLocalHandlers: localTaskHandlers({ taskStates: tasks, stepsByFunctionArn, handlerFor, onInvocation, resolveTaskToken }) as never,
          },
          context: {
            Execution: { Id: record.arn, Name: name, RoleArn: `arn:aws:iam::${REHEARSAL_ACCOUNT}:role/${STATE_MACHINE_NAME}Role` },
            Task: { Token: `rehearsal-task-token-${name}` },
            StateMachine: { Id: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`, Name: STATE_MACHINE_NAME },
          } as never,
        });
        const logs = (async () => {
          for await (const log of run.eventLogs) {
            if (log.type === 'StateEntered') {
              record.stateTransitions += 1;
              record.finalState = log.state.name;
              note({ kind: 'state', state: log.state.name, message: `Entered "${log.state.name}"` });
            } else if (log.type === 'StateRetried') {
              note({ kind: 'state', state: log.state.name, message: `Retrying "${log.state.name}" (attempt ${log.retry.attempt + 1})` });
            } else if (log.type === 'ExecutionFailed') {
              record.status = 'FAILED';
              record.error = log.Error;
              record.cause = typeof log.Cause === 'string' ? log.Cause : JSON.stringify(log.Cause ?? null);
            } else if (log.type === 'ExecutionSucceeded') {
              record.status = 'SUCCEEDED';
            }
          }
        })();
        await run.result.catch(() => undefined);
        await logs;
        if (record.status === 'RUNNING') record.status = 'FAILED';
        record.mutated = sim.calls
          .slice(callsBefore)
          .some((c) => isMutatingOperation(c.service, c.operation) && !c.error);
        note({
          kind: 'execution',
          message: record.status === 'SUCCEEDED' ? `Execution ${name} succeeded` : `Execution ${name} ${record.status}: ${record.error}: ${record.cause}`,
        });
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
      await clock.drive(everything);

      options.onAwsCalls?.(sim.calls.map(({ service, operation, input }) => ({ service, operation, input })));
      const validation = judged
        ? { ...judged, report: readReport(sim, judged.reportUri), warmUp: warmUp ?? null }
        : null;
      return buildReport({ scenario, target, sim, executions, timeline, validation, decision, modelPackageArn: firstPackageArn, virtualSeconds: elapsed(), wallMs: wallNow() - wallStart });
    });
  } finally {
    restoreHostConfig();
    configureAwsClients({});
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
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

function outcomeOf(executions: readonly ExecutionRecord[]): Outcome {
  // The rollout that changed the endpoint decides; with none, the last execution does.
  const deciding = [...executions].reverse().find((e) => e.mutated) ?? executions[executions.length - 1];
  if (!deciding) return 'IGNORED';
  if (deciding.status === 'SUCCEEDED') return 'PROMOTED';
  return deciding.finalState === 'Rollout failed' ? 'ROLLED_BACK' : 'FAILED';
}

function buildReport(input: {
  scenario: Scenario;
  target: DeploymentTarget;
  sim: SimulatedAws;
  executions: readonly ExecutionRecord[];
  timeline: readonly TimelineEntry[];
  validation: RehearsalReport['validation'];
  decision: RehearsalReport['decision'];
  modelPackageArn: string | null;
  virtualSeconds: number;
  wallMs: number;
}): RehearsalReport {
  const { sim, target, executions } = input;
  const endpoint = sim.sagemaker.endpointSnapshot(target.endpointName);
  const usedConfigs = new Set(endpoint ? [endpoint.endpointConfigName] : []);
  const usedModels = new Set(endpoint?.variants.map((v) => v.modelName) ?? []);
  const byOperation: Record<string, number> = {};
  for (const call of sim.calls) {
    const key = `${call.service}:${call.operation}`;
    byOperation[key] = (byOperation[key] ?? 0) + 1;
  }
  const last = executions[executions.length - 1];
  return {
    scenario: input.scenario.name,
    description: input.scenario.description,
    outcome: outcomeOf(executions),
    target: { modelPackageGroupName: target.modelPackageGroupName, endpointName: target.endpointName },
    modelPackageArn: input.modelPackageArn,
    execution: last
      ? {
          name: last.name,
          status: last.status === 'RUNNING' ? 'FAILED' : last.status,
          error: last.error,
          cause: last.cause,
          stateTransitions: last.stateTransitions,
          finalState: last.finalState,
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
    },
    validation: input.validation,
    decision: input.decision,
    rollouts: executions.filter((e) => e.mutated).length,
    timeline: input.timeline,
    awsCalls: {
      total: sim.calls.length,
      mutating: sim.calls.filter((c) => isMutatingOperation(c.service, c.operation)).length,
      byOperation,
    },
    metrics: { virtualSeconds: input.virtualSeconds, wallMs: Math.round(input.wallMs) },
  };
}

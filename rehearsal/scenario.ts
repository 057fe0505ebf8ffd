/**
 * Rehearsal scenarios: the documented JSON format of `--scenario-file`, and the built-in scenarios in
 * rehearsal/scenarios/*.json (which use the same format). A scenario describes the world before the
 * approval (registry, endpoint, how each model version behaves), what happens (deliveries of approval
 * events, injected faults) and, for the built-ins, the outcome it should end with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';

export const SCENARIO_DIR = join(__dirname, 'scenarios');

const ModelBehaviourSchema = z
  .object({
    /** Latency of a warm instance, milliseconds. @default { p50: 40, p99: 90 } */
    latencyMs: z.object({ p50: z.number().positive(), p99: z.number().positive() }).strict().optional(),
    /** The first `requests` invocations of a freshly deployed fleet are up to `factor` times slower. */
    coldStart: z.object({ factor: z.number().min(1), requests: z.number().int().min(1) }).strict().optional(),
    /** Fraction of invocations answered with a ModelError (container status 500). @default 0 */
    errorRate: z.number().min(0).max(1).optional(),
    /** The score the model returns (`{"score": x}`), normally distributed. @default { mean: 0.3, stdDev: 0.1 } */
    prediction: z
      .object({
        mean: z.number(),
        stdDev: z.number().min(0),
        /** Share of the score that is the model's own noise rather than a function of the input. @default 0.05 */
        jitter: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    /** The container never passes its health check: the endpoint update that adds it is rolled back. */
    failsHealthCheck: z.boolean().optional(),
    /** How the container answers malformed input: a 4xx (as it should) or a 5xx (it crashed). @default 'client-error' */
    onMalformed: z.enum(['client-error', 'server-error']).optional(),
    /** From `fromSecond` (virtual seconds since the rehearsal began) until `toSecond`, every request fails (ModelError 500). */
    outage: z.object({ fromSecond: z.number().min(0), toSecond: z.number().min(0).optional() }).strict().optional(),
  })
  .strict();

const ModelPackageSchema = z
  .object({
    version: z.number().int().min(1),
    /** @default 'Approved' */
    approvalStatus: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).default('Approved'),
    /** @default a PyTorch GPU inference image */
    image: z.string().optional(),
    /** @default s3://sagemaker-models-<account>/<group>/v<version>/model.tar.gz */
    modelDataUrl: z.string().optional(),
    /** The package has no InferenceSpecification (cannot be deployed). @default false */
    withoutInferenceSpecification: z.boolean().default(false),
    supportedContentTypes: z.array(z.string()).optional(),
    supportedRealtimeInferenceInstanceTypes: z.array(z.string()).optional(),
    /** How this version serves once deployed. */
    behaviour: ModelBehaviourSchema.default({}),
  })
  .strict();

const LiveEndpointSchema = z
  .object({
    /** The model package version blue serves. */
    liveVersion: z.number().int().min(1),
    /** @default 'v<liveVersion>-00000000' */
    variantName: z.string().optional(),
    /** @default 'ml.g5.xlarge' */
    instanceType: z.string().default('ml.g5.xlarge'),
    /** @default 2 */
    instanceCount: z.number().int().min(1).default(2),
    /** @default 1 */
    weight: z.number().min(0).default(1),
    /**
     * The endpoint's status when the approval arrives: `Failed` (with `failureReason`) or `SystemUpdating` must
     * make the rollout refuse before any change. @default 'InService'
     */
    status: z.enum(['InService', 'Failed', 'SystemUpdating']).default('InService'),
    /** The FailureReason of a `Failed` endpoint. @default a generic SageMaker failure */
    failureReason: z.string().min(1).optional(),
    /** Blue's model and config were created by an earlier rollout of this system (tagged as such). @default true */
    managedBySystem: z.boolean().default(true),
    /** Blue is autoscaled: a scalable target and a target-tracking policy on invocations per instance. @default none */
    autoScaling: z
      .object({
        minCapacity: z.number().int().min(1),
        maxCapacity: z.number().int().min(1),
        /** SageMakerVariantInvocationsPerInstance target (invocations per instance per minute). */
        targetInvocationsPerInstance: z.number().positive(),
        /** @default 300 */
        scaleInCooldownSeconds: z.number().int().min(0).default(300),
      })
      .strict()
      .optional(),
  })
  .strict();

/** When a scripted action happens: at a virtual second, or some seconds after the first execution entered a state. */
const WhenSchema = z
  .object({
    /** Virtual second since the rehearsal began. */
    atSecond: z.number().min(0).optional(),
    /** The name of a state (e.g. "Watch 10% step"); the action happens when an execution first enters it ... */
    atState: z.string().min(1).optional(),
    /** ... plus this many virtual seconds. @default 0 */
    afterSeconds: z.number().min(0).default(0),
  })
  .strict();

const AlarmInjectionSchema = WhenSchema.extend({
  /** Alarm name, or a pattern with `*` wildcards (e.g. "*-green-5xx-rate": the rollout's own 5xx alarm). */
  alarmName: z.string().min(1),
  /** The state set (CloudWatch SetAlarmState). @default 'ALARM' */
  state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']).default('ALARM'),
  /** @default 'Set by the rehearsal scenario' */
  reason: z.string().min(1).default('Set by the rehearsal scenario'),
}).strict();

const RawEventSchema = WhenSchema.extend({
  /** A raw EventBridge event (e.g. a "CloudWatch Alarm State Change"), put on the default bus as is. */
  event: z.record(z.string(), z.unknown()),
}).strict();

const OperatorActionSchema = WhenSchema.extend({
  /**
   * `rollback`: what `npm run operator -- rollback --endpoint <target endpoint>` does. `stop`: a Stop of the
   * running rollout execution in the Step Functions console (StopExecution): the execution ends ABORTED
   * without its failure path, and the reconciler has to clean up.
   */
  action: z.enum(['rollback', 'stop']),
  /** @default 'rehearsal-operator' */
  by: z.string().min(1).default('rehearsal-operator'),
  /** @default 'Manual rollback in the rehearsal' */
  reason: z.string().min(1).default('Manual rollback in the rehearsal'),
}).strict();

/** An alarm that exists before the rollout (a policy's existingAlarmNames may name it). */
const ExistingAlarmSchema = z
  .object({
    name: z.string().min(1).max(255),
    /** A metric alarm on Invocation5XXErrors (Average > threshold) of this endpoint's variant. @default the target endpoint's blue variant */
    endpointName: z.string().optional(),
    variantName: z.string().optional(),
    /** @default 0.05 */
    threshold: z.number().min(0).default(0.05),
    /** A composite alarm with this rule instead (e.g. 'ALARM("a") OR ALARM("b")'). */
    alarmRule: z.string().optional(),
  })
  .strict();

const DeliverySchema = z
  .object({
    /** Virtual second at which EventBridge delivers the event. @default 0 */
    atSecond: z.number().min(0).default(0),
    /** @default the highest version in modelPackages */
    version: z.number().int().min(1).optional(),
    /** @default 'Approved' */
    approvalStatus: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).default('Approved'),
    /** @default the target's group */
    modelPackageGroupName: z.string().optional(),
  })
  .strict();

const FaultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('api-error'),
      service: z.enum(['sagemaker', 'sagemaker-runtime', 's3', 'cloudwatch', 'application-autoscaling', 'dynamodb', 'sfn', 'servicequotas', 'events']),
      operation: z.string().min(1),
      error: z.string().min(1),
      message: z.string().optional(),
      times: z.number().int().min(1).optional(),
      after: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('update-rollback'),
      endpointConfigName: z.string().optional(),
      reason: z.string().optional(),
      times: z.number().int().min(1).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('create-failure'), reason: z.string().optional() }).strict(),
]);

const DatasetSchema = z
  .object({
    /** Lines to generate. @default 1000 */
    lines: z.number().int().min(1).max(200_000).default(1000),
    /** Generated lines carry `expected`: the label the reference version predicts for the input. @default true */
    withExpected: z.boolean().default(true),
    /** The version whose behaviour defines expected outputs. @default the live version, else the newest */
    expectedFromVersion: z.number().int().min(1).optional(),
    /** The dataset's lines as written (instead of generated ones): {"input": ..., "expected"?: ...}. */
    items: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

const ApprovalSchema = z
  .object({
    /** What the operator decides when a rollout waits for a decision; 'none' lets the approval time out. */
    decision: z.enum(['approve', 'reject', 'none']),
    /** Virtual seconds after the wait begins. @default 300 */
    afterSeconds: z.number().min(0).default(300),
    /** @default 'rehearsal-operator' */
    by: z.string().min(1).default('rehearsal-operator'),
    reason: z.string().optional(),
  })
  .strict();

export const OUTCOMES = ['PROMOTED', 'ROLLED_BACK', 'FAILED', 'IGNORED'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'name: lower-case letters, digits and hyphens'),
    description: z.string().min(1),
    /** Seeds every random draw (latencies, errors, predictions). @default 1 */
    seed: z.number().int().default(1),
    /** Overrides merged into the first configured target (e.g. { "policy": { "bakeSeconds": 60 } }). */
    target: z.record(z.string(), z.unknown()).optional(),
    /** The model registry's packages in the target's group. */
    modelPackages: z.array(ModelPackageSchema).min(1),
    /** The live endpoint before the approval, or null when it does not exist yet (first deployment). */
    endpoint: LiveEndpointSchema.nullable(),
    /** Approval events EventBridge delivers. @default one approval of the highest version at second 0 */
    deliveries: z.array(DeliverySchema).min(1).default([{ atSecond: 0, approvalStatus: 'Approved' }]),
    /** Durations of SageMaker operations, virtual seconds (see rehearsal/sim/world.ts EndpointTimings). */
    timings: z
      .object({
        createEndpointSeconds: z.number().min(0).optional(),
        updateEndpointSeconds: z.number().min(0).optional(),
        updateWeightsSeconds: z.number().min(0).optional(),
        deleteEndpointSeconds: z.number().min(0).optional(),
        /** EventBridge's delivery of an event to its target, milliseconds. @default 500 */
        eventDeliveryMs: z.number().min(0).optional(),
        apiLatencyMs: z.number().min(0).optional(),
      })
      .strict()
      .default({}),
    /**
     * The golden dataset, put in the simulated S3 at the target's validation.datasetS3Uri (or a rehearsal bucket
     * when the target names none). @default 1000 generated lines when the target names a dataset, else none
     */
    dataset: DatasetSchema.optional(),
    /** The operator's decision, scripted. @default nobody decides (the approval times out) */
    approval: ApprovalSchema.optional(),
    /**
     * Service Quotas: the account's "<instance type> for endpoint usage" quota, per instance type. A type not
     * listed has no quota in the simulation (ListServiceQuotas does not list it). @default none
     */
    quotas: z.record(z.string().regex(/^ml\./, 'an ml. instance type'), z.number().int().min(0)).default({}),
    /**
     * Instances SageMaker can provision per instance type in the region (insufficient capacity beyond that: an
     * update rolls back, a creation fails). A type not listed is unlimited. @default none
     */
    capacity: z.record(z.string().regex(/^ml\./, 'an ml. instance type'), z.number().int().min(0)).default({}),
    /** Faults the simulation injects. */
    faults: z.array(FaultSchema).default([]),
    /** Production traffic to the endpoint (it feeds CloudWatch metrics, alarms and auto scaling). @default 20 requests per second */
    traffic: z.object({ requestsPerSecond: z.number().min(0).default(20) }).strict().default({ requestsPerSecond: 20 }),
    /** Alarms that exist before the rollout. @default none */
    existingAlarms: z.array(ExistingAlarmSchema).default([]),
    /** Alarm states set during the run (CloudWatch SetAlarmState), by name or pattern. @default none */
    alarms: z.array(AlarmInjectionSchema).default([]),
    /** Raw events put on the default event bus during the run. @default none */
    events: z.array(RawEventSchema).default([]),
    /** Operator commands run during the run. @default none */
    operator: z.array(OperatorActionSchema).default([]),
    /** What the scenario should end with (built-ins are tested against it). */
    expect: z
      .object({ outcome: z.enum(OUTCOMES), error: z.string().optional(), verdict: z.enum(['PASS', 'FAIL', 'INCONCLUSIVE']).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ModelPackageSpec = Scenario['modelPackages'][number];
export type ScenarioWhen = z.infer<typeof WhenSchema>;

/** Parses a scenario; errors name the file and the field. */
export function parseScenario(raw: unknown, source: string): Scenario {
  const result = ScenarioSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid scenario ${source}:\n  ${lines.join('\n  ')}`);
}

export function readScenarioFile(path: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read scenario file ${path}: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}

export function builtInScenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export function builtInScenario(name: string): Scenario {
  const names = builtInScenarioNames();
  if (!names.includes(name)) throw new Error(`Unknown scenario "${name}". Built-in scenarios: ${names.join(', ')}`);
  return readScenarioFile(join(SCENARIO_DIR, `${name}.json`));
}

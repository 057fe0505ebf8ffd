/**
 * The deployment-target configuration: which model package group goes to which endpoint, with which GPU
 * spec and rollout policy. One schema serves synth time (lib/config.ts reads it from cdk.json context or a
 * file) and run time (the Lambdas receive the validated targets in the ROLLOUT_TARGETS environment variable).
 */
import { z } from 'zod';
import { ConfigurationError } from './errors';
import { SAGEMAKER_NAME_PATTERN } from './names';
import { compilePath } from './score-path';
import { DEFAULT_GATE_POLICY, type GatePolicy } from './validation-types';

const sageMakerName = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be at most 63 characters`)
    .regex(SAGEMAKER_NAME_PATTERN, `${what} must match ${SAGEMAKER_NAME_PATTERN} (letters, digits, hyphens)`);

/** SageMaker instance types, e.g. `ml.g5.xlarge`. */
const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

/** The green variant's compute. Field names follow SageMaker's ProductionVariant. */
export const GreenVariantSpecSchema = z
  .object({
    /** SageMaker instance type of the green variant, e.g. `ml.g5.xlarge`. */
    instanceType: z.string().regex(INSTANCE_TYPE_PATTERN, 'instanceType must look like ml.g5.xlarge'),
    /**
     * Instance types to try, in order, when `instanceType` has no quota headroom for green (Service Quotas "<type>
     * for endpoint usage") or SageMaker has no capacity for it. Each must differ from `instanceType` and from the
     * others; green then runs on the first that fits, with the same instance count. @default [] (no fallback)
     */
    fallbackInstanceTypes: z
      .array(z.string().regex(INSTANCE_TYPE_PATTERN, 'fallbackInstanceTypes: each must look like ml.g5.2xlarge'))
      .max(10, 'fallbackInstanceTypes: at most 10 instance types')
      .default([]),
    /** Instances green starts with. @default 1 */
    initialInstanceCount: z.number().int().min(1).max(100).default(1),
    /** Storage attached to each instance (ProductionVariant.VolumeSizeInGB, 1-512). */
    volumeSizeInGB: z.number().int().min(1).max(512).optional(),
    /** ProductionVariant.ModelDataDownloadTimeoutInSeconds (60-3600): large models need more. */
    modelDataDownloadTimeoutInSeconds: z.number().int().min(60).max(3600).optional(),
    /** ProductionVariant.ContainerStartupHealthCheckTimeoutInSeconds (60-3600). */
    containerStartupHealthCheckTimeoutInSeconds: z.number().int().min(60).max(3600).optional(),
  })
  .strict()
  .superRefine((green, ctx) => {
    // A repeated type (or the configured one again) would only be tried a second time, with the same outcome.
    const seen = new Set([green.instanceType]);
    green.fallbackInstanceTypes.forEach((type, index) => {
      if (seen.has(type)) {
        const what = type === green.instanceType ? 'is the configured instanceType' : 'is listed twice';
        ctx.addIssue({ code: 'custom', path: ['fallbackInstanceTypes', index], message: `fallbackInstanceTypes: ${type} ${what}` });
      }
      seen.add(type);
    });
  });

/** A request the smoke check sends to green. */
export const SamplePayloadSchema = z
  .object({
    /** The request body, exactly as the model's container expects it. */
    body: z.string().min(1, 'samplePayload.body must not be empty'),
    /** Content-Type of the request. @default the model package's first SupportedContentTypes entry */
    contentType: z.string().min(1).optional(),
  })
  .strict();

const positive = z.number().positive();

/** A JSON pointer or JMESPath field path into a response, checked now so a typo fails synth, not a rollout. */
const responsePath = z.string().superRefine((path, ctx) => {
  try {
    compilePath(path);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** Every green request answered (no timeout, no 5xx from SageMaker itself). */
const HealthGateSchema = z.object({ enabled: z.boolean().default(true), minSamples: z.number().int().min(1).default(100) }).strict();

/** Green's latency percentiles, absolute and relative to blue's on the same payloads in the same window. */
const LatencyGateSchema = z
  .object({
    enabled: z.boolean().default(true),
    minSamples: z.number().int().min(1).default(200),
    /** Green p50 <= this x blue p50. */
    maxRelativeP50: positive.optional(),
    /** Green p95 <= this x blue p95. */
    maxRelativeP95: positive.optional(),
    /** Green p99 <= this x blue p99. @default 1.2 */
    maxRelativeP99: positive.default(1.2),
    maxP50Ms: positive.optional(),
    maxP95Ms: positive.optional(),
    maxP99Ms: positive.optional(),
  })
  .strict();

/** Share of green requests answered with a 5xx (ModelError or SageMaker's own). */
const ErrorsGateSchema = z
  .object({ enabled: z.boolean().default(true), minSamples: z.number().int().min(1).default(200), maxErrorRate: z.number().min(0).max(1).default(0.01) })
  .strict();

/** Agreement with the dataset's expected outputs (lines that have one). */
const GoldenGateSchema = z
  .object({
    enabled: z.boolean().default(true),
    minSamples: z.number().int().min(1).default(50),
    /** classification: prediction equals expected; regression: |prediction - expected| <= tolerance. */
    mode: z.enum(['classification', 'regression']).default('classification'),
    minAgreement: z.number().min(0).max(1).default(0.95),
    tolerance: z.number().min(0).default(0.05),
  })
  .strict();

/** Green's predictions against blue's on the same inputs: Kolmogorov-Smirnov for scores, or PSI over bins. */
const DistributionGateSchema = z
  .object({
    enabled: z.boolean().default(true),
    minSamples: z.number().int().min(1).default(200),
    method: z.enum(['ks', 'psi']).default('ks'),
    /** KS fails only when p < alpha AND D > maxKsStatistic (an effect-size floor against noise). */
    alpha: z.number().gt(0).lt(1).default(0.01),
    maxKsStatistic: z.number().gt(0).max(1).default(0.1),
    /** PSI bin edges; @default blue's deciles */
    bins: z.array(z.number()).min(1).optional(),
    maxPsi: positive.default(0.2),
  })
  .strict();

/** Malformed and adversarial inputs get client errors, never a 5xx, and green answers normally afterwards. */
const RobustnessGateSchema = z.object({ enabled: z.boolean().default(true) }).strict();

/** Gates green must pass before it takes traffic; each reports its statistic, threshold and verdict. */
export const GatePolicySchema = z
  .object({
    health: HealthGateSchema.default(() => HealthGateSchema.parse(DEFAULT_GATE_POLICY.health)),
    latency: LatencyGateSchema.default(() => LatencyGateSchema.parse(DEFAULT_GATE_POLICY.latency)),
    errors: ErrorsGateSchema.default(() => ErrorsGateSchema.parse(DEFAULT_GATE_POLICY.errors)),
    golden: GoldenGateSchema.default(() => GoldenGateSchema.parse(DEFAULT_GATE_POLICY.golden)),
    distribution: DistributionGateSchema.default(() => DistributionGateSchema.parse(DEFAULT_GATE_POLICY.distribution)),
    robustness: RobustnessGateSchema.default(() => RobustnessGateSchema.parse(DEFAULT_GATE_POLICY.robustness)),
  })
  .strict();

/** Warm-up: representative traffic until green's tail latency has settled, before anything is measured. */
export const WarmUpPolicySchema = z
  .object({
    /** Requests per window; the p99 of successive windows is compared. @default 50 */
    windowSize: z.number().int().min(5).max(1000).default(50),
    /** Stable when |p99(window k) - p99(window k-1)| / p99(window k-1) is below this. @default 0.1 */
    stabilityFraction: z.number().gt(0).max(1).default(0.1),
    /** Give up (warm-up failed) after this many requests per variant. @default 2000 */
    maxRequests: z.number().int().min(10).max(100_000).default(2000),
    /** Give up after this long per warm-up (it runs in one Lambda invocation). @default 300 */
    maxSeconds: z.number().int().min(10).max(600).default(300),
  })
  .strict();

export const ValidationPolicySchema = z
  .object({
    /**
     * Golden dataset: JSON Lines in S3, one request per line: {"input": <payload>, "expected"?: <output>}.
     * @default none: the sample payload is used (too few distinct inputs for the golden and distribution gates)
     */
    datasetS3Uri: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/, 'datasetS3Uri must look like s3://bucket/key.jsonl').optional(),
    /**
     * Buckets that may hold model packages' SamplePayloadUrl archives (the fallback payload source). The
     * functions may read only these, so a package whose sample lies elsewhere is refused before anything is created.
     * @default none
     */
    samplePayloadBuckets: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'samplePayloadBuckets: S3 bucket names')).default([]),
    /** Where the score sits in a response: a JSON pointer (/score) or a JMESPath field path (predictions[0].score). @default /score */
    scorePath: responsePath.default('/score'),
    /** Where the prediction compared with `expected` sits. @default /label */
    predictionPath: responsePath.default('/label'),
    /** Requests in flight at once per variant. @default 8 */
    concurrency: z.number().int().min(1).max(64).default(8),
    /** A request unanswered after this long counts as a timeout (health gate). @default 10000 */
    requestTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Dataset lines per validation invocation (each invocation stays well within Lambda's 15 minutes). @default 1000 */
    batchSize: z.number().int().min(10).max(10_000).default(1000),
    /** Without a dataset: how many times the sample payload is sent. @default 200 */
    fallbackRequests: z.number().int().min(1).max(10_000).default(200),
    warmUp: WarmUpPolicySchema.default({ windowSize: 50, stabilityFraction: 0.1, maxRequests: 2000, maxSeconds: 300 }),
    gates: GatePolicySchema.default(() => GatePolicySchema.parse(DEFAULT_GATE_POLICY)),
    /** Ask a person even when every gate passes. @default false */
    requireHumanApproval: z.boolean().default(false),
    /** How long a rollout waits for a decision (INCONCLUSIVE, or human approval) before it rejects. @default 86400 */
    approvalTimeoutSeconds: z.number().int().min(60).max(604_800).default(86_400),
  })
  .strict();

/**
 * How traffic moves from blue to green: each step is one in-place UpdateEndpointWeightsAndCapacities, watched by
 * the rollout's alarms for `stepBakeSeconds` (the last step, 100%, for the policy's `bakeSeconds`).
 */
export const TrafficPolicySchema = z
  .object({
    /** ALL_AT_ONCE: 100% in one step. CANARY: `canaryPercent`, then 100%. LINEAR: steps of `linearStepPercent`. @default 'ALL_AT_ONCE' */
    mode: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']).default('ALL_AT_ONCE'),
    /** Green's share in the canary step (SageMaker's own canary allows at most 50%). @default 10 */
    canaryPercent: z.number().int().min(1).max(50).default(10),
    /** Green's share added by each linear step; the last step is 100%. @default 25 */
    linearStepPercent: z.number().int().min(5).max(50).default(25),
    /** Bake after each step below 100%, watched by the alarms. @default 300 */
    stepBakeSeconds: z.number().int().min(0).max(86_400).default(300),
  })
  .strict();

/**
 * The CloudWatch alarms that watch green from the first traffic step to the end of the rollback window. The
 * rollout creates three alarms on green's variant (namespace AWS/SageMaker) and deletes them when it ends; any
 * alarm in `existingAlarmNames` (metric or composite) also rolls back when it goes to ALARM.
 */
export const AlarmPolicySchema = z
  .object({
    /** 5xx rate (Average of Invocation5XXErrors, a 0-1 rate) above which green is rolled back. @default 0.01 */
    maxErrorRate: z.number().gt(0).max(1).default(0.01),
    /** Model errors rate (Average of InvocationModelErrors) above which green is rolled back. @default 0.01 */
    maxModelErrorRate: z.number().gt(0).max(1).default(0.01),
    /** p99 of ModelLatency in milliseconds (the alarm compares microseconds) above which green is rolled back. @default 1000 */
    maxModelLatencyP99Ms: positive.default(1000),
    /** CloudWatch period of the alarms (SageMaker publishes 1-minute metrics). @default 60 */
    periodSeconds: z.number().int().min(60).max(3600).multipleOf(60, 'periodSeconds must be a multiple of 60').default(60),
    /** Periods evaluated; `datapointsToAlarm` of them breaching fires the alarm. @default 3 */
    evaluationPeriods: z.number().int().min(1).max(10).default(3),
    /** @default 2 */
    datapointsToAlarm: z.number().int().min(1).max(10).default(2),
    /**
     * A step whose alarms have no data when its bake ends (no traffic reached green) is not passed:
     * `rollback` (default) treats it as a failure, `proceed` continues on the evidence of validation alone.
     */
    onMissingData: z.enum(['rollback', 'proceed']).default('rollback'),
    /** Existing alarms (metric or composite) that also roll back when they go to ALARM. @default none */
    existingAlarmNames: z.array(z.string().min(1).max(255)).max(10).default([]),
    /** The fallback: how often a watched step polls the alarms in case an alarm event was missed. @default 300 */
    checkIntervalSeconds: z.number().int().min(30).max(3600).default(300),
  })
  .strict()
  .refine((a) => a.datapointsToAlarm <= a.evaluationPeriods, { message: 'datapointsToAlarm must be <= evaluationPeriods', path: ['datapointsToAlarm'] });

/**
 * One rollout per endpoint: an approval that arrives while another package's rollout holds the endpoint waits in
 * a queue (the "Lock endpoint" step polls the lock), then plans again from what the endpoint serves by then.
 */
export const QueuePolicySchema = z
  .object({
    /** Longest a rollout waits for the endpoint before it fails with EndpointLocked (0: it does not wait). @default 10800 */
    maxWaitSeconds: z.number().int().min(0).max(86_400).default(10_800),
    /** Seconds between two attempts to take the endpoint's lock while waiting. @default 60 */
    pollSeconds: z.number().int().min(5).max(3600).default(60),
  })
  .strict();

/** How a rollout proceeds. */
export const RolloutPolicySchema = z
  .object({
    /** How long green serves all traffic, watched, before it is promoted (the bake of the 100% step). @default 600 */
    bakeSeconds: z.number().int().min(0).max(86_400).default(600),
    /** Longest an endpoint may stay Creating/Updating before the rollout gives up. @default 3600 */
    endpointUpdateTimeoutSeconds: z.number().int().min(60).max(14_400).default(3600),
    /** Seconds between two DescribeEndpoint polls while waiting for InService. @default 30 */
    pollIntervalSeconds: z.number().int().min(1).max(300).default(30),
    /**
     * A request green must answer (smoke check; and validation traffic when there is no dataset).
     * @default the dataset's first line, else the model package's SamplePayloadUrl
     */
    samplePayload: SamplePayloadSchema.optional(),
    /** Warm-up, gates and the decision. */
    validation: ValidationPolicySchema.default(ValidationPolicySchema.parse({})),
    /** How traffic moves to green. */
    traffic: TrafficPolicySchema.default(TrafficPolicySchema.parse({})),
    /** The alarms that watch green and roll it back. */
    alarms: AlarmPolicySchema.default(AlarmPolicySchema.parse({})),
    /**
     * After a clean bake blue stays provisioned at weight 0 this long, still watched: a rollback then is one
     * weight change (SageMaker's TerminationWaitInSeconds). Then blue is removed. @default 600
     */
    rollbackWindowSeconds: z.number().int().min(0).max(86_400).default(600),
    /** Waiting for the endpoint while another rollout holds it. */
    queue: QueuePolicySchema.default(QueuePolicySchema.parse({})),
  })
  .strict();

export const DeploymentTargetSchema = z
  .object({
    /** The Model Registry group whose approvals deploy to this endpoint. */
    modelPackageGroupName: sageMakerName('modelPackageGroupName'),
    /** The SageMaker endpoint that serves the group's approved versions. Created on first deployment. */
    endpointName: sageMakerName('endpointName'),
    /** The role SageMaker assumes to pull the image and model data (CreateModel ExecutionRoleArn). */
    modelExecutionRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]{1,512}$/, 'modelExecutionRoleArn must be an IAM role ARN'),
    /** The green variant's compute. */
    green: GreenVariantSpecSchema,
    /** How the rollout proceeds. */
    policy: RolloutPolicySchema,
  })
  .strict();

export const RolloutConfigSchema = z
  .object({
    targets: z
      .array(DeploymentTargetSchema)
      .min(1, 'at least one target is required')
      .superRefine((targets, ctx) => {
        const seen = new Map<string, number>();
        targets.forEach((t, i) => {
          for (const [key, value] of [
            ['modelPackageGroupName', t.modelPackageGroupName],
            ['endpointName', t.endpointName],
          ] as const) {
            const id = `${key}:${value}`;
            if (seen.has(id)) {
              ctx.addIssue({
                code: 'custom',
                path: [i, key],
                message: `${key} "${value}" is already used by target ${seen.get(id)}; each group and endpoint belongs to one target`,
              });
            } else seen.set(id, i);
          }
        });
      }),
  })
  .strict();

export type GreenVariantSpec = z.infer<typeof GreenVariantSpecSchema>;
export type RolloutPolicy = z.infer<typeof RolloutPolicySchema>;
export type ValidationPolicy = z.infer<typeof ValidationPolicySchema>;
export type GatePolicyConfig = z.infer<typeof GatePolicySchema>;
export type TrafficPolicy = z.infer<typeof TrafficPolicySchema>;
export type AlarmPolicy = z.infer<typeof AlarmPolicySchema>;
export type QueuePolicy = z.infer<typeof QueuePolicySchema>;

// Whatever the configuration produces, the gates can evaluate: a compile error here means the two drifted apart.
const configuredGatesAreEvaluable: GatePolicyConfig extends GatePolicy ? true : false = true;
void configuredGatesAreEvaluable;
export type DeploymentTarget = z.infer<typeof DeploymentTargetSchema>;
export type RolloutConfig = z.infer<typeof RolloutConfigSchema>;
/** What a user writes: defaults not yet applied. */
export type RolloutConfigInput = z.input<typeof RolloutConfigSchema>;

/** Environment variable that carries the validated targets to the Lambdas. */
export const TARGETS_ENV = 'ROLLOUT_TARGETS';

/**
 * Validates configuration. Errors name the target (by index and group) and the field:
 * `targets[0] (fraud-detector).green.instanceType: instanceType must look like ml.g5.xlarge`.
 */
export function parseRolloutConfig(raw: unknown, source = 'configuration'): RolloutConfig {
  const result = RolloutConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const targets = (raw as { targets?: Array<{ modelPackageGroupName?: unknown }> } | undefined)?.targets;
  const lines = result.error.issues.map((issue) => {
    const [first, index, ...rest] = issue.path;
    let where = issue.path.join('.');
    if (first === 'targets' && typeof index === 'number') {
      const group = Array.isArray(targets) ? targets[index]?.modelPackageGroupName : undefined;
      // Only a valid name labels the target: an invalid one (60k characters, newlines) is reported once, at its field.
      const label = typeof group === 'string' && group.length <= 63 && SAGEMAKER_NAME_PATTERN.test(group) ? ` (${group})` : '';
      where = `targets[${index}]${label}${rest.length ? '.' + rest.join('.') : ''}`;
    }
    // zod says "expected object, received undefined" for a missing field; say what it means.
    const message = /received undefined$/.test(issue.message) ? 'is required' : issue.message;
    return `${where || '(root)'}: ${message}`;
  });
  throw new ConfigurationError(`Invalid ${source}:\n  ${lines.join('\n  ')}`);
}

/** The targets as the Lambdas read them from their environment. */
export function targetsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RolloutConfig {
  const raw = env[TARGETS_ENV];
  if (!raw) throw new ConfigurationError(`${TARGETS_ENV} is not set: the function has no deployment targets`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new ConfigurationError(`${TARGETS_ENV} is not valid JSON: ${(e as Error).message}`);
  }
  return parseRolloutConfig(parsed, `${TARGETS_ENV}`);
}

export function findTarget(config: RolloutConfig, modelPackageGroupName: string): DeploymentTarget | undefined {
  return config.targets.find((t) => t.modelPackageGroupName === modelPackageGroupName);
}

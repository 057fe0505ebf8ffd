/**
 * The deployment-target configuration: which model package group goes to which endpoint, with which GPU
 * spec and rollout policy. One schema serves synth time (lib/config.ts reads it from cdk.json context or a
 * file) and run time (the Lambdas receive the validated targets in the ROLLOUT_TARGETS environment variable).
 */
import { z } from 'zod';
import { ConfigurationError } from './errors';
import { SAGEMAKER_NAME_PATTERN } from './names';

const sageMakerName = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be at most 63 characters`)
    .regex(SAGEMAKER_NAME_PATTERN, `${what} must match ${SAGEMAKER_NAME_PATTERN} (letters, digits, hyphens)`);

/** The green variant's compute. Field names follow SageMaker's ProductionVariant. */
export const GreenVariantSpecSchema = z
  .object({
    /** SageMaker instance type of the green variant, e.g. `ml.g5.xlarge`. */
    instanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'instanceType must look like ml.g5.xlarge'),
    /** Instances green starts with. @default 1 */
    initialInstanceCount: z.number().int().min(1).max(100).default(1),
    /** Storage attached to each instance (ProductionVariant.VolumeSizeInGB, 1-512). */
    volumeSizeInGB: z.number().int().min(1).max(512).optional(),
    /** ProductionVariant.ModelDataDownloadTimeoutInSeconds (60-3600): large models need more. */
    modelDataDownloadTimeoutInSeconds: z.number().int().min(60).max(3600).optional(),
    /** ProductionVariant.ContainerStartupHealthCheckTimeoutInSeconds (60-3600). */
    containerStartupHealthCheckTimeoutInSeconds: z.number().int().min(60).max(3600).optional(),
  })
  .strict();

/** A request the smoke check sends to green. */
export const SamplePayloadSchema = z
  .object({
    /** The request body, exactly as the model's container expects it. */
    body: z.string().min(1, 'samplePayload.body must not be empty'),
    /** Content-Type of the request. @default the model package's first SupportedContentTypes entry */
    contentType: z.string().min(1).optional(),
  })
  .strict();

/** How a rollout proceeds. Later features extend this. */
export const RolloutPolicySchema = z
  .object({
    /** How long green serves all traffic, watched, before blue is removed. @default 600 */
    bakeSeconds: z.number().int().min(0).max(86_400).default(600),
    /** Longest an endpoint may stay Creating/Updating before the rollout gives up. @default 3600 */
    endpointUpdateTimeoutSeconds: z.number().int().min(60).max(14_400).default(3600),
    /** Seconds between two DescribeEndpoint polls while waiting for InService. @default 30 */
    pollIntervalSeconds: z.number().int().min(1).max(300).default(30),
    /** The request the smoke check sends to green before it takes traffic. */
    samplePayload: SamplePayloadSchema,
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
      where = `targets[${index}]${typeof group === 'string' ? ` (${group})` : ''}${rest.length ? '.' + rest.join('.') : ''}`;
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

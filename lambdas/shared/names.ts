/**
 * Names of everything a rollout creates. Each is unique per rollout (it carries the deployment id, derived
 * from the execution) and readable (it carries the model package version), at most 63 characters and
 * within SageMaker's patterns, so no CreateX call fails on a name.
 */
import { createHash } from 'node:crypto';

/** Endpoint, endpoint config, variant and model package group names. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
/** Model names. */
export const MODEL_NAME_PATTERN = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
export const MAX_NAME_LENGTH = 63;

/** Eight hex characters identifying one rollout: a hash of the execution ARN. */
export function deploymentIdFor(executionArn: string): string {
  return createHash('sha256').update(executionArn).digest('hex').slice(0, 8);
}

/**
 * `prefix-suffix`, with the prefix cut so the whole fits in 63 characters. The suffix (version and
 * deployment id) is what makes the name unique, so it is never cut.
 */
export function boundedName(prefix: string, suffix: string): string {
  const room = MAX_NAME_LENGTH - suffix.length - 1;
  if (room < 1) throw new Error(`name suffix "${suffix}" leaves no room for a prefix`);
  const cut = prefix.slice(0, room).replace(/-+$/, '');
  return cut ? `${cut}-${suffix}` : suffix;
}

export interface RolloutNames {
  /** The green model (CreateModel). */
  readonly greenModelName: string;
  /** The green production variant on the endpoint. */
  readonly greenVariantName: string;
  /** Blue and green side by side (or green alone on a first deployment). */
  readonly transitionEndpointConfigName: string;
  /** Green alone: what the endpoint runs once blue is removed. */
  readonly finalEndpointConfigName: string;
}

/**
 * Names for one rollout of `modelPackageVersion` from `modelPackageGroupName` to `endpointName`.
 * Example (group fraud-detector, version 7, endpoint fraud-prod, id 3f9a2c1b):
 * model `fraud-detector-v7-3f9a2c1b`, variant `v7-3f9a2c1b`, configs `fraud-prod-v7-3f9a2c1b-bg` and
 * `fraud-prod-v7-3f9a2c1b`.
 */
export function rolloutNames(input: {
  modelPackageGroupName: string;
  modelPackageVersion: number;
  endpointName: string;
  deploymentId: string;
}): RolloutNames {
  const tag = `v${input.modelPackageVersion}-${input.deploymentId}`;
  return {
    greenModelName: boundedName(input.modelPackageGroupName, tag),
    greenVariantName: tag,
    transitionEndpointConfigName: boundedName(input.endpointName, `${tag}-bg`),
    finalEndpointConfigName: boundedName(input.endpointName, tag),
  };
}

/** A variant this system named: `v<model package version>-<deployment id>`. */
const VARIANT_NAME = /^v([1-9][0-9]*)-[0-9a-f]{8}$/;

/**
 * The model package version a variant serves, read from the name `rolloutNames` gave it (`v7-3f9a2c1b` → 7);
 * undefined for a variant named otherwise (created outside this system).
 */
export function packageVersionOfVariant(variantName: string): number | undefined {
  const match = VARIANT_NAME.exec(variantName);
  if (!match) return undefined;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** Every CloudWatch alarm this system creates starts with this (IAM scopes alarm writes to it). */
export const ALARM_NAME_PREFIX = 'sagemaker-blue-green-';

/** The three alarms a rollout creates on its green variant. */
export interface RolloutAlarmNames {
  /** Average of Invocation5XXErrors (a 0-1 rate) above the policy's maxErrorRate. */
  readonly errorRate: string;
  /** Average of InvocationModelErrors above the policy's maxModelErrorRate. */
  readonly modelErrorRate: string;
  /** p99 of ModelLatency (microseconds) above the policy's maxModelLatencyP99Ms. */
  readonly latencyP99: string;
}

/** `sagemaker-blue-green-<endpoint>-<deploymentId>-green-5xx-rate`, ...: unique per rollout, readable in the console. */
export function rolloutAlarmNames(endpointName: string, deploymentId: string): RolloutAlarmNames {
  const base = `${ALARM_NAME_PREFIX}${endpointName}-${deploymentId}-green`;
  return { errorRate: `${base}-5xx-rate`, modelErrorRate: `${base}-model-error-rate`, latencyP99: `${base}-model-latency-p99` };
}

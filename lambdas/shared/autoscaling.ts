/**
 * Application Auto Scaling of endpoint variants across a rollout. An autoscaled variant is a scalable target
 * (namespace `sagemaker`, ResourceId `endpoint/<endpoint>/variant/<variant>`, dimension
 * `sagemaker:variant:DesiredInstanceCount`) with its scaling policies. The rollout holds blue's scale-in while
 * blue's traffic drains (so a rollback is one weight change), gives a promoted green blue's scaling, and
 * releases a variant's scaling before an UpdateEndpoint removes the variant (the update fails otherwise).
 * Every function here is idempotent: the steps that call them are retried and looped.
 */
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ApplicationAutoScalingClient,
  type ScalableTarget,
  type ScalingPolicy,
  type SuspendedState,
} from '@aws-sdk/client-application-auto-scaling';
import { definedOnly } from './objects';

export const SAGEMAKER_SERVICE_NAMESPACE = 'sagemaker';
export const SAGEMAKER_SCALABLE_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
/** Longest scaling policy name Application Auto Scaling accepts. */
const MAX_POLICY_NAME_LENGTH = 256;

/** The scalable target's ResourceId of an endpoint variant. */
export function variantResourceId(endpointName: string, variantName: string): string {
  return `endpoint/${endpointName}/variant/${variantName}`;
}

/** An autoscaled variant: its scalable target and the policies attached to it. */
export interface VariantScaling {
  readonly resourceId: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** The target's suspension flags as described (an absent flag means not suspended). */
  readonly suspendedState: SuspendedState;
  readonly policies: readonly ScalingPolicy[];
}

/** True when Application Auto Scaling says the target or policy does not exist (deleting it again is done). */
export function isObjectNotFoundError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ObjectNotFoundException';
}

/** True when Application Auto Scaling refused a change because another one on the same target is pending. */
export function isConcurrentUpdateError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConcurrentUpdateException';
}

/** The variant's scalable target, or undefined when the variant is not autoscaled. */
async function describeScalableTarget(aas: ApplicationAutoScalingClient, resourceId: string): Promise<ScalableTarget | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await aas.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
        ResourceIds: [resourceId],
        ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
        NextToken: nextToken,
      }),
    );
    const target = page.ScalableTargets?.find(
      (t) => t.ResourceId === resourceId && t.ScalableDimension === SAGEMAKER_SCALABLE_DIMENSION,
    );
    if (target) return target;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

/** Every scaling policy attached to the variant's target. */
async function describeScalingPolicies(aas: ApplicationAutoScalingClient, resourceId: string): Promise<ScalingPolicy[]> {
  const policies: ScalingPolicy[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aas.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
        ResourceId: resourceId,
        ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
        NextToken: nextToken,
      }),
    );
    policies.push(...(page.ScalingPolicies ?? []).filter((p) => p.ResourceId === resourceId));
    nextToken = page.NextToken;
  } while (nextToken);
  return policies;
}

/** The variant's auto scaling (target and policies), or undefined when the variant has no scalable target. */
export async function describeVariantScaling(
  aas: ApplicationAutoScalingClient,
  endpointName: string,
  variantName: string,
): Promise<VariantScaling | undefined> {
  const resourceId = variantResourceId(endpointName, variantName);
  const target = await describeScalableTarget(aas, resourceId);
  if (!target) return undefined;
  return {
    resourceId,
    minCapacity: target.MinCapacity ?? 0,
    maxCapacity: target.MaxCapacity ?? 0,
    suspendedState: target.SuspendedState ?? {},
    policies: await describeScalingPolicies(aas, resourceId),
  };
}

/**
 * Updates the target's dynamic scale-in flag. All three flags are sent (the others as described) and so are
 * min and max: whatever RegisterScalableTarget does with an omitted field, nothing but scale-in changes.
 */
function setScaleInSuspended(aas: ApplicationAutoScalingClient, target: ScalableTarget, suspended: boolean): Promise<unknown> {
  return aas.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
      ResourceId: target.ResourceId,
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
      MinCapacity: target.MinCapacity,
      MaxCapacity: target.MaxCapacity,
      SuspendedState: {
        DynamicScalingInSuspended: suspended,
        DynamicScalingOutSuspended: target.SuspendedState?.DynamicScalingOutSuspended ?? false,
        ScheduledScalingSuspended: target.SuspendedState?.ScheduledScalingSuspended ?? false,
      },
    }),
  );
}

/**
 * Suspends the variant's dynamic scale-in, so it keeps its instances while its traffic drains.
 * `held` is true only when this call suspended it: a variant without a target, or whose scale-in someone had
 * already suspended (`previouslySuspended`), is left as it is, and only a `held` suspension is resumed later.
 */
export async function holdScaleIn(
  aas: ApplicationAutoScalingClient,
  endpointName: string,
  variantName: string,
): Promise<{ held: boolean; previouslySuspended: boolean }> {
  const target = await describeScalableTarget(aas, variantResourceId(endpointName, variantName));
  if (!target) return { held: false, previouslySuspended: false };
  if (target.SuspendedState?.DynamicScalingInSuspended === true) return { held: false, previouslySuspended: true };
  await setScaleInSuspended(aas, target, true);
  return { held: true, previouslySuspended: false };
}

/**
 * Resumes the variant's dynamic scale-in (the other flags and min/max unchanged). Returns true when it
 * resumed it; false when there was nothing to resume (no scalable target any more, or scale-in not suspended).
 */
export async function resumeScaleIn(aas: ApplicationAutoScalingClient, endpointName: string, variantName: string): Promise<boolean> {
  const target = await describeScalableTarget(aas, variantResourceId(endpointName, variantName));
  if (!target || target.SuspendedState?.DynamicScalingInSuspended !== true) return false;
  await setScaleInSuspended(aas, target, false);
  return true;
}

/**
 * Gives `toVariant` the auto scaling of `fromVariant`: a scalable target with the same min and max (scale-in
 * not suspended, the other flags as `fromVariant`'s) and a copy of each policy, same type and configuration,
 * with metric dimensions that named `fromVariant` retargeted to `toVariant`. Register only while the endpoint
 * is InService (the caller checks). `copied` is false when `fromVariant` is not autoscaled. Step scaling
 * policies are copied without the CloudWatch alarms that trigger them (those alarms are not part of the policy).
 */
export async function copyScaling(
  aas: ApplicationAutoScalingClient,
  endpointName: string,
  fromVariant: string,
  toVariant: string,
): Promise<{ copied: boolean; policyNames: string[] }> {
  const from = await describeVariantScaling(aas, endpointName, fromVariant);
  if (!from) return { copied: false, policyNames: [] };
  const resourceId = variantResourceId(endpointName, toVariant);
  // Register again is an update: a retry of this step changes nothing.
  await aas.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
      ResourceId: resourceId,
      ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
      MinCapacity: from.minCapacity,
      MaxCapacity: from.maxCapacity,
      SuspendedState: {
        DynamicScalingInSuspended: false,
        DynamicScalingOutSuspended: from.suspendedState.DynamicScalingOutSuspended ?? false,
        ScheduledScalingSuspended: from.suspendedState.ScheduledScalingSuspended ?? false,
      },
    }),
  );
  const policyNames: string[] = [];
  for (const policy of from.policies) {
    const policyName = copiedPolicyName(policy.PolicyName ?? '', fromVariant, toVariant);
    // PutScalingPolicy creates or updates by name: a retry overwrites the same policy.
    await aas.send(
      new PutScalingPolicyCommand({
        PolicyName: policyName,
        ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
        ResourceId: resourceId,
        ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
        ...definedOnly({
          PolicyType: policy.PolicyType,
          StepScalingPolicyConfiguration: policy.StepScalingPolicyConfiguration,
          TargetTrackingScalingPolicyConfiguration: retargetVariantDimensions(policy.TargetTrackingScalingPolicyConfiguration, fromVariant, toVariant),
          PredictiveScalingPolicyConfiguration: retargetVariantDimensions(policy.PredictiveScalingPolicyConfiguration, fromVariant, toVariant),
        }),
      }),
    );
    policyNames.push(policyName);
  }
  return { copied: true, policyNames };
}

/**
 * Removes the variant's auto scaling before an UpdateEndpoint removes the variant: each policy is deleted, then
 * the target deregistered. What is already gone (ObjectNotFoundException) counts as done. `released` is false
 * when the variant had no scalable target.
 */
export async function releaseVariantScaling(
  aas: ApplicationAutoScalingClient,
  endpointName: string,
  variantName: string,
): Promise<{ released: boolean; policyNames: string[] }> {
  const scaling = await describeVariantScaling(aas, endpointName, variantName);
  if (!scaling) return { released: false, policyNames: [] };
  const policyNames: string[] = [];
  for (const policy of scaling.policies) {
    const policyName = policy.PolicyName ?? '';
    await unlessObjectNotFound(() =>
      aas.send(
        new DeleteScalingPolicyCommand({
          PolicyName: policyName,
          ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
          ResourceId: scaling.resourceId,
          ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
        }),
      ),
    );
    policyNames.push(policyName);
  }
  await unlessObjectNotFound(() =>
    aas.send(
      new DeregisterScalableTargetCommand({
        ServiceNamespace: SAGEMAKER_SERVICE_NAMESPACE,
        ResourceId: scaling.resourceId,
        ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION,
      }),
    ),
  );
  return { released: true, policyNames };
}

/**
 * The copy's policy name: `fromVariant` replaced by `toVariant` where the name contains it, else the name
 * suffixed with `-<toVariant>` (shortened to fit the 256-character limit).
 */
export function copiedPolicyName(policyName: string, fromVariant: string, toVariant: string): string {
  if (fromVariant !== '' && policyName.includes(fromVariant)) {
    const replaced = policyName.split(fromVariant).join(toVariant);
    if (replaced.length <= MAX_POLICY_NAME_LENGTH) return replaced;
  }
  const suffix = `-${toVariant}`;
  return `${policyName.slice(0, MAX_POLICY_NAME_LENGTH - suffix.length)}${suffix}`;
}

/**
 * A deep copy of a policy configuration in which every metric dimension `VariantName = fromVariant` names
 * `toVariant` instead: a customized metric on blue's variant would otherwise scale green on blue's load.
 */
export function retargetVariantDimensions<T>(value: T, fromVariant: string, toVariant: string): T {
  if (Array.isArray(value)) return value.map((item) => retargetVariantDimensions(item, fromVariant, toVariant)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const entries = Object.entries(value as Record<string, unknown>).map(([key, field]) => [key, retargetVariantDimensions(field, fromVariant, toVariant)]);
  const copy = Object.fromEntries(entries) as Record<string, unknown>;
  if (copy.Name === 'VariantName' && copy.Value === fromVariant) copy.Value = toVariant;
  return copy as T;
}

async function unlessObjectNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isObjectNotFoundError(error)) throw error;
  }
}

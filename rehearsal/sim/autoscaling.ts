/**
 * Application Auto Scaling for SageMaker endpoint variants, in memory: scalable targets (RegisterScalableTarget,
 * DeregisterScalableTarget, DescribeScalableTargets), scaling policies (PutScalingPolicy, DescribeScalingPolicies,
 * DeleteScalingPolicy), and the target tracking that acts on them each minute of production traffic (`evaluate`).
 *
 * Only the namespace `sagemaker` with dimension `sagemaker:variant:DesiredInstanceCount` and resource IDs
 * `endpoint/<endpoint>/variant/<variant>` are modelled; other valid values are refused with a ValidationException
 * naming them. Target tracking is evaluated for the predefined metric SageMakerVariantInvocationsPerInstance;
 * step scaling and customized-metric policies are stored and described but never act.
 *
 * Target tracking, simplified from AWS's: desired = ceil(invocations per instance per minute x instances / target),
 * clamped to [max(MinCapacity, 1), MaxCapacity]. Scale-out happens at once (not within ScaleOutCooldown of the
 * previous one) unless DynamicScalingOutSuspended; scale-in only once the lower desire has lasted ScaleInCooldown
 * (AWS waits for 15 low datapoints) and not within ScaleInCooldown of the previous scale-in, unless
 * DynamicScalingInSuspended or the policy's DisableScaleIn. A variant receiving no invocations therefore shrinks
 * to MinCapacity: what a blue variant at weight 0 suffers during a rollout unless its scale-in is suspended.
 * Decisions apply only while the endpoint is InService (auto scaling is paused during updates).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nowMs } from './clock';
import { AwsServiceError } from './errors';
import type { SageMakerSimulation, ScalableTargetRegistry } from './sagemaker';
import { parseAwsInput } from './validation';

export const SAGEMAKER_NAMESPACE = 'sagemaker';
export const VARIANT_INSTANCE_COUNT_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
export const INVOCATIONS_PER_INSTANCE_METRIC = 'SageMakerVariantInvocationsPerInstance';
/** Target tracking's default cooldowns for SageMaker endpoint variants (Application Auto Scaling User Guide). */
export const DEFAULT_SCALE_OUT_COOLDOWN_SECONDS = 300;
export const DEFAULT_SCALE_IN_COOLDOWN_SECONDS = 300;

/** One minute of a variant's production traffic, as CloudWatch would aggregate it (only invocations matter here). */
export interface VariantInvocations {
  readonly endpointName: string;
  readonly variantName: string;
  readonly invocations: number;
}

export interface SuspendedState {
  readonly DynamicScalingInSuspended: boolean;
  readonly DynamicScalingOutSuspended: boolean;
  readonly ScheduledScalingSuspended: boolean;
}

/** A registered scalable target, as DescribeScalableTargets returns it (times in epoch ms). */
export interface ScalableTargetSnapshot {
  readonly serviceNamespace: string;
  readonly resourceId: string;
  readonly scalableDimension: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly roleArn: string;
  readonly suspendedState: SuspendedState;
  readonly scalableTargetArn: string;
  readonly creationTimeMs: number;
}

/** A stored scaling policy (times in epoch ms). */
export interface ScalingPolicySnapshot {
  readonly policyArn: string;
  readonly policyName: string;
  readonly resourceId: string;
  readonly policyType: 'TargetTrackingScaling' | 'StepScaling';
  readonly targetTracking?: {
    readonly targetValue: number;
    readonly predefinedMetricType?: string;
    readonly customized: boolean;
    readonly scaleOutCooldownSeconds?: number;
    readonly scaleInCooldownSeconds?: number;
    readonly disableScaleIn: boolean;
  };
  readonly creationTimeMs: number;
}

/** A capacity change auto scaling made (or could not make). */
export interface ScalingActivity {
  readonly resourceId: string;
  readonly atMs: number;
  readonly fromCount: number;
  readonly toCount: number;
  /** Why: the policy and metric behind the decision, or the registration that clamped capacity. */
  readonly cause: string;
  /** `Failed`: SageMaker did not accept the change (the endpoint was not InService). */
  readonly status: 'Successful' | 'Failed';
}

interface StoredTarget {
  readonly resourceId: string;
  readonly endpointName: string;
  readonly variantName: string;
  minCapacity: number;
  maxCapacity: number;
  roleArn: string;
  suspendedState: SuspendedState;
  readonly scalableTargetArn: string;
  readonly creationTimeMs: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Target tracking state. */
  lastScaleOutAtMs?: number;
  lastScaleInAtMs?: number;
  /** Since when every evaluable policy has wanted fewer instances. */
  lowSinceMs?: number;
}

interface StoredPolicy {
  readonly policyArn: string;
  readonly policyName: string;
  readonly resourceId: string;
  readonly policyType: 'TargetTrackingScaling' | 'StepScaling';
  /** The configuration as given (described back as is). */
  readonly configuration: Record<string, unknown>;
  readonly alarms: readonly { AlarmName: string; AlarmARN: string }[];
  readonly creationTimeMs: number;
}

const SERVICE_NAMESPACES = [
  'ecs',
  'elasticmapreduce',
  'ec2',
  'appstream',
  'dynamodb',
  'rds',
  'sagemaker',
  'custom-resource',
  'comprehend',
  'lambda',
  'cassandra',
  'kafka',
  'elasticache',
  'neptune',
  'workspaces',
] as const;

/** The model's XmlString pattern: characters XML allows. */
const XML_STRING = /^[\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}\r\n\t]*$/u;
const resourceId = z.string().min(1).max(1600).regex(XML_STRING);
const serviceNamespace = z.enum(SERVICE_NAMESPACES);
/** The model enumerates dimensions; any `namespace:resource:property` shape passes here and is refused below if not modelled. */
const scalableDimension = z.string().min(1);
const suspendedState = z.object({
  DynamicScalingInSuspended: z.boolean().optional(),
  DynamicScalingOutSuspended: z.boolean().optional(),
  ScheduledScalingSuspended: z.boolean().optional(),
});

const registerInput = z.object({
  ServiceNamespace: serviceNamespace,
  ResourceId: resourceId,
  ScalableDimension: scalableDimension,
  MinCapacity: z.number().int().optional(),
  MaxCapacity: z.number().int().optional(),
  RoleARN: resourceId.optional(),
  SuspendedState: suspendedState.optional(),
  Tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
});

const targetInput = z.object({ ServiceNamespace: serviceNamespace, ResourceId: resourceId, ScalableDimension: scalableDimension });

const describeTargetsInput = z.object({
  ServiceNamespace: serviceNamespace,
  ResourceIds: z.array(resourceId).max(50).optional(),
  ScalableDimension: scalableDimension.optional(),
  MaxResults: z.number().int().optional(),
  NextToken: z.string().regex(XML_STRING).optional(),
});

const targetTrackingConfiguration = z.object({
  TargetValue: z.number(),
  PredefinedMetricSpecification: z.object({ PredefinedMetricType: z.string(), ResourceLabel: z.string().min(1).max(1023).optional() }).optional(),
  CustomizedMetricSpecification: z.record(z.string(), z.unknown()).optional(),
  ScaleOutCooldown: z.number().int().optional(),
  ScaleInCooldown: z.number().int().optional(),
  DisableScaleIn: z.boolean().optional(),
});

const putPolicyInput = z.object({
  // The model's `\p{Print}` (Java): printable ASCII.
  PolicyName: z.string().min(1).max(256).regex(/^[\x20-\x7E]+$/),
  ServiceNamespace: serviceNamespace,
  ResourceId: resourceId,
  ScalableDimension: scalableDimension,
  PolicyType: z.enum(['StepScaling', 'TargetTrackingScaling', 'PredictiveScaling']).optional(),
  StepScalingPolicyConfiguration: z.record(z.string(), z.unknown()).optional(),
  TargetTrackingScalingPolicyConfiguration: targetTrackingConfiguration.optional(),
  PredictiveScalingPolicyConfiguration: z.unknown().optional(),
});

const describePoliciesInput = z.object({
  PolicyNames: z.array(resourceId).max(50).optional(),
  ServiceNamespace: serviceNamespace,
  ResourceId: resourceId.optional(),
  ScalableDimension: scalableDimension.optional(),
  MaxResults: z.number().int().optional(),
  NextToken: z.string().regex(XML_STRING).optional(),
});

const deletePolicyInput = z.object({ PolicyName: resourceId, ServiceNamespace: serviceNamespace, ResourceId: resourceId, ScalableDimension: scalableDimension });

const VARIANT_RESOURCE_ID = /^endpoint\/([^/]+)\/variant\/([^/]+)$/;

function autoScalingError(code: string, message: string): AwsServiceError {
  return new AwsServiceError(code, message, { service: 'application-autoscaling' });
}

const validation = (message: string): AwsServiceError => autoScalingError('ValidationException', message);

function hashHex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** A UUID-shaped identifier derived from `text` (deterministic, so rehearsals replay identically). */
function derivedUuid(text: string): string {
  const hex = hashHex(text, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function pageOf<T>(items: readonly T[], maxResults: number | undefined, limit: number, nextToken: string | undefined): { page: T[]; nextToken?: string } {
  if (maxResults !== undefined && (maxResults < 1 || maxResults > limit)) {
    throw validation(`1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${limit}`);
  }
  let start = 0;
  if (nextToken !== undefined) {
    const decoded = /^page:(\d+)$/.exec(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!decoded) throw autoScalingError('InvalidNextTokenException', 'Invalid NextToken');
    start = Number(decoded[1]);
  }
  const size = maxResults ?? limit;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`page:${start + size}`).toString('base64') : undefined;
  return { page, ...(next !== undefined ? { nextToken: next } : {}) };
}

export interface AutoScalingSimulationOptions {
  readonly region: string;
  readonly accountId: string;
  readonly sagemaker: SageMakerSimulation;
}

export class ApplicationAutoScalingSimulation implements ScalableTargetRegistry {
  private readonly targets = new Map<string, StoredTarget>();
  /** Policies by `resourceId` then policy name. */
  private readonly policies = new Map<string, Map<string, StoredPolicy>>();
  private readonly activities: ScalingActivity[] = [];
  private readonly region: string;
  private readonly accountId: string;
  private readonly sagemaker: SageMakerSimulation;

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    RegisterScalableTarget: (input) => this.registerScalableTarget(input),
    DeregisterScalableTarget: (input) => this.deregisterScalableTarget(input),
    DescribeScalableTargets: (input) => this.describeScalableTargets(input),
    PutScalingPolicy: (input) => this.putScalingPolicy(input),
    DescribeScalingPolicies: (input) => this.describeScalingPolicies(input),
    DeleteScalingPolicy: (input) => this.deleteScalingPolicy(input),
  };

  constructor(options: AutoScalingSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.sagemaker = options.sagemaker;
  }

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /** Executes one API operation on its decoded JSON input; throws AwsServiceError as Application Auto Scaling would answer. */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) {
      throw autoScalingError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    }
    return run(input);
  }

  // ---------------------------------------------------------------- inspection

  /** Registered targets, in registration order. */
  scalableTargets(): ScalableTargetSnapshot[] {
    return [...this.targets.values()].map((target) => ({
      serviceNamespace: SAGEMAKER_NAMESPACE,
      resourceId: target.resourceId,
      scalableDimension: VARIANT_INSTANCE_COUNT_DIMENSION,
      minCapacity: target.minCapacity,
      maxCapacity: target.maxCapacity,
      roleArn: target.roleArn,
      suspendedState: { ...target.suspendedState },
      scalableTargetArn: target.scalableTargetArn,
      creationTimeMs: target.creationTimeMs,
    }));
  }

  /** Stored policies, by target then creation. */
  scalingPolicies(): ScalingPolicySnapshot[] {
    return [...this.policies.values()].flatMap((byName) =>
      [...byName.values()].map((policy) => {
        const tracking = policy.policyType === 'TargetTrackingScaling' ? (policy.configuration as z.output<typeof targetTrackingConfiguration>) : undefined;
        return {
          policyArn: policy.policyArn,
          policyName: policy.policyName,
          resourceId: policy.resourceId,
          policyType: policy.policyType,
          ...(tracking
            ? {
                targetTracking: {
                  targetValue: tracking.TargetValue,
                  ...(tracking.PredefinedMetricSpecification ? { predefinedMetricType: tracking.PredefinedMetricSpecification.PredefinedMetricType } : {}),
                  customized: tracking.CustomizedMetricSpecification !== undefined,
                  ...(tracking.ScaleOutCooldown !== undefined ? { scaleOutCooldownSeconds: tracking.ScaleOutCooldown } : {}),
                  ...(tracking.ScaleInCooldown !== undefined ? { scaleInCooldownSeconds: tracking.ScaleInCooldown } : {}),
                  disableScaleIn: tracking.DisableScaleIn === true,
                },
              }
            : {}),
          creationTimeMs: policy.creationTimeMs,
        };
      }),
    );
  }

  /** Every capacity change auto scaling decided, in order. */
  scalingActivities(): ScalingActivity[] {
    return this.activities.map((activity) => ({ ...activity }));
  }

  // ---------------------------------------------------------------- SageMaker's side (ScalableTargetRegistry)

  registeredVariants(endpointName: string): readonly string[] {
    const wanted = endpointName.toLowerCase();
    return [...this.targets.values()].filter((target) => target.endpointName.toLowerCase() === wanted).map((target) => target.variantName);
  }

  deregisterEndpoint(endpointName: string): void {
    const wanted = endpointName.toLowerCase();
    for (const target of [...this.targets.values()]) {
      if (target.endpointName.toLowerCase() !== wanted) continue;
      this.targets.delete(target.resourceId);
      this.policies.delete(target.resourceId);
    }
  }

  // ---------------------------------------------------------------- target tracking

  /**
   * One evaluation of every target-tracking policy on SageMakerVariantInvocationsPerInstance, from the traffic of
   * the last `periodSeconds` (a variant without a sample received no invocations). Applies the decisions to
   * SageMaker and records them as scaling activities.
   */
  evaluate(samples: readonly VariantInvocations[], atMs: number = nowMs(), periodSeconds = 60): void {
    for (const target of [...this.targets.values()]) {
      const policies = [...(this.policies.get(target.resourceId)?.values() ?? [])].flatMap((policy) => {
        if (policy.policyType !== 'TargetTrackingScaling') return [];
        const configuration = policy.configuration as z.output<typeof targetTrackingConfiguration>;
        return configuration.PredefinedMetricSpecification?.PredefinedMetricType === INVOCATIONS_PER_INSTANCE_METRIC ? [{ policy, configuration }] : [];
      });
      if (policies.length === 0) continue;
      const variant = this.sagemaker.scalableVariant(target.endpointName, target.variantName);
      // Paused while the endpoint updates (or gone): the low-traffic streak carries on from where it was.
      if (!variant?.variant || variant.endpointStatus !== 'InService') continue;
      const current = variant.variant.currentInstanceCount;
      const invocations = samples
        .filter((sample) => sample.endpointName.toLowerCase() === target.endpointName.toLowerCase() && sample.variantName === target.variantName)
        .reduce((sum, sample) => sum + sample.invocations, 0);
      const perMinute = (invocations * 60) / periodSeconds;
      const floor = Math.max(target.minCapacity, 1);
      const decisions = policies.map(({ policy, configuration }) => {
        const raw = Math.ceil(perMinute / configuration.TargetValue);
        const desired = Math.min(target.maxCapacity, Math.max(floor, raw));
        return {
          policy,
          configuration,
          // A policy that may not scale in never votes for fewer instances.
          desired: configuration.DisableScaleIn === true ? Math.max(desired, current) : desired,
        };
      });
      const wanted = Math.max(...decisions.map((decision) => decision.desired));
      const cause = (decision: (typeof decisions)[number]): string =>
        `policy ${decision.policy.policyName}: ${(perMinute / current).toFixed(1)} invocations per instance per minute against a target of ${decision.configuration.TargetValue}`;

      if (wanted > current) {
        target.lowSinceMs = undefined;
        if (target.suspendedState.DynamicScalingOutSuspended) continue;
        const leading = decisions.find((decision) => decision.desired === wanted)!;
        const cooldownMs = (leading.configuration.ScaleOutCooldown ?? DEFAULT_SCALE_OUT_COOLDOWN_SECONDS) * 1000;
        if (target.lastScaleOutAtMs !== undefined && atMs - target.lastScaleOutAtMs < cooldownMs) continue;
        if (this.scale(target, current, wanted, atMs, cause(leading))) target.lastScaleOutAtMs = atMs;
      } else if (wanted < current) {
        target.lowSinceMs ??= atMs;
        if (target.suspendedState.DynamicScalingInSuspended) continue;
        const cooldownMs = Math.max(...decisions.map((decision) => (decision.configuration.ScaleInCooldown ?? DEFAULT_SCALE_IN_COOLDOWN_SECONDS) * 1000));
        if (atMs - target.lowSinceMs < cooldownMs) continue;
        if (target.lastScaleInAtMs !== undefined && atMs - target.lastScaleInAtMs < cooldownMs) continue;
        const leading = decisions.find((decision) => decision.desired === wanted)!;
        if (this.scale(target, current, wanted, atMs, cause(leading))) {
          target.lastScaleInAtMs = atMs;
          target.lowSinceMs = undefined;
        }
      } else {
        target.lowSinceMs = undefined;
      }
    }
  }

  private scale(target: StoredTarget, fromCount: number, toCount: number, atMs: number, cause: string): boolean {
    const applied = this.sagemaker.applyScalingCapacity(target.endpointName, target.variantName, toCount, cause);
    this.activities.push({ resourceId: target.resourceId, atMs, fromCount, toCount, cause, status: applied ? 'Successful' : 'Failed' });
    return applied;
  }

  // ---------------------------------------------------------------- API

  /** The endpoint and variant of a SageMaker variant target; refuses every other namespace, dimension or ID shape. */
  private variantTarget(namespace: string, dimension: string, id: string): { endpointName: string; variantName: string } {
    if (namespace !== SAGEMAKER_NAMESPACE) {
      throw validation(`Unsupported service namespace, resource type or scalable dimension: the simulation models service namespace ${SAGEMAKER_NAMESPACE} only, got ${namespace}`);
    }
    if (dimension !== VARIANT_INSTANCE_COUNT_DIMENSION) {
      throw validation(`Unsupported service namespace, resource type or scalable dimension: the simulation models ${VARIANT_INSTANCE_COUNT_DIMENSION} only, got ${dimension}`);
    }
    const match = VARIANT_RESOURCE_ID.exec(id);
    if (!match) {
      throw validation(`Unsupported resource ID ${id} for scalable dimension ${VARIANT_INSTANCE_COUNT_DIMENSION}: expected endpoint/<endpoint-name>/variant/<variant-name>`);
    }
    return { endpointName: match[1]!, variantName: match[2]! };
  }

  private notRegistered(namespace: string, id: string, dimension: string): AwsServiceError {
    return autoScalingError(
      'ObjectNotFoundException',
      `No scalable target registered for service namespace: ${namespace}, resource ID: ${id}, scalable dimension: ${dimension}`,
    );
  }

  private registerScalableTarget(rawInput: unknown): object {
    const input = parseAwsInput(registerInput, rawInput);
    const { endpointName, variantName } = this.variantTarget(input.ServiceNamespace, input.ScalableDimension, input.ResourceId);
    const existing = this.targets.get(input.ResourceId);
    if (existing && input.Tags !== undefined) {
      throw validation('The scalable target that you tried to tag already exists. To update tags on an existing scalable target, use the TagResource API.');
    }
    const minCapacity = input.MinCapacity ?? existing?.minCapacity;
    const maxCapacity = input.MaxCapacity ?? existing?.maxCapacity;
    if (minCapacity === undefined || maxCapacity === undefined) {
      throw validation('MinCapacity and MaxCapacity are required when registering a new scalable target.');
    }
    if (minCapacity < 0 || maxCapacity < 0) throw validation('Minimum and maximum capacity cannot be negative.');
    if (minCapacity > maxCapacity) throw validation('Minimum capacity cannot be greater than maximum capacity.');
    if (minCapacity < 1) {
      // Scaling a variant to zero needs inference components (and step scaling to come back), which neither this
      // project nor the simulation uses.
      throw validation(`Minimum capacity 0 is not supported by the simulation for ${input.ResourceId}: instance-based variants keep at least 1 instance.`);
    }

    const endpoint = this.sagemaker.scalableVariant(endpointName, variantName);
    const endpointArn = `arn:aws:sagemaker:${this.region}:${this.accountId}:endpoint/${endpointName.toLowerCase()}`;
    if (!endpoint) throw validation(`Could not find endpoint "${endpointArn}".`);
    if (endpoint.endpointStatus !== 'InService') {
      throw validation(`Endpoint ${endpoint.endpointName} is in ${endpoint.endpointStatus} status. The status should be in 'InService' to register it as a scalable target.`);
    }
    if (!endpoint.variant) throw validation(`The variant name(s) [${variantName}] are not present in endpoint "${endpoint.endpointArn}".`);

    const suspended: SuspendedState = {
      DynamicScalingInSuspended: input.SuspendedState?.DynamicScalingInSuspended ?? existing?.suspendedState.DynamicScalingInSuspended ?? false,
      DynamicScalingOutSuspended: input.SuspendedState?.DynamicScalingOutSuspended ?? existing?.suspendedState.DynamicScalingOutSuspended ?? false,
      ScheduledScalingSuspended: input.SuspendedState?.ScheduledScalingSuspended ?? existing?.suspendedState.ScheduledScalingSuspended ?? false,
    };
    const target: StoredTarget = existing ?? {
      resourceId: input.ResourceId,
      endpointName,
      variantName,
      minCapacity,
      maxCapacity,
      roleArn:
        input.RoleARN ??
        `arn:aws:iam::${this.accountId}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
      suspendedState: suspended,
      scalableTargetArn: `arn:aws:application-autoscaling:${this.region}:${this.accountId}:scalable-target/056a${hashHex(input.ResourceId, 28)}`,
      creationTimeMs: nowMs(),
      tags: { ...(input.Tags ?? {}) },
    };
    target.minCapacity = minCapacity;
    target.maxCapacity = maxCapacity;
    if (input.RoleARN !== undefined) target.roleArn = input.RoleARN;
    target.suspendedState = suspended;
    this.targets.set(target.resourceId, target);

    // Registering brings the current capacity inside the new range (the endpoint is InService, checked above).
    const current = endpoint.variant.currentInstanceCount;
    const clamped = Math.min(maxCapacity, Math.max(minCapacity, current));
    if (clamped !== current) this.scale(target, current, clamped, nowMs(), `RegisterScalableTarget: capacity ${current} outside [${minCapacity}, ${maxCapacity}]`);
    return { ScalableTargetARN: target.scalableTargetArn };
  }

  private deregisterScalableTarget(rawInput: unknown): object {
    const input = parseAwsInput(targetInput, rawInput);
    this.variantTarget(input.ServiceNamespace, input.ScalableDimension, input.ResourceId);
    if (!this.targets.has(input.ResourceId)) throw this.notRegistered(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
    this.targets.delete(input.ResourceId);
    // Deregistering deletes the target's scaling policies too.
    this.policies.delete(input.ResourceId);
    return {};
  }

  private describeScalableTargets(rawInput: unknown): object {
    const input = parseAwsInput(describeTargetsInput, rawInput);
    const wantedIds = input.ResourceIds && input.ResourceIds.length > 0 ? new Set(input.ResourceIds) : undefined;
    const matching =
      input.ServiceNamespace !== SAGEMAKER_NAMESPACE
        ? []
        : [...this.targets.values()].filter(
            (target) =>
              (wantedIds === undefined || wantedIds.has(target.resourceId)) &&
              (input.ScalableDimension === undefined || input.ScalableDimension === VARIANT_INSTANCE_COUNT_DIMENSION),
          );
    const { page, nextToken } = pageOf(matching, input.MaxResults, 50, input.NextToken);
    return {
      ScalableTargets: page.map((target) => ({
        ServiceNamespace: SAGEMAKER_NAMESPACE,
        ResourceId: target.resourceId,
        ScalableDimension: VARIANT_INSTANCE_COUNT_DIMENSION,
        MinCapacity: target.minCapacity,
        MaxCapacity: target.maxCapacity,
        RoleARN: target.roleArn,
        CreationTime: target.creationTimeMs / 1000,
        SuspendedState: { ...target.suspendedState },
        ScalableTargetARN: target.scalableTargetArn,
      })),
      ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    };
  }

  private putScalingPolicy(rawInput: unknown): object {
    const input = parseAwsInput(putPolicyInput, rawInput);
    this.variantTarget(input.ServiceNamespace, input.ScalableDimension, input.ResourceId);
    const policyType = input.PolicyType ?? 'StepScaling';
    if (policyType === 'PredictiveScaling') throw validation('PredictiveScaling policies are not supported by the simulation.');
    let configuration: Record<string, unknown>;
    if (policyType === 'TargetTrackingScaling') {
      const tracking = input.TargetTrackingScalingPolicyConfiguration;
      if (!tracking) throw validation('TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling.');
      if (input.StepScalingPolicyConfiguration !== undefined) {
        throw validation('StepScalingPolicyConfiguration cannot be specified for a policy of type TargetTrackingScaling.');
      }
      const predefined = tracking.PredefinedMetricSpecification;
      if ((predefined === undefined) === (tracking.CustomizedMetricSpecification === undefined)) {
        throw validation('Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified.');
      }
      if (predefined && predefined.PredefinedMetricType !== INVOCATIONS_PER_INSTANCE_METRIC) {
        throw validation(
          `Unsupported predefined metric type ${predefined.PredefinedMetricType} for scalable dimension ${VARIANT_INSTANCE_COUNT_DIMENSION}: the simulation models ${INVOCATIONS_PER_INSTANCE_METRIC}.`,
        );
      }
      if (!(tracking.TargetValue > 0)) throw validation(`The target value ${tracking.TargetValue} must be greater than 0.`);
      for (const [name, value] of [['ScaleOutCooldown', tracking.ScaleOutCooldown], ['ScaleInCooldown', tracking.ScaleInCooldown]] as const) {
        if (value !== undefined && value < 0) throw validation(`${name} cannot be negative, got ${value}.`);
      }
      configuration = structuredClone(tracking) as Record<string, unknown>;
    } else {
      if (!input.StepScalingPolicyConfiguration) throw validation('StepScalingPolicyConfiguration is required for a policy of type StepScaling.');
      if (input.TargetTrackingScalingPolicyConfiguration !== undefined) {
        throw validation('TargetTrackingScalingPolicyConfiguration cannot be specified for a policy of type StepScaling.');
      }
      configuration = structuredClone(input.StepScalingPolicyConfiguration);
    }
    if (!this.targets.has(input.ResourceId)) throw this.notRegistered(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);

    const byName = this.policies.get(input.ResourceId) ?? new Map<string, StoredPolicy>();
    const previous = byName.get(input.PolicyName);
    if (previous && previous.policyType !== policyType) {
      throw validation(`Scaling policy ${input.PolicyName} already exists with policy type ${previous.policyType}: delete it before changing its type.`);
    }
    const uuid = derivedUuid(`${input.ResourceId}/${input.PolicyName}`);
    const alarmArn = (name: string): string => `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
    // Target tracking creates (and owns) a high and a low alarm; the CloudWatch simulation does not hold them.
    const alarms =
      policyType === 'TargetTrackingScaling'
        ? ['AlarmHigh', 'AlarmLow'].map((suffix) => {
            const name = `TargetTracking-${input.ResourceId}-${suffix}-${derivedUuid(`${uuid}/${suffix}`)}`;
            return { AlarmName: name, AlarmARN: alarmArn(name) };
          })
        : [];
    const policy: StoredPolicy = {
      policyArn: `arn:aws:autoscaling:${this.region}:${this.accountId}:scalingPolicy:${uuid}:resource/${SAGEMAKER_NAMESPACE}/${input.ResourceId}:policyName/${input.PolicyName}`,
      policyName: input.PolicyName,
      resourceId: input.ResourceId,
      policyType,
      configuration,
      alarms,
      creationTimeMs: previous?.creationTimeMs ?? nowMs(),
    };
    byName.set(input.PolicyName, policy);
    this.policies.set(input.ResourceId, byName);
    return { PolicyARN: policy.policyArn, ...(alarms.length > 0 ? { Alarms: alarms.map((alarm) => ({ ...alarm })) } : {}) };
  }

  private describeScalingPolicies(rawInput: unknown): object {
    const input = parseAwsInput(describePoliciesInput, rawInput);
    const wantedNames = input.PolicyNames && input.PolicyNames.length > 0 ? new Set(input.PolicyNames) : undefined;
    const matching =
      input.ServiceNamespace !== SAGEMAKER_NAMESPACE || (input.ScalableDimension !== undefined && input.ScalableDimension !== VARIANT_INSTANCE_COUNT_DIMENSION)
        ? []
        : [...this.policies.values()]
            .flatMap((byName) => [...byName.values()])
            .filter((policy) => (input.ResourceId === undefined || policy.resourceId === input.ResourceId) && (wantedNames === undefined || wantedNames.has(policy.policyName)));
    const { page, nextToken } = pageOf(matching, input.MaxResults, 10, input.NextToken);
    return {
      ScalingPolicies: page.map((policy) => ({
        PolicyARN: policy.policyArn,
        PolicyName: policy.policyName,
        ServiceNamespace: SAGEMAKER_NAMESPACE,
        ResourceId: policy.resourceId,
        ScalableDimension: VARIANT_INSTANCE_COUNT_DIMENSION,
        PolicyType: policy.policyType,
        ...(policy.policyType === 'TargetTrackingScaling'
          ? { TargetTrackingScalingPolicyConfiguration: structuredClone(policy.configuration) }
          : { StepScalingPolicyConfiguration: structuredClone(policy.configuration) }),
        Alarms: policy.alarms.map((alarm) => ({ ...alarm })),
        CreationTime: policy.creationTimeMs / 1000,
      })),
      ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    };
  }

  private deleteScalingPolicy(rawInput: unknown): object {
    const input = parseAwsInput(deletePolicyInput, rawInput);
    this.variantTarget(input.ServiceNamespace, input.ScalableDimension, input.ResourceId);
    const byName = this.policies.get(input.ResourceId);
    if (!byName?.has(input.PolicyName)) {
      throw autoScalingError(
        'ObjectNotFoundException',
        `No scaling policy found for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, policy name: ${input.PolicyName}`,
      );
    }
    byName.delete(input.PolicyName);
    if (byName.size === 0) this.policies.delete(input.ResourceId);
    return {};
  }
}

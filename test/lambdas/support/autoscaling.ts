/**
 * Application Auto Scaling for the handler tests: blue's scalable target and policy as a user sets them up, and
 * an in-memory fake of the service behind aws-sdk-client-mock, so a sequence of calls (and retries) sees what
 * the previous ones did.
 */
import {
  ApplicationAutoScalingServiceException,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ApplicationAutoScalingClientResolvedConfig,
  type DeleteScalingPolicyCommandInput,
  type DeregisterScalableTargetCommandInput,
  type DescribeScalableTargetsCommandInput,
  type DescribeScalingPoliciesCommandInput,
  type PutScalingPolicyCommandInput,
  type RegisterScalableTargetCommandInput,
  type ScalableTarget,
  type ScalingPolicy,
  type ServiceInputTypes as AasServiceInputTypes,
  type ServiceOutputTypes as AasServiceOutputTypes,
} from '@aws-sdk/client-application-auto-scaling';
import type { AwsStub } from 'aws-sdk-client-mock';
import { ACCOUNT, BLUE, ENDPOINT, REGION } from './fixtures';

/** What `mockClient(ApplicationAutoScalingClient)` returns. */
export type AutoScalingMock = AwsStub<AasServiceInputTypes, AasServiceOutputTypes, ApplicationAutoScalingClientResolvedConfig>;

/** An Application Auto Scaling error as the SDK raises it (ObjectNotFoundException, ConcurrentUpdateException, ...). */
export function autoScalingError(name: string, message = `${name} (simulated)`): ApplicationAutoScalingServiceException {
  const server = name === 'ConcurrentUpdateException' || name === 'InternalServiceException';
  return new ApplicationAutoScalingServiceException({ name, $fault: server ? 'server' : 'client', message, $metadata: { httpStatusCode: server ? 500 : 400 } });
}

/** The scalable target of an endpoint variant (blue's, by default: min 2, max 6, nothing suspended). */
export function variantScalableTarget(variantName = BLUE.variantName, overrides: Partial<ScalableTarget> = {}): ScalableTarget {
  return {
    ServiceNamespace: 'sagemaker',
    ResourceId: `endpoint/${ENDPOINT}/variant/${variantName}`,
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    MinCapacity: 2,
    MaxCapacity: 6,
    RoleARN: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
    CreationTime: new Date('2025-01-10T08:30:00Z'),
    SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
    ...overrides,
  };
}

/** Blue's target tracking policy on invocations per instance, as the SageMaker guide sets it up. */
export function invocationsPolicy(variantName = BLUE.variantName, policyName = `${ENDPOINT}-${variantName}-invocations`): ScalingPolicy {
  return {
    PolicyARN: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:scalingPolicy:0f0e-${variantName}:resource/sagemaker/endpoint/${ENDPOINT}/variant/${variantName}:policyName/${policyName}`,
    PolicyName: policyName,
    ServiceNamespace: 'sagemaker',
    ResourceId: `endpoint/${ENDPOINT}/variant/${variantName}`,
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: 70,
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      ScaleInCooldown: 300,
      ScaleOutCooldown: 60,
    },
    Alarms: [{ AlarmName: `TargetTracking-endpoint/${ENDPOINT}/variant/${variantName}-AlarmHigh-1a2b`, AlarmARN: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:high` }],
    CreationTime: new Date('2025-01-10T08:31:00Z'),
  };
}

/** The in-memory Application Auto Scaling behind `fakeAutoScaling`: targets and policies by ResourceId. */
export interface FakeAutoScaling {
  readonly targets: Map<string, ScalableTarget>;
  readonly policies: Map<string, ScalingPolicy[]>;
}

/**
 * Answers the Application Auto Scaling calls the rollout makes from an in-memory store, as the service does:
 * Describe* filtered by ResourceId(s) and paged `pageSize` at a time (NextToken); RegisterScalableTarget
 * creates (min and max required) or updates only the fields given; PutScalingPolicy creates or replaces by
 * name (ObjectNotFoundException without a target); DeleteScalingPolicy and DeregisterScalableTarget raise
 * ObjectNotFoundException for what does not exist; deregistering deletes the target's policies.
 */
export function fakeAutoScaling(
  aas: AutoScalingMock,
  initial: { readonly targets?: readonly ScalableTarget[]; readonly policies?: readonly ScalingPolicy[] } = {},
  pageSize = 50,
): FakeAutoScaling {
  const store: FakeAutoScaling = { targets: new Map(), policies: new Map() };
  for (const target of initial.targets ?? []) store.targets.set(target.ResourceId!, target);
  for (const policy of initial.policies ?? []) store.policies.set(policy.ResourceId!, [...(store.policies.get(policy.ResourceId!) ?? []), policy]);
  const page = <T>(items: T[], nextToken: string | undefined) => {
    const start = nextToken ? Number(nextToken) : 0;
    const end = start + pageSize;
    return { items: items.slice(start, end), NextToken: end < items.length ? String(end) : undefined };
  };
  const notFound = (what: string) => autoScalingError('ObjectNotFoundException', `No ${what} found`);
  aas.on(DescribeScalableTargetsCommand).callsFake((input: DescribeScalableTargetsCommandInput) => {
    const all = [...store.targets.values()].filter((t) => !input.ResourceIds || input.ResourceIds.includes(t.ResourceId!));
    const { items, NextToken } = page(all, input.NextToken);
    return { ScalableTargets: items, NextToken };
  });
  aas.on(DescribeScalingPoliciesCommand).callsFake((input: DescribeScalingPoliciesCommandInput) => {
    const all = input.ResourceId ? (store.policies.get(input.ResourceId) ?? []) : [...store.policies.values()].flat();
    const { items, NextToken } = page(all, input.NextToken);
    return { ScalingPolicies: items, NextToken };
  });
  aas.on(RegisterScalableTargetCommand).callsFake((input: RegisterScalableTargetCommandInput) => {
    const existing = store.targets.get(input.ResourceId!);
    if (!existing && (input.MinCapacity === undefined || input.MaxCapacity === undefined)) {
      throw autoScalingError('ValidationException', 'MinCapacity and MaxCapacity are required to register a new scalable target');
    }
    const target: ScalableTarget = {
      ...(existing ?? variantScalableTarget('x', { ResourceId: input.ResourceId, SuspendedState: {} })),
      ...(input.MinCapacity !== undefined ? { MinCapacity: input.MinCapacity } : {}),
      ...(input.MaxCapacity !== undefined ? { MaxCapacity: input.MaxCapacity } : {}),
      SuspendedState: { ...(existing?.SuspendedState ?? {}), ...(input.SuspendedState ?? {}) },
    };
    store.targets.set(input.ResourceId!, target);
    return { ScalableTargetARN: `arn:aws:application-autoscaling:${REGION}:${ACCOUNT}:scalable-target/${input.ResourceId}` };
  });
  aas.on(PutScalingPolicyCommand).callsFake((input: PutScalingPolicyCommandInput) => {
    if (!store.targets.has(input.ResourceId!)) throw notFound(`scalable target ${input.ResourceId}`);
    const policy: ScalingPolicy = {
      ...input,
      PolicyType: input.PolicyType ?? 'StepScaling',
      PolicyARN: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:scalingPolicy:resource/sagemaker/${input.ResourceId}:policyName/${input.PolicyName}`,
      CreationTime: new Date('2025-03-01T12:00:00Z'),
    } as ScalingPolicy;
    const others = (store.policies.get(input.ResourceId!) ?? []).filter((p) => p.PolicyName !== input.PolicyName);
    store.policies.set(input.ResourceId!, [...others, policy]);
    return { PolicyARN: policy.PolicyARN };
  });
  aas.on(DeleteScalingPolicyCommand).callsFake((input: DeleteScalingPolicyCommandInput) => {
    const policies = store.policies.get(input.ResourceId!) ?? [];
    if (!policies.some((p) => p.PolicyName === input.PolicyName)) throw notFound(`scaling policy ${input.PolicyName}`);
    store.policies.set(input.ResourceId!, policies.filter((p) => p.PolicyName !== input.PolicyName));
    return {};
  });
  aas.on(DeregisterScalableTargetCommand).callsFake((input: DeregisterScalableTargetCommandInput) => {
    if (!store.targets.delete(input.ResourceId!)) throw notFound(`scalable target ${input.ResourceId}`);
    store.policies.delete(input.ResourceId!);
    return {};
  });
  return store;
}

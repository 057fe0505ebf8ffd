/**
 * Capacity for green before it is provisioned: SageMaker limits the instances of each type that the account's
 * endpoints may run in a region (the Service Quotas quota "<type> for endpoint usage", service code `sagemaker`),
 * and refuses a CreateEndpoint/UpdateEndpoint past it with `ResourceLimitExceeded`. Blue/green runs a second fleet
 * beside blue, so green needs headroom on top of everything the account already runs. Missing regional capacity
 * cannot be checked in advance: it surfaces later as an update SageMaker rolls back.
 */
import {
  DescribeEndpointConfigCommand,
  ListEndpointsCommand,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { ListServiceQuotasCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { describeEndpointIfExists, findVariant, unlessNotFound } from './sagemaker';

/** SageMaker's service code in Service Quotas. */
export const SAGEMAKER_SERVICE_CODE = 'sagemaker';

/** The name of the quota on a type's instances across the account's endpoints: `ml.g5.xlarge for endpoint usage`. */
export function endpointUsageQuotaName(instanceType: string): string {
  return `${instanceType} for endpoint usage`;
}

/** The applied value of one type's endpoint-usage quota. */
export interface EndpointUsageQuota {
  readonly instanceType: string;
  /** E.g. `L-1194F27D`. */
  readonly quotaCode: string;
  /** E.g. `ml.g5.xlarge for endpoint usage`. */
  readonly quotaName: string;
  /** Instances of the type all endpoints of the account may run in the region. */
  readonly value: number;
}

/** Most quotas per ListServiceQuotas page (SageMaker lists many: one per instance type and use). */
const QUOTAS_PER_PAGE = 100;

/**
 * The endpoint-usage quotas of `instanceTypes`, from one listing of SageMaker's applied quotas (ListServiceQuotas,
 * every page). A type without an entry, or whose entry has no value (Service Quotas then gives an ErrorReason),
 * is absent from the map: its limit is unknown.
 */
export async function endpointUsageQuotas(
  serviceQuotas: ServiceQuotasClient,
  instanceTypes: readonly string[],
): Promise<Map<string, EndpointUsageQuota>> {
  const wanted = new Map(instanceTypes.map((type) => [endpointUsageQuotaName(type), type]));
  const found = new Map<string, EndpointUsageQuota>();
  let nextToken: string | undefined;
  do {
    const page = await serviceQuotas.send(
      new ListServiceQuotasCommand({ ServiceCode: SAGEMAKER_SERVICE_CODE, MaxResults: QUOTAS_PER_PAGE, NextToken: nextToken }),
    );
    for (const quota of page.Quotas ?? []) {
      const instanceType = quota.QuotaName !== undefined ? wanted.get(quota.QuotaName) : undefined;
      if (instanceType === undefined || typeof quota.Value !== 'number' || !quota.QuotaCode) continue;
      found.set(instanceType, { instanceType, quotaCode: quota.QuotaCode, quotaName: quota.QuotaName!, value: quota.Value });
    }
    nextToken = page.NextToken;
  } while (nextToken && found.size < wanted.size);
  return found;
}

/** The endpoint-usage quota of `instanceType`, or undefined if Service Quotas lists none (no pre-flight limit then). */
export async function endpointUsageQuota(serviceQuotas: ServiceQuotasClient, instanceType: string): Promise<EndpointUsageQuota | undefined> {
  return (await endpointUsageQuotas(serviceQuotas, [instanceType])).get(instanceType);
}

/** Instances the account's endpoints in the region run (or are provisioning), by instance type. */
export interface InstanceUsage {
  readonly byType: ReadonlyMap<string, number>;
  /** Instances whose type could not be learned (their endpoint config is gone, or a serverless variant). */
  readonly unattributed: number;
  /** Endpoints counted. */
  readonly endpoints: number;
}

/** Endpoints described at once: enough to be quick, few enough not to be throttled. */
const DESCRIBE_CONCURRENCY = 8;

/**
 * What every endpoint of the account in the region runs, by instance type: ListEndpoints (every page), then per
 * endpoint DescribeEndpoint and DescribeEndpointConfig of its config (DescribeEndpoint does not give instance
 * types). A variant counts max(CurrentInstanceCount, DesiredInstanceCount): an endpoint scaling up already holds
 * the instances it asked for. A deployment in progress (PendingDeploymentSummary) counts too: while an
 * UpdateEndpoint runs, both fleets exist. An endpoint still Creating counts its config's initial counts.
 */
export async function instancesInUseByType(sageMaker: SageMakerClient): Promise<InstanceUsage> {
  const endpointNames: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sageMaker.send(new ListEndpointsCommand({ MaxResults: 100, NextToken: nextToken }));
    endpointNames.push(...(page.Endpoints ?? []).map((endpoint) => endpoint.EndpointName).filter((name): name is string => !!name));
    nextToken = page.NextToken;
  } while (nextToken);

  const byType = new Map<string, number>();
  let unattributed = 0;
  let endpoints = 0;
  const configs = new Map<string, Promise<DescribeEndpointConfigOutput | undefined>>();
  const describeConfig = (name: string) => {
    if (!configs.has(name)) {
      configs.set(name, unlessNotFound('endpoint configuration', () => sageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))));
    }
    return configs.get(name)!;
  };
  const add = (instanceType: string | undefined, count: number) => {
    if (count <= 0) return;
    if (instanceType) byType.set(instanceType, (byType.get(instanceType) ?? 0) + count);
    else unattributed += count;
  };

  for (let start = 0; start < endpointNames.length; start += DESCRIBE_CONCURRENCY) {
    const batch = endpointNames.slice(start, start + DESCRIBE_CONCURRENCY);
    const described = await Promise.all(batch.map((name) => describeEndpointIfExists(sageMaker, name)));
    for (const endpoint of described) {
      // Deleted between ListEndpoints and DescribeEndpoint: it holds nothing any more.
      if (!endpoint) continue;
      endpoints += 1;
      for (const [instanceType, count] of await endpointInstances(endpoint, describeConfig)) add(instanceType, count);
    }
  }
  return { byType, unattributed, endpoints };
}

/** Instances of `instanceType` the account's endpoints run (see instancesInUseByType). */
export async function instancesInUse(sageMaker: SageMakerClient, instanceType: string): Promise<number> {
  return (await instancesInUseByType(sageMaker)).byType.get(instanceType) ?? 0;
}

/** One endpoint's instances as [instance type (undefined if unknown), count] pairs. */
async function endpointInstances(
  endpoint: DescribeEndpointOutput,
  describeConfig: (name: string) => Promise<DescribeEndpointConfigOutput | undefined>,
): Promise<[string | undefined, number][]> {
  const instances: [string | undefined, number][] = [];
  const config = endpoint.EndpointConfigName ? await describeConfig(endpoint.EndpointConfigName) : undefined;
  const live = endpoint.ProductionVariants ?? [];
  if (live.length === 0 && endpoint.EndpointStatus === 'Creating') {
    // No fleet reported yet, but its instances are being provisioned: the config says how many.
    for (const variant of config?.ProductionVariants ?? []) instances.push([variant.InstanceType, variant.InitialInstanceCount ?? 0]);
  }
  for (const variant of live) {
    const count = Math.max(variant.CurrentInstanceCount ?? 0, variant.DesiredInstanceCount ?? 0);
    instances.push([findVariant(config?.ProductionVariants, variant.VariantName ?? '')?.InstanceType, count]);
  }
  for (const pending of endpoint.PendingDeploymentSummary?.ProductionVariants ?? []) {
    instances.push([pending.InstanceType, Math.max(pending.CurrentInstanceCount ?? 0, pending.DesiredInstanceCount ?? 0)]);
  }
  return instances;
}

/** Whether green fits under a type's quota, and why, in words for logs and error messages. */
export interface Headroom {
  readonly fits: boolean;
  /** Instances of the type that could still be added (undefined when the quota is unknown). */
  readonly available?: number;
  /** E.g. `quota 'ml.g5.xlarge for endpoint usage' (L-1194F27D) is 4; 4 in use; green needs 2`. */
  readonly reason: string;
}

/**
 * Whether `needed` more instances fit under `quota` with `inUse` already running: `inUse + needed <= quota`. An
 * unknown quota (Service Quotas lists none for the type) sets no limit here: SageMaker still refuses a request past
 * the real one, and that refusal moves the rollout on to the next type.
 */
export function headroom(instanceType: string, quota: EndpointUsageQuota | undefined, inUse: number, needed: number): Headroom {
  if (!quota) {
    return {
      fits: true,
      reason: `no quota '${endpointUsageQuotaName(instanceType)}' listed in Service Quotas: no pre-flight limit; ${inUse} in use; green needs ${needed}`,
    };
  }
  const available = Math.max(0, Math.floor(quota.value) - inUse);
  return {
    fits: inUse + needed <= quota.value,
    available,
    reason: `quota '${quota.quotaName}' (${quota.quotaCode}) is ${formatCount(quota.value)}; ${inUse} in use; green needs ${needed}`,
  };
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** FailureReason wording of a rollback or failure for lack of capacity or quota. */
const CAPACITY_REASON = /InsufficientInstanceCapacity|insufficient capacity|capacity|quota|service limit|ResourceLimitExceeded/i;

/**
 * Whether an error or a FailureReason means the instance type could not be had: a `ResourceLimitExceeded` error
 * (the quota), or a reason that mentions InsufficientInstanceCapacity, capacity or a quota (e.g. SageMaker's
 * "Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity error").
 */
export function isCapacityFailure(reasonOrError: unknown): boolean {
  if (reasonOrError instanceof Error) {
    return reasonOrError.name === 'ResourceLimitExceeded' || reasonOrError.name === 'CapacityUnavailable';
  }
  return typeof reasonOrError === 'string' && CAPACITY_REASON.test(reasonOrError);
}

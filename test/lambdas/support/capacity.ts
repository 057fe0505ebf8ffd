/**
 * Service Quotas and the account's endpoints as the capacity pre-flight sees them, for tests with
 * aws-sdk-client-mock: ListServiceQuotas pages through SageMaker's applied quotas (with unrelated ones around the
 * endpoint-usage quotas, as the real list has hundreds), and an in-memory SageMaker answers ListEndpoints (paged),
 * DescribeEndpoint, DescribeEndpointConfig, ListTags and DeleteEndpointConfig from the same state, so a test checks
 * what the calls left behind.
 */
import {
  DeleteEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointsCommand,
  ListTagsCommand,
  type DeleteEndpointConfigCommandInput,
  type DescribeEndpointCommandInput,
  type DescribeEndpointConfigCommandInput,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type ListEndpointsCommandInput,
  type ListTagsCommandInput,
  type SageMakerClientResolvedConfig,
  type ServiceInputTypes as SageMakerInputs,
  type ServiceOutputTypes as SageMakerOutputs,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import {
  ListServiceQuotasCommand,
  ServiceQuotasServiceException,
  type ListServiceQuotasCommandInput,
  type ServiceQuota,
  type ServiceQuotasClientResolvedConfig,
  type ServiceInputTypes as QuotasInputs,
  type ServiceOutputTypes as QuotasOutputs,
} from '@aws-sdk/client-service-quotas';
import type { AwsStub } from 'aws-sdk-client-mock';
import { ACCOUNT, errors, REGION, sageMakerArn } from './fixtures';

export type SageMakerMock = AwsStub<SageMakerInputs, SageMakerOutputs, SageMakerClientResolvedConfig>;
export type ServiceQuotasMock = AwsStub<QuotasInputs, QuotasOutputs, ServiceQuotasClientResolvedConfig>;

/** A stable quota code for a test quota name. */
export function quotaCode(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `L-${hash.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** SageMaker's applied quota "<type> for endpoint usage". */
export function endpointQuota(instanceType: string, value: number): ServiceQuota {
  const name = `${instanceType} for endpoint usage`;
  return {
    ServiceCode: 'sagemaker',
    ServiceName: 'Amazon SageMaker',
    QuotaArn: `arn:aws:servicequotas:${REGION}:${ACCOUNT}:sagemaker/${quotaCode(name)}`,
    QuotaCode: quotaCode(name),
    QuotaName: name,
    Value: value,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  };
}

/** Quotas that are not about endpoint instances (the real list is mostly these). */
export const UNRELATED_QUOTAS: ServiceQuota[] = [
  'ml.g5.xlarge for training job usage',
  'ml.g5.xlarge for processing job usage',
  'ml.g5.2xlarge for spot training job usage',
  'Number of endpoints',
  'ml.g5.xlarge for transform job usage',
].map((name) => ({ ServiceCode: 'sagemaker', QuotaCode: quotaCode(name), QuotaName: name, Value: 4, Unit: 'None' }));

/**
 * Answers ListServiceQuotas for `sagemaker` from `quotas`, `pageSize` per page whatever MaxResults asks (AWS may
 * return fewer than asked); any other service code is NoSuchResourceException.
 */
export function serveQuotas(serviceQuotas: ServiceQuotasMock, quotas: readonly ServiceQuota[], pageSize = 3): void {
  serviceQuotas.on(ListServiceQuotasCommand).callsFake((input: ListServiceQuotasCommandInput) => {
    if (input.ServiceCode !== 'sagemaker') {
      throw new ServiceQuotasServiceException({
        name: 'NoSuchResourceException',
        $fault: 'client',
        message: 'The request failed because the specified service does not exist.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = quotas.slice(start, start + Math.min(pageSize, input.MaxResults ?? 100));
    const next = start + page.length;
    return { Quotas: page, ...(next < quotas.length ? { NextToken: String(next) } : {}) };
  });
}

/** A variant of a fake endpoint: live counts, and the instance type its endpoint config gives it. */
export interface FakeVariant {
  readonly name: string;
  readonly instanceType: string;
  readonly current: number;
  /** @default current */
  readonly desired?: number;
}

export interface FakeAccountEndpoint {
  readonly name: string;
  readonly configName: string;
  /** @default 'InService' */
  readonly status?: DescribeEndpointOutput['EndpointStatus'];
  readonly variants: readonly FakeVariant[];
  readonly failureReason?: string;
  /** An UpdateEndpoint in progress, to this config with these fleets. */
  readonly pending?: { readonly configName: string; readonly variants: readonly FakeVariant[] };
}

export interface FakeConfig {
  readonly name: string;
  readonly variants: readonly { readonly name: string; readonly instanceType: string; readonly initialInstanceCount: number }[];
  /** @default none */
  readonly tags?: readonly Tag[];
}

/** The account's endpoints and configs, mutable by the fake's DeleteEndpointConfig. */
export interface FakeAccount {
  readonly endpoints: Map<string, FakeAccountEndpoint>;
  readonly configs: Map<string, FakeConfig>;
}

export function fakeAccount(endpoints: readonly FakeAccountEndpoint[], configs: readonly FakeConfig[]): FakeAccount {
  return { endpoints: new Map(endpoints.map((e) => [e.name, e])), configs: new Map(configs.map((c) => [c.name, c])) };
}

/** A fake endpoint's config as DescribeEndpointConfig gives it. */
export function configOf(config: FakeConfig): DescribeEndpointConfigOutput {
  return {
    EndpointConfigName: config.name,
    EndpointConfigArn: sageMakerArn('endpoint-config', config.name),
    ProductionVariants: config.variants.map((v) => ({
      VariantName: v.name,
      ModelName: `${v.name}-model`,
      InstanceType: v.instanceType as never,
      InitialInstanceCount: v.initialInstanceCount,
      InitialVariantWeight: 1,
    })),
    CreationTime: new Date('2025-01-10T07:55:00Z'),
  };
}

/** Serves `account` on the SageMaker mock: ListEndpoints `pageSize` per page, the rest by name. */
export function serveAccount(sageMaker: SageMakerMock, account: FakeAccount, pageSize = 2): void {
  sageMaker.on(ListEndpointsCommand).callsFake((input: ListEndpointsCommandInput) => {
    const names = [...account.endpoints.keys()];
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = names.slice(start, start + Math.min(pageSize, input.MaxResults ?? 10));
    const next = start + page.length;
    return {
      Endpoints: page.map((name) => ({
        EndpointName: name,
        EndpointArn: sageMakerArn('endpoint', name),
        CreationTime: new Date('2025-01-10T08:00:00Z'),
        LastModifiedTime: new Date('2025-03-01T09:30:00Z'),
        EndpointStatus: account.endpoints.get(name)!.status ?? 'InService',
      })),
      ...(next < names.length ? { NextToken: String(next) } : {}),
    };
  });
  sageMaker.on(DescribeEndpointCommand).callsFake((input: DescribeEndpointCommandInput) => {
    const endpoint = account.endpoints.get(input.EndpointName!);
    if (!endpoint) throw errors.endpointNotFound(input.EndpointName);
    const summary = (v: FakeVariant) => ({ VariantName: v.name, CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: v.current, DesiredInstanceCount: v.desired ?? v.current });
    return {
      EndpointName: endpoint.name,
      EndpointArn: sageMakerArn('endpoint', endpoint.name),
      EndpointConfigName: endpoint.configName,
      EndpointStatus: endpoint.status ?? 'InService',
      ...(endpoint.variants.length > 0 ? { ProductionVariants: endpoint.variants.map(summary) } : {}),
      ...(endpoint.failureReason ? { FailureReason: endpoint.failureReason } : {}),
      ...(endpoint.pending
        ? {
            PendingDeploymentSummary: {
              EndpointConfigName: endpoint.pending.configName,
              ProductionVariants: endpoint.pending.variants.map((v) => ({ ...summary(v), InstanceType: v.instanceType as never })),
            },
          }
        : {}),
      CreationTime: new Date('2025-01-10T08:00:00Z'),
      LastModifiedTime: new Date('2025-03-01T09:30:00Z'),
    };
  });
  sageMaker.on(DescribeEndpointConfigCommand).callsFake((input: DescribeEndpointConfigCommandInput) => {
    const config = account.configs.get(input.EndpointConfigName!);
    if (!config) throw errors.endpointConfigNotFound(input.EndpointConfigName!);
    return configOf(config);
  });
  sageMaker.on(ListTagsCommand).callsFake((input: ListTagsCommandInput) => {
    const config = [...account.configs.values()].find((c) => sageMakerArn('endpoint-config', c.name) === input.ResourceArn);
    if (!config) throw errors.endpointConfigNotFound(input.ResourceArn!);
    return { Tags: [...(config.tags ?? [])] };
  });
  sageMaker.on(DeleteEndpointConfigCommand).callsFake((input: DeleteEndpointConfigCommandInput) => {
    if (!account.configs.delete(input.EndpointConfigName!)) throw errors.endpointConfigNotFound(input.EndpointConfigName!);
    return {};
  });
}

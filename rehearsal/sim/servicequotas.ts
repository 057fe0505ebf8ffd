/**
 * Service Quotas, in memory: the applied quotas the account has, per service, served on ListServiceQuotas (paginated)
 * and GetServiceQuota with Service Quotas' errors. The rehearsal seeds SageMaker's endpoint-usage quotas per
 * instance type (`setEndpointQuota`); the SageMaker simulation enforces them (`endpointQuota`), refusing
 * CreateEndpoint/UpdateEndpoint past them with ResourceLimitExceeded as SageMaker does.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AwsServiceError } from './errors';
import { parseAwsInput } from './validation';

/** SageMaker's service code. */
export const SAGEMAKER_SERVICE_CODE = 'sagemaker';

/** One applied quota as Service Quotas describes it. */
export interface SimulatedQuota {
  readonly serviceCode: string;
  readonly serviceName: string;
  readonly quotaCode: string;
  readonly quotaName: string;
  readonly value: number;
  readonly unit: string;
  readonly adjustable: boolean;
}

/** What the SageMaker simulation asks of the quotas (wired with SageMakerSimulation.useServiceQuotas). */
export interface EndpointQuotaSource {
  /** The "<type> for endpoint usage" quota, or undefined when none is set (no limit in the simulation). */
  endpointQuota(instanceType: string): { readonly quotaName: string; readonly value: number } | undefined;
}

const SERVICE_NAMES: Readonly<Record<string, string>> = { [SAGEMAKER_SERVICE_CODE]: 'Amazon SageMaker' };
/** ListServiceQuotas' page size when the request gives no MaxResults. */
const DEFAULT_PAGE_SIZE = 100;

const serviceCode = z.string().min(1).max(63).regex(/^[a-zA-Z][a-zA-Z0-9-]{1,63}$/);
const quotaCode = z.string().min(1).max(128).regex(/^[a-zA-Z][a-zA-Z0-9-]{1,128}$/);
const listServiceQuotasInput = z.object({
  ServiceCode: serviceCode,
  NextToken: z.string().max(2048).regex(/^[a-zA-Z0-9/+]*={0,2}$/).optional(),
  MaxResults: z.number().int().min(1).max(100).optional(),
  QuotaCode: quotaCode.optional(),
  QuotaAppliedAtLevel: z.enum(['ACCOUNT', 'RESOURCE', 'ALL']).optional(),
});
const getServiceQuotaInput = z.object({ ServiceCode: serviceCode, QuotaCode: quotaCode, ContextId: z.string().optional() });

function quotasError(code: string, message: string): AwsServiceError {
  return new AwsServiceError(code, message, { service: 'servicequotas' });
}

/** The name of a type's endpoint-usage quota: `ml.g5.xlarge for endpoint usage`. */
export function endpointUsageQuotaName(instanceType: string): string {
  return `${instanceType} for endpoint usage`;
}

/** A stable quota code for a quota name, shaped like AWS's (`L-` and eight hex digits). */
export function quotaCodeFor(quotaName: string): string {
  return `L-${createHash('sha256').update(quotaName).digest('hex').slice(0, 8).toUpperCase()}`;
}

export interface ServiceQuotasSimulationOptions {
  readonly region: string;
  readonly accountId: string;
}

export class ServiceQuotasSimulation implements EndpointQuotaSource {
  private readonly region: string;
  private readonly accountId: string;
  /** Per service code, quotas by code, in the order they were first set. */
  private readonly quotas = new Map<string, Map<string, SimulatedQuota>>();

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    ListServiceQuotas: (input) => this.listServiceQuotas(input),
    GetServiceQuota: (input) => this.getServiceQuota(input),
  };

  constructor(options: ServiceQuotasSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
  }

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /** Executes one API operation on its decoded JSON input; throws AwsServiceError as Service Quotas would answer. */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) throw quotasError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    return run(input);
  }

  // ---------------------------------------------------------------- seeding and inspection

  /** Sets (or changes) the account's "<type> for endpoint usage" quota to `value` instances. */
  setEndpointQuota(instanceType: string, value: number): void {
    if (!/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(instanceType)) throw new Error(`invalid instance type "${instanceType}"`);
    if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`quota for ${instanceType} must be a non-negative integer, got ${value}`);
    const quotaName = endpointUsageQuotaName(instanceType);
    this.setQuota({
      serviceCode: SAGEMAKER_SERVICE_CODE,
      serviceName: SERVICE_NAMES[SAGEMAKER_SERVICE_CODE]!,
      quotaCode: quotaCodeFor(quotaName),
      quotaName,
      value,
      unit: 'None',
      adjustable: true,
    });
  }

  /** Any applied quota (for services and quotas the rehearsal does not enforce). */
  setQuota(quota: SimulatedQuota): void {
    if (!this.quotas.has(quota.serviceCode)) this.quotas.set(quota.serviceCode, new Map());
    this.quotas.get(quota.serviceCode)!.set(quota.quotaCode, { ...quota });
  }

  endpointQuota(instanceType: string): { quotaName: string; value: number } | undefined {
    const quotaName = endpointUsageQuotaName(instanceType);
    const quota = this.quotas.get(SAGEMAKER_SERVICE_CODE)?.get(quotaCodeFor(quotaName));
    return quota ? { quotaName: quota.quotaName, value: quota.value } : undefined;
  }

  // ---------------------------------------------------------------- API

  /** The service's quotas; a service code Service Quotas does not know is NoSuchResourceException. */
  private serviceQuotas(code: string): Map<string, SimulatedQuota> {
    const quotas = this.quotas.get(code);
    if (quotas) return quotas;
    if (SERVICE_NAMES[code] !== undefined) return new Map();
    throw quotasError('NoSuchResourceException', 'The request failed because the specified service does not exist.');
  }

  private listServiceQuotas(rawInput: unknown): object {
    const input = parseAwsInput(listServiceQuotasInput, rawInput);
    let quotas = [...this.serviceQuotas(input.ServiceCode).values()];
    if (input.QuotaCode !== undefined) quotas = quotas.filter((quota) => quota.quotaCode === input.QuotaCode);
    const start = input.NextToken !== undefined ? this.decodeToken(input.NextToken, input.ServiceCode) : 0;
    const pageSize = input.MaxResults ?? DEFAULT_PAGE_SIZE;
    const page = quotas.slice(start, start + pageSize);
    const next = start + page.length;
    return {
      Quotas: page.map((quota) => this.describe(quota)),
      ...(next < quotas.length ? { NextToken: this.encodeToken(next, input.ServiceCode) } : {}),
    };
  }

  private getServiceQuota(rawInput: unknown): object {
    const input = parseAwsInput(getServiceQuotaInput, rawInput);
    const quota = this.serviceQuotas(input.ServiceCode).get(input.QuotaCode);
    if (!quota) throw quotasError('NoSuchResourceException', 'The request failed because the specified service quota does not exist.');
    return { Quota: this.describe(quota) };
  }

  private describe(quota: SimulatedQuota): object {
    return {
      ServiceCode: quota.serviceCode,
      ServiceName: quota.serviceName,
      QuotaArn: `arn:aws:servicequotas:${this.region}:${this.accountId}:${quota.serviceCode}/${quota.quotaCode}`,
      QuotaCode: quota.quotaCode,
      QuotaName: quota.quotaName,
      Value: quota.value,
      Unit: quota.unit,
      Adjustable: quota.adjustable,
      GlobalQuota: false,
      QuotaAppliedAtLevel: 'ACCOUNT',
    };
  }

  /** Tokens are opaque base64 (the shape the API allows) and only valid for the service they were issued for. */
  private encodeToken(offset: number, service: string): string {
    return Buffer.from(JSON.stringify({ service, offset })).toString('base64');
  }

  private decodeToken(token: string, service: string): number {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { service?: unknown; offset?: unknown };
      if (decoded.service === service && Number.isInteger(decoded.offset) && (decoded.offset as number) >= 0) return decoded.offset as number;
    } catch {
      // Not one of ours: the same error as a token for another service.
    }
    throw quotasError('InvalidPaginationTokenException', 'Invalid pagination token.');
  }
}

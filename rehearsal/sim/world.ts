/**
 * SimulatedAws: the in-memory AWS the rehearsal runs the real handlers against. It composes the
 * SageMaker control plane, SageMaker Runtime, S3, fault rules and the transport the SDK clients plug in:
 *
 *   const aws = new SimulatedAws({ seed: 7 });
 *   const client = new SageMakerClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
 */
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/protocol-http';
import type { RequestHandler } from '@smithy/types';
import type { SimService } from './errors';
import { FaultInjector, type FaultRule } from './faults';
import { SeededRandom } from './rng';
import { SageMakerRuntimeSimulation } from './runtime';
import { S3Simulation } from './s3';
import { DEFAULT_S3_BYTES_PER_SECOND } from './s3-wire';
import { DEFAULT_ENDPOINT_TIMINGS, SageMakerSimulation, type EndpointTimings } from './sagemaker';
import { SimulatedTransport, type AwsCallRecord } from './transport';

export type { SimService } from './errors';
export type { FaultRule, ApiErrorFault, UpdateRollbackFault, CreateFailureFault } from './faults';
export type { EndpointTimings, EndpointSnapshot, EndpointChange, ModelPackageSeed, EndpointSeed } from './sagemaker';
export type { ModelBehaviour } from './runtime';
export type { AwsCallRecord } from './transport';
export type { S3ObjectMetadata } from './s3';
export { SageMakerSimulation } from './sagemaker';
export { SageMakerRuntimeSimulation, scoreForBody, standardNormalFromBody } from './runtime';
export { S3Simulation } from './s3';
export { DEFAULT_S3_BYTES_PER_SECOND } from './s3-wire';
export { isolateSdkFromHostConfig } from './sdk-config';

export interface SimulationOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** All randomness (routing, latency, errors, predictions) comes from it. @default 1 */
  readonly seed?: number;
  /** Overrides of the default endpoint timings. @default DEFAULT_ENDPOINT_TIMINGS */
  readonly timings?: Partial<EndpointTimings>;
  /** @default none */
  readonly faults?: readonly FaultRule[];
  /**
   * S3 transfer rate, bytes per virtual second: a request or response body of n bytes takes
   * n / rate seconds on top of the API latency. @default DEFAULT_S3_BYTES_PER_SECOND (100 MB/s)
   */
  readonly s3BytesPerSecond?: number;
}

export class SimulatedAws {
  readonly region: string;
  readonly accountId: string;
  readonly timings: EndpointTimings;
  readonly sagemaker: SageMakerSimulation;
  readonly runtime: SageMakerRuntimeSimulation;
  /** S3 buckets and objects: seed with `createBucket` and `putObject`, inspect with `getObjectText` and `listKeys`. */
  readonly s3 = new S3Simulation();
  /** The transport to give every SDK client (`requestHandler`). */
  readonly requestHandler: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
  /** Every call in arrival order, including rejected ones (`error` = the error name). */
  readonly calls: AwsCallRecord[] = [];
  /** Static fake credentials: the SDK signs requests with them; the simulation does not check signatures. */
  readonly credentials = { accessKeyId: 'AKIASIMULATEDAWS0000', secretAccessKey: 'simulated-secret-access-key' } as const;

  constructor(options: SimulationOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.timings = { ...DEFAULT_ENDPOINT_TIMINGS, ...definedValues(options.timings ?? {}) };
    for (const [name, value] of Object.entries(this.timings)) {
      if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`timings.${name} must be a non-negative number, got ${value}`);
    }
    const faults = new FaultInjector(options.faults ?? []);
    const random = new SeededRandom(options.seed ?? 1);
    this.sagemaker = new SageMakerSimulation({
      region: this.region,
      accountId: this.accountId,
      timings: this.timings,
      faults,
      failsHealthCheck: (modelDataUrl) => this.runtime.behaviourFor(modelDataUrl).failsHealthCheck === true,
    });
    this.runtime = new SageMakerRuntimeSimulation(this.sagemaker, { region: this.region, accountId: this.accountId, random });
    this.requestHandler = new SimulatedTransport({
      region: this.region,
      sagemaker: this.sagemaker,
      runtime: this.runtime,
      s3: this.s3,
      s3BytesPerSecond: options.s3BytesPerSecond ?? DEFAULT_S3_BYTES_PER_SECOND,
      faults,
      apiLatencyMs: this.timings.apiLatencyMs,
      calls: this.calls,
    });
  }
}

/** Operations that read: Describe*, List*, Get*, Search*, Query* and InvokeEndpoint. */
const READ_ONLY_OPERATION = /^(Describe|List|Get|Search|Query|BatchDescribe|BatchGet)/;
/** S3 reads: GetObject, HeadObject, ListObjectsV2, ... (and unimplemented GET/HEAD requests, named `GET /path`). */
const S3_READ_ONLY_OPERATION = /^(Get|Head|List|Select)/i;

/** Whether a call can change AWS state (Create/Update/Delete/AddTags/PutObject...): everything but reads. */
export function isMutatingOperation(service: SimService, operation: string): boolean {
  if (service === 'sagemaker-runtime') return false;
  if (service === 's3') return !S3_READ_ONLY_OPERATION.test(operation);
  return !READ_ONLY_OPERATION.test(operation);
}

function definedValues<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * SimulatedAws: the in-memory AWS the rehearsal runs the real handlers against. It composes the
 * SageMaker control plane, SageMaker Runtime, S3, CloudWatch, Application Auto Scaling, DynamoDB, Step Functions
 * task tokens, Service Quotas, EventBridge (buses, rules, PutEvents), production traffic, fault rules and the
 * transport the SDK clients plug in:
 *
 *   const aws = new SimulatedAws({ seed: 7 });
 *   const client = new SageMakerClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
 *
 * `startMetrics()` makes the world live: every 60 virtual seconds production traffic is sampled, published to
 * CloudWatch (which evaluates alarms) and fed to auto scaling. `stopMetrics()` ends it so the clock can run out.
 */
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/protocol-http';
import type { RequestHandler } from '@smithy/types';
import { ApplicationAutoScalingSimulation } from './autoscaling';
import { nowMs } from './clock';
import { CloudWatchSimulation } from './cloudwatch';
import { DynamoDbSimulation } from './dynamodb';
import type { SimService } from './errors';
import { EventBridgeSimulation } from './eventbridge';
import { FaultInjector, type FaultRule } from './faults';
import { ProductionTraffic } from './production-traffic';
import { SeededRandom } from './rng';
import { SageMakerRuntimeSimulation } from './runtime';
import { S3Simulation } from './s3';
import { ServiceQuotasSimulation } from './servicequotas';
import { DEFAULT_S3_BYTES_PER_SECOND } from './s3-wire';
import { DEFAULT_ENDPOINT_TIMINGS, SageMakerSimulation, type EndpointTimings } from './sagemaker';
import { StepFunctionsSimulation } from './stepfunctions';
import { SimulatedTransport, type AwsCallRecord } from './transport';

export type { SimService } from './errors';
export type { FaultRule, ApiErrorFault, UpdateRollbackFault, CreateFailureFault } from './faults';
export type { EndpointTimings, EndpointSnapshot, EndpointChange, ModelPackageSeed, EndpointSeed, InstanceSegment } from './sagemaker';
export type { ScalableTargetSnapshot, ScalingPolicySnapshot, ScalingActivity } from './autoscaling';
export type { AttributeValue, Item, TableKeySchema } from './dynamodb';
export type { TaskTokenHandlers, TaskTokenState } from './stepfunctions';
export type { ModelBehaviour } from './runtime';
export type { AwsCallRecord } from './transport';
export type { S3ObjectMetadata } from './s3';
export type { EventEnvelope, RuleDefinition, RuleTarget, SnsDelivery, DroppedEvent, ServiceEvent } from './eventbridge';
export type { ModelPackageSnapshot } from './sagemaker';
export { SageMakerSimulation } from './sagemaker';
export { SageMakerRuntimeSimulation, scoreForBody, standardNormalFromBody } from './runtime';
export { S3Simulation } from './s3';
export { ApplicationAutoScalingSimulation } from './autoscaling';
export { DynamoDbSimulation } from './dynamodb';
export { StepFunctionsSimulation } from './stepfunctions';
export { ServiceQuotasSimulation, endpointUsageQuotaName, quotaCodeFor } from './servicequotas';
export { EventBridgeSimulation, DEFAULT_EVENT_BUS_NAME, PUT_EVENTS_MAX_REQUEST_BYTES, putEventsEntrySize } from './eventbridge';
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
  /**
   * Requests per second of production traffic each serving endpoint receives once `startMetrics()` runs (split by
   * the variants' current weights). 0 sends none: metrics still tick, with no invocations. @default 20
   */
  readonly productionRequestsPerSecond?: number;
}

/** CloudWatch's resolution for SageMaker's endpoint metrics: one datapoint a minute. */
export const METRICS_PERIOD_SECONDS = 60;

export class SimulatedAws {
  readonly region: string;
  readonly accountId: string;
  readonly timings: EndpointTimings;
  readonly sagemaker: SageMakerSimulation;
  readonly runtime: SageMakerRuntimeSimulation;
  /** S3 buckets and objects: seed with `createBucket` and `putObject`, inspect with `getObjectText` and `listKeys`. */
  readonly s3 = new S3Simulation();
  /** Metrics and alarms; alarm state changes reach `onAlarmStateChange` listeners. */
  readonly cloudwatch: CloudWatchSimulation;
  /** Scalable targets and policies on SageMaker variants; acts on each minute of traffic. */
  readonly autoscaling: ApplicationAutoScalingSimulation;
  /** Tables (seed with `createTable`, inspect with `items`). */
  readonly dynamodb: DynamoDbSimulation;
  /** Task tokens of waiting `.waitForTaskToken` tasks (`registerTaskToken`, `settleTaskToken`). */
  readonly stepfunctions = new StepFunctionsSimulation();
  /**
   * Applied quotas: seed SageMaker's "<type> for endpoint usage" with `setEndpointQuota(type, instances)`; the
   * SageMaker simulation enforces them. A type without one has no limit. (Regional capacity per type:
   * `sagemaker.setInstanceCapacity`.)
   */
  readonly servicequotas: ServiceQuotasSimulation;
  /**
   * Event buses (the `default` one, and those seeded with `createEventBus`) and their rules (`putRule`: SNS deliveries
   * recorded in `snsDeliveries()`, or a callback); PutEvents' events in `publishedEvents()`.
   */
  readonly eventBridge: EventBridgeSimulation;
  /** The production traffic endpoints receive while metrics run. */
  readonly traffic: ProductionTraffic;
  /** The transport to give every SDK client (`requestHandler`). */
  readonly requestHandler: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
  /** Every call in arrival order, including rejected ones (`error` = the error name). */
  readonly calls: AwsCallRecord[] = [];
  /** Static fake credentials: the SDK signs requests with them; the simulation does not check signatures. */
  readonly credentials = { accessKeyId: 'AKIASIMULATEDAWS0000', secretAccessKey: 'simulated-secret-access-key' } as const;
  private metricsTimer: ReturnType<typeof setTimeout> | undefined;

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
    // Built before any endpoint exists: the traffic learns of endpoints from the control plane's change events.
    this.traffic = new ProductionTraffic(this.sagemaker, this.runtime, { requestsPerSecond: options.productionRequestsPerSecond ?? 20, random });
    this.cloudwatch = new CloudWatchSimulation({ region: this.region, accountId: this.accountId });
    this.autoscaling = new ApplicationAutoScalingSimulation({ region: this.region, accountId: this.accountId, sagemaker: this.sagemaker });
    this.sagemaker.useAutoScaling(this.autoscaling);
    this.servicequotas = new ServiceQuotasSimulation({ region: this.region, accountId: this.accountId });
    this.sagemaker.useServiceQuotas(this.servicequotas);
    this.dynamodb = new DynamoDbSimulation({ region: this.region, accountId: this.accountId });
    this.eventBridge = new EventBridgeSimulation({ region: this.region, accountId: this.accountId });
    this.requestHandler = new SimulatedTransport({
      region: this.region,
      accountId: this.accountId,
      sagemaker: this.sagemaker,
      runtime: this.runtime,
      s3: this.s3,
      cloudwatch: this.cloudwatch,
      autoscaling: this.autoscaling,
      dynamodb: this.dynamodb,
      stepfunctions: this.stepfunctions,
      servicequotas: this.servicequotas,
      eventbridge: this.eventBridge,
      s3BytesPerSecond: options.s3BytesPerSecond ?? DEFAULT_S3_BYTES_PER_SECOND,
      faults,
      apiLatencyMs: this.timings.apiLatencyMs,
      calls: this.calls,
    });
  }

  /**
   * Starts the minute tick (virtual time; the first one 60 s from now): each samples production traffic, publishes
   * it to CloudWatch and lets auto scaling act on it. Idempotent while running.
   */
  startMetrics(): void {
    if (this.metricsTimer !== undefined) return;
    const tick = (): void => {
      const now = nowMs();
      const samples = this.traffic.sample(METRICS_PERIOD_SECONDS, now);
      this.cloudwatch.publish(samples, now);
      this.autoscaling.evaluate(samples, now, METRICS_PERIOD_SECONDS);
      this.metricsTimer = setTimeout(tick, METRICS_PERIOD_SECONDS * 1000);
    };
    this.metricsTimer = setTimeout(tick, METRICS_PERIOD_SECONDS * 1000);
  }

  /** Stops the minute tick (clears its pending timer, so a fake clock can run out). */
  stopMetrics(): void {
    if (this.metricsTimer !== undefined) clearTimeout(this.metricsTimer);
    this.metricsTimer = undefined;
  }

  /** Whether the minute tick is running. */
  get metricsRunning(): boolean {
    return this.metricsTimer !== undefined;
  }
}

/** Operations that read: Describe*, List*, Get*, Search*, Query*, Scan and InvokeEndpoint. */
const READ_ONLY_OPERATION = /^(Describe|List|Get|Search|Query|Scan|BatchDescribe|BatchGet)/;
/** S3 reads: GetObject, HeadObject, ListObjectsV2, ... (and unimplemented GET/HEAD requests, named `GET /path`). */
const S3_READ_ONLY_OPERATION = /^(Get|Head|List|Select)/i;

/**
 * Whether a call can change AWS state (Create/Update/Delete/AddTags/PutObject, PutMetricAlarm/SetAlarmState,
 * Register/Deregister/PutScalingPolicy, PutItem/UpdateItem/DeleteItem, SendTaskSuccess/Failure...): everything
 * but reads. It says nothing of which service changed: filter on the call's service where that matters.
 */
export function isMutatingOperation(service: SimService, operation: string): boolean {
  if (service === 'sagemaker-runtime') return false;
  if (service === 's3') return !S3_READ_ONLY_OPERATION.test(operation);
  return !READ_ONLY_OPERATION.test(operation);
}

function definedValues<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The HTTP transport the SDK clients use in the rehearsal: one RequestHandler that answers from the simulation for
 * the JSON-protocol services (SageMaker, Application Auto Scaling, Service Quotas and EventBridge in awsJson1_1; CloudWatch,
 * DynamoDB and Step Functions in awsJson1_0), SageMaker Runtime (restJson1) and S3 (restXml, see s3-wire.ts). It decodes
 * requests and encodes responses exactly as the services do on the wire, so the SDK's own serializers, retry strategy and error
 * parsing run unchanged.
 */
import { Readable } from 'node:stream';
import { HttpResponse, type HttpHandlerOptions, type HttpRequest } from '@smithy/protocol-http';
import type { RequestHandler, RequestHandlerOutput } from '@smithy/types';
import { nowMs, sleep, type AbortSignalLike } from './clock';
import { cloudWatchErrorResponse } from './cloudwatch';
import { AwsServiceError, type SimService } from './errors';
import type { FaultInjector } from './faults';
import type { SageMakerRuntimeSimulation } from './runtime';
import type { S3Simulation } from './s3';
import { DEFAULT_S3_BYTES_PER_SECOND, S3WireHandler } from './s3-wire';
import type { SageMakerSimulation } from './sagemaker';

/** One API call the simulation received. */
export interface AwsCallRecord {
  readonly service: SimService;
  readonly operation: string;
  /**
   * JSON-protocol services (SageMaker, CloudWatch, Application Auto Scaling, DynamoDB, Step Functions, Service Quotas,
   * EventBridge): the JSON body (the raw text if it is not JSON). Runtime: {EndpointName, TargetVariant, ContentType, Accept, Body}.
   * S3: the operation's parameters ({Bucket, Key, Range}, {Bucket, Key, ContentType, ContentLength}, {Bucket, Prefix,
   * MaxKeys, ContinuationToken, ...}); never an object's bytes.
   */
  readonly input: unknown;
  /** When the call arrived (virtual epoch ms). */
  readonly atMs: number;
  /**
   * The error name the call was answered with; absent on success. For S3, the S3 error code, even for a HEAD
   * request, whose body-less 404 the SDK names NotFound.
   */
  error?: string;
}

/** A simulated service that answers JSON-protocol operations (synchronously or not) or throws AwsServiceError. */
export interface JsonOperationBackend {
  supports(operation: string): boolean;
  execute(operation: string, input: unknown): object | Promise<object>;
}

export interface SimulatedTransportOptions {
  readonly region: string;
  /** The account in account-based endpoints (`<account>.ddb.<region>.amazonaws.com`). @default '123456789012' */
  readonly accountId?: string;
  readonly sagemaker: SageMakerSimulation;
  readonly runtime: SageMakerRuntimeSimulation;
  /** @default none: S3 hosts are not served */
  readonly s3?: S3Simulation;
  /** @default none: the service's hosts are not served */
  readonly cloudwatch?: JsonOperationBackend;
  /** @default none: the service's hosts are not served */
  readonly autoscaling?: JsonOperationBackend;
  /** @default none: the service's hosts are not served */
  readonly dynamodb?: JsonOperationBackend;
  /** @default none: the service's hosts are not served */
  readonly stepfunctions?: JsonOperationBackend;
  /** @default none: the service's hosts are not served */
  readonly servicequotas?: JsonOperationBackend;
  /** EventBridge (PutEvents). @default none: the service's hosts are not served */
  readonly eventbridge?: JsonOperationBackend;
  readonly faults: FaultInjector;
  /** Every control-plane (JSON-protocol) and S3 call waits this long before answering. */
  readonly apiLatencyMs: number;
  /** S3 transfer rate, bytes per virtual second. @default DEFAULT_S3_BYTES_PER_SECOND (100 MB/s) */
  readonly s3BytesPerSecond?: number;
  /** Where every call is recorded, in arrival order. */
  readonly calls: AwsCallRecord[];
}

/** How one JSON-protocol service is addressed and renders its errors. */
interface JsonServiceBinding {
  readonly service: SimService;
  readonly hosts: readonly string[];
  /** X-Amz-Target is `<prefix>.<Operation>`. */
  readonly targetPrefix: string;
  readonly contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  /** The error's extra headers and JSON body, with `__type` (some services qualify it with a namespace) and the message. */
  readonly renderError: (error: AwsServiceError) => { readonly headers: Record<string, string>; readonly body: Record<string, unknown> };
  readonly backend: JsonOperationBackend;
}

/** Errors every Coral-based JSON service qualifies with the framework's namespace rather than its own. */
function coralErrorType(code: string): string | undefined {
  if (code === 'ValidationException') return 'com.amazon.coral.validate#ValidationException';
  if (code === 'SerializationException' || code === 'UnknownOperationException') return `com.amazon.coral.service#${code}`;
  return undefined;
}

/** The common awsJson error: the name in `x-amzn-errortype` and in `__type`, the message in `messageMember`. */
function jsonError(
  errorType: (code: string) => string,
  messageMember: 'message' | 'Message',
): (error: AwsServiceError) => { headers: Record<string, string>; body: Record<string, unknown> } {
  return (error) => ({
    headers: { 'x-amzn-errortype': error.code },
    body: { __type: errorType(error.code), [messageMember]: error.message, ...error.details },
  });
}

const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations\/?$/;

export class SimulatedTransport implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata = { handlerProtocol: 'h1' };
  private readonly runtimeHost: string;
  private readonly jsonServices: readonly JsonServiceBinding[];
  private readonly s3: S3WireHandler | undefined;
  private requestCount = 0;

  constructor(private readonly options: SimulatedTransportOptions) {
    const region = options.region;
    const accountId = options.accountId ?? '123456789012';
    this.runtimeHost = `runtime.sagemaker.${region}.amazonaws.com`;
    const bindings: (JsonServiceBinding | undefined)[] = [
      {
        service: 'sagemaker',
        hosts: [`api.sagemaker.${region}.amazonaws.com`],
        targetPrefix: 'SageMaker',
        contentType: 'application/x-amz-json-1.1',
        renderError: jsonError((code) => code, 'message'),
        backend: options.sagemaker,
      },
      options.cloudwatch && {
        service: 'cloudwatch',
        hosts: [`monitoring.${region}.amazonaws.com`],
        targetPrefix: 'GraniteServiceVersion20100801',
        contentType: 'application/x-amz-json-1.0',
        // awsQueryCompatible: the error shape in __type, the Query error code in x-amzn-query-error.
        renderError: cloudWatchErrorResponse,
        backend: options.cloudwatch,
      },
      options.autoscaling && {
        service: 'application-autoscaling',
        hosts: [`application-autoscaling.${region}.amazonaws.com`],
        targetPrefix: 'AnyScaleFrontendService',
        contentType: 'application/x-amz-json-1.1',
        renderError: jsonError((code) => code, 'Message'),
        backend: options.autoscaling,
      },
      options.dynamodb && {
        service: 'dynamodb',
        // The SDK uses the account-based endpoint when the credentials carry an account ID.
        hosts: [`dynamodb.${region}.amazonaws.com`, `${accountId}.ddb.${region}.amazonaws.com`],
        targetPrefix: 'DynamoDB_20120810',
        contentType: 'application/x-amz-json-1.0',
        renderError: jsonError((code) => coralErrorType(code) ?? `com.amazonaws.dynamodb.v20120810#${code}`, 'message'),
        backend: options.dynamodb,
      },
      options.stepfunctions && {
        service: 'sfn',
        hosts: [`states.${region}.amazonaws.com`],
        targetPrefix: 'AWSStepFunctions',
        contentType: 'application/x-amz-json-1.0',
        renderError: jsonError((code) => coralErrorType(code) ?? `com.amazonaws.swf.service.v2.model#${code}`, 'message'),
        backend: options.stepfunctions,
      },
      options.servicequotas && {
        service: 'servicequotas',
        hosts: [`servicequotas.${region}.amazonaws.com`],
        targetPrefix: 'ServiceQuotasV20190624',
        contentType: 'application/x-amz-json-1.1',
        // Its errors carry the message in `Message`; the framework's own (validation, serialization) are namespaced.
        renderError: jsonError((code) => coralErrorType(code) ?? code, 'Message'),
        backend: options.servicequotas,
      },
      options.eventbridge && {
        service: 'events',
        // The regional endpoint; PutEvents with an EndpointId goes to a global endpoint's host, which is not served.
        hosts: [`events.${region}.amazonaws.com`],
        targetPrefix: 'AWSEvents',
        contentType: 'application/x-amz-json-1.1',
        // Its modelled errors carry `message`; the framework's own (validation, serialization) are namespaced.
        renderError: jsonError((code) => coralErrorType(code) ?? code, 'message'),
        backend: options.eventbridge,
      },
    ];
    this.jsonServices = bindings.filter((binding): binding is JsonServiceBinding => binding !== undefined);
    this.s3 = options.s3
      ? new S3WireHandler({
          region,
          s3: options.s3,
          faults: options.faults,
          apiLatencyMs: options.apiLatencyMs,
          bytesPerSecond: options.s3BytesPerSecond ?? DEFAULT_S3_BYTES_PER_SECOND,
          calls: options.calls,
        })
      : undefined;
  }

  async handle(request: HttpRequest, handlerOptions?: HttpHandlerOptions): Promise<RequestHandlerOutput<HttpResponse>> {
    const signal = handlerOptions?.abortSignal as AbortSignalLike | undefined;
    const body = await readBody(request.body);
    const json = this.jsonServices.find((binding) => binding.hosts.includes(request.hostname));
    if (json) return { response: await this.handleJson(json, request, body, signal) };
    if (request.hostname === this.runtimeHost) return { response: await this.handleRuntime(request, body, signal) };
    if (this.s3?.serves(request.hostname)) return { response: await this.s3.handle(request, body, signal) };
    // A client configured for another region or service: fail loudly, as a DNS failure would.
    const served = [...this.jsonServices.flatMap((binding) => binding.hosts), this.runtimeHost, ...(this.s3 ? [this.s3.hostDescription] : [])].join(', ');
    const error = new Error(`getaddrinfo ENOTFOUND ${request.hostname} (the AWS simulation serves ${served})`);
    Object.assign(error, { code: 'ENOTFOUND' });
    throw error;
  }

  /** Nothing to release: the transport holds no sockets. */
  destroy(): void {}

  /** A JSON-protocol call: X-Amz-Target names the operation, the body is its JSON input. */
  private async handleJson(binding: JsonServiceBinding, request: HttpRequest, body: Uint8Array, signal?: AbortSignalLike): Promise<HttpResponse> {
    const prefix = `${binding.targetPrefix}.`;
    const target = headerValue(request, 'x-amz-target') ?? '';
    const operation = target.startsWith(prefix) ? target.slice(prefix.length) : target;
    const text = new TextDecoder().decode(body);
    let input: unknown = text;
    let decodeError: AwsServiceError | undefined;
    try {
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      decodeError = new AwsServiceError('SerializationException', 'Unexpected character in the request body: it is not valid JSON.');
    }
    const record: AwsCallRecord = { service: binding.service, operation, input, atMs: nowMs() };
    this.options.calls.push(record);
    const fault = this.options.faults.apiErrorFor(binding.service, operation);

    await sleep(this.options.apiLatencyMs, signal);

    try {
      if (!target.startsWith(prefix)) {
        throw new AwsServiceError('UnknownOperationException', `The requested operation ${target || '(no X-Amz-Target)'} is not recognized by the service.`);
      }
      if (decodeError) throw decodeError;
      if (fault) throw fault;
      const output = await binding.backend.execute(operation, input);
      return this.response(200, { 'content-type': binding.contentType }, JSON.stringify(output));
    } catch (error) {
      // Anything but a service error is a bug in the simulation: let it surface as is.
      if (!(error instanceof AwsServiceError)) throw error;
      record.error = error.code;
      const rendered = binding.renderError(error);
      return this.response(error.httpStatus, { 'content-type': binding.contentType, ...rendered.headers }, JSON.stringify(rendered.body));
    }
  }

  private async handleRuntime(request: HttpRequest, body: Uint8Array, signal?: AbortSignalLike): Promise<HttpResponse> {
    const match = INVOCATIONS_PATH.exec(request.path);
    const operation = match && request.method.toUpperCase() === 'POST' ? 'InvokeEndpoint' : `${request.method} ${request.path}`;
    const endpointName = match ? decodeURIComponent(match[1]!) : '';
    const targetVariant = headerValue(request, 'x-amzn-sagemaker-target-variant');
    const contentType = headerValue(request, 'content-type');
    const accept = headerValue(request, 'accept');
    const customAttributes = headerValue(request, 'x-amzn-sagemaker-custom-attributes');
    const record: AwsCallRecord = {
      service: 'sagemaker-runtime',
      operation,
      input: definedOnly({
        EndpointName: endpointName,
        TargetVariant: targetVariant,
        ContentType: contentType,
        Accept: accept,
        Body: new TextDecoder().decode(body),
      }),
      atMs: nowMs(),
    };
    this.options.calls.push(record);

    try {
      if (operation !== 'InvokeEndpoint') {
        throw new AwsServiceError('UnknownOperationException', `No operation is bound to ${operation}.`, { httpStatus: 404 });
      }
      const fault = this.options.faults.apiErrorFor('sagemaker-runtime', operation);
      if (fault) throw fault;
      const result = await this.options.runtime.invoke(
        {
          endpointName,
          body,
          ...(contentType !== undefined ? { contentType } : {}),
          ...(accept !== undefined ? { accept } : {}),
          ...(targetVariant !== undefined ? { targetVariant } : {}),
          ...(customAttributes !== undefined ? { customAttributes } : {}),
        },
        signal,
      );
      return this.response(
        200,
        { 'content-type': result.contentType, 'x-amzn-invoked-production-variant': result.invokedProductionVariant },
        result.body,
      );
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      record.error = error.code;
      return this.response(
        error.httpStatus,
        { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
        JSON.stringify({ Message: error.message, ...error.details }),
      );
    }
  }

  private response(statusCode: number, headers: Record<string, string>, body: string | Uint8Array): HttpResponse {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    this.requestCount += 1;
    return new HttpResponse({
      statusCode,
      headers: {
        ...headers,
        'content-length': String(bytes.byteLength),
        'x-amzn-requestid': `00000000-0000-4000-8000-${this.requestCount.toString(16).padStart(12, '0')}`,
        date: new Date(nowMs()).toUTCString(),
      },
      // The SDK's node stream collector reads the body as a Readable stream, as from a socket.
      body: Readable.from([bytes]),
    });
  }
}

function headerValue(request: HttpRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [header, value] of Object.entries(request.headers)) {
    if (header.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function definedOnly(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The request body as bytes, whatever form the SDK gave it (string, bytes, Node or web stream). */
export async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof (body as Blob).arrayBuffer === 'function' && typeof (body as Blob).size === 'number') {
    return new Uint8Array(await (body as Blob).arrayBuffer());
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk as ArrayBufferLike));
    }
    return Buffer.concat(chunks);
  }
  throw new TypeError(`unsupported request body type: ${Object.prototype.toString.call(body)}`);
}

/**
 * SageMaker Runtime's InvokeEndpoint, in memory. Each variant fleet serves the behaviour registered for
 * its primary container's model data: a latency distribution (with a cold start after each deployment),
 * an error rate, the way it answers malformed requests, and predictions that are a function of the request
 * body (so the same input gets nearly the same score from two models that behave alike, as from a retrained
 * model). All randomness comes from seeded streams.
 */
import { createHash } from 'node:crypto';
import { nowMs, sleep, type AbortSignalLike } from './clock';
import { AwsServiceError, runtimeValidationError } from './errors';
import { lognormalFromPercentiles, SeededRandom } from './rng';
import type { SageMakerSimulation, ServingVariant } from './sagemaker';

/** How the model behind a variant answers invocations. */
/** The label a simulated model answers with for a score (its response is {"score", "label"}). */
export function labelForScore(score: number): number {
  return score >= 0.5 ? 1 : 0;
}

export interface ModelBehaviour {
  /** Latency percentiles in ms; samples follow the lognormal fitted to them. @default {p50: 40, p99: 90} */
  readonly latencyMs?: { readonly p50: number; readonly p99: number };
  /**
   * The first `requests` invocations of a freshly deployed fleet are up to `factor` times slower,
   * decaying linearly to 1x. Every CreateEndpoint/UpdateEndpoint that deploys a fleet resets it.
   * @default none
   */
  readonly coldStart?: { readonly factor: number; readonly requests: number };
  /** Fraction of well-formed invocations answered ModelError (OriginalStatusCode 500). @default 0 */
  readonly errorRate?: number;
  /**
   * The `score` of the response body `{"score": s, "label": s >= 0.5 ? 1 : 0}`: for a request body with
   * standard-normal value z (see standardNormalFromBody) and the model's own noise draw e,
   * `score = mean + stdDev * (z * sqrt(1 - jitter^2) + jitter * e)`. Over varied inputs the scores are
   * normal(mean, stdDev); two models with the same prediction behaviour score the same inputs with a
   * correlation of 1 - jitter^2. @default {mean: 0.3, stdDev: 0.1, jitter: 0.05}
   */
  readonly prediction?: {
    readonly mean: number;
    readonly stdDev: number;
    /** Share (0 to 1) of the score's spread that is per-request noise rather than input. @default 0.05 */
    readonly jitter?: number;
  };
  /**
   * The Content-Type the container accepts (its media type; parameters such as charset are ignored). A
   * JSON model (`application/json`) also parses the body. @default 'application/json'
   */
  readonly inputContentType?: string;
  /**
   * How the container answers a malformed request (another Content-Type, an empty body, for a JSON model
   * a body that is not JSON or holds a number beyond 1e30 in magnitude): `client-error`, a ModelError with
   * OriginalStatusCode 400, or `server-error`, OriginalStatusCode 500 (the container crashed on it).
   * @default 'client-error'
   */
  readonly onMalformed?: 'client-error' | 'server-error';
  /**
   * The container never passes its /ping health check: an UpdateEndpoint deploying it rolls back and a
   * CreateEndpoint deploying it ends Failed. @default false
   */
  readonly failsHealthCheck?: boolean;
  /**
   * From `fromSecond` until `toSecond` (virtual seconds since the simulation's start, see
   * SageMakerRuntimeSimulationOptions.startMs) the model's container is down: every invocation of a fleet
   * serving this model fails with ModelError (OriginalStatusCode 500). @default none; without `toSecond`,
   * the outage never ends.
   */
  readonly outage?: { readonly fromSecond: number; readonly toSecond?: number };
}

export const DEFAULT_MODEL_BEHAVIOUR = {
  latencyMs: { p50: 40, p99: 90 },
  errorRate: 0,
  prediction: { mean: 0.3, stdDev: 0.1, jitter: 0.05 },
  inputContentType: 'application/json',
  onMalformed: 'client-error',
} as const;

/** A JSON request holding a number beyond this magnitude ("huge values") is malformed. */
export const HUGE_VALUE_LIMIT = 1e30;

/**
 * The standard-normal value of a request body: a deterministic function of its bytes (a string is taken
 * as UTF-8), the same for every model, distributed N(0, 1) over distinct bodies.
 */
export function standardNormalFromBody(body: string | Uint8Array): number {
  const digest = createHash('sha256').update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).digest();
  // Two 53-bit uniforms from the digest; Box-Muller turns them into one standard normal.
  const uniform53 = (offset: number): number => (digest.readUInt32BE(offset) * 2 ** 21 + (digest.readUInt32BE(offset + 4) >>> 11)) / 2 ** 53;
  const radius = Math.sqrt(-2 * Math.log(1 - uniform53(0)));
  return radius * Math.cos(2 * Math.PI * uniform53(8));
}

/**
 * The score a model with `behaviour` answers for `body` when its noise draw is `noise` (a standard normal;
 * 0 gives the model's noiseless answer): `mean + stdDev * (z * sqrt(1 - jitter^2) + jitter * noise)`.
 */
export function scoreForBody(behaviour: ModelBehaviour, body: string | Uint8Array, noise: number): number {
  const mean = behaviour.prediction?.mean ?? DEFAULT_MODEL_BEHAVIOUR.prediction.mean;
  const stdDev = behaviour.prediction?.stdDev ?? DEFAULT_MODEL_BEHAVIOUR.prediction.stdDev;
  const jitter = behaviour.prediction?.jitter ?? DEFAULT_MODEL_BEHAVIOUR.prediction.jitter;
  const z = standardNormalFromBody(body);
  return mean + stdDev * (z * Math.sqrt(1 - jitter * jitter) + jitter * noise);
}

/**
 * Why a container with `behaviour` refuses the request, or undefined if it takes it: a Content-Type other
 * than the one it accepts, an empty body, and for a JSON model a body that is not JSON or holds a number
 * whose magnitude exceeds HUGE_VALUE_LIMIT.
 */
export function malformedRequestReason(request: Pick<InvokeEndpointRequest, 'body' | 'contentType'>, behaviour: ModelBehaviour): string | undefined {
  const accepted = (behaviour.inputContentType ?? DEFAULT_MODEL_BEHAVIOUR.inputContentType).toLowerCase();
  if (request.body.byteLength === 0) return 'Empty request body';
  const mediaType = request.contentType?.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== accepted) return `Unsupported Content-Type ${request.contentType ?? '(none)'}: the model accepts ${accepted}`;
  if (accepted !== 'application/json') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch {
    return 'Request body is not valid JSON';
  }
  const huge = findHugeNumber(parsed);
  return huge === undefined ? undefined : `Input value ${huge} is out of range (magnitude above ${HUGE_VALUE_LIMIT})`;
}

/** The first number in a parsed JSON value whose magnitude exceeds HUGE_VALUE_LIMIT (iterative: bodies may nest deeply). */
function findHugeNumber(value: unknown): number | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'number') {
      if (Math.abs(current) > HUGE_VALUE_LIMIT) return current;
    } else if (current !== null && typeof current === 'object') {
      pending.push(...(Array.isArray(current) ? current : Object.values(current)));
    }
  }
  return undefined;
}

/** An InvokeEndpoint request, decoded from HTTP. */
export interface InvokeEndpointRequest {
  readonly endpointName: string;
  readonly body: Uint8Array;
  /** @default none */
  readonly contentType?: string;
  /** @default none */
  readonly accept?: string;
  /** @default none: the variant is picked by weight */
  readonly targetVariant?: string;
  /** @default none */
  readonly customAttributes?: string;
}

export interface InvokeEndpointResponse {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly invokedProductionVariant: string;
}

/** InvokeEndpoint's payload limit: 6 MB. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ENDPOINT_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

export interface SageMakerRuntimeSimulationOptions {
  readonly region: string;
  readonly accountId: string;
  /** The simulation's root random stream; the runtime derives its own streams from it. */
  readonly random: SeededRandom;
  /** Where model outages are measured from (virtual epoch ms). @default the virtual time the simulation is created */
  readonly startMs?: number;
}

/** A model outage in virtual epoch ms: [fromMs, toMs), toMs infinite for an outage that never ends. */
export interface OutageWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** One latency draw in ms (not rounded) from the behaviour's lognormal, without the cold-start slowdown. */
export function sampleBaseLatencyMs(random: SeededRandom, behaviour: ModelBehaviour): number {
  const { p50, p99 } = behaviour.latencyMs ?? DEFAULT_MODEL_BEHAVIOUR.latencyMs;
  return random.lognormal(lognormalFromPercentiles(p50, p99));
}

/** The behaviour's outage in virtual epoch ms, for a simulation that started at `startMs`; undefined if none. */
export function outageWindow(behaviour: ModelBehaviour, startMs: number): OutageWindow | undefined {
  const outage = behaviour.outage;
  if (!outage) return undefined;
  return { fromMs: startMs + outage.fromSecond * 1000, toMs: outage.toSecond !== undefined ? startMs + outage.toSecond * 1000 : Number.POSITIVE_INFINITY };
}

export class SageMakerRuntimeSimulation {
  private readonly behaviours = new Map<string, ModelBehaviour>();
  private readonly region: string;
  private readonly accountId: string;
  /** Where model outages are measured from (virtual epoch ms). */
  readonly startMs: number;
  // One stream per purpose: routing decisions do not change when, say, the error rate does.
  private readonly routingRandom: SeededRandom;
  private readonly latencyRandom: SeededRandom;
  private readonly errorRandom: SeededRandom;
  private readonly predictionRandom: SeededRandom;
  /** Each model's own prediction noise stream, by model data URL: one model's traffic never shifts another's noise. */
  private readonly noiseStreams = new Map<string, SeededRandom>();

  constructor(
    private readonly sagemaker: SageMakerSimulation,
    options: SageMakerRuntimeSimulationOptions,
  ) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.routingRandom = options.random.derive('runtime/routing');
    this.latencyRandom = options.random.derive('runtime/latency');
    this.errorRandom = options.random.derive('runtime/errors');
    this.predictionRandom = options.random.derive('runtime/prediction');
    this.startMs = options.startMs ?? nowMs();
  }

  /**
   * Registers how a model serves, keyed by its primary container's ModelDataUrl (a green model's name
   * is not known before the rollout; its model data is).
   */
  setBehaviour(modelDataUrl: string, behaviour: ModelBehaviour): void {
    validateBehaviour(modelDataUrl, behaviour);
    this.behaviours.set(modelDataUrl, behaviour);
  }

  /** The behaviour registered for this model data, or the default one. */
  behaviourFor(modelDataUrl: string | undefined): ModelBehaviour {
    return (modelDataUrl !== undefined ? this.behaviours.get(modelDataUrl) : undefined) ?? {};
  }

  /** The outage of the model with this data (virtual epoch ms), or undefined if it has none. */
  outageWindowFor(modelDataUrl: string | undefined): OutageWindow | undefined {
    return outageWindow(this.behaviourFor(modelDataUrl), this.startMs);
  }

  /**
   * Routes one invocation to a variant, waits the sampled (virtual) latency and answers; throws
   * AwsServiceError (ValidationError, ModelError) as SageMaker Runtime would.
   */
  async invoke(request: InvokeEndpointRequest, signal?: AbortSignalLike): Promise<InvokeEndpointResponse> {
    if (request.endpointName.length > 63 || !ENDPOINT_NAME_PATTERN.test(request.endpointName)) {
      throw runtimeValidationError(
        `1 validation error detected: Value '${request.endpointName}' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ENDPOINT_NAME_PATTERN.source}`,
      );
    }
    if (request.body.byteLength > MAX_PAYLOAD_BYTES) {
      throw runtimeValidationError(
        `1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`,
      );
    }
    const variant = this.route(request);
    const behaviour = this.behaviourFor(variant.modelDataUrl);
    const fleetInvocation = variant.invocations;
    variant.invocations += 1;
    // Every routed invocation draws exactly once from each stream, on arrival: concurrent invocations draw
    // in a deterministic order, and whether one request is malformed or fails does not shift the others.
    const latencyMs = this.sampleLatencyMs(behaviour, fleetInvocation);
    const failureDraw = this.errorRandom.next();
    const noise = this.noiseStream(variant.modelDataUrl).normal();
    const modelError = this.modelErrorFor(request, behaviour, failureDraw, nowMs());
    const score = scoreForBody(behaviour, request.body, noise);

    await sleep(latencyMs, signal);

    if (modelError) {
      const { statusCode, message } = modelError;
      const kind = statusCode < 500 ? 'client' : 'server';
      throw new AwsServiceError(
        'ModelError',
        `Received ${kind} error (${statusCode}) from primary with message "${message}". See ${this.logsUrl(request.endpointName)} in account ${this.accountId} for more information.`,
        {
          details: {
            OriginalStatusCode: statusCode,
            OriginalMessage: message,
            LogStreamArn: `arn:aws:logs:${this.region}:${this.accountId}:log-group:/aws/sagemaker/Endpoints/${request.endpointName}`,
            ErrorCode: kind === 'client' ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
          },
        },
      );
    }
    return {
      body: new TextEncoder().encode(JSON.stringify({ score, label: labelForScore(score) })),
      contentType: request.accept && !request.accept.includes('*') ? request.accept : 'application/json',
      invokedProductionVariant: variant.variantName,
    };
  }

  /** The variant that answers: the targeted one, or one picked by current weight. */
  private route(request: InvokeEndpointRequest): ServingVariant {
    const endpoint = this.sagemaker.servingEndpoint(request.endpointName);
    if (!endpoint || endpoint.status === 'Deleting') {
      throw runtimeValidationError(`Endpoint ${request.endpointName} of account ${this.accountId} not found.`);
    }
    // While Updating, the old fleet keeps serving; while Creating (or once Failed) there is no fleet.
    if (endpoint.variants.length === 0) {
      throw runtimeValidationError(`Endpoint ${request.endpointName} of account ${this.accountId} is not in service: its status is ${endpoint.status}.`);
    }
    if (request.targetVariant !== undefined) {
      // A variant at weight 0 still answers requests that target it: that is how a new variant is tested.
      const targeted = endpoint.variants.find((variant) => variant.variantName === request.targetVariant);
      if (!targeted) {
        throw runtimeValidationError(`Endpoint ${request.endpointName} does not have a production variant named ${request.targetVariant}.`);
      }
      return targeted;
    }
    const picked = this.routingRandom.pickWeighted(endpoint.variants.map((variant) => variant.currentWeight));
    if (picked === undefined) {
      throw runtimeValidationError(`Endpoint ${request.endpointName} has no production variant with a positive weight: specify a TargetVariant.`);
    }
    return endpoint.variants[picked];
  }

  /**
   * Lognormal latency, slowed by the cold start: the n-th invocation of a fresh fleet (n from 0) takes
   * up to `factor` times longer, decaying linearly to 1x at n = requests.
   */
  private sampleLatencyMs(behaviour: ModelBehaviour, fleetInvocation: number): number {
    const base = sampleBaseLatencyMs(this.latencyRandom, behaviour);
    const coldStart = behaviour.coldStart;
    const remaining = coldStart && coldStart.requests > 0 ? Math.max(0, 1 - fleetInvocation / coldStart.requests) : 0;
    // Whole milliseconds: timers have millisecond resolution, and exp(log(250)) is 249.99999999999997.
    return Math.round(base * (1 + ((coldStart?.factor ?? 1) - 1) * remaining));
  }

  /**
   * The error the container answers with, if any: every request during the model's outage (500), a
   * malformed request (400, or 500 for a model that crashes on it) or a sampled failure (500) when
   * `failureDraw`, uniform in [0, 1), falls below the error rate.
   */
  private modelErrorFor(
    request: InvokeEndpointRequest,
    behaviour: ModelBehaviour,
    failureDraw: number,
    atMs: number,
  ): { statusCode: number; message: string } | undefined {
    // A container that is down answers nothing well, not even a malformed request's 400.
    if (this.isInOutage(behaviour, atMs)) return { statusCode: 500, message: 'Internal Server Error' };
    const malformed = malformedRequestReason(request, behaviour);
    if (malformed !== undefined) {
      return (behaviour.onMalformed ?? DEFAULT_MODEL_BEHAVIOUR.onMalformed) === 'server-error'
        ? { statusCode: 500, message: `Worker died while handling the request: ${malformed}` }
        : { statusCode: 400, message: malformed };
    }
    if (failureDraw < (behaviour.errorRate ?? DEFAULT_MODEL_BEHAVIOUR.errorRate)) {
      return { statusCode: 500, message: 'Internal Server Error' };
    }
    return undefined;
  }

  private isInOutage(behaviour: ModelBehaviour, atMs: number): boolean {
    const window = outageWindow(behaviour, this.startMs);
    return window !== undefined && atMs >= window.fromMs && atMs < window.toMs;
  }

  private noiseStream(modelDataUrl: string | undefined): SeededRandom {
    const key = modelDataUrl ?? '';
    let stream = this.noiseStreams.get(key);
    if (!stream) {
      stream = this.predictionRandom.derive(key);
      this.noiseStreams.set(key, stream);
    }
    return stream;
  }

  private logsUrl(endpointName: string): string {
    return `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName}`;
  }
}

function validateBehaviour(modelDataUrl: string, behaviour: ModelBehaviour): void {
  const problem = (text: string): never => {
    throw new RangeError(`behaviour for ${modelDataUrl}: ${text}`);
  };
  if (behaviour.latencyMs && !(behaviour.latencyMs.p50 > 0 && behaviour.latencyMs.p99 >= behaviour.latencyMs.p50)) {
    problem('latencyMs needs 0 < p50 <= p99');
  }
  if (behaviour.coldStart && !(behaviour.coldStart.factor >= 1 && behaviour.coldStart.requests >= 0)) {
    problem('coldStart needs factor >= 1 and requests >= 0');
  }
  if (behaviour.errorRate !== undefined && !(behaviour.errorRate >= 0 && behaviour.errorRate <= 1)) {
    problem('errorRate must be within [0, 1]');
  }
  if (behaviour.prediction && !(behaviour.prediction.stdDev >= 0)) problem('prediction.stdDev must be >= 0');
  if (behaviour.prediction && !Number.isFinite(behaviour.prediction.mean)) problem('prediction.mean must be a finite number');
  const jitter = behaviour.prediction?.jitter;
  if (jitter !== undefined && !(jitter >= 0 && jitter <= 1)) problem('prediction.jitter must be within [0, 1]');
  if (behaviour.onMalformed !== undefined && behaviour.onMalformed !== 'client-error' && behaviour.onMalformed !== 'server-error') {
    problem(`onMalformed must be 'client-error' or 'server-error'`);
  }
  if (behaviour.inputContentType !== undefined && !/^[\w.+-]+\/[\w.+-]+$/.test(behaviour.inputContentType)) {
    problem('inputContentType must be a media type such as application/json');
  }
  const outage = behaviour.outage;
  if (outage && !(Number.isFinite(outage.fromSecond) && outage.fromSecond >= 0)) problem('outage.fromSecond must be a number >= 0');
  if (outage?.toSecond !== undefined && !(Number.isFinite(outage.toSecond) && outage.toSecond > outage.fromSecond)) {
    problem('outage.toSecond must be a number greater than outage.fromSecond');
  }
}

/**
 * SageMaker Runtime's InvokeEndpoint, in memory. Each variant fleet serves the behaviour registered for
 * its primary container's model data: a latency distribution (with a cold start after each deployment),
 * an error rate and a prediction distribution. All randomness comes from seeded streams.
 */
import { sleep, type AbortSignalLike } from './clock';
import { AwsServiceError, runtimeValidationError } from './errors';
import { lognormalFromPercentiles, SeededRandom } from './rng';
import type { SageMakerSimulation, ServingVariant } from './sagemaker';

/** How the model behind a variant answers invocations. */
export interface ModelBehaviour {
  /** Latency percentiles in ms; samples follow the lognormal fitted to them. @default {p50: 40, p99: 90} */
  readonly latencyMs?: { readonly p50: number; readonly p99: number };
  /**
   * The first `requests` invocations of a freshly deployed fleet are up to `factor` times slower,
   * decaying linearly to 1x. Every CreateEndpoint/UpdateEndpoint that deploys a fleet resets it.
   * @default none
   */
  readonly coldStart?: { readonly factor: number; readonly requests: number };
  /** Fraction of invocations answered ModelError (OriginalStatusCode 500). @default 0 */
  readonly errorRate?: number;
  /** Distribution of the `score` in the response body `{"score": x}`. @default {mean: 0.3, stdDev: 0.1} */
  readonly prediction?: { readonly mean: number; readonly stdDev: number };
  /**
   * The container never passes its /ping health check: an UpdateEndpoint deploying it rolls back and a
   * CreateEndpoint deploying it ends Failed. @default false
   */
  readonly failsHealthCheck?: boolean;
}

export const DEFAULT_MODEL_BEHAVIOUR = {
  latencyMs: { p50: 40, p99: 90 },
  errorRate: 0,
  prediction: { mean: 0.3, stdDev: 0.1 },
} as const;

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
}

export class SageMakerRuntimeSimulation {
  private readonly behaviours = new Map<string, ModelBehaviour>();
  private readonly region: string;
  private readonly accountId: string;
  // One stream per purpose: routing decisions do not change when, say, the error rate does.
  private readonly routingRandom: SeededRandom;
  private readonly latencyRandom: SeededRandom;
  private readonly errorRandom: SeededRandom;
  private readonly predictionRandom: SeededRandom;

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
    // Every draw happens on arrival, so concurrent invocations draw in a deterministic order.
    const latencyMs = this.sampleLatencyMs(behaviour, fleetInvocation);
    const modelError = this.modelErrorFor(request, behaviour);
    const prediction = { ...DEFAULT_MODEL_BEHAVIOUR.prediction, ...behaviour.prediction };
    const score = this.predictionRandom.normal(prediction.mean, prediction.stdDev);

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
      body: new TextEncoder().encode(JSON.stringify({ score })),
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
    const { p50, p99 } = behaviour.latencyMs ?? DEFAULT_MODEL_BEHAVIOUR.latencyMs;
    const base = this.latencyRandom.lognormal(lognormalFromPercentiles(p50, p99));
    const coldStart = behaviour.coldStart;
    const remaining = coldStart && coldStart.requests > 0 ? Math.max(0, 1 - fleetInvocation / coldStart.requests) : 0;
    // Whole milliseconds: timers have millisecond resolution, and exp(log(250)) is 249.99999999999997.
    return Math.round(base * (1 + ((coldStart?.factor ?? 1) - 1) * remaining));
  }

  /** The error the container answers with, if any: a bad payload (400) or a sampled failure (500). */
  private modelErrorFor(request: InvokeEndpointRequest, behaviour: ModelBehaviour): { statusCode: number; message: string } | undefined {
    if (request.body.byteLength === 0) return { statusCode: 400, message: 'Empty request body' };
    if (request.contentType?.toLowerCase().startsWith('application/json')) {
      try {
        JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
      } catch {
        return { statusCode: 400, message: 'Request body is not valid JSON' };
      }
    }
    if (this.errorRandom.chance(behaviour.errorRate ?? DEFAULT_MODEL_BEHAVIOUR.errorRate)) {
      return { statusCode: 500, message: 'Internal Server Error' };
    }
    return undefined;
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
}

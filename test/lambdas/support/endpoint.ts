/**
 * A scripted SageMaker endpoint for the validation steps' tests: InvokeEndpoint (mocked) answers each variant
 * after the latency its behaviour gives for the n-th request, through `setTimeout`, so jest's fake timers
 * control time. It records what each variant received and how many requests it had in flight at once.
 */
import {
  InvokeEndpointCommand,
  ModelError,
  ValidationError,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type SageMakerRuntimeClientResolvedConfig,
} from '@aws-sdk/client-sagemaker-runtime';
import type { AwsStub } from 'aws-sdk-client-mock';

export type RuntimeMock = AwsStub<ServiceInputTypes, ServiceOutputTypes, SageMakerRuntimeClientResolvedConfig>;

/** What a variant answers to its n-th request (n from 0). */
export interface VariantBehaviour {
  /** @default 40 ms */
  readonly latencyMs?: (n: number, body: string) => number;
  /** The response document, or an error to throw. @default {"score": 0.5, "label": 0} */
  readonly respond?: (n: number, body: string, contentType: string | undefined) => Record<string, unknown> | Error;
}

export interface VariantRecord {
  readonly bodies: string[];
  readonly contentTypes: (string | undefined)[];
  /** Most requests in flight at once. */
  peakInFlight: number;
  inFlight: number;
}

export interface FakeEndpoint {
  readonly variants: Map<string, VariantRecord>;
  /** Requests a variant received. */
  count(variantName: string): number;
}

export function fakeEndpoint(runtime: RuntimeMock, behaviours: Record<string, VariantBehaviour>): FakeEndpoint {
  const variants = new Map<string, VariantRecord>();
  const record = (name: string) => {
    if (!variants.has(name)) variants.set(name, { bodies: [], contentTypes: [], peakInFlight: 0, inFlight: 0 });
    return variants.get(name)!;
  };
  runtime.on(InvokeEndpointCommand).callsFake((input: InvokeEndpointCommandInput) => {
    const name = input.TargetVariant ?? '(none)';
    const behaviour = behaviours[name];
    if (!behaviour) return Promise.reject(new ValidationError({ $metadata: { httpStatusCode: 400 }, message: `no variant named ${name}` }));
    const variant = record(name);
    const body = new TextDecoder().decode(input.Body as Uint8Array);
    const n = variant.bodies.length;
    variant.bodies.push(body);
    variant.contentTypes.push(input.ContentType);
    variant.inFlight++;
    variant.peakInFlight = Math.max(variant.peakInFlight, variant.inFlight);
    const latency = behaviour.latencyMs?.(n, body) ?? 40;
    return new Promise<Partial<InvokeEndpointCommandOutput>>((resolve, reject) =>
      setTimeout(() => {
        variant.inFlight--;
        const response = behaviour.respond?.(n, body, input.ContentType) ?? { score: 0.5, label: 0 };
        if (response instanceof Error) reject(response);
        else {
          resolve({
            Body: new TextEncoder().encode(JSON.stringify(response)) as InvokeEndpointCommandOutput['Body'],
            ContentType: 'application/json',
            InvokedProductionVariant: name,
          });
        }
      }, latency),
    );
  });
  return { variants, count: (name) => variants.get(name)?.bodies.length ?? 0 };
}

/** A container error (SageMaker's ModelError) with the container's status. */
export function modelError(originalStatusCode: number, message = 'container error'): ModelError {
  return new ModelError({ $metadata: { httpStatusCode: 424 }, message, OriginalStatusCode: originalStatusCode, OriginalMessage: message });
}

/**
 * Advances jest's fake clock in steps until `promise` settles (at most `limitMs` of virtual time), then
 * returns its outcome. Rejections are returned as well, to be asserted.
 */
export async function settle<T>(promise: Promise<T>, stepMs = 50, limitMs = 3_600_000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let elapsed = 0; !settled && elapsed < limitMs; elapsed += stepMs) await jest.advanceTimersByTimeAsync(stepMs);
  if (!settled) throw new Error(`still running after ${limitMs} ms of virtual time`);
  return promise;
}

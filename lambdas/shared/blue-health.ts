/**
 * Can blue take the traffic back? Checked before a rollback relies on it: the endpoint must be serving,
 * blue's variant present with instances, and blue must answer a probe request (TargetVariant). A rollback
 * onto a blue that cannot serve would turn a degraded rollout into an outage.
 */
import type { DescribeEndpointOutput } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import { describeError } from './errors';
import { firstPayload } from './payloads';
import type { PayloadSource } from './plan';
import { findVariant } from './sagemaker';

export type BlueHealth =
  | { readonly healthy: true; readonly instanceCount: number; readonly probeLatencyMs: number }
  | { readonly healthy: false; readonly reason: string };

/** Statuses in which the endpoint serves requests (a weight or capacity change in flight still serves). */
const SERVING_STATUSES: ReadonlySet<string> = new Set(['InService', 'Updating', 'SystemUpdating']);

export async function checkBlueServes(
  input: { readonly endpoint: DescribeEndpointOutput; readonly endpointName: string; readonly blueVariantName: string; readonly payloads: PayloadSource },
  deps: { readonly runtime: SageMakerRuntimeClient; readonly s3: S3Client },
): Promise<BlueHealth> {
  const { endpoint, endpointName, blueVariantName } = input;
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (!SERVING_STATUSES.has(status)) return { healthy: false, reason: `endpoint ${endpointName} is ${status}` };
  const blue = findVariant(endpoint.ProductionVariants, blueVariantName);
  if (!blue) return { healthy: false, reason: `blue variant ${blueVariantName} is no longer on endpoint ${endpointName}` };
  const instanceCount = blue.CurrentInstanceCount ?? 0;
  if (instanceCount < 1) return { healthy: false, reason: `blue variant ${blueVariantName} has no instances` };

  let body: string;
  let contentType: string;
  try {
    ({ body, contentType } = await firstPayload(deps.s3, input.payloads));
  } catch (error) {
    return { healthy: false, reason: `no probe request for blue: ${describeError(error)}` };
  }
  const startedAt = Date.now();
  try {
    const response = await deps.runtime.send(
      new InvokeEndpointCommand({ EndpointName: endpointName, TargetVariant: blueVariantName, ContentType: contentType, Body: new TextEncoder().encode(body) }),
    );
    if (!response.Body || response.Body.byteLength === 0) return { healthy: false, reason: `blue's probe answered with an empty body` };
  } catch (error) {
    return { healthy: false, reason: `blue's probe request failed: ${describeError(error)}` };
  }
  return { healthy: true, instanceCount, probeLatencyMs: Date.now() - startedAt };
}

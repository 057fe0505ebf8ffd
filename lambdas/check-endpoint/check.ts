/**
 * One poll of an endpoint after a mutation: is it InService on the config that was requested, with the
 * weights that were requested? InService alone is not success: a failed UpdateEndpoint can end InService
 * on the old config (SageMaker rolled it back), so the config name decides.
 */
import type { DescribeEndpointOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { isCapacityFailure } from '../shared/capacity';
import { CapacityUnavailable, EndpointUpdateFailed, EndpointUpdateRolledBack, EndpointUpdateTimedOut } from '../shared/errors';
import {
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  ENDPOINT_IN_PROGRESS_STATUSES,
  failureReasonSuffix,
} from '../shared/sagemaker';
import { millisecondsSince } from '../shared/time';
import { weightsEqual } from '../shared/traffic';

export const STEP = 'check-endpoint';

export const CheckEndpointInputSchema = z.object({
  endpointName: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  expectedEndpointConfigName: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  requestedAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }),
  timeoutSeconds: z.number({ error: 'must be a number' }).int('must be an integer').positive('must be > 0'),
  // The rollout's identity, for the log lines only (a poll needs none of it).
  executionArn: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
  deploymentId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
  modelPackageArn: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
});
export type CheckEndpointInput = z.infer<typeof CheckEndpointInputSchema>;

export interface CheckEndpointResult {
  /** True once the endpoint serves the requested config with the requested weights. */
  readonly inService: boolean;
  /** The endpoint's EndpointStatus. */
  readonly status: string;
}

/** Statuses that end an update without success; the endpoint will not reach the requested config by itself. */
const FAILED_STATUSES: ReadonlySet<string> = new Set(['Failed', 'UpdateRollbackFailed', 'OutOfService', 'Deleting']);

export async function checkEndpoint(input: CheckEndpointInput, deps: { readonly sageMaker: SageMakerClient }): Promise<CheckEndpointResult> {
  const { endpointName, expectedEndpointConfigName } = input;
  const endpoint = await describeEndpointIfExists(deps.sageMaker, endpointName);
  if (!endpoint) {
    throw new EndpointUpdateFailed(`Endpoint ${endpointName} does not exist (expected it on config ${expectedEndpointConfigName}).`);
  }
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (FAILED_STATUSES.has(status)) {
    throw new EndpointUpdateFailed(
      `Endpoint ${endpointName} is ${status}${failureReasonSuffix(endpoint)} (requested config ${expectedEndpointConfigName}).`,
    );
  }
  if (status === 'InService' && endpoint.EndpointConfigName !== expectedEndpointConfigName) {
    const capacityFailure = await greenProvisioningRolledBackForCapacity(deps.sageMaker, endpoint, expectedEndpointConfigName);
    if (capacityFailure) throw capacityFailure;
    throw new EndpointUpdateRolledBack(
      `SageMaker rolled the update back: endpoint ${endpointName} is InService on config ${endpoint.EndpointConfigName}, ` +
        `not the requested ${expectedEndpointConfigName}. FailureReason: ${endpoint.FailureReason || 'none given'}`,
    );
  }
  if (status === 'InService' && weightsSettled(endpoint)) return { inService: true, status };

  // Still moving: Creating/Updating/SystemUpdating/RollingBack, or InService with weights converging.
  const waitedSeconds = millisecondsSince(input.requestedAt) / 1000;
  if (waitedSeconds > input.timeoutSeconds) {
    throw new EndpointUpdateTimedOut(
      `Endpoint ${endpointName} is still ${status}${ENDPOINT_IN_PROGRESS_STATUSES.has(status) ? '' : ' (weights not yet at their desired values)'} ` +
        `${Math.round(waitedSeconds)} s after the request for config ${expectedEndpointConfigName} (limit ${input.timeoutSeconds} s).`,
    );
  }
  return { inService: false, status };
}

/** Every variant serves the weight it was asked for (variants without both weights do not hold it back). */
function weightsSettled(endpoint: DescribeEndpointOutput): boolean {
  return (endpoint.ProductionVariants ?? []).every(
    (v) => v.CurrentWeight === undefined || v.DesiredWeight === undefined || weightsEqual(v.CurrentWeight, v.DesiredWeight),
  );
}

/**
 * CapacityUnavailable when the rolled-back update was green's provisioning and SageMaker gave capacity (or quota) as
 * the reason: the state machine then tries green's next instance type. Green's provisioning is the one update that
 * adds a variant: the requested config has a variant the endpoint (back on its old config) does not serve. Other
 * rollbacks, and rollbacks for other reasons (a failed health check), stay EndpointUpdateRolledBack.
 */
async function greenProvisioningRolledBackForCapacity(
  sageMaker: SageMakerClient,
  endpoint: DescribeEndpointOutput,
  expectedEndpointConfigName: string,
): Promise<CapacityUnavailable | undefined> {
  if (!isCapacityFailure(endpoint.FailureReason ?? '')) return undefined;
  const requested = await describeEndpointConfigIfExists(sageMaker, expectedEndpointConfigName);
  const serving = new Set((endpoint.ProductionVariants ?? []).map((v) => v.VariantName));
  const added = (requested?.ProductionVariants ?? []).filter((v) => !serving.has(v.VariantName));
  if (added.length === 0) return undefined;
  const what = added.map((v) => `${v.InitialInstanceCount ?? '?'} x ${v.InstanceType ?? 'unknown type'} for variant ${v.VariantName}`).join(', ');
  return new CapacityUnavailable(
    `SageMaker could not provision ${what} on endpoint ${endpoint.EndpointName}: the update to config ${expectedEndpointConfigName} ` +
      `rolled back (InService on ${endpoint.EndpointConfigName}). FailureReason: ${endpoint.FailureReason}`,
  );
}

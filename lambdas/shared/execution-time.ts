/**
 * How long one rollout execution can run: the state machine's TimeoutSeconds (state-machines/rollout-definition.ts)
 * and the expiry of the endpoint lock an execution holds (lambdas/lock-endpoint) are both derived from it, so a
 * lock never expires while its execution can still be running.
 */

/** The policy fields that bound how long one execution can run. */
export interface ExecutionTimePolicy {
  readonly bakeSeconds: number;
  readonly rollbackWindowSeconds: number;
  readonly endpointUpdateTimeoutSeconds: number;
  readonly traffic: { readonly stepBakeSeconds: number };
  readonly validation: { readonly approvalTimeoutSeconds: number };
  /** The longest an execution waits in the endpoint's queue for the lock. @default 0 when absent */
  readonly queue?: { readonly maxWaitSeconds: number };
}

/** Room for everything that is not a policy wait: validation, warm-up, restores, retries. */
export const EXECUTION_TIMEOUT_MARGIN_SECONDS = 86_400;
/** Step Functions' longest execution (one year). */
export const MAX_EXECUTION_SECONDS = 31_536_000;

/**
 * The TimeoutSeconds of a target's state machine: every wait the policy allows (the queue for the endpoint lock,
 * the longest approval, each step's bake, the bake, the rollback window, one endpoint update per fleet change and
 * weight change) plus a day of margin. A state-machine timeout cannot be caught, so it must never be what ends a
 * rollout.
 */
export function executionTimeoutSeconds(policy: ExecutionTimePolicy, stepPercents: readonly number[]): number {
  const steps = stepPercents.length;
  const waits =
    (policy.queue?.maxWaitSeconds ?? 0) +
    policy.validation.approvalTimeoutSeconds +
    (steps - 1) * policy.traffic.stepBakeSeconds +
    policy.bakeSeconds +
    policy.rollbackWindowSeconds +
    // Provision green, remove blue (or restore blue), and each step's weight change.
    (steps + 3) * policy.endpointUpdateTimeoutSeconds;
  return Math.min(MAX_EXECUTION_SECONDS, waits + EXECUTION_TIMEOUT_MARGIN_SECONDS);
}

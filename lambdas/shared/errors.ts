/**
 * Errors the rollout raises on purpose. Each class's `name` is what Step Functions shows as the state's
 * Error (Lambda reports `errorType` = `error.name`) and what the ASL's Catch and Retry match, so names are
 * part of the state machine's contract: rename one only together with state-machines/*.asl.json.
 */
export class RolloutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The deployment-target configuration is invalid (synth time or a Lambda's environment). */
export class ConfigurationError extends RolloutError {}
/** A handler's input (an event, a state's payload) does not have the expected shape. */
export class InputValidationError extends RolloutError {}
/** The approved model package's group has no configured target. */
export class TargetNotConfigured extends RolloutError {}
/** The event or package is not an approval: nothing to deploy. */
export class ModelPackageNotApproved extends RolloutError {}
/** The model package does not exist, or cannot be deployed (no inference specification, no containers). */
export class ModelPackageInvalid extends RolloutError {}
/** The endpoint cannot take a rollout now (Failed, SystemUpdating, unexpected variants, ...). */
export class EndpointNotReady extends RolloutError {}
/**
 * Another rollout (of another model package) held the endpoint's lock for longer than the policy's
 * queue.maxWaitSeconds: this rollout gave up waiting without changing anything.
 */
export class EndpointLocked extends RolloutError {}
/** An UpdateEndpoint/CreateEndpoint ended Failed. */
export class EndpointUpdateFailed extends RolloutError {}
/** SageMaker rolled the update back: the endpoint is InService on a config other than the one requested. */
export class EndpointUpdateRolledBack extends RolloutError {}
/** The endpoint stayed Creating/Updating longer than the policy allows. */
export class EndpointUpdateTimedOut extends RolloutError {}
/** Green did not answer the smoke check correctly. */
export class SmokeCheckFailed extends RolloutError {}
/** Green's latency never settled within the warm-up's request and time bounds. */
export class WarmUpDidNotStabilize extends RolloutError {}
/** The validation dataset or sample payload cannot be read or parsed. */
export class PayloadUnavailable extends RolloutError {}
/** Restoring blue after a failure did not succeed: the endpoint needs an operator. */
export class RollbackFailed extends RolloutError {}
/** The endpoint is Updating (another weight change, auto scaling): retried by the state machine. */
export class EndpointBusy extends RolloutError {}
/** One of the rollout's alarms (or an existing alarm named in the policy) went to ALARM while green was watched. */
export class AlarmTriggered extends RolloutError {}
/** An operator asked for a rollback (`npm run operator -- rollback`). */
export class RollbackRequested extends RolloutError {}
/**
 * Rollback would rely on blue, but blue cannot serve (not InService, no instances, or its probe failed): traffic
 * stays where it is served and the rollout stops for an operator.
 */
export class BlueUnhealthy extends RolloutError {}
/** A watched step ended with no alarm data (no traffic reached green) and the policy says that is not a pass. */
export class InsufficientAlarmData extends RolloutError {}
/**
 * Green's instance type could not be provisioned: the endpoint-usage quota refused it (ResourceLimitExceeded on
 * CreateEndpoint/UpdateEndpoint) or SageMaker rolled green's provisioning back for lack of capacity. The state
 * machine moves on to the target's next fallback instance type.
 */
export class CapacityUnavailable extends RolloutError {}
/** No instance type of the target (configured or fallback) has the quota or capacity green needs: blue is untouched. */
export class InsufficientCapacity extends RolloutError {}

/** One line for logs and Causes: the error's name and message, or the value itself. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/*
 * Errors the state machine raises without a Lambda throwing them; listed so that every Error an execution can
 * end with has one definition (the ASL writes these names, the operator command and the rehearsal read them).
 */
/** A gate failed ("Record validation failure"): the Cause is the validation summary. */
export class ValidationFailed extends RolloutError {}
/** An operator rejected the rollout (SendTaskFailure from `npm run operator -- reject`). */
export class RolloutRejected extends RolloutError {}
/** Nobody decided within the policy's approvalTimeoutSeconds ("Record approval timeout"). */
export class ApprovalTimedOut extends RolloutError {}
/**
 * The reconciler did not put the endpoint back within 3 x the plan's endpointUpdateTimeoutSeconds: it needs an
 * operator (the lock is kept until then).
 */
export class ReconcileTimedOut extends RolloutError {}
/** The sweeper could not read who owns what in full (the active-rollouts table): nothing was removed. */
export class SweepAborted extends RolloutError {}

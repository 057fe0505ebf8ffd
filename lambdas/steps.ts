/**
 * The rollout's Lambda steps. One list binds each handler directory (lambdas/<dir>/index.ts exporting
 * `handler`) to the definition substitution the ASL uses for its ARN, so the CDK stack and the local
 * rehearsal wire exactly the same functions to exactly the same states.
 */
export interface RolloutStep {
  /** Directory under lambdas/ and suffix of the function name. */
  readonly dir: string;
  /** `${...}` placeholder in state-machines/rollout.asl.json. */
  readonly substitution: string;
  /** What the function does (the Lambda's description). */
  readonly description: string;
}

export const ROLLOUT_STEPS: readonly RolloutStep[] = [
  { dir: 'resolve-rollout', substitution: 'ResolveRolloutFunctionArn', description: 'Validates the approval, describes the model package and endpoint, plans the rollout' },
  { dir: 'lock-endpoint', substitution: 'LockEndpointFunctionArn', description: "Takes the endpoint's lock before any change: one rollout per endpoint, duplicates ignored, other versions queued" },
  { dir: 'check-capacity', substitution: 'CheckCapacityFunctionArn', description: 'Checks the Service Quotas headroom for green and picks the instance type (configured, then fallbacks)' },
  { dir: 'provision-green', substitution: 'ProvisionGreenFunctionArn', description: 'Creates the green model and endpoint config and adds green beside blue (or creates the endpoint)' },
  { dir: 'check-endpoint', substitution: 'CheckEndpointFunctionArn', description: 'Reports whether the endpoint reached InService on the requested config' },
  { dir: 'smoke-check', substitution: 'SmokeCheckFunctionArn', description: 'Invokes the green variant once on the first payload, to fail fast' },
  { dir: 'warm-up', substitution: 'WarmUpFunctionArn', description: 'Sends representative traffic to each (re)deployed variant until its tail latency settles' },
  { dir: 'plan-validation', substitution: 'PlanValidationFunctionArn', description: 'Splits the golden dataset into validation batches' },
  { dir: 'validate-batch', substitution: 'ValidateBatchFunctionArn', description: 'Sends one batch of payloads to green and blue and stores the paired samples in S3' },
  { dir: 'probe-robustness', substitution: 'ProbeRobustnessFunctionArn', description: 'Sends malformed and adversarial requests to green' },
  { dir: 'judge-validation', substitution: 'JudgeValidationFunctionArn', description: 'Evaluates the validation gates and writes the report to S3' },
  { dir: 'request-approval', substitution: 'RequestApprovalFunctionArn', description: 'Announces that a rollout waits for an operator decision (task token)' },
  { dir: 'record-approval', substitution: 'RecordApprovalFunctionArn', description: "Records an operator's approval (who, why) in the audit trail and on the lifecycle bus" },
  { dir: 'shift-traffic', substitution: 'ShiftTrafficFunctionArn', description: 'Sets variant weights in place so green gets its share of traffic' },
  { dir: 'arm-alarms', substitution: 'ArmAlarmsFunctionArn', description: "Creates the rollout's CloudWatch alarms on green and registers the rollout as the endpoint's active one" },
  { dir: 'hold-blue-capacity', substitution: 'HoldBlueCapacityFunctionArn', description: "Suspends scale-in of an autoscaled blue so it keeps its capacity while its traffic drains" },
  { dir: 'check-step', substitution: 'CheckStepFunctionArn', description: 'Checks the alarms of a watched step and whether its bake is over' },
  { dir: 'watch-step', substitution: 'WatchStepFunctionArn', description: 'Registers the task token an alarm rollback completes, then lets the step bake' },
  { dir: 'scale-green', substitution: 'ScaleGreenFunctionArn', description: "Gives the promoted green blue's auto scaling (scalable target and policies)" },
  { dir: 'retire-blue', substitution: 'RetireBlueFunctionArn', description: 'Moves the endpoint to a config with green alone, releasing blue' },
  { dir: 'restore-blue', substitution: 'RestoreBlueFunctionArn', description: 'After a failure: gives blue its traffic back and removes green from the endpoint' },
  { dir: 'delete-resources', substitution: 'DeleteResourcesFunctionArn', description: 'Deletes endpoint configs and models this system created that the endpoint no longer uses' },
  { dir: 'release-rollout', substitution: 'ReleaseRolloutFunctionArn', description: "Deletes the rollout's alarms and its active-rollout record, whatever the outcome" },
  { dir: 'summarize-rollout', substitution: 'SummarizeRolloutFunctionArn', description: "Writes the rollout's outcome and summary to the audit trail and the model package, publishes it, returns it as the execution's output" },
];

/** Functions that events invoke directly (EventBridge targets), outside the state machine. */
export interface EventHandler {
  /** Directory under lambdas/ and suffix of the function name. */
  readonly dir: string;
  readonly description: string;
}

export const EVENT_HANDLERS: readonly EventHandler[] = [
  { dir: 'on-alarm', description: "Rolls green back within seconds of one of its alarms going to ALARM, then tells the waiting execution" },
  { dir: 'sweep-resources', description: 'Scheduled: finds and removes what this system created that no running rollout owns (unless dry-run)' },
];

/** The reconciler state machine's Lambda (state-machines/reconcile.asl.json), bound like a rollout step. */
export const RECONCILER_STEP: RolloutStep = {
  dir: 'reconcile-rollout',
  substitution: 'ReconcileRolloutFunctionArn',
  description: 'After an execution failed, timed out or was stopped: restores blue, removes green, deletes its alarms, releases the lock',
};

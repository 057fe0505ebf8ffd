/**
 * "Step Functions Execution Status Change" events as EventBridge delivers them (the documented shape: every
 * detail field present, null when not applicable), for the rollout execution of the handler fixtures.
 */
import { ACCOUNT, EXECUTION_ARN, REGION } from './fixtures';

export const ROLLOUT_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sagemaker-blue-green-rollout`;

export type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What each status's event says of errors, as Step Functions fills it in. */
const ERRORS: Record<Status, { error: string | null; cause: string | null }> = {
  RUNNING: { error: null, cause: null },
  SUCCEEDED: { error: null, cause: null },
  FAILED: {
    error: 'States.Runtime',
    cause: "An error occurred while executing the state 'Keep plan'. The JSONPath '$.plan' specified for the field 'plan.$' could not be found in the input",
  },
  TIMED_OUT: { error: 'States.Timeout', cause: 'The execution has exceeded its TimeoutSeconds.' },
  ABORTED: { error: null, cause: null },
};

export function executionStatusChangeEvent(status: Status = 'ABORTED', detail: Record<string, unknown> = {}): Record<string, unknown> {
  const ended = status !== 'RUNNING';
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: '2025-03-01T11:42:21Z',
    region: REGION,
    resources: [EXECUTION_ARN],
    detail: {
      executionArn: EXECUTION_ARN,
      stateMachineArn: ROLLOUT_STATE_MACHINE_ARN,
      name: EXECUTION_ARN.split(':').pop(),
      status,
      startDate: 1740826800000,
      stopDate: ended ? 1740829341881 : null,
      input: JSON.stringify({ source: 'aws.sagemaker', detail: { ModelPackageVersion: 7 } }),
      inputDetails: { included: true },
      output: status === 'SUCCEEDED' ? '{}' : null,
      outputDetails: status === 'SUCCEEDED' ? { included: true } : null,
      ...ERRORS[status],
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: status === 'SUCCEEDED' || status === 'RUNNING' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      stateMachineVersionArn: null,
      stateMachineAliasArn: null,
      ...detail,
    },
  };
}

/** What the reconciler's "Keep event" state keeps of an event (and passes to reconcile-rollout). */
export function keptEvent(status: 'FAILED' | 'TIMED_OUT' | 'ABORTED' = 'ABORTED'): { detail: Record<string, unknown> } {
  const { detail } = executionStatusChangeEvent(status) as { detail: Record<string, unknown> };
  return {
    detail: { executionArn: detail.executionArn, stateMachineArn: detail.stateMachineArn, status: detail.status, error: detail.error, cause: detail.cause },
  };
}

/**
 * The "Step Functions Execution Status Change" event: how the reconciler learns that a rollout execution ended
 * without its failure path (a state-machine timeout, a console Stop, an uncatchable runtime error). The
 * EventBridge rule (lib/rollout-reconciler.ts) and tests use `executionEndedEventPattern`, so what the rule lets
 * through is what the tests check.
 *
 * Step Functions sends these events for STANDARD workflows only, on the default bus, best effort. `input` and
 * `output` are JSON strings that Step Functions leaves out (null, `inputDetails.included` false) when they would
 * make the event too large; `error` and `cause` are set when the execution failed (or was stopped with them).
 */
import { z } from 'zod';
import { ConfigurationError } from './errors';

export const EXECUTION_STATUS_CHANGE_SOURCE = 'aws.states';
export const EXECUTION_STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';

/** Every status an execution status change event may carry. */
export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The statuses of an execution that ended without succeeding: the ones the reconciler acts on. */
export const EXECUTION_ENDED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionEndedStatus = (typeof EXECUTION_ENDED_STATUSES)[number];

/** `arn:aws:states:<region>:<account>:execution:<state machine>:<execution>` (names cannot contain `:`). */
export const EXECUTION_ARN_PATTERN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/;
/** `arn:aws:states:<region>:<account>:stateMachine:<name>` (a version or alias adds `:<qualifier>`). */
export const STATE_MACHINE_ARN_PATTERN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:\S+$/;

export interface ExecutionEndedEventPattern {
  readonly source: string[];
  readonly 'detail-type': string[];
  readonly detail: { readonly status: string[]; readonly stateMachineArn: string[] };
}

/**
 * Executions of the given state machines that ended FAILED, TIMED_OUT or ABORTED, and nothing else (a
 * SUCCEEDED rollout, or another system's state machine, never starts the reconciler). The ARNs may be CDK
 * tokens; at least one is needed (EventBridge refuses an empty list).
 */
export function executionEndedEventPattern(stateMachineArns: readonly string[]): ExecutionEndedEventPattern {
  if (stateMachineArns.length === 0) {
    throw new ConfigurationError('executionEndedEventPattern: no state machine ARN given: the rule would match no execution');
  }
  return {
    source: [EXECUTION_STATUS_CHANGE_SOURCE],
    'detail-type': [EXECUTION_STATUS_CHANGE_DETAIL_TYPE],
    detail: { status: [...EXECUTION_ENDED_STATUSES], stateMachineArn: [...new Set(stateMachineArns)] },
  };
}

const nullableString = z.string({ error: 'must be a string or null' }).nullable().optional();

/**
 * The event's `detail`. Required: what the reconciler reads (executionArn, stateMachineArn, status); the rest of
 * the documented fields are checked when present, and unknown ones (redriveCount, stateMachineVersionArn, ...)
 * are kept.
 */
export const ExecutionStatusChangeDetailSchema = z.looseObject({
  executionArn: z.string({ error: 'must be a string' }).regex(EXECUTION_ARN_PATTERN, 'must be a Step Functions execution ARN'),
  stateMachineArn: z.string({ error: 'must be a string' }).regex(STATE_MACHINE_ARN_PATTERN, 'must be a Step Functions state machine ARN'),
  status: z.enum(EXECUTION_STATUSES, { error: `must be one of ${EXECUTION_STATUSES.join(', ')}` }),
  name: z.string({ error: 'must be a string' }).optional(),
  /** Epoch milliseconds. */
  startDate: z.number({ error: 'must be a number (epoch milliseconds)' }).nullable().optional(),
  /** Epoch milliseconds; null while RUNNING. */
  stopDate: z.number({ error: 'must be a number (epoch milliseconds)' }).nullable().optional(),
  /** The execution's input as a JSON string (null when too large for the event). */
  input: nullableString,
  output: nullableString,
  error: nullableString,
  cause: nullableString,
});
export type ExecutionStatusChangeDetail = z.infer<typeof ExecutionStatusChangeDetailSchema>;

/** The whole event, as EventBridge delivers it. */
export const ExecutionStatusChangeEventSchema = z.looseObject({
  source: z.literal(EXECUTION_STATUS_CHANGE_SOURCE, { error: `must be "${EXECUTION_STATUS_CHANGE_SOURCE}"` }),
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE_DETAIL_TYPE, { error: `must be "${EXECUTION_STATUS_CHANGE_DETAIL_TYPE}"` }),
  time: z.string({ error: 'must be a string' }).optional(),
  resources: z.array(z.string()).optional(),
  detail: ExecutionStatusChangeDetailSchema,
});
export type ExecutionStatusChangeEvent = z.infer<typeof ExecutionStatusChangeEventSchema>;

/**
 * What the reconciler state machine keeps of the event ("Keep event" in state-machines/reconcile.asl.json:
 * `detail` with executionArn, stateMachineArn, status and, when given, error and cause) and what the whole event
 * also satisfies: an ended status is required, anything else is rejected as bad input.
 */
export const ExecutionEndedEventSchema = z.looseObject({
  detail: ExecutionStatusChangeDetailSchema.extend({
    status: z.enum(EXECUTION_ENDED_STATUSES, { error: `must be one of ${EXECUTION_ENDED_STATUSES.join(', ')} (an execution that ended without succeeding)` }),
  }),
});
export type ExecutionEndedEvent = z.infer<typeof ExecutionEndedEventSchema>;

/** `ABORTED` -> `ExecutionAborted`: the Error name the failure path is given for an execution that ended so. */
export function executionEndedErrorName(status: ExecutionEndedStatus): string {
  const words = status.toLowerCase().split('_');
  return `Execution${words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}`;
}

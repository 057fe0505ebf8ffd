import { ConfigurationError } from '../../../lambdas/shared/errors';
import {
  EXECUTION_STATUS_CHANGE_DETAIL_TYPE,
  executionEndedErrorName,
  executionEndedEventPattern,
  ExecutionEndedEventSchema,
  ExecutionStatusChangeEventSchema,
} from '../../../lambdas/shared/execution-events';
import { matchesPattern, type EventPattern } from '../../../rehearsal/event-bus';
import { executionStatusChangeEvent, keptEvent, ROLLOUT_STATE_MACHINE_ARN, type Status } from '../support/execution-event';
import { EXECUTION_ARN } from '../support/fixtures';

/** The paths of the fields zod rejects. */
function rejectedPaths(schema: typeof ExecutionStatusChangeEventSchema | typeof ExecutionEndedEventSchema, event: unknown): string[] {
  const result = schema.safeParse(event);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

const withDetail = (detail: Record<string, unknown>, status: Status = 'ABORTED') => executionStatusChangeEvent(status, detail);

describe('ExecutionStatusChangeEventSchema', () => {
  test.each(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const)('accepts a %s event and keeps its other fields', (status) => {
    const parsed = ExecutionStatusChangeEventSchema.parse(executionStatusChangeEvent(status));
    expect(parsed.detail).toMatchObject({ executionArn: EXECUTION_ARN, stateMachineArn: ROLLOUT_STATE_MACHINE_ARN, status });
    expect(parsed.detail).toHaveProperty('redriveCount', 0);
    expect(parsed).toHaveProperty('account', '123456789012');
  });

  test('accepts an event whose input was left out (too large) and one without the optional fields', () => {
    expect(rejectedPaths(ExecutionStatusChangeEventSchema, withDetail({ input: null, inputDetails: { included: false } }))).toEqual([]);
    const bare = { source: 'aws.states', 'detail-type': EXECUTION_STATUS_CHANGE_DETAIL_TYPE, detail: { executionArn: EXECUTION_ARN, stateMachineArn: ROLLOUT_STATE_MACHINE_ARN, status: 'ABORTED' } };
    expect(rejectedPaths(ExecutionStatusChangeEventSchema, bare)).toEqual([]);
  });

  test.each([
    ['source', { ...executionStatusChangeEvent(), source: 'aws.sagemaker' }],
    ['detail-type', { ...executionStatusChangeEvent(), 'detail-type': 'Step Functions State Machine Change' }],
    ['detail.executionArn', withDetail({ executionArn: undefined })],
    ['detail.executionArn', withDetail({ executionArn: ROLLOUT_STATE_MACHINE_ARN })],
    ['detail.stateMachineArn', withDetail({ stateMachineArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' })],
    ['detail.status', withDetail({ status: 'STOPPED' })],
    ['detail.stopDate', withDetail({ stopDate: '2025-03-01T11:42:21Z' })],
    ['detail.cause', withDetail({ cause: 42 })],
  ])('rejects a bad %s (case %#)', (path, event) => {
    expect(rejectedPaths(ExecutionStatusChangeEventSchema, event)).toEqual([path]);
  });
});

describe('ExecutionEndedEventSchema (what the reconciler accepts)', () => {
  test.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)('accepts a whole %s event and what "Keep event" keeps of it', (status) => {
    expect(rejectedPaths(ExecutionEndedEventSchema, executionStatusChangeEvent(status))).toEqual([]);
    expect(ExecutionEndedEventSchema.parse(keptEvent(status)).detail.status).toBe(status);
  });

  test('accepts the kept event without error and cause ("Keep event (no cause)")', () => {
    const { detail } = keptEvent('ABORTED');
    const { error: _error, cause: _cause, ...withoutCause } = detail;
    expect(rejectedPaths(ExecutionEndedEventSchema, { detail: withoutCause })).toEqual([]);
  });

  test.each(['RUNNING', 'SUCCEEDED'] as const)('rejects a %s event: not an execution that ended without succeeding', (status) => {
    expect(rejectedPaths(ExecutionEndedEventSchema, executionStatusChangeEvent(status))).toEqual(['detail.status']);
  });
});

describe('executionEndedEventPattern', () => {
  const other = 'arn:aws:states:us-east-1:123456789012:stateMachine:someone-elses';
  const pattern = executionEndedEventPattern([ROLLOUT_STATE_MACHINE_ARN]) as unknown as EventPattern;

  test('is the documented source and detail-type, the three ended statuses, and the given state machines once each', () => {
    expect(executionEndedEventPattern([ROLLOUT_STATE_MACHINE_ARN, other, ROLLOUT_STATE_MACHINE_ARN])).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [ROLLOUT_STATE_MACHINE_ARN, other] },
    });
  });

  test('lets through a failed, timed-out or stopped rollout execution, and nothing else', () => {
    for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED'] as const) expect(matchesPattern(pattern, executionStatusChangeEvent(status))).toBe(true);
    for (const status of ['RUNNING', 'SUCCEEDED'] as const) expect(matchesPattern(pattern, executionStatusChangeEvent(status))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ stateMachineArn: other }))).toBe(false);
    expect(matchesPattern(pattern, { ...executionStatusChangeEvent(), source: 'aws.sagemaker' })).toBe(false);
  });

  test('refuses an empty list of state machines (EventBridge would refuse the rule)', () => {
    expect(() => executionEndedEventPattern([])).toThrow(ConfigurationError);
  });
});

test('executionEndedErrorName names the failure the restore is given', () => {
  expect(executionEndedErrorName('ABORTED')).toBe('ExecutionAborted');
  expect(executionEndedErrorName('TIMED_OUT')).toBe('ExecutionTimedOut');
  expect(executionEndedErrorName('FAILED')).toBe('ExecutionFailed');
});

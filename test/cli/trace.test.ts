import 'aws-sdk-client-mock-jest';
import { ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { formatElapsed, MAX_TRACE_CAUSE_CHARS, oneLine, timeline } from '../../cli/commands/trace';
import { runCli } from '../../cli/runner';
import { capturedContext, EXECUTION_ARN, HistoryBuilder, REGION, serveHistory, serviceError } from './support';

const sfn = mockClient(SFNClient);
const START = new Date('2025-03-04T11:00:00.000Z');
const TRACE_USAGE = 'Usage: npx sagemaker-blue-green trace --execution ARN [--region REGION] [--json]';
const LAMBDA = { resourceType: 'lambda', resource: 'invoke' } as const;
const LONG_CAUSE = `Green returned 5xx on 12 of 250 requests:\n  first: ${'ModelError '.repeat(40)}`;

/** Events `seconds` after START, in the order given. */
function history(...events: Array<[number, Omit<HistoryEvent, 'id' | 'timestamp'>]>): HistoryEvent[] {
  return events.map(([seconds, event], index) => ({ ...event, id: index + 1, timestamp: new Date(START.getTime() + seconds * 1000) }) as HistoryEvent);
}

/** A rollout that retried its smoke check once, then failed it and ended FAILED via its Catch. */
const FAILED_ROLLOUT = history(
  [0, { type: 'ExecutionStarted' }],
  [1, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Provision green variant' } }],
  [2, { type: 'TaskScheduled', taskScheduledEventDetails: { ...LAMBDA, region: REGION, parameters: '{}' } }],
  [3, { type: 'TaskSucceeded', taskSucceededEventDetails: LAMBDA }],
  [4, { type: 'TaskStateExited', stateExitedEventDetails: { name: 'Provision green variant' } }],
  [5, { type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'Wait for green InService' } }],
  [605, { type: 'WaitStateExited', stateExitedEventDetails: { name: 'Wait for green InService' } }],
  [1201, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Smoke check green' } }],
  [1202, { type: 'TaskScheduled', taskScheduledEventDetails: { ...LAMBDA, region: REGION, parameters: '{}' } }],
  [1210, { type: 'TaskFailed', taskFailedEventDetails: { ...LAMBDA, error: 'GreenUnhealthy', cause: LONG_CAUSE } }],
  [1240, { type: 'TaskScheduled', taskScheduledEventDetails: { ...LAMBDA, region: REGION, parameters: '{}' } }],
  [1250, { type: 'TaskTimedOut', taskTimedOutEventDetails: { ...LAMBDA, error: 'States.Timeout' } }],
  [1251, { type: 'TaskStateExited', stateExitedEventDetails: { name: 'Smoke check green' } }],
  [1252, { type: 'FailStateEntered', stateEnteredEventDetails: { name: 'Rollout failed' } }],
  [1252, { type: 'ExecutionFailed', executionFailedEventDetails: { error: 'GreenUnhealthy', cause: 'Green failed its smoke check' } }],
);

beforeEach(() => sfn.reset());

describe('operator trace', () => {
  test('a readable timeline: states, waits, a task failure, its retry, and the final status', async () => {
    serveHistory(sfn, FAILED_ROLLOUT);
    const { context, out, err } = capturedContext();

    const code = await runCli(['trace', '--execution', EXECUTION_ARN], context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toEqual([
      `Execution ${EXECUTION_ARN}`,
      `+00:00:00  execution started (${START.toISOString()})`,
      '+00:00:01  Provision green variant',
      '+00:00:04  Provision green variant: left after 3 s',
      '+00:00:05  Wait for green InService (waiting)',
      '+00:10:05  Wait for green InService: waited after 600 s',
      '+00:20:01  Smoke check green',
      `+00:20:10  Smoke check green: TaskFailed: GreenUnhealthy: ${oneLine(LONG_CAUSE)}`,
      '+00:20:40  Smoke check green: retry 1 after GreenUnhealthy',
      '+00:20:50  Smoke check green: TaskTimedOut: States.Timeout',
      '+00:20:51  Smoke check green: left after 50 s',
      '+00:20:52  Rollout failed',
      '+00:20:52  execution FAILED: GreenUnhealthy: Green failed its smoke check',
      'Final status: FAILED: GreenUnhealthy: Green failed its smoke check',
    ]);
    // The cause is one line, cut to the limit.
    expect(out[7]).not.toContain('\n');
    expect(oneLine(LONG_CAUSE)).toHaveLength(MAX_TRACE_CAUSE_CHARS);
    expect(oneLine(LONG_CAUSE).endsWith('…')).toBe(true);
  });

  test('asks for every page, without execution data, in the region of the ARN', async () => {
    const events = new HistoryBuilder().pollLoops(40).build();
    serveHistory(sfn, events, 25);
    const { context, out, requestedRegions } = capturedContext({ defaultRegion: 'us-west-2' });

    expect(await runCli(['trace', '--execution', EXECUTION_ARN], context)).toBe(0);

    const calls = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(4);
    expect(calls[0]).toEqual({ executionArn: EXECUTION_ARN, includeExecutionData: false, maxResults: 1000, nextToken: undefined });
    expect(calls.slice(1).map((input) => input.nextToken)).toEqual(['page-from-25', 'page-from-50', 'page-from-75']);
    expect(requestedRegions).toEqual([REGION]);
    // 1 start + 80 wait events, then the status.
    expect(out).toHaveLength(1 + 1 + 80 + 1);
    expect(out.at(-1)).toBe('Status: RUNNING');
  });

  test('a running execution: the states it is in', async () => {
    serveHistory(sfn, HistoryBuilder.untilApproval('token').build());
    const { context, out } = capturedContext();

    expect(await runCli(['trace', '--execution', EXECUTION_ARN], context)).toBe(0);

    expect(out.at(-2)).toMatch(/^\+00:00:\d\d {2}Wait for approval$/);
    expect(out.at(-1)).toBe('Status: RUNNING (in "Wait for approval")');
  });

  test('an aborted execution shows the operator and reason from StopExecution', async () => {
    serveHistory(
      sfn,
      history(
        [0, { type: 'ExecutionStarted' }],
        [3_725, { type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'Bake at 100%' } }],
        [93_784, { type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'OperatorAbort', cause: 'Aborted by dave at 2025-03-05T13:03:04.000Z: wrong package' } }],
      ),
    );
    const { context, out } = capturedContext();

    expect(await runCli(['trace', '--execution', EXECUTION_ARN], context)).toBe(0);

    expect(out.slice(2)).toEqual([
      '+01:02:05  Bake at 100% (waiting)',
      '+26:03:04  execution ABORTED: OperatorAbort: Aborted by dave at 2025-03-05T13:03:04.000Z: wrong package',
      'Final status: ABORTED: OperatorAbort: Aborted by dave at 2025-03-05T13:03:04.000Z: wrong package',
    ]);
  });

  test('--json: the same timeline as JSON lines, with the full cause, then the status', async () => {
    serveHistory(sfn, FAILED_ROLLOUT);
    const { context, out } = capturedContext();

    expect(await runCli(['trace', '--execution', EXECUTION_ARN, '--json'], context)).toBe(0);

    const lines = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(13);
    expect(lines[0]).toEqual({ elapsed: '+00:00:00', elapsedSeconds: 0, at: START.toISOString(), kind: 'started', event: 'ExecutionStarted' });
    expect(lines[6]).toEqual({
      elapsed: '+00:20:10',
      elapsedSeconds: 1210,
      at: '2025-03-04T11:20:10.000Z',
      kind: 'failed',
      event: 'TaskFailed',
      state: 'Smoke check green',
      error: 'GreenUnhealthy',
      cause: LONG_CAUSE,
    });
    expect(lines[7]).toMatchObject({ kind: 'retry', state: 'Smoke check green', attempt: 1, error: 'GreenUnhealthy' });
    expect(lines[9]).toMatchObject({ kind: 'exited', state: 'Smoke check green', seconds: 50 });
    expect(lines.at(-1)).toEqual({ kind: 'status', status: 'FAILED', error: 'GreenUnhealthy', cause: 'Green failed its smoke check' });
  });
});

describe('timeline and formatting', () => {
  test('task events inside a nested state belong to the innermost state; leaving the outer state closes both', () => {
    const { entries, outcome } = timeline(
      history(
        [0, { type: 'ExecutionStarted' }],
        [1, { type: 'ParallelStateEntered', stateEnteredEventDetails: { name: 'Clean up' } }],
        [2, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Delete alarms' } }],
        [3, { type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: 'Lambda.ServiceException', cause: 'x' } }],
        [9, { type: 'ParallelStateExited', stateExitedEventDetails: { name: 'Clean up' } }],
      ),
    );

    expect(entries[3]).toMatchObject({ kind: 'failed', state: 'Delete alarms', error: 'Lambda.ServiceException' });
    expect(entries[4]).toMatchObject({ kind: 'exited', state: 'Clean up', seconds: 8 });
    expect(outcome).toEqual({ status: 'RUNNING', inStates: [] });
  });

  test('formatElapsed pads and lets hours pass 24', () => {
    expect(formatElapsed(0)).toBe('+00:00:00');
    expect(formatElapsed(601)).toBe('+00:10:01');
    expect(formatElapsed(100 * 3600 + 59)).toBe('+100:00:59');
  });
});

describe('operator trace: failures', () => {
  test('an execution Step Functions does not know: exit 1, check the ARN and --region', async () => {
    sfn.on(GetExecutionHistoryCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'Execution Does Not Exist' }));
    const { context, out, err } = capturedContext();

    expect(await runCli(['trace', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(out).toEqual([]);
    expect(err).toEqual([`operator trace: no execution ${EXECUTION_ARN} (check the ARN and --region)`]);
  });

  test('AccessDenied names states:GetExecutionHistory', async () => {
    sfn.on(GetExecutionHistoryCommand).rejects(serviceError('AccessDeniedException', 'denied'));
    const { context, err } = capturedContext();

    expect(await runCli(['trace', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toBe(
      'operator trace: permission missing: your AWS identity may not call states:GetExecutionHistory (AWS said: denied). Ask for states:GetExecutionHistory on the rollout state machine and its executions',
    );
  });

  test.each([
    ['missing --execution', ['trace'], 'operator trace: --execution: required: the ARN of the rollout execution'],
    ['not an execution ARN', ['trace', '--execution', 'arn:aws:states:eu-west-1:123456789012:stateMachine:BlueGreenRollout'], 'operator trace: --execution: expected an execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME'],
    ['--region other than the ARN', ['trace', '--execution', EXECUTION_ARN, '--region', 'us-east-1'], `operator trace: --region: execution ${EXECUTION_ARN} is in ${REGION}, not us-east-1: drop --region or use --region ${REGION}`],
    ['a value for --json', ['trace', '--execution', EXECUTION_ARN, '--json=yes'], "operator trace: TypeError [ERR_PARSE_ARGS_INVALID_OPTION_VALUE]: Option '--json' does not take an argument"],
  ])('usage: %s (exit 2, no AWS call)', async (_, argv, message) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(err[0]).toBe(message);
    expect(err).toContain(TRACE_USAGE);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('--help: the usage with every option, on stdout', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['trace', '--help'], context)).toBe(0);

    expect(out[0]).toBe(TRACE_USAGE);
    for (const option of ['--execution ARN', '--region REGION', '--json', '--help', '+00:10:01  Smoke check green', 'the region in the ARN']) {
      expect(out.join('\n')).toContain(option);
    }
  });
});

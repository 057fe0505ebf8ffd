import 'aws-sdk-client-mock-jest';
import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_CAUSE_CHARS, MAX_REASON_CHARS, rejectionCause } from '../../cli/decision';
import { runCli } from '../../cli/runner';
import { capturedContext, ENDPOINT, EXECUTION_ARN, HistoryBuilder, NOW, serveHistory } from './support';

const sfn = mockClient(SFNClient);
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAd-reject-token';
const REJECT_USAGE = 'Usage: npx sagemaker-blue-green reject --execution ARN --reason TEXT [--by NAME] [--region REGION]';

function waitingForApproval(): void {
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, status: 'RUNNING', stateMachineArn: 'arn:sm', startDate: NOW });
  serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
  sfn.on(SendTaskFailureCommand).resolves({});
}

beforeEach(() => sfn.reset());

describe('operator reject', () => {
  test('sends SendTaskFailure with the token, error RolloutRejected and "Rejected by <by>: <reason>"', async () => {
    waitingForApproval();
    const { context, out, err } = capturedContext();

    const code = await runCli(['reject', '--execution', EXECUTION_ARN, '--by', 'dave', '--reason', 'golden agreement 91% on fraud cases'], context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input).toEqual({
      taskToken: TOKEN,
      error: 'RolloutRejected',
      cause: 'Rejected by dave: golden agreement 91% on fraud cases',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(out.join('\n')).toMatch(new RegExp(`endpoint\\s+${ENDPOINT}`));
    expect(out.at(-1)).toBe('Rejected by dave: the rollout rolls back (blue keeps serving, green is removed).');
  });

  test('--by defaults to the OS user name; surrounding blanks of --reason are dropped', async () => {
    waitingForApproval();
    const { context } = capturedContext({ userName: 'erin' });

    expect(await runCli(['reject', '--execution', EXECUTION_ARN, '--reason', '  p99 regression  '], context)).toBe(0);

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { cause: 'Rejected by erin: p99 regression' });
  });

  test.each([
    ['missing', []],
    ['blank', ['--reason', '   ']],
  ])('--reason %s: exit 2 with the usage, no AWS call', async (_, reasonArgs) => {
    const { context, err, out } = capturedContext();

    expect(await runCli(['reject', '--execution', EXECUTION_ARN, ...reasonArgs], context)).toBe(2);

    expect(err[0]).toBe('operator reject: --reason: required: say why the rollout is rejected');
    expect(err).toContain(REJECT_USAGE);
    expect(out).toEqual([]);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('--reason longer than the limit: exit 2', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['reject', '--execution', EXECUTION_ARN, '--reason', 'x'.repeat(MAX_REASON_CHARS + 1)], context)).toBe(2);

    expect(err[0]).toBe(`operator reject: --reason: at most ${MAX_REASON_CHARS} characters`);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('too late: TaskDoesNotExist from SendTaskFailure', async () => {
    waitingForApproval();
    sfn.on(SendTaskFailureCommand).rejects(new TaskDoesNotExist({ message: 'Task does not exist anymore', $metadata: {} }));
    const { context, err } = capturedContext();

    expect(await runCli(['reject', '--execution', EXECUTION_ARN, '--reason', 'drift'], context)).toBe(1);

    expect(err[0]).toMatch(/^operator reject: the decision came too late: the approval timed out/);
  });
});

describe('rejectionCause', () => {
  test('fits SendTaskFailure\'s limit, counted in code points, without splitting a character', () => {
    const cause = rejectionCause('frank', '🙅'.repeat(MAX_CAUSE_CHARS));
    const characters = Array.from(cause);

    expect(characters).toHaveLength(MAX_CAUSE_CHARS);
    expect(cause.startsWith('Rejected by frank: 🙅')).toBe(true);
    expect(characters.at(-2)).toBe('🙅');
    expect(characters.at(-1)).toBe('…');
  });

  test('a cause within the limit is kept whole', () => {
    const reason = 'r'.repeat(MAX_CAUSE_CHARS - 'Rejected by g: '.length);
    expect(rejectionCause('g', reason)).toBe(`Rejected by g: ${reason}`);
  });
});

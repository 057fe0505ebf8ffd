import 'aws-sdk-client-mock-jest';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../cli/runner';
import {
  approvalParameters,
  approvalScheduledAt,
  capturedContext,
  ENDPOINT,
  EXECUTION_ARN,
  HistoryBuilder,
  NOW,
  PACKAGE_ARN,
  REPORT_URI,
  serveHistory,
  serviceError,
} from './support';

const sfn = mockClient(SFNClient);
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAd-approval-token';

function running(status: ExecutionStatus = 'RUNNING') {
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, status, stateMachineArn: 'arn:sm', startDate: NOW });
}

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
});

describe('operator approve', () => {
  test('sends SendTaskSuccess with the waiting task token and the decision as output', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    const { context, out, err } = capturedContext();

    const code = await runCli(['approve', '--execution', EXECUTION_ARN, '--by', 'bob', '--reason', 'latency gate lacks samples; p99 looks fine'], context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const input = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(input.taskToken).toBe(TOKEN);
    expect(JSON.parse(input.output!)).toEqual({
      decision: 'APPROVED',
      by: 'bob',
      reason: 'latency gate lacks samples; p99 looks fine',
      decidedAt: NOW.toISOString(),
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, reverseOrder: true });
    expect(out.at(-1)).toBe('Approved by bob: the rollout carries on with green.');
  });

  test('shows endpoint, model package version, verdict, summary, report and deadline before deciding', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    const { context, out } = capturedContext();

    await runCli(['approve', '--execution', EXECUTION_ARN], context);

    const shown = out.join('\n');
    expect(shown).toMatch(new RegExp(`endpoint\\s+${ENDPOINT}\\n`));
    expect(shown).toContain(`model package  version 7 (${PACKAGE_ARN})`);
    expect(shown).toMatch(/verdict\s+INCONCLUSIVE\n/);
    // Both summary lines, the second aligned under the first.
    expect(shown).toMatch(/summary\s+health PASS: 0 of 250 green requests failed\n\s{17}latency INCONCLUSIVE: 120 paired samples, 200 needed/);
    expect(shown).toContain(`report         ${REPORT_URI}`);
    // The builder's events are a second apart from NOW - 1 h; the approval was scheduled with a 24 h timeout.
    const scheduledAt = approvalScheduledAt(HistoryBuilder.untilApproval(TOKEN).build());
    const deadline = new Date(scheduledAt.getTime() + 86_400_000);
    expect(shown).toContain(`waiting since  ${scheduledAt.toISOString()} (times out at ${deadline.toISOString()}, in 23 h)`);
    // What is decided comes before the decision is announced.
    expect(out.findIndex((line) => line.includes(ENDPOINT))).toBeLessThan(out.findIndex((line) => line.startsWith('Approved')));
  });

  test('--by defaults to the OS user name; no --reason records reason null', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    const { context } = capturedContext({ userName: 'carol' });

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(0);

    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output).toEqual({ decision: 'APPROVED', by: 'carol', reason: null, decidedAt: NOW.toISOString() });
  });

  test('without --by and without an OS user name: usage error before any AWS call', async () => {
    const { context, err } = capturedContext({ userName: undefined });

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(2);

    expect(err[0]).toBe('operator approve: --by: your OS user name is not available here: give --by NAME');
    expect(err).toContain('Usage: npx sagemaker-blue-green approve --execution ARN [--by NAME] [--reason TEXT] [--region REGION]');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('history over two pages: follows nextToken to the approval task and stops there', async () => {
    running();
    // Newest first, two events a page: TaskSubmitted and TaskStarted fill the first page, the approval's
    // TaskScheduled opens the second; the older events behind it are never fetched.
    const history = new HistoryBuilder()
      .lambdaState('Resolve rollout')
      .pollLoops(10)
      .enter('Wait for approval', 'TaskStateEntered')
      .approvalScheduled('token-on-page-2')
      .build();
    serveHistory(sfn, history, 2);
    const { context } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(0);

    const historyCalls = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(historyCalls).toEqual([
      { executionArn: EXECUTION_ARN, reverseOrder: true, includeExecutionData: true, nextToken: undefined },
      { executionArn: EXECUTION_ARN, reverseOrder: true, includeExecutionData: true, nextToken: 'page-from-2' },
    ]);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-on-page-2' });
  });

  test('a retried approval task: answers the latest token, not the failed attempt\'s', async () => {
    running();
    const history = HistoryBuilder.untilApproval('first-attempt-token')
      .approvalFailed('Lambda.ServiceException')
      .approvalScheduled('retry-token')
      .build();
    serveHistory(sfn, history);
    const { context } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(0);

    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'retry-token' });
  });

  test('approval task already succeeded: not waiting, names the current state, sends nothing', async () => {
    running();
    const history = HistoryBuilder.untilApproval(TOKEN)
      .approvalSucceeded()
      .exit('Wait for approval')
      .lambdaState('Shift traffic to 100%')
      .enter('Watch 100% step')
      .build();
    serveHistory(sfn, history);
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^operator approve: execution ${EXECUTION_ARN} is not waiting for a decision \\(it is in state "Watch 100% step"\\): ` +
            'its approval task already ended \\(TaskSucceeded at 2025-03-04T11:\\d\\d:\\d\\d\\.000Z\\)$',
        ),
      ),
    ]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('approval timed out but the execution still rolls back: not waiting', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).approvalTimedOut().exit('Wait for approval').enter('Restore blue', 'TaskStateEntered').build());
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toMatch(/\(it is in state "Restore blue"\): its approval task already ended \(TaskTimedOut at /);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('execution that has not asked for approval yet: not waiting, reads the whole history', async () => {
    running();
    serveHistory(sfn, new HistoryBuilder().lambdaState('Resolve rollout').pollLoops(4).enter('Validate against blue', 'MapStateEntered').build(), 5);
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toBe(
      `operator approve: execution ${EXECUTION_ARN} is not waiting for a decision (it is in state "Validate against blue"): it has not asked for approval`,
    );
    // 1 + 5 + 8 + 1 = 15 events, 5 a page.
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 3);
  });

  test.each(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'] as const)('execution %s: nothing to decide, no history read', async (status) => {
    running(status);
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err).toEqual([`operator approve: execution ${EXECUTION_ARN} is ${status}: nothing to decide`]);
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  test('unknown execution: says so in plain words', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${EXECUTION_ARN}'`, $metadata: {} }));
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err).toEqual([`operator approve: no execution ${EXECUTION_ARN} (check the ARN and --region)`]);
  });

  test('too late: TaskTimedOut from SendTaskSuccess', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out: ...', $metadata: {} }));
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toMatch(/^operator approve: the decision came too late: the approval timed out/);
  });

  test('missing permission: names the IAM action that was denied', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    sfn.on(SendTaskSuccessCommand).rejects(serviceError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/bob is not authorized to perform: states:SendTaskSuccess'));
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toMatch(/^operator approve: permission missing: your AWS identity may not call states:SendTaskSuccess/);
  });

  test('no credentials: tells how to provide them', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    sfn.on(DescribeExecutionCommand).rejects(noCredentials);
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toMatch(/^operator approve: no AWS credentials found \(Could not load credentials from any providers\)\. .*aws sso login.*AWS_ACCESS_KEY_ID/);
  });

  test('--region builds the client for that region', async () => {
    running();
    serveHistory(sfn, HistoryBuilder.untilApproval(TOKEN).build());
    const { context, requestedRegions } = capturedContext({ defaultRegion: 'us-east-1' });

    expect(await runCli(['approve', '--execution', EXECUTION_ARN, '--region', 'eu-west-1'], context)).toBe(0);

    expect(requestedRegions).toEqual(['eu-west-1']);
  });

  test('default region other than the ARN\'s: refuses before any call and says which --region to use', async () => {
    const { context, err } = capturedContext({ defaultRegion: 'us-east-1' });

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err).toEqual([
      `operator approve: execution ${EXECUTION_ARN} is in eu-west-1, but requests would go to us-east-1 (your default region): use --region eu-west-1`,
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('approval task without parameters (history read without data): refuses, sends nothing', async () => {
    running();
    serveHistory(sfn, new HistoryBuilder().enter('Wait for approval', 'TaskStateEntered').approvalScheduled(TOKEN, '').build());
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toMatch(/the approval task \(event 3\) has no readable parameters/);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('approval payload without the plan fields to show: names the field, sends nothing', async () => {
    running();
    const parameters = approvalParameters(TOKEN, { plan: { endpointName: undefined }, validation: { verdict: 'MAYBE' } });
    serveHistory(sfn, new HistoryBuilder().enter('Wait for approval', 'TaskStateEntered').approvalScheduled(TOKEN, parameters).build());
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', EXECUTION_ARN], context)).toBe(1);

    expect(err[0]).toContain('Payload.plan.endpointName:');
    expect(err[0]).toContain('Payload.validation.verdict:');
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });
});

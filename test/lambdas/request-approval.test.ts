import 'aws-sdk-client-mock-jest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/request-approval';
import { decisionCommands, fitBytes, MAX_EVENT_SUMMARY_BYTES, requestApproval } from '../../lambdas/request-approval/request';
import { rolloutEventKey } from '../../lambdas/shared/audit-trail';
import type { StepLogger } from '../../lambdas/shared/logger';
import { DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, GROUP, makePlan, validationPolicy, VERSION } from './support/fixtures';
import { mockLifecycleSink } from './support/lifecycle';

const sfn = mockClient(SFNClient);
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token';
const VALIDATION = {
  verdict: 'INCONCLUSIVE' as const,
  summary: 'Validation INCONCLUSIVE on 30 requests (dataset s3://bucket/golden.jsonl):\nhealth INCONCLUSIVE: too few samples: 30 < 100 (green requests)',
  reportUri: 's3://artifacts/validation/fraud-detector-prod/0a1b2c3d/report.json',
  gates: [{ gate: 'health', verdict: 'INCONCLUSIVE' }],
};

function spyLogger() {
  const warn = jest.fn();
  return { logger: { debug: jest.fn(), info: jest.fn(), warn } as unknown as StepLogger, warn };
}

describe('request-approval', () => {
  test('one WARN line: endpoint, version, verdict, summary, the exact commands and the deadline; the token is not logged', async () => {
    const { logger, warn } = spyLogger();
    const now = Date.now();
    const plan = makePlan({ validation: validationPolicy({ approvalTimeoutSeconds: 3600 }) });
    const result = await requestApproval({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan, validation: VALIDATION }, { logger });

    expect(result).toEqual({ notified: true });
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, attributes] = warn.mock.calls[0]!;
    expect(message).toContain(`rollout of ${GROUP} version ${VERSION} to endpoint ${ENDPOINT}`);
    expect(message).toContain('because validation was INCONCLUSIVE');
    expect(message).toContain(`Approve: npx sagemaker-blue-green approve --execution ${EXECUTION_ARN}`);
    expect(message).toContain(`Reject: npx sagemaker-blue-green reject --execution ${EXECUTION_ARN}`);
    expect(message).toContain('health INCONCLUSIVE: too few samples');
    expect(message).not.toContain('\n');
    expect(attributes).toMatchObject({ decisionNeeded: true, verdict: 'INCONCLUSIVE', summary: VALIDATION.summary, reportUri: VALIDATION.reportUri });
    expect(Date.parse(attributes.decideBy) - now).toBeGreaterThanOrEqual(3600 * 1000);
    expect(Date.parse(attributes.decideBy) - now).toBeLessThan(3600 * 1000 + 5000);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(TOKEN);
  });

  test('a PASS that waits says the policy asks for a person', async () => {
    const { logger, warn } = spyLogger();
    await requestApproval({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan: makePlan(), validation: { ...VALIDATION, verdict: 'PASS' } }, { logger });
    expect(warn.mock.calls[0]![0]).toContain('requireHumanApproval');
  });

  test('the handler returns { notified: true } and only announces: it never completes the task itself', async () => {
    sfn.reset();
    await expect(handler({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan: makePlan(), validation: VALIDATION })).resolves.toEqual({ notified: true });
    expect(sfn.calls()).toHaveLength(0);
  });

  test('the commands name the execution', () => {
    expect(decisionCommands('arn:x')).toEqual({ approve: 'npx sagemaker-blue-green approve --execution arn:x', reject: 'npx sagemaker-blue-green reject --execution arn:x' });
  });

  test('an input without task token is refused, naming the field', async () => {
    await expect(handler({ executionArn: EXECUTION_ARN, plan: makePlan(), validation: VALIDATION })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/taskToken: /),
    });
  });
});

describe('request-approval: Approval Requested', () => {
  const { dynamo, eventBridge: events, logger: sinkLogger, sink: lifecycle } = mockLifecycleSink();

  test('after the WARN line: the timeout and the validation summary, in the audit trail and on the bus; never the token', async () => {
    const { logger, warn } = spyLogger();
    const plan = makePlan({ validation: validationPolicy({ approvalTimeoutSeconds: 7200 }) });
    await requestApproval({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan, validation: VALIDATION }, { logger, lifecycle: lifecycle() });

    expect(warn).toHaveBeenCalledTimes(1);
    const item = dynamo.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    expect(item.recordKey!.S).toBe(rolloutEventKey(DEPLOYMENT_ID, 'ApprovalRequested'));
    expect(JSON.parse(item.data!.S!)).toMatchObject({ type: 'ApprovalRequested', timeoutSeconds: 7200, validationSummary: VALIDATION.summary });
    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry.DetailType).toBe('Approval Requested');
    expect(JSON.parse(entry.Detail!)).toMatchObject({ timeoutSeconds: 7200, validationSummary: VALIDATION.summary });
    expect(entry.Detail).not.toContain(TOKEN);
    expect(item.data!.S).not.toContain(TOKEN);
  });

  test('a summary over 1 KB is cut to 1 KB (UTF-8), never inside a character', async () => {
    const { logger } = spyLogger();
    const summary = `Validation INCONCLUSIVE:\n${'latency INCONCLUSIVE: é€ '.repeat(200)}`;
    await requestApproval({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan: makePlan(), validation: { ...VALIDATION, summary } }, { logger, lifecycle: lifecycle() });
    const detail = JSON.parse(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!);
    expect(Buffer.byteLength(detail.validationSummary)).toBeLessThanOrEqual(MAX_EVENT_SUMMARY_BYTES);
    expect(Buffer.byteLength(detail.validationSummary)).toBeGreaterThan(MAX_EVENT_SUMMARY_BYTES - 8);
    expect(detail.validationSummary.endsWith('...')).toBe(true);
    expect(summary.startsWith(detail.validationSummary.slice(0, -3))).toBe(true);
    expect(detail.validationSummary).not.toContain('\uFFFD');
  });

  test('fitBytes keeps a text that fits and cuts at a character boundary', () => {
    expect(fitBytes('short', 10)).toBe('short');
    expect(fitBytes('ééééé', 8)).toBe('éé...');
    expect(fitBytes('😀😀😀', 9)).toBe('😀...');
  });

  test('the audit table and the bus failing do not fail the step', async () => {
    const { logger } = spyLogger();
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(
      requestApproval({ taskToken: TOKEN, executionArn: EXECUTION_ARN, plan: makePlan(), validation: VALIDATION }, { logger, lifecycle: lifecycle() }),
    ).resolves.toEqual({ notified: true });
    expect(sinkLogger.error).toHaveBeenCalledTimes(2);
  });

  test('bad input: nothing announced, nothing recorded', async () => {
    await expect(handler({ executionArn: EXECUTION_ARN, plan: makePlan(), validation: VALIDATION })).rejects.toMatchObject({ name: 'InputValidationError' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/request-approval';
import { decisionCommands, requestApproval } from '../../lambdas/request-approval/request';
import type { StepLogger } from '../../lambdas/shared/logger';
import { ENDPOINT, EXECUTION_ARN, GROUP, makePlan, validationPolicy, VERSION } from './support/fixtures';

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
    expect(message).toContain(`Approve: npm run operator -- approve --execution ${EXECUTION_ARN}`);
    expect(message).toContain(`Reject: npm run operator -- reject --execution ${EXECUTION_ARN}`);
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
    expect(decisionCommands('arn:x')).toEqual({ approve: 'npm run operator -- approve --execution arn:x', reject: 'npm run operator -- reject --execution arn:x' });
  });

  test('an input without task token is refused, naming the field', async () => {
    await expect(handler({ executionArn: EXECUTION_ARN, plan: makePlan(), validation: VALIDATION })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/taskToken: /),
    });
  });
});

/** "Wait for approval" (.waitForTaskToken): announces that the rollout waits for an operator decision. */
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { requestApproval, RequestApprovalInputSchema, STEP, type RequestApprovalResult } from './request';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RequestApprovalResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(RequestApprovalInputSchema, event, STEP);
    setInvocationLogKeys(logger, { ...planLogKeys(input.plan), executionArn: input.executionArn });
    return requestApproval(input, { logger, lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName) });
  });
};

/** "Record approval decision": records an operator's approval in the audit trail and on the lifecycle bus. */
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { recordApproval, RecordApprovalInputSchema, STEP, type RecordApprovalResult } from './record';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RecordApprovalResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(RecordApprovalInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return recordApproval(input, { logger, lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName) });
  });
};

/** "Check <step>": the fallback alarm poll of a watched step, and whether its bake is over. */
import { cloudWatchClient, dynamoDbClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { checkStep, CheckStepInputSchema, STEP, type CheckStepResult } from './check';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<CheckStepResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(CheckStepInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return checkStep(input, { cloudWatch: cloudWatchClient(), dynamo: dynamoDbClient(), table: rolloutsTableName(), logger });
  });
};

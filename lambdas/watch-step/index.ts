/** "Watch <step>" (.waitForTaskToken): registers the task token an alarm rollback fails, then lets the step bake. */
import { cloudWatchClient, dynamoDbClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { STEP, watchStep, WatchStepInputSchema, type WatchStepResult } from './watch';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<WatchStepResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(WatchStepInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return watchStep(input, { cloudWatch: cloudWatchClient(), dynamo: dynamoDbClient(), table: rolloutsTableName(), logger });
  });
};

/** "Release rollout": deletes the rollout's alarms and its active-rollout record, whatever the outcome. */
import { cloudWatchClient, dynamoDbClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { releaseRollout, ReleaseRolloutInputSchema, STEP, type ReleaseRolloutResult } from './release';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ReleaseRolloutResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ReleaseRolloutInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return releaseRollout(input, {
      cloudWatch: cloudWatchClient(),
      dynamo: dynamoDbClient(),
      table: rolloutsTableName(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName),
    });
  });
};

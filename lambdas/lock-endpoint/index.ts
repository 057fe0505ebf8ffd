/** "Lock endpoint": takes the endpoint's lock before the rollout changes anything (one rollout per endpoint). */
import { dynamoDbClient } from '../shared/aws-clients';
import { targetsFromEnvironment } from '../shared/config';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { lockEndpoint, LockEndpointInputSchema, STEP, type LockEndpointResult } from './lock';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<LockEndpointResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(LockEndpointInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return lockEndpoint(input, {
      dynamo: dynamoDbClient(),
      table: rolloutsTableName(),
      config: targetsFromEnvironment(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName),
    });
  });
};

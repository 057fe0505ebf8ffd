/** "Shift traffic to green": sets both variants' weights so green gets `greenShare` of the traffic. */
import { dynamoDbClient, sageMakerClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { shiftTraffic, ShiftTrafficInputSchema, STEP, type ShiftTrafficResult } from './shift';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ShiftTrafficResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ShiftTrafficInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return shiftTraffic(input, {
      sageMaker: sageMakerClient(),
      dynamo: dynamoDbClient(),
      table: rolloutsTableName(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName),
    });
  });
};

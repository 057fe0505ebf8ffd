/** "Hold blue's capacity": suspends an autoscaled blue's scale-in before its traffic drains, and records it on the endpoint's lock. */
import { autoScalingClient, dynamoDbClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { holdBlueCapacity, HoldBlueCapacityInputSchema, STEP, type HoldBlueCapacityResult } from './hold';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<HoldBlueCapacityResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(HoldBlueCapacityInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    return holdBlueCapacity(plan, { autoScaling: autoScalingClient(), dynamo: dynamoDbClient(), table: rolloutsTableName(), logger });
  });
};

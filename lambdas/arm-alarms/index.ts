/** "Arm alarms": creates the rollout's alarms on green and registers the rollout as the endpoint's active one. */
import { cloudWatchClient, dynamoDbClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { armAlarms, ArmAlarmsInputSchema, STEP, type ArmAlarmsResult } from './arm';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ArmAlarmsResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ArmAlarmsInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    return armAlarms(input, { cloudWatch: cloudWatchClient(), dynamo: dynamoDbClient(), table: rolloutsTableName(), logger });
  });
};

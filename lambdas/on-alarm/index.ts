/** "On alarm": rolls green back within seconds of one of its alarms going to ALARM, then tells the waiting execution. */
import { dynamoDbClient, s3Client, sageMakerClient, sageMakerRuntimeClient, sfnClient } from '../shared/aws-clients';
import { targetsFromEnvironment } from '../shared/config';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { onAlarm, OnAlarmInputSchema, STEP, type OnAlarmResult } from './on-alarm';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<OnAlarmResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(OnAlarmInputSchema, event, STEP);
    logger.appendKeys({ alarmName: input.detail.alarmName });
    return onAlarm(input, {
      targets: targetsFromEnvironment(),
      table: rolloutsTableName(),
      sageMaker: sageMakerClient(),
      runtime: sageMakerRuntimeClient(),
      s3: s3Client(),
      dynamo: dynamoDbClient(),
      sfn: sfnClient(),
      logger,
    });
  });
};

/**
 * "Restore blue": one step of the failure path per call (WAIT, RESTORING_WEIGHTS, UPDATING, DELETING,
 * DONE). Always answers with the same shape; throws RollbackFailed when only an operator can help, and
 * BlueUnhealthy when blue cannot take the traffic back (it stays on green).
 */
import { autoScalingClient, s3Client, sageMakerClient, sageMakerRuntimeClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { restoreBlue, RestoreBlueInputSchema, STEP, type RestoreBlueResult } from './restore';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RestoreBlueResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(RestoreBlueInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    const result = await restoreBlue(input, {
      sageMaker: sageMakerClient(),
      autoScaling: autoScalingClient(),
      runtime: sageMakerRuntimeClient(),
      s3: s3Client(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName),
    });
    logger.info(`Restore: ${result.action}`, { restore: result });
    return result;
  });
};

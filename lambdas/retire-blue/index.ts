/** "Remove blue variant": moves the endpoint to the final config, green alone, releasing blue's fleet. */
import { autoScalingClient, sageMakerClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { retireBlue, RetireBlueInputSchema, STEP, type RetireBlueResult } from './retire';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RetireBlueResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(RetireBlueInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await retireBlue(plan, {
      sageMaker: sageMakerClient(),
      autoScaling: autoScalingClient(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, plan.endpointName),
    });
    logger.info('Blue retirement requested', { ...result });
    return result;
  });
};

/** "Give green blue's auto scaling": on promotion, green gets blue's scalable target and policies. */
import { autoScalingClient, sageMakerClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { scaleGreen, ScaleGreenInputSchema, STEP, type ScaleGreenResult } from './scale';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ScaleGreenResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(ScaleGreenInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    return scaleGreen(plan, { sageMaker: sageMakerClient(), autoScaling: autoScalingClient(), logger });
  });
};

/** "Probe robustness": malformed and adversarial requests to green, then a normal one. */
import { s3Client, singleAttemptRuntimeClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import type { RobustnessResult } from '../shared/validation-types';
import { probeRobustness, ProbeRobustnessInputSchema, STEP } from './probe';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RobustnessResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(ProbeRobustnessInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await probeRobustness(plan, { runtime: singleAttemptRuntimeClient(), s3: s3Client(), logger });
    logger.info('Robustness probed', { ...result });
    return result;
  });
};

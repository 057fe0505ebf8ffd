/** "Warm up variants": sends representative requests to green (and blue) until their tail latency settles. */
import { s3Client, singleAttemptRuntimeClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { STEP, warmUp, WarmUpInputSchema, type WarmUpResult } from './warm-up';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<WarmUpResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(WarmUpInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await warmUp(plan, {
      runtime: singleAttemptRuntimeClient(),
      s3: s3Client(),
      logger,
      lifecycle: lifecycleSinkFromEnvironment(logger, plan.endpointName),
    });
    logger.info('Variants warm', { variants: result.variants });
    return result;
  });
};

/** "Smoke check green": InvokeEndpoint with TargetVariant = green on the first payload. */
import { s3Client, sageMakerRuntimeClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { smokeCheck, SmokeCheckInputSchema, STEP, type SmokeCheckResult } from './smoke';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<SmokeCheckResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(SmokeCheckInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await smokeCheck(plan, { runtime: sageMakerRuntimeClient(), s3: s3Client(), logger });
    logger.info('Green answered the smoke check', { ...result });
    return result;
  });
};

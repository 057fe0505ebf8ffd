/** "Validate batch": one batch of payloads to green and blue side by side; the paired samples go to S3. */
import { s3Client, singleAttemptRuntimeClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { STEP, validateBatch, ValidateBatchInputSchema, type ValidateBatchResult } from './validate';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ValidateBatchResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ValidateBatchInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    const result = await validateBatch(input, { runtime: singleAttemptRuntimeClient(), s3: s3Client(), logger });
    logger.info('Batch validated', { ...result });
    return result;
  });
};

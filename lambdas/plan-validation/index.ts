/** "Plan validation": splits the payload source into validation batches (byte ranges of the dataset). */
import { s3Client } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { planValidation, PlanValidationInputSchema, STEP, type PlanValidationResult } from './plan';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<PlanValidationResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(PlanValidationInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await planValidation(plan, { s3: s3Client(), logger });
    logger.info('Validation planned', { batches: result.batches.length, totalRequests: result.totalRequests, source: result.source });
    return result;
  });
};

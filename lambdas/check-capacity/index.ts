/**
 * "Check capacity" / "Try next instance type": picks green's instance type (the configured one, else the first
 * fallback with Service Quotas headroom) before anything is provisioned; throws InsufficientCapacity when none fits.
 */
import { sageMakerClient, serviceQuotasClient } from '../shared/aws-clients';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { checkCapacity, CheckCapacityInputSchema, STEP, type CapacityChoice } from './capacity';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<CapacityChoice> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(CheckCapacityInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    const result = await checkCapacity(input, { sageMaker: sageMakerClient(), serviceQuotas: serviceQuotasClient(), logger });
    logger.info('Green instance type chosen', { instanceType: result.green.instanceType, candidateIndex: result.candidateIndex, tried: result.tried });
    return result;
  });
};

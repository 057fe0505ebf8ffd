/**
 * "Create endpoint with green" / "Provision green variant": creates the green model and endpoint config and
 * asks the endpoint to run it (CreateEndpoint on a first deployment, UpdateEndpoint beside blue otherwise).
 */
import { sageMakerClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { provisionGreen, ProvisionGreenInputSchema, STEP, type ProvisionGreenResult } from './provision';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ProvisionGreenResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const { plan } = parseInput(ProvisionGreenInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(plan));
    const result = await provisionGreen(plan, { sageMaker: sageMakerClient(), logger, lifecycle: lifecycleSinkFromEnvironment(logger, plan.endpointName) });
    logger.info('Green provisioning requested', { ...result });
    return result;
  });
};

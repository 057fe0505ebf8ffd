/**
 * "Check green provisioning" / "Check traffic shift" / "Check blue removal": one DescribeEndpoint poll.
 * Returns `inService: false` while the endpoint is still moving; throws once it cannot succeed.
 */
import { sageMakerClient } from '../shared/aws-clients';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { checkEndpoint, CheckEndpointInputSchema, STEP, type CheckEndpointResult } from './check';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<CheckEndpointResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(CheckEndpointInputSchema, event, STEP);
    setInvocationLogKeys(logger, {
      executionArn: input.executionArn,
      deploymentId: input.deploymentId,
      endpointName: input.endpointName,
      modelPackageArn: input.modelPackageArn,
    });
    const result = await checkEndpoint(input, { sageMaker: sageMakerClient() });
    logger.info('Endpoint checked', { ...result, expectedEndpointConfigName: input.expectedEndpointConfigName });
    return result;
  });
};

/**
 * "Delete retired resources" / "Delete green resources": deletes the endpoint configs and models this
 * system created that the endpoint no longer uses; reports what it deleted and what it kept, and why.
 */
import { sageMakerClient } from '../shared/aws-clients';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { deleteResources, DeleteResourcesInputSchema, STEP, type DeleteResourcesResult } from './delete';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<DeleteResourcesResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(DeleteResourcesInputSchema, event, STEP);
    setInvocationLogKeys(logger, { endpointName: input.endpointName });
    return deleteResources(input, { sageMaker: sageMakerClient(), logger });
  });
};

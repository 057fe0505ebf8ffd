/**
 * "Delete retired resources" / "Delete green resources": deletes the endpoint configs and models this
 * system created that the endpoint no longer uses; reports what it deleted and what it kept, and why.
 */
import { sageMakerClient } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { deleteResources, DeleteResourcesInputSchema, STEP, type DeleteResourcesResult } from './delete';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<DeleteResourcesResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(DeleteResourcesInputSchema, event, STEP);
    setInvocationLogKeys(logger, input.plan ? planLogKeys(input.plan) : { endpointName: input.endpointName });
    // Without the plan (an older definition's input) there is no rollout to record the cleanup for.
    const lifecycle = input.plan ? lifecycleSinkFromEnvironment(logger, input.endpointName) : undefined;
    return deleteResources(input, { sageMaker: sageMakerClient(), logger, ...(lifecycle ? { lifecycle } : {}) });
  });
};

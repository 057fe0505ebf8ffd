/**
 * "Resolve rollout": validates the approval event, describes the model package and the endpoint, and
 * returns the RolloutPlan the state machine carries as `$.plan`. Read-only.
 */
import { sageMakerClient } from '../shared/aws-clients';
import { targetsFromEnvironment } from '../shared/config';
import { appendLogKeys, createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { deploymentIdFor } from '../shared/names';
import { parseInput, type RolloutPlan } from '../shared/plan';
import { resolveRollout, ResolveRolloutInputSchema, STEP } from './resolve';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RolloutPlan> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ResolveRolloutInputSchema, event, STEP);
    appendLogKeys(logger, {
      executionArn: input.executionArn,
      deploymentId: deploymentIdFor(input.executionArn),
      modelPackageArn: input.event.detail.ModelPackageArn,
    });
    const plan = await resolveRollout(input, { sageMaker: sageMakerClient(), config: targetsFromEnvironment(), logger });
    appendLogKeys(logger, { endpointName: plan.endpointName });
    logger.info('Rollout planned', { firstDeployment: plan.firstDeployment, blue: plan.blue, green: plan.green, trigger: plan.trigger });
    return plan;
  });
};

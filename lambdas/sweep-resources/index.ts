/**
 * "Sweep resources", run on a schedule (EventBridge) or by an operator: removes what this system created that no
 * running rollout owns and that is older than the configured age (or only reports it, in dry-run mode).
 * `{ "dryRun": true, "minAgeSeconds": 7200 }` as the input overrides the function's settings for one run.
 */
import { autoScalingClient, cloudWatchClient, dynamoDbClient, sageMakerClient } from '../shared/aws-clients';
import { targetsFromEnvironment } from '../shared/config';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { rolloutsTableName } from '../shared/rollout-record';
import { sweeperSettingsFromEnvironment } from '../shared/sweeper-config';
import { STEP, sweepResources, SweepInputSchema, type SweepResult } from './sweep';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<SweepResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    // An invocation without a payload arrives as null: a run with the function's settings.
    const input = parseInput(SweepInputSchema, event ?? {}, STEP);
    const settings = sweeperSettingsFromEnvironment();
    return sweepResources(
      { dryRun: input.dryRun ?? settings.dryRun, minAgeSeconds: input.minAgeSeconds ?? settings.minAgeSeconds },
      {
        sageMaker: sageMakerClient(),
        cloudWatch: cloudWatchClient(),
        autoScaling: autoScalingClient(),
        dynamo: dynamoDbClient(),
        table: rolloutsTableName(),
        endpointNames: targetsFromEnvironment().targets.map((target) => target.endpointName),
        logger,
      },
    );
  });
};

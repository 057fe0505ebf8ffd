/** "Summarize rollout": concludes the rollout (outcome, tags, final event, metrics) and returns its summary. */
import { dynamoDbClient, sageMakerClient } from '../shared/aws-clients';
import { rolloutHistoryTableName } from '../shared/audit-trail';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import type { RolloutSummary } from '../shared/rollout-summary';
import { STEP, summarizeRollout, SummarizeRolloutInputSchema } from './summarize';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<RolloutSummary> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(SummarizeRolloutInputSchema, event, STEP);
    const { plan } = input.state;
    setInvocationLogKeys(logger, {
      executionArn: plan.executionArn,
      deploymentId: plan.deploymentId,
      endpointName: plan.endpointName,
      modelPackageArn: plan.modelPackage.arn,
    });
    const auditTable = rolloutHistoryTableName();
    return summarizeRollout(input, {
      ...(auditTable ? { dynamo: dynamoDbClient(), auditTable } : {}),
      sageMaker: sageMakerClient(),
      sink: lifecycleSinkFromEnvironment(logger, plan.endpointName),
      logger,
    });
  });
};

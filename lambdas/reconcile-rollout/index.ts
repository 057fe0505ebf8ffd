/**
 * "Reconcile endpoint": after a rollout execution failed, timed out or was stopped without its failure path,
 * one level-triggered step per call (NOTHING_TO_DO, WAIT, DONE, KEPT_GREEN, BLUE_UNHEALTHY) towards the state
 * the failure path would have left: blue restored, green removed, alarms deleted, the endpoint's lock released;
 * then the rollout is concluded (audit trail, model package tags, lifecycle events, metrics) as "Summarize rollout"
 * would have. An execution that had released the endpoint but ended before "Summarize rollout" is concluded too,
 * from the endpoint's state (found in the audit trail when the function has a history table).
 */
import {
  autoScalingClient,
  cloudWatchClient,
  dynamoDbClient,
  s3Client,
  sageMakerClient,
  sageMakerRuntimeClient,
} from '../shared/aws-clients';
import { findRolloutByExecution, rolloutHistoryTableName } from '../shared/audit-trail';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { findLockByExecution, rolloutsTableName } from '../shared/rollout-record';
import { reconcile, ReconcileRolloutInputSchema, STEP, type ReconcileResult } from './reconcile';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<ReconcileResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(ReconcileRolloutInputSchema, event, STEP);
    setInvocationLogKeys(logger, { executionArn: input.event.detail.executionArn });
    const dynamo = dynamoDbClient();
    const table = rolloutsTableName();
    const historyTable = rolloutHistoryTableName();
    const result = await reconcile(input, {
      findLock: (executionArn) => findLockByExecution(dynamo, table, executionArn),
      sageMaker: sageMakerClient(),
      autoScaling: autoScalingClient(),
      runtime: sageMakerRuntimeClient(),
      s3: s3Client(),
      cloudWatch: cloudWatchClient(),
      dynamo,
      table,
      logger,
      lifecycle: (endpointName) => lifecycleSinkFromEnvironment(logger, endpointName),
      // A rollout stopped after releasing the endpoint, before its summary, is found (and concluded) in its audit trail.
      ...(historyTable ? { findRollout: (executionArn: string) => findRolloutByExecution(dynamo, historyTable, executionArn) } : {}),
    });
    logger.info(`Reconcile: ${result.action}`, { reconcile: result });
    return result;
  });
};

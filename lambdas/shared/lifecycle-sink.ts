/**
 * The lifecycle sink of a Lambda: the history table and the event bus from the function's environment, the
 * clients every handler shares, and a metric for each event that could not be recorded or published.
 */
import { dynamoDbClient, eventBridgeClient } from './aws-clients';
import { rolloutHistoryTableName } from './audit-trail';
import { LIFECYCLE_BUS_ENV, type LifecycleSink } from './lifecycle-events';
import { publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from './metrics';

export function lifecycleSinkFromEnvironment(logger: LifecycleSink['logger'], endpointName: string, env: NodeJS.ProcessEnv = process.env): LifecycleSink {
  const auditTable = rolloutHistoryTableName(env);
  const busName = env[LIFECYCLE_BUS_ENV] || undefined;
  return {
    logger,
    ...(auditTable ? { dynamo: dynamoDbClient(), auditTable } : {}),
    ...(busName ? { events: eventBridgeClient(), busName } : {}),
    onFailure: (type, stage) =>
      publishRolloutMetrics(endpointName, [{ name: ROLLOUT_METRIC_NAMES.lifecycleEventsFailed, unit: 'Count', value: 1 }], { Stage: stage, EventType: type }),
  };
}

/**
 * CloudWatch alarms and the active-rollout table as the alarm steps (arm-alarms, check-step, watch-step,
 * release-rollout) see them, for tests with aws-sdk-client-mock.
 */
import {
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  type CloudWatchClientResolvedConfig,
  type DescribeAlarmsCommandInput,
  type ServiceInputTypes as CloudWatchInputs,
  type ServiceOutputTypes as CloudWatchOutputs,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { ownAlarmNames } from '../../../lambdas/shared/alarms';
import type { ActiveRolloutRecord } from '../../../lambdas/shared/rollout-record';
import { BLUE, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, INLINE_PAYLOADS, makePlan, NAMES, PACKAGE_ARN } from './fixtures';

/** The active-rollouts table (env ROLLOUTS_TABLE). */
export const ROLLOUTS_TABLE = 'sagemaker-blue-green-active-rollouts';

/** What `mockClient(CloudWatchClient)` returns. */
export type CloudWatchMock = AwsStub<CloudWatchInputs, CloudWatchOutputs, CloudWatchClientResolvedConfig>;

/** An alarm as the fake CloudWatch holds it. */
export interface FakeAlarm {
  readonly state: StateValue;
  readonly reason?: string;
  readonly type?: 'MetricAlarm' | 'CompositeAlarm';
}

/** The rollout's own alarm names (5xx rate, model error rate, latency p99) for makePlan(). */
export const OWN_ALARMS = ownAlarmNames(makePlan());

/** `names`, each in `state` (a metric alarm). */
export function alarmsIn(state: StateValue, names: readonly string[] = OWN_ALARMS): Map<string, FakeAlarm> {
  return new Map(names.map((name) => [name, { state, reason: `${state} (simulated reason)` }]));
}

/**
 * Answers DescribeAlarms from `alarms` as CloudWatch does: only the named alarms that exist, only the asked
 * AlarmTypes (metric alarms only when none is given), at most `pageSize` alarms per page with a NextToken.
 * The map is read at each call, so a test can change states between calls.
 */
export function serveAlarms(cloudWatch: CloudWatchMock, alarms: Map<string, FakeAlarm>, pageSize = 100): void {
  cloudWatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    if ((input.AlarmNames?.length ?? 0) > 100) throw cloudWatchError('InvalidParameterValue', 'AlarmNames: at most 100 names');
    const types = input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm'];
    const found = (input.AlarmNames ?? [])
      .filter((name) => alarms.has(name) && types.includes(alarms.get(name)!.type ?? 'MetricAlarm'))
      .map((name) => ({ name, ...alarms.get(name)! }));
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = found.slice(start, start + Math.min(pageSize, input.MaxRecords ?? 50));
    const next = start + page.length < found.length ? String(start + page.length) : undefined;
    const described = (alarm: (typeof found)[number]) => ({
      AlarmName: alarm.name,
      StateValue: alarm.state,
      StateReason: alarm.reason,
      StateUpdatedTimestamp: new Date('2025-03-01T10:20:00Z'),
    });
    return {
      MetricAlarms: page.filter((a) => (a.type ?? 'MetricAlarm') === 'MetricAlarm').map(described),
      CompositeAlarms: page.filter((a) => a.type === 'CompositeAlarm').map(described),
      ...(next ? { NextToken: next } : {}),
    };
  });
}

/** A CloudWatch error as the SDK raises it (ResourceNotFound, LimitExceeded, ...). */
export function cloudWatchError(name: string, message = `${name} (simulated)`): CloudWatchServiceException {
  return new CloudWatchServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

/** DynamoDB's answer to a write whose condition failed. */
export function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
}

/** The record arm-alarms registers for makePlan() (no watch, no rollback request), changed by `overrides`. */
export function activeRecord(overrides: Partial<ActiveRolloutRecord> = {}): ActiveRolloutRecord {
  return {
    endpointName: ENDPOINT,
    deploymentId: DEPLOYMENT_ID,
    executionArn: EXECUTION_ARN,
    modelPackageArn: PACKAGE_ARN,
    blueVariantName: BLUE.variantName,
    blueWeight: BLUE.weight,
    blueInstanceCount: BLUE.instanceCount,
    greenVariantName: NAMES.greenVariantName,
    alarmNames: OWN_ALARMS,
    ownAlarmNames: OWN_ALARMS,
    payloads: INLINE_PAYLOADS,
    createdAt: '2025-03-01T10:15:00.000Z',
    ...overrides,
  };
}

/** The DynamoDB item of `record`, shaped as lambdas/shared/rollout-record.ts writes it. */
export function recordItem(record: ActiveRolloutRecord): Record<string, AttributeValue> {
  const { watch, rollbackRequest, ...rollout } = record;
  return {
    endpointName: { S: rollout.endpointName },
    deploymentId: { S: rollout.deploymentId },
    executionArn: { S: rollout.executionArn },
    rollout: { S: JSON.stringify(rollout) },
    ...(watch ? { watch: { S: JSON.stringify(watch) } } : {}),
    ...(rollbackRequest ? { rollbackRequest: { S: JSON.stringify(rollbackRequest) } } : {}),
  };
}

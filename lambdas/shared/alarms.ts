/**
 * The CloudWatch alarms that watch a rollout's green variant, and how the watched steps read them. A rollout
 * creates three metric alarms on green (5xx rate, model error rate, ModelLatency p99) and also watches the
 * existing alarms its policy names. The alarms have no actions: the rollout reacts to their state-change events
 * (on-alarm) and, as a fallback, polls their states (check-step, watch-step).
 */
import {
  DescribeAlarmsCommand,
  type CloudWatchClient,
  type PutMetricAlarmCommandInput,
  type StateValue,
  type Tag,
} from '@aws-sdk/client-cloudwatch';
import { AlarmTriggered, BlueUnhealthy, ConfigurationError, RollbackRequested, type RolloutError } from './errors';
import { rolloutAlarmNames } from './names';
import type { RolloutPlan } from './plan';
import type { RollbackRequest } from './rollout-record';
import { rolloutTags, SYSTEM_NAME } from './tags';

/** Tag naming the endpoint whose green variant an alarm watches. */
export const ALARM_ENDPOINT_TAG = `${SYSTEM_NAME}:endpoint`;
/** Where SageMaker publishes the invocation metrics of a variant. */
export const SAGEMAKER_METRICS_NAMESPACE = 'AWS/SageMaker';
/** DescribeAlarms (AlarmNames, MaxRecords) and DeleteAlarms take at most 100 names per call. */
export const ALARM_NAMES_PER_CALL = 100;
/** AlarmDescription is at most 1024 characters. */
const MAX_DESCRIPTION_LENGTH = 1024;

/** The alarms the rollout creates on green, in a fixed order: 5xx rate, model error rate, latency p99. */
export function ownAlarmNames(plan: RolloutPlan): string[] {
  const names = rolloutAlarmNames(plan.endpointName, plan.deploymentId);
  return [names.errorRate, names.modelErrorRate, names.latencyP99];
}

/** Every alarm whose ALARM state rolls the rollout back: its own, then the policy's existing ones (no duplicates). */
export function watchedAlarmNames(plan: RolloutPlan): string[] {
  return [...new Set([...ownAlarmNames(plan), ...plan.alarms.existingAlarmNames])];
}

/**
 * The PutMetricAlarm inputs of the rollout's three alarms on green (same order as `ownAlarmNames`).
 * PutMetricAlarm replaces an alarm of the same name, so putting them again is harmless.
 */
export function rolloutAlarmInputs(plan: RolloutPlan): PutMetricAlarmCommandInput[] {
  const names = rolloutAlarmNames(plan.endpointName, plan.deploymentId);
  const policy = plan.alarms;
  const variant = plan.green.variantName;
  const evaluation = `${policy.datapointsToAlarm} of ${policy.evaluationPeriods} periods of ${policy.periodSeconds} s`;
  const common = {
    Namespace: SAGEMAKER_METRICS_NAMESPACE,
    Dimensions: [
      { Name: 'EndpointName', Value: plan.endpointName },
      { Name: 'VariantName', Value: variant },
    ],
    Period: policy.periodSeconds,
    EvaluationPeriods: policy.evaluationPeriods,
    DatapointsToAlarm: policy.datapointsToAlarm,
    ComparisonOperator: 'GreaterThanThreshold' as const,
    // No data (no traffic reached green) leaves the alarm INSUFFICIENT_DATA; never 'notBreaching', which would let
    // a canary nobody called look healthy. check-step decides what no data means (policy.onMissingData).
    TreatMissingData: 'missing',
    // The rollout reacts to the state-change event (EventBridge), not to alarm actions.
    ActionsEnabled: false,
    Tags: alarmTags(plan),
  };
  const describe = (metric: string, above: string) =>
    alarmDescription(
      plan,
      `The ${metric} of green variant ${variant} on endpoint ${plan.endpointName} above ${above}, in ${evaluation}, rolls green back ` +
        `(blue gets its traffic back within seconds). No data leaves the alarm INSUFFICIENT_DATA: a step without traffic is not a pass.`,
    );
  return [
    {
      ...common,
      AlarmName: names.errorRate,
      AlarmDescription: describe('5xx rate (Average of Invocation5XXErrors)', `${policy.maxErrorRate}`),
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Average',
      Threshold: policy.maxErrorRate,
    },
    {
      ...common,
      AlarmName: names.modelErrorRate,
      AlarmDescription: describe('model error rate (Average of InvocationModelErrors)', `${policy.maxModelErrorRate}`),
      MetricName: 'InvocationModelErrors',
      Statistic: 'Average',
      Threshold: policy.maxModelErrorRate,
    },
    {
      ...common,
      AlarmName: names.latencyP99,
      AlarmDescription: describe(
        'p99 ModelLatency',
        `${policy.maxModelLatencyP99Ms} ms (${microseconds(policy.maxModelLatencyP99Ms)} microseconds, the metric's unit)`,
      ),
      MetricName: 'ModelLatency',
      // ModelLatency is published in microseconds.
      ExtendedStatistic: 'p99',
      Threshold: microseconds(policy.maxModelLatencyP99Ms),
    },
  ];
}

/** Milliseconds as the microseconds ModelLatency is published in (rounded: the policy may say 250.5 ms). */
function microseconds(ms: number): number {
  return Math.round(ms * 1000);
}

function alarmTags(plan: RolloutPlan): Tag[] {
  return [
    ...rolloutTags(plan.deploymentId, plan.modelPackage.arn).map((tag) => ({ Key: tag.Key, Value: tag.Value })),
    { Key: ALARM_ENDPOINT_TAG, Value: plan.endpointName },
  ];
}

function alarmDescription(plan: RolloutPlan, why: string): string {
  const text =
    `Rollout ${plan.deploymentId} of ${plan.modelPackage.groupName} version ${plan.modelPackage.version} ` +
    `(created by ${SYSTEM_NAME}, deleted when the rollout ends). ${why} Execution: ${plan.executionArn}`;
  return text.length <= MAX_DESCRIPTION_LENGTH ? text : `${text.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...`;
}

/** One alarm's current state, as DescribeAlarms reports it. */
export interface AlarmState {
  readonly name: string;
  readonly type: 'MetricAlarm' | 'CompositeAlarm';
  readonly state: StateValue;
  readonly reason?: string;
  readonly updatedAt?: string;
}

/** The states of the alarms asked about; `missing` lists the names that matched no alarm. */
export interface AlarmStates {
  /** By alarm name. */
  readonly states: ReadonlyMap<string, AlarmState>;
  /** Asked-about names with no metric or composite alarm, in the order asked. */
  readonly missing: readonly string[];
}

/**
 * The states of `names` (metric and composite alarms): DescribeAlarms with at most 100 names per call, every
 * page followed. A name that matches no alarm is listed in `missing`, not an error.
 */
export async function describeAlarmStates(cloudWatch: CloudWatchClient, names: readonly string[]): Promise<AlarmStates> {
  const unique = [...new Set(names)];
  const states = new Map<string, AlarmState>();
  for (let start = 0; start < unique.length; start += ALARM_NAMES_PER_CALL) {
    const chunk = unique.slice(start, start + ALARM_NAMES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const page = await cloudWatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: chunk,
          // Without AlarmTypes, DescribeAlarms returns metric alarms only: an existing composite alarm would look missing.
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          MaxRecords: ALARM_NAMES_PER_CALL,
          NextToken: nextToken,
        }),
      );
      for (const alarm of page.MetricAlarms ?? []) addState(states, 'MetricAlarm', alarm);
      for (const alarm of page.CompositeAlarms ?? []) addState(states, 'CompositeAlarm', alarm);
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return { states, missing: unique.filter((name) => !states.has(name)) };
}

function addState(
  states: Map<string, AlarmState>,
  type: AlarmState['type'],
  alarm: { AlarmName?: string; StateValue?: StateValue; StateReason?: string; StateUpdatedTimestamp?: Date },
): void {
  if (!alarm.AlarmName) return;
  states.set(alarm.AlarmName, {
    name: alarm.AlarmName,
    type,
    // An alarm is described with a state; if one ever is not, it has not been evaluated yet.
    state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
    ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
    ...(alarm.StateUpdatedTimestamp ? { updatedAt: alarm.StateUpdatedTimestamp.toISOString() } : {}),
  });
}

/** The alarms among `names` that are in `state`, in the order of `names`. */
export function alarmsInState(alarms: AlarmStates, names: readonly string[], state: StateValue): AlarmState[] {
  return names.map((name) => alarms.states.get(name)).filter((alarm): alarm is AlarmState => alarm?.state === state);
}

/** `"a" (reason); "b" (reason)`: for messages that name alarms and why they are in their state. */
export function describeAlarms(alarms: readonly AlarmState[]): string {
  return alarms.map((alarm) => `"${alarm.name}"${alarm.reason ? ` (${alarm.reason})` : ''}`).join('; ');
}

/**
 * AlarmTriggered if any of `names` is in ALARM, naming each such alarm and its StateReason. `context` says
 * where and how it was found, e.g. `during the 10% step, found by the periodic check`.
 */
export function firingAlarmsError(alarms: AlarmStates, names: readonly string[], context: string): AlarmTriggered | undefined {
  const firing = alarmsInState(alarms, names, 'ALARM');
  if (firing.length === 0) return undefined;
  return new AlarmTriggered(`${firing.length === 1 ? 'Alarm' : 'Alarms'} ${describeAlarms(firing)} in ALARM ${context}.`);
}

/**
 * ConfigurationError if any watched alarm no longer exists (deleted during the rollout): a step that is not
 * watched does not pass. `stepName` is e.g. `the 10% step`.
 */
export function missingAlarmsError(alarms: AlarmStates, stepName: string): ConfigurationError | undefined {
  const { missing } = alarms;
  if (missing.length === 0) return undefined;
  return new ConfigurationError(
    `Watched ${missing.length === 1 ? 'alarm' : 'alarms'} ${missing.map((name) => `"${name}"`).join(', ')} no longer ` +
      `${missing.length === 1 ? 'exists' : 'exist'} (deleted during the rollout?): ${stepName} is not watched, so it does not pass.`,
  );
}

/**
 * The error a recorded rollback request ends a watched step with: the one the request's handler sent (or would
 * have sent) the waiting task, so a step that missed the SendTaskFailure fails the same way.
 */
export function rollbackRequestError(request: RollbackRequest): RolloutError {
  const what =
    request.kind === 'ALARM'
      ? `Alarm "${request.by}" requested a rollback at ${request.requestedAt}`
      : `Operator ${request.by} requested a rollback at ${request.requestedAt}`;
  const done =
    request.outcome === 'BLUE_UNHEALTHY'
      ? ` Blue could not take the traffic back, so the weights were left as they are${request.message ? `: ${request.message}` : ''}.`
      : request.weightsRestoredAt
        ? ` Blue's weights were requested back at ${request.weightsRestoredAt}.`
        : '';
  const message = `${what}: ${request.reason.replace(/[.\s]+$/, '')}.${done}`;
  if (request.outcome === 'BLUE_UNHEALTHY') return new BlueUnhealthy(message);
  return request.kind === 'ALARM' ? new AlarmTriggered(message) : new RollbackRequested(message);
}

/**
 * The EventBridge target for `CloudWatch Alarm State Change`: when an alarm that watches a rollout goes to
 * ALARM, that rollout is rolled back at once (lambdas/shared/rollback.ts), without waiting for the state
 * machine's next periodic check. The rule already lets through only ALARM states of this system's alarms and of
 * the policies' existing alarms; this handler finds the endpoints an alarm concerns and leaves the rest (is it
 * the active rollout's alarm?) to the active-rollout record.
 * A rollback this call made is timed: `AlarmToRollbackSeconds` (the alarm's state change to blue's weights
 * requested back) per endpoint. Lifecycle events are restore-blue's, once blue is restored.
 */
import { ALARM_NAME_PREFIX } from '../shared/names';
import type { RolloutConfig } from '../shared/config';
import { AlarmStateChangeEventSchema, type AlarmStateChangeEvent } from '../shared/events';
import { publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from '../shared/metrics';
import { rollBackNow, type RollBackNowDependencies, type RollBackNowResult } from '../shared/rollback';

export const STEP = 'on-alarm';

/** The alarm event, as far as this handler reads it. */
export const OnAlarmInputSchema = AlarmStateChangeEventSchema;
export type OnAlarmInput = AlarmStateChangeEvent;

export interface OnAlarmResult {
  readonly alarmName: string;
  /** The state the alarm went to. */
  readonly state: AlarmStateChangeEvent['detail']['state']['value'];
  /** One per endpoint the alarm concerns (none when the state is not ALARM or no endpoint matches). */
  readonly results: readonly RollBackNowResult[];
}

export interface OnAlarmDependencies extends RollBackNowDependencies {
  /** The configured deployment targets (ROLLOUT_TARGETS). */
  readonly targets: RolloutConfig;
}

/**
 * What follows the endpoint's name in the name of an alarm a rollout creates (rolloutAlarmNames in names.ts:
 * `<prefix><endpoint>-<deploymentId>-green-...`). Eight hex characters then `-green-` cannot be the rest of
 * a longer endpoint name that starts with the same words, so `fraud-prod` never claims `fraud-prod-eu`'s alarms.
 */
const AFTER_ENDPOINT_NAME = /^-[0-9a-f]{8}-green-/;

/**
 * The configured endpoints an alarm concerns: the endpoint named in one of this system's alarm names, and every
 * target whose policy lists the alarm among its existing alarms.
 */
export function endpointsConcernedBy(alarmName: string, targets: RolloutConfig): string[] {
  const endpoints = new Set<string>();
  const ownAlarm = alarmName.startsWith(ALARM_NAME_PREFIX) ? alarmName.slice(ALARM_NAME_PREFIX.length) : undefined;
  for (const { endpointName, policy } of targets.targets) {
    const namedInAlarm = ownAlarm?.startsWith(endpointName) && AFTER_ENDPOINT_NAME.test(ownAlarm.slice(endpointName.length));
    if (namedInAlarm || policy.alarms.existingAlarmNames.includes(alarmName)) endpoints.add(endpointName);
  }
  return [...endpoints];
}

/**
 * Rolls back every concerned endpoint's active rollout (in parallel: each is its own endpoint). If one of them
 * fails, the others still run; the first failure is then thrown so EventBridge retries the whole event, which
 * is safe because rollBackNow is idempotent.
 */
export async function onAlarm(event: OnAlarmInput, deps: OnAlarmDependencies): Promise<OnAlarmResult> {
  const { alarmName, state } = event.detail;
  if (state.value !== 'ALARM') {
    deps.logger.info(`Alarm ${alarmName} went to ${state.value}, not ALARM: nothing to do`, { alarmName, state: state.value });
    return { alarmName, state: state.value, results: [] };
  }
  const endpoints = endpointsConcernedBy(alarmName, deps.targets);
  if (endpoints.length === 0) {
    deps.logger.warn(`Alarm ${alarmName} concerns no configured endpoint: ignored`, { alarmName });
    return { alarmName, state: state.value, results: [] };
  }

  const eventTime = event.time ?? state.timestamp;
  const trigger = { kind: 'ALARM' as const, by: alarmName, reason: state.reason ?? `${alarmName} went to ALARM`, ...(eventTime ? { eventTime } : {}) };
  const settled = await Promise.allSettled(endpoints.map((endpointName) => rollBackNow(endpointName, trigger, deps)));

  const results: RollBackNowResult[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'rejected') continue;
    const result = outcome.value;
    results.push(result);
    const latencyMs = eventTime && result.weightsRequestedAt ? Date.parse(result.weightsRequestedAt) - Date.parse(eventTime) : undefined;
    if (latencyMs !== undefined && Number.isFinite(latencyMs)) {
      deps.logger.info(`Alarm to rollback: ${latencyMs} ms`, { alarmName, endpointName: result.endpointName, alarmToRollbackMs: latencyMs });
      // Only this call's own rollback: a duplicate event or a rollback already requested (an operator, another
      // alarm) reports an earlier weight change, which was timed, if at all, from another start.
      if (result.outcome === 'ROLLED_BACK') {
        publishRolloutMetrics(result.endpointName, [{ name: ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds, unit: 'Seconds', value: latencyMs / 1000 }]);
      }
    }
  }
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) {
    deps.logger.warn('Rollback failed for at least one endpoint: the event will be retried', { alarmName, results });
    throw failure.reason;
  }
  return { alarmName, state: state.value, results };
}

/**
 * "Check <step>": runs between two watch windows of a watched step (a traffic step's bake, the 100% bake, the
 * rollback window). Alarm events roll back within seconds (on-alarm); this is the fallback that does not depend
 * on an event arriving: it fails the step on a recorded rollback request or an alarm in ALARM, and otherwise
 * says whether the step's bake is over and how long the next watch window is.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import {
  alarmsInState,
  describeAlarmStates,
  firingAlarmsError,
  missingAlarmsError,
  ownAlarmNames,
  rollbackRequestError,
  watchedAlarmNames,
  type AlarmStates,
} from '../shared/alarms';
import { ConfigurationError, InsufficientAlarmData } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import { getActiveRollout, setWatch } from '../shared/rollout-record';

export const STEP = 'check-step';

export const WatchedStepSchema = z.object({
  /** `10%`, `100%`, `rollback window`, `bake`: names the step in messages and tells one step's checks from the next's. */
  label: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  /** Green's share of the traffic during the step. */
  greenShare: z.number({ error: 'must be a number' }).gt(0, 'must be > 0').lte(1, 'must be <= 1'),
  /** How long the step lasts, watched. */
  bakeSeconds: z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be >= 0'),
});

export const CheckStepInputSchema = z.object({
  plan: RolloutPlanSchema,
  step: WatchedStepSchema,
  /** The previous check's result (`$.watch`; `{}` before the first): its label and startedAt carry the bake's start. */
  previous: z.object({
    label: z.string({ error: 'must be a string' }).optional(),
    startedAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }).optional(),
  }),
});
export type CheckStepInput = z.infer<typeof CheckStepInputSchema>;

/** Small on purpose: it is the state's `$.watch`, carried through every window of every step. */
export interface CheckStepResult {
  readonly label: string;
  /** When the step's bake began (its first check). */
  readonly startedAt: string;
  /** The bake is over with no alarm: the state machine moves on. */
  readonly done: boolean;
  /** The next watch window (the watch task's timeout): 0 when done, else 1 s to checkIntervalSeconds. */
  readonly watchSeconds: number;
  readonly message: string;
}

export interface CheckStepDependencies {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  readonly logger: StepLogger;
}

export async function checkStep(input: CheckStepInput, deps: CheckStepDependencies): Promise<CheckStepResult> {
  const { plan, step, previous } = input;
  const stepName = `the ${step.label} step`;

  // The watch window is over: an alarm from now on must not fail a task token that no longer waits.
  await setWatch(deps.dynamo, deps.table, plan.endpointName, plan.deploymentId, undefined);
  const record = await getActiveRollout(deps.dynamo, deps.table, plan.endpointName);
  if (!record || record.deploymentId !== plan.deploymentId) {
    throw new ConfigurationError(
      `No active-rollout record for this rollout (deployment ${plan.deploymentId}) on endpoint ${plan.endpointName} in table ${deps.table}` +
        `${record ? ` (it holds deployment ${record.deploymentId}, execution ${record.executionArn})` : ''}: ` +
        `alarm events cannot find ${stepName}, so green is not watched and the rollout does not go on.`,
    );
  }
  // Blue's weights were already restored by whoever recorded the request (on-alarm, the operator's command).
  if (record.rollbackRequest) throw rollbackRequestError(record.rollbackRequest);

  const watched = watchedAlarmNames(plan);
  const alarms = await describeAlarmStates(deps.cloudWatch, watched);
  const firing = firingAlarmsError(alarms, watched, `during ${stepName}, found by the periodic check: the alarm event was not seen`);
  if (firing) throw firing;
  const missing = missingAlarmsError(alarms, stepName);
  if (missing) throw missing;

  const now = Date.now();
  const startedAt = previous.label === step.label && previous.startedAt ? previous.startedAt : new Date(now).toISOString();
  const elapsedSeconds = Math.max(0, (now - Date.parse(startedAt)) / 1000);
  const percent = `${Math.round(step.greenShare * 1000) / 10}%`;

  if (elapsedSeconds < step.bakeSeconds) {
    const remaining = step.bakeSeconds - elapsedSeconds;
    const watchSeconds = Math.max(1, Math.min(plan.alarms.checkIntervalSeconds, Math.ceil(remaining)));
    const message =
      `${capitalize(stepName)}: ${Math.floor(elapsedSeconds)} of ${step.bakeSeconds} s baked with green at ${percent} of the traffic, ` +
      `no alarm; watching ${watchSeconds} s.`;
    deps.logger.info(message, { watchedStep: step.label, startedAt, watchSeconds });
    return { label: step.label, startedAt, done: false, watchSeconds, message };
  }

  const withoutData = missingEvidence(plan, step.bakeSeconds, alarms);
  let message = `${capitalize(stepName)} baked ${step.bakeSeconds} s with green at ${percent} of the traffic and no alarm.`;
  if (withoutData.length > 0) {
    const noData =
      `no traffic reached green during ${stepName}: its alarms ${withoutData.map((name) => `"${name}"`).join(', ')} have no data ` +
      `after ${step.bakeSeconds} s (${plan.alarms.evaluationPeriods} periods of ${plan.alarms.periodSeconds} s fit in the step)`;
    if (plan.alarms.onMissingData === 'rollback') {
      throw new InsufficientAlarmData(
        `${capitalize(noData)}, which is not a pass: nothing shows green serves well. ` +
          `Set policy.alarms.onMissingData to 'proceed' to accept a step without alarm data on the evidence of validation alone.`,
      );
    }
    message = `${message} Warning: ${noData}; accepted because policy.alarms.onMissingData is 'proceed'.`;
    deps.logger.warn(message, { watchedStep: step.label, alarmNames: withoutData });
  } else {
    deps.logger.info(message, { watchedStep: step.label, startedAt });
  }
  return { label: step.label, startedAt, done: true, watchSeconds: 0, message };
}

/**
 * The rollout's own alarms still without data at the end of a step long enough for them to have evaluated
 * (bake >= period x evaluationPeriods). A shorter step proves nothing either way, so it is not held to it.
 */
function missingEvidence(plan: RolloutPlan, bakeSeconds: number, alarms: AlarmStates): string[] {
  if (bakeSeconds < plan.alarms.periodSeconds * plan.alarms.evaluationPeriods) return [];
  return alarmsInState(alarms, ownAlarmNames(plan), 'INSUFFICIENT_DATA').map((alarm) => alarm.name);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * "Watch <step>" (.waitForTaskToken): registers this task's token in the active-rollout record, so that an alarm
 * event (on-alarm) or an operator's rollback can fail the waiting task at once, then returns; the task waits
 * until SendTaskFailure or its timeout (the watch window), after which "Check <step>" runs again. A rollback
 * requested, or an alarm that fired, between that check and this registration fails the task here instead:
 * nothing would fail it later.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { describeAlarmStates, firingAlarmsError, missingAlarmsError, rollbackRequestError, watchedAlarmNames } from '../shared/alarms';
import { ConfigurationError } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema } from '../shared/plan';
import { getActiveRollout, setWatch } from '../shared/rollout-record';
import { nowIso } from '../shared/time';

export const STEP = 'watch-step';

export const WatchStepInputSchema = z.object({
  plan: RolloutPlanSchema,
  /** `$$.Task.Token`: what SendTaskFailure names to end the wait. */
  taskToken: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  step: z.object({ label: z.string({ error: 'must be a string' }).min(1, 'must not be empty') }),
  /** The window (the task's TimeoutSecondsPath): only logged here. */
  watchSeconds: z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be >= 1'),
});
export type WatchStepInput = z.infer<typeof WatchStepInputSchema>;

export interface WatchStepResult {
  /** The step's label. */
  readonly watching: string;
  /** When the token was registered. */
  readonly since: string;
}

export interface WatchStepDependencies {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  readonly logger: StepLogger;
}

export async function watchStep(input: WatchStepInput, deps: WatchStepDependencies): Promise<WatchStepResult> {
  const { plan, taskToken, step } = input;
  const stepName = `the ${step.label} step`;
  const since = nowIso();

  const registered = await setWatch(deps.dynamo, deps.table, plan.endpointName, plan.deploymentId, { taskToken, step: step.label, since });
  if (!registered) {
    throw new ConfigurationError(
      `No active-rollout record for this rollout (deployment ${plan.deploymentId}) on endpoint ${plan.endpointName} in table ${deps.table}: ` +
        `an alarm during ${stepName} could not reach this execution, so green is not watched and the rollout does not go on.`,
    );
  }

  // Read after registering: a request recorded before the registration found no token to fail.
  const record = await getActiveRollout(deps.dynamo, deps.table, plan.endpointName);
  if (record?.deploymentId === plan.deploymentId && record.rollbackRequest) throw rollbackRequestError(record.rollbackRequest);

  // An alarm that went to ALARM since the last check may have sent its event before the token was registered.
  const watched = watchedAlarmNames(plan);
  const alarms = await describeAlarmStates(deps.cloudWatch, watched);
  const firing = firingAlarmsError(alarms, watched, `as the watch of ${stepName} began`);
  if (firing) throw firing;
  const missing = missingAlarmsError(alarms, stepName);
  if (missing) throw missing;

  deps.logger.info(`Watching ${stepName} for ${input.watchSeconds} s: an alarm or an operator's rollback ends the wait at once`, {
    watchedStep: step.label,
    since,
    watchSeconds: input.watchSeconds,
  });
  return { watching: step.label, since };
}

/**
 * "Release rollout": every end of an execution (promoted, rolled back, failed) deletes the rollout's own alarms
 * and its active-rollout record, so nothing of a finished rollout keeps costing or can react to an alarm.
 * The existing alarms the policy names belong to someone else and are never deleted. Idempotent: a second call
 * (a retry, a release after a partial one) finds nothing left and succeeds.
 * The alarms a call deleted are recorded as a `CleanupCompleted` lifecycle event (none deleted, none recorded);
 * recording never fails the step.
 */
import { DeleteAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { ALARM_NAMES_PER_CALL, describeAlarmStates, ownAlarmNames } from '../shared/alarms';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema } from '../shared/plan';
import { deleteActiveRollout } from '../shared/rollout-record';

export const STEP = 'release-rollout';

export const ReleaseRolloutInputSchema = z.object({ plan: RolloutPlanSchema });
export type ReleaseRolloutInput = z.infer<typeof ReleaseRolloutInputSchema>;

export interface ReleaseRolloutResult {
  /** The rollout's alarms this call deleted (those already gone are not listed). */
  readonly deletedAlarms: string[];
  /** False only if the endpoint's record belongs to another rollout (left alone). */
  readonly recordDeleted: boolean;
}

export interface ReleaseRolloutDependencies {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  readonly logger: StepLogger;
  /** Where `CleanupCompleted` (the deleted alarms) goes; absent: nothing is recorded. */
  readonly lifecycle?: LifecycleSink;
}

/** Describe-then-delete attempts: another release may delete an alarm between the two calls. */
const DELETE_ATTEMPTS = 3;

export async function releaseRollout(input: ReleaseRolloutInput, deps: ReleaseRolloutDependencies): Promise<ReleaseRolloutResult> {
  const { plan } = input;
  let deletedAlarms: string[] = [];
  let alarmsFailure: unknown;
  try {
    deletedAlarms = await deleteExistingAlarms(deps.cloudWatch, ownAlarmNames(plan));
  } catch (error) {
    // The record goes anyway: left behind, it would refuse the endpoint's next rollout.
    alarmsFailure = error;
  }
  const recordDeleted = await deleteActiveRollout(deps.dynamo, deps.table, plan.endpointName, plan.deploymentId);
  if (!recordDeleted) {
    deps.logger.warn('The endpoint\'s active-rollout record belongs to another rollout: left in place', { table: deps.table });
  }
  if (alarmsFailure !== undefined) throw alarmsFailure;
  deps.logger.info('Rollout released', { deletedAlarms, recordDeleted });
  if (deps.lifecycle && deletedAlarms.length > 0) {
    await recordLifecycleEvent(
      deps.lifecycle,
      rolloutRef(plan),
      { type: 'CleanupCompleted', resourcesRemoved: deletedAlarms.map((name) => ({ kind: 'alarm' as const, name })) },
      { discriminator: 'alarms' },
    );
  }
  return { deletedAlarms, recordDeleted };
}

/**
 * Deletes those of `names` that exist. DeleteAlarms fails with ResourceNotFound, deleting nothing, if any one
 * name does not exist, so only the alarms DescribeAlarms found are named, at most 100 per call.
 */
async function deleteExistingAlarms(cloudWatch: CloudWatchClient, names: readonly string[]): Promise<string[]> {
  const deleted: string[] = [];
  let remaining = [...names];
  for (let attempt = 1; ; attempt++) {
    const { states } = await describeAlarmStates(cloudWatch, remaining);
    const existing = remaining.filter((name) => states.has(name));
    try {
      for (let start = 0; start < existing.length; start += ALARM_NAMES_PER_CALL) {
        const batch = existing.slice(start, start + ALARM_NAMES_PER_CALL);
        await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: batch }));
        deleted.push(...batch);
      }
      return deleted;
    } catch (error) {
      // Deleted by someone else since DescribeAlarms: describe again what is left.
      if ((error as Error).name !== 'ResourceNotFound' || attempt >= DELETE_ATTEMPTS) throw error;
      remaining = remaining.filter((name) => !deleted.includes(name));
    }
  }
}

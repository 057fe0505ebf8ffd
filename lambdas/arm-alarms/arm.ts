/**
 * "Arm alarms": before any traffic moves to green, creates the rollout's three alarms on green and registers the
 * rollout as the endpoint's active one (on the endpoint's lock, which "Lock endpoint" took for this rollout), so
 * that an alarm event (which names only an alarm) finds the rollout, blue's weight to give back and the task token
 * to fail. The policy's existing alarms are checked to exist first: a misspelt name would otherwise watch nothing,
 * silently.
 */
import { PutMetricAlarmCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { alarmsInState, describeAlarms, describeAlarmStates, ownAlarmNames, rolloutAlarmInputs, watchedAlarmNames } from '../shared/alarms';
import { ConfigurationError } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema, type RolloutPlan } from '../shared/plan';
import { putActiveRollout, type ActiveRollout } from '../shared/rollout-record';
import { nowIso } from '../shared/time';

export const STEP = 'arm-alarms';

export const ArmAlarmsInputSchema = z.object({ plan: RolloutPlanSchema });
export type ArmAlarmsInput = z.infer<typeof ArmAlarmsInputSchema>;

export interface ArmAlarmsResult {
  /** Every alarm that rolls this rollout back: its own three, then the policy's existing ones. */
  readonly alarmNames: string[];
}

export interface ArmAlarmsDependencies {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  readonly logger: StepLogger;
}

export async function armAlarms(input: ArmAlarmsInput, deps: ArmAlarmsDependencies): Promise<ArmAlarmsResult> {
  const { plan } = input;
  await checkExistingAlarms(plan, deps);

  for (const alarm of rolloutAlarmInputs(plan)) {
    await deps.cloudWatch.send(new PutMetricAlarmCommand(alarm));
  }
  const alarmNames = watchedAlarmNames(plan);
  await putActiveRollout(deps.dynamo, deps.table, activeRollout(plan, alarmNames));
  deps.logger.info('Alarms armed and rollout registered as the endpoint\'s active one', { alarmNames, table: deps.table });
  return { alarmNames };
}

/** Every existing alarm the policy names must exist (metric or composite); nothing is created otherwise. */
async function checkExistingAlarms(plan: RolloutPlan, deps: ArmAlarmsDependencies): Promise<void> {
  const existing = plan.alarms.existingAlarmNames;
  if (existing.length === 0) return;
  const alarms = await describeAlarmStates(deps.cloudWatch, existing);
  if (alarms.missing.length > 0) {
    throw new ConfigurationError(
      `policy.alarms.existingAlarmNames of endpoint ${plan.endpointName}: ` +
        `${alarms.missing.map((name) => `"${name}"`).join(', ')} ${alarms.missing.length === 1 ? 'is' : 'are'} not ` +
        `a metric or composite alarm in this account and region, so ${alarms.missing.length === 1 ? 'it' : 'they'} would watch nothing. ` +
        `Fix the name or remove it from the target's policy. No alarm was created and no traffic moved.`,
    );
  }
  const firing = alarmsInState(alarms, existing, 'ALARM');
  if (firing.length > 0) {
    // Not refused here (the alarm may be about to clear), but the first watched step will roll back if it is still firing.
    deps.logger.warn(`Existing alarm already in ALARM before any traffic moved: the first watched step rolls back unless it clears: ${describeAlarms(firing)}`, {
      alarmNames: firing.map((alarm) => alarm.name),
    });
  }
}

function activeRollout(plan: RolloutPlan, alarmNames: readonly string[]): ActiveRollout {
  const blue = plan.firstDeployment ? undefined : plan.blue;
  return {
    endpointName: plan.endpointName,
    deploymentId: plan.deploymentId,
    executionArn: plan.executionArn,
    modelPackageArn: plan.modelPackage.arn,
    ...(blue ? { blueVariantName: blue.variantName, blueWeight: blue.weight, blueInstanceCount: blue.instanceCount } : {}),
    greenVariantName: plan.green.variantName,
    alarmNames,
    ownAlarmNames: ownAlarmNames(plan),
    payloads: plan.payloads,
    createdAt: nowIso(),
  };
}

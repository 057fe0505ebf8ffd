/**
 * Rollback in seconds: gives blue its traffic back with one in-place weight change (no redeploy, blue is still
 * provisioned), then fails the task the rollout waits on so the state machine removes green. The alarm handler
 * (on-alarm) and the operator's `rollback` command both call `rollBackNow`; the state machine's slow path
 * (restore-blue) finishes what this starts.
 *
 * Alarm events can arrive twice and an operator can ask while an alarm is being handled, so every step is
 * idempotent: the request is recorded once, weights already back are not requested again, and a task that has
 * already ended is not an error.
 */
import {
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type ProductionVariantSummary,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { checkBlueServes } from './blue-health';
import { AlarmTriggered, BlueUnhealthy, EndpointBusy, RollbackRequested } from './errors';
import { joinSentences, oneLine } from './failure';
import type { StepLogger } from './logger';
import { getActiveRollout, recordRollbackRequest, type ActiveRolloutRecord, type RollbackRequest } from './rollout-record';
import { describeEndpointIfExists, ENDPOINT_IN_PROGRESS_STATUSES, endpointState, findVariant, isEndpointBusyError, variantList } from './sagemaker';
import { nowIso, sleep } from './time';

/** Who or what asks for the rollback. */
export interface RollbackTrigger {
  readonly kind: 'ALARM' | 'OPERATOR';
  /** The alarm's name, or the operator's identity. */
  readonly by: string;
  /** The alarm's state reason, or the operator's words. */
  readonly reason: string;
  /** When the alarm changed state (ISO 8601): the alarm-to-rollback latency counts from here. */
  readonly eventTime?: string;
}

export interface RollBackNowDependencies {
  readonly sageMaker: SageMakerClient;
  /** Probes blue before traffic is given back to it. */
  readonly runtime: SageMakerRuntimeClient;
  /** Reads the probe request when the rollout's payloads are in S3. */
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly logger: StepLogger;
  /** The active-rollouts table. */
  readonly table: string;
  /** Pause between two DescribeEndpoint calls while the endpoint is busy. @default time.ts sleep (global timers) */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * - NO_ACTIVE_ROLLOUT: the endpoint has no active-rollout record (no rollout watches green): nothing done.
 * - NOT_WATCHED_ALARM: the alarm is not one of the active rollout's: ignored.
 * - ROLLED_BACK: blue's weights were requested back (or already were); the execution was told if it waited.
 * - ALREADY_REQUESTED: as ROLLED_BACK, but a rollback had already been requested before this call.
 * - BLUE_UNHEALTHY: blue cannot serve: the weights were left alone and the execution stops for an operator.
 * - NOTHING_TO_RESTORE: no blue to give traffic back to (first deployment, blue removed, green gone).
 */
export type RollBackNowOutcome = 'NO_ACTIVE_ROLLOUT' | 'NOT_WATCHED_ALARM' | 'ROLLED_BACK' | 'ALREADY_REQUESTED' | 'BLUE_UNHEALTHY' | 'NOTHING_TO_RESTORE';

export interface RollBackNowResult {
  readonly outcome: RollBackNowOutcome;
  readonly endpointName: string;
  /** The active rollout's, when there is one. */
  readonly deploymentId?: string;
  readonly executionArn?: string;
  /** What was found and done, in plain words. */
  readonly message: string;
  /** When blue's weights were requested back (this call's or an earlier one's); absent if they were not. */
  readonly weightsRequestedAt?: string;
  /** Whether the waiting step of the execution was failed by this call (SendTaskFailure accepted). */
  readonly notified: boolean;
}

/** SendTaskFailure's `cause` limit (API model: SensitiveCause, 0-32768 characters). */
export const MAX_TASK_FAILURE_CAUSE_CHARS = 32_768;
/** How long a busy endpoint (a weight change or scaling in flight) is waited for before the call fails. */
export const BUSY_WAIT_MS = 60_000;
const BUSY_POLL_MS = 1_000;

/** SendTaskFailure answers meaning the waiting step already ended: the next check sees the recorded request. */
const WATCH_OVER_ERRORS: ReadonlySet<string> = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** What giving the traffic back came to. */
interface Restoration {
  readonly outcome: 'ROLLED_BACK' | 'BLUE_UNHEALTHY' | 'NOTHING_TO_RESTORE';
  /** Sentences for the result's message and the task failure's cause. */
  readonly detail: string;
  /** Set when this call requested the weights. */
  readonly weightsRequestedAt?: string;
}

/**
 * Rolls the endpoint's active rollout back now: records the request, gives blue its weight back (weights only,
 * never capacities) once blue has answered a probe, and fails the execution's waiting task with AlarmTriggered,
 * RollbackRequested or BlueUnhealthy.
 * @throws EndpointBusy when SageMaker refused the weight change for a busy endpoint for over a minute (the
 *   caller fails; an EventBridge retry or the watched step's periodic check takes over)
 */
export async function rollBackNow(endpointName: string, trigger: RollbackTrigger, deps: RollBackNowDependencies): Promise<RollBackNowResult> {
  return rollBack(endpointName, trigger, deps, false);
}

async function rollBack(endpointName: string, trigger: RollbackTrigger, deps: RollBackNowDependencies, isRestart: boolean): Promise<RollBackNowResult> {
  const { dynamo, table, logger } = deps;
  const record = await getActiveRollout(dynamo, table, endpointName);
  if (!record) {
    const message = `No rollout is active on endpoint ${endpointName} (table ${table} has no record of one): nothing to roll back.`;
    logger.info(message, { endpointName, trigger });
    return { outcome: 'NO_ACTIVE_ROLLOUT', endpointName, message, notified: false };
  }
  const ids = { endpointName, deploymentId: record.deploymentId, executionArn: record.executionArn };
  if (trigger.kind === 'ALARM' && !record.alarmNames.includes(trigger.by)) {
    const message =
      `Alarm ${trigger.by} does not watch rollout ${record.deploymentId} on endpoint ${endpointName} ` +
      `(its alarms: ${record.alarmNames.join(', ') || 'none'}): ignored.`;
    logger.info(message, ids);
    return { outcome: 'NOT_WATCHED_ALARM', ...ids, message, notified: false };
  }

  const asked: RollbackRequest = {
    kind: trigger.kind,
    by: trigger.by,
    reason: trigger.reason,
    requestedAt: nowIso(),
    ...(trigger.eventTime ? { eventTime: trigger.eventTime } : {}),
  };
  let rollout = record;
  let request = asked;
  const first = await recordRollbackRequest(dynamo, table, endpointName, record.deploymentId, asked, 'first');
  if (!first) {
    // Either a request is already recorded (a duplicate event, an operator after an alarm), or the record
    // changed hands since it was read: the latest record says which.
    const latest = await getActiveRollout(dynamo, table, endpointName);
    if (latest?.deploymentId !== record.deploymentId) {
      if (isRestart) {
        throw new EndpointBusy(`The active-rollout record of endpoint ${endpointName} changed twice while a rollback was being recorded: try again.`);
      }
      logger.info('The active rollout changed while the rollback was being recorded: starting over', ids);
      return rollBack(endpointName, trigger, deps, true);
    }
    rollout = latest;
    request = latest.rollbackRequest ?? asked;
    logger.info('A rollback was already requested: finishing it (weights, then the waiting step)', { ...ids, request });
  }

  const restoration = await giveTrafficBackToBlue(rollout, request, deps);
  const weightsRequestedAt = restoration.weightsRequestedAt ?? request.weightsRestoredAt;
  const settled: RollbackRequest = {
    ...request,
    ...(weightsRequestedAt ? { weightsRestoredAt: weightsRequestedAt } : {}),
    outcome: restoration.outcome,
    message: restoration.detail,
  };
  // A duplicate that found nothing new keeps the first call's account of what happened.
  if (settled.outcome !== request.outcome || settled.weightsRestoredAt !== request.weightsRestoredAt) {
    await recordRollbackRequest(dynamo, table, endpointName, rollout.deploymentId, settled, 'update');
  }

  // The watch may have moved on to another step (a new token) while the weights were being restored.
  const latest = await getActiveRollout(dynamo, table, endpointName);
  const watching = latest?.deploymentId === rollout.deploymentId ? latest : undefined;
  const error = restoration.outcome === 'BLUE_UNHEALTHY' ? BlueUnhealthy.name : request.kind === 'ALARM' ? AlarmTriggered.name : RollbackRequested.name;
  const notified = await failWaitingStep(watching, error, taskFailureCause(request, restoration.detail), deps);

  const outcome: RollBackNowOutcome = restoration.outcome === 'ROLLED_BACK' && !first ? 'ALREADY_REQUESTED' : restoration.outcome;
  const message = [
    ...(first ? [] : [`A rollback was already requested (${requestOrigin(request)}).`]),
    restoration.detail,
    notified
      ? `Execution ${rollout.executionArn} was told (${error})${restoration.outcome === 'BLUE_UNHEALTHY' ? '' : ': it rolls back and removes green'}.`
      : `No step of execution ${rollout.executionArn} was waiting to be told: its next check sees the recorded request.`,
  ].join(' ');
  logger.info(`Rollback: ${outcome}`, { ...ids, outcome, weightsRequestedAt, notified, message });
  return { outcome, ...ids, message, ...(weightsRequestedAt ? { weightsRequestedAt } : {}), notified };
}

/**
 * Blue's weight back, green's to 0, in place. Only on an endpoint that carries both variants, only once blue
 * has answered a probe, and not again if it already happened. A busy endpoint is waited for once (up to a minute).
 */
async function giveTrafficBackToBlue(rollout: ActiveRolloutRecord, request: RollbackRequest, deps: RollBackNowDependencies): Promise<Restoration> {
  const { endpointName, blueVariantName, greenVariantName } = rollout;
  if (!blueVariantName) {
    return {
      outcome: 'NOTHING_TO_RESTORE',
      detail: `Rollout ${rollout.deploymentId} is endpoint ${endpointName}'s first deployment: there is no blue to give the traffic back to.`,
    };
  }
  // Blue must come back with a weight > 0 even if it somehow started at 0: the endpoint is never left unserved.
  const blueWeight = rollout.blueWeight !== undefined && rollout.blueWeight > 0 ? rollout.blueWeight : 1;

  for (let attempt = 1; ; attempt++) {
    const endpoint = await describeEndpointIfExists(deps.sageMaker, endpointName);
    if (!endpoint) return { outcome: 'NOTHING_TO_RESTORE', detail: `Endpoint ${endpointName} does not exist any more: there is no traffic to give back.` };
    const variants = liveVariants(endpoint, blueVariantName, greenVariantName);
    if ('tooLate' in variants) return { outcome: 'NOTHING_TO_RESTORE', detail: variants.tooLate };
    const { blue, green } = variants;
    const blueDesired = blue.DesiredWeight ?? blue.CurrentWeight ?? 0;
    const greenDesired = green.DesiredWeight ?? green.CurrentWeight ?? 0;
    if (greenDesired === 0 && blueDesired > 0) {
      const when = request.weightsRestoredAt ? ` (requested at ${request.weightsRestoredAt}${latencySuffix(request, request.weightsRestoredAt)})` : '';
      return {
        outcome: 'ROLLED_BACK',
        detail: `Blue's weights are already back on endpoint ${endpointName}${when}: blue ${blueVariantName} weight ${blueDesired}, green ${greenVariantName} weight 0.`,
      };
    }

    const health = await checkBlueServes({ endpoint, endpointName, blueVariantName, payloads: rollout.payloads }, deps);
    if (!health.healthy) {
      return {
        outcome: 'BLUE_UNHEALTHY',
        detail:
          `Blue ${blueVariantName} cannot take the traffic back: ${health.reason}. The weights were left as they were ` +
          `(blue ${blueVariantName} weight ${blueDesired}, green ${greenVariantName} weight ${greenDesired}) so traffic stays where it is served; the endpoint needs an operator.`,
      };
    }

    const weightsRequestedAt = nowIso();
    try {
      await deps.sageMaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: endpointName,
          DesiredWeightsAndCapacities: [
            { VariantName: blueVariantName, DesiredWeight: blueWeight },
            { VariantName: greenVariantName, DesiredWeight: 0 },
          ],
        }),
      );
    } catch (error) {
      if (!isEndpointBusyError(error)) throw error;
      if (attempt >= 2) {
        throw new EndpointBusy(
          `Blue's weights could not be requested back on endpoint ${endpointName}: SageMaker still refused the weight change ` +
            `after ${BUSY_WAIT_MS / 1000} s of waiting (${(error as Error).message}). The rollback request is recorded; a retry ` +
            `or the watched step's next alarm check rolls back.`,
        );
      }
      deps.logger.warn('Endpoint busy (a weight change or scaling in flight): waiting for InService, then trying again', {
        endpointName,
        error: (error as Error).message,
      });
      await waitWhileBusy(endpointName, deps);
      continue;
    }
    return {
      outcome: 'ROLLED_BACK',
      weightsRequestedAt,
      detail:
        `Blue's weights were requested back at ${weightsRequestedAt}${latencySuffix(request, weightsRequestedAt)}: ` +
        `blue ${blueVariantName} weight ${blueWeight}, green ${greenVariantName} weight 0 on endpoint ${endpointName}.`,
    };
  }
}

/**
 * Blue and green as the endpoint runs them, or why a weight-only rollback cannot apply: one of them is not on
 * the endpoint, or an UpdateEndpoint in flight is taking it away (the weight change would be refused anyway).
 */
function liveVariants(
  endpoint: DescribeEndpointOutput,
  blueVariantName: string,
  greenVariantName: string,
): { readonly blue: ProductionVariantSummary; readonly green: ProductionVariantSummary } | { readonly tooLate: string } {
  const pending = endpoint.PendingDeploymentSummary;
  const pendingVariants = pending?.ProductionVariants?.length ? pending.ProductionVariants : undefined;
  const blue = findVariant(endpoint.ProductionVariants, blueVariantName);
  const green = findVariant(endpoint.ProductionVariants, greenVariantName);
  const leaving = (variantName: string) => pendingVariants !== undefined && !findVariant(pendingVariants, variantName);
  const state = `${endpointState(endpoint)} with ${variantList(endpoint)}`;
  const moving = ` (it is moving to config ${pending?.EndpointConfigName}, without it)`;
  if (!blue || leaving(blueVariantName)) {
    return { tooLate: `Blue ${blueVariantName} is no longer on endpoint ${endpoint.EndpointName}${blue ? moving : ''}: ${state}. Too late for a weight-only rollback.` };
  }
  if (!green || leaving(greenVariantName)) {
    return { tooLate: `Green ${greenVariantName} is not on endpoint ${endpoint.EndpointName}${green ? moving : ''}: ${state}. Blue serves alone: no traffic to give back.` };
  }
  return { blue, green };
}

/** Polls DescribeEndpoint every second until SageMaker is done with the endpoint, for at most BUSY_WAIT_MS. */
async function waitWhileBusy(endpointName: string, deps: RollBackNowDependencies): Promise<void> {
  const pause = deps.sleep ?? sleep;
  for (let polls = 0; polls < BUSY_WAIT_MS / BUSY_POLL_MS; polls++) {
    await pause(BUSY_POLL_MS);
    const endpoint = await describeEndpointIfExists(deps.sageMaker, endpointName);
    if (!endpoint || !ENDPOINT_IN_PROGRESS_STATUSES.has(endpoint.EndpointStatus ?? '')) return;
  }
}

/**
 * Fails the execution's waiting step. False when no step waits, or when it already ended (TaskTimedOut,
 * InvalidToken, TaskDoesNotExist): the next check-step or watch-step sees the recorded request instead.
 */
async function failWaitingStep(rollout: ActiveRolloutRecord | undefined, error: string, cause: string, deps: RollBackNowDependencies): Promise<boolean> {
  const taskToken = rollout?.watch?.taskToken;
  if (!rollout || !taskToken) {
    deps.logger.info('No step waits on the alarms now: the next check sees the recorded request', { endpointName: rollout?.endpointName });
    return false;
  }
  try {
    await deps.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
    return true;
  } catch (failure) {
    const name = (failure as Error).name;
    if (!WATCH_OVER_ERRORS.has(name)) throw failure;
    deps.logger.info('The waiting step had already ended: the next check sees the recorded request', {
      endpointName: rollout.endpointName,
      step: rollout.watch?.step,
      error: name,
    });
    return false;
  }
}

/** One paragraph for the task failure: what fired and when, then what was done and when; cut to the API's limit. */
export function taskFailureCause(request: RollbackRequest, detail: string): string {
  const cause = joinSentences(requestSentence(request), detail);
  const characters = Array.from(cause);
  if (characters.length <= MAX_TASK_FAILURE_CAUSE_CHARS) return cause;
  return `${characters.slice(0, MAX_TASK_FAILURE_CAUSE_CHARS - 1).join('')}…`;
}

function requestSentence(request: RollbackRequest): string {
  const reason = oneLine(request.reason);
  if (request.kind === 'ALARM') {
    return `Alarm ${request.by} went to ALARM at ${request.eventTime ?? request.requestedAt}${reason ? `: ${reason}` : ''}`;
  }
  return `${request.by} asked for a rollback at ${request.requestedAt}${reason ? `: ${reason}` : ''}`;
}

/** `by alarm A at T` / `by alice at T`. */
function requestOrigin(request: RollbackRequest): string {
  return `by ${request.kind === 'ALARM' ? `alarm ${request.by}` : request.by} at ${request.eventTime ?? request.requestedAt}`;
}

/** `, 420 ms after the alarm event` (or after the operator's request); nothing when the start time is unreadable. */
function latencySuffix(request: RollbackRequest, weightsRequestedAt: string): string {
  const [start, what] =
    request.kind === 'OPERATOR'
      ? [request.requestedAt, "the operator's request"]
      : request.eventTime
        ? [request.eventTime, 'the alarm event']
        : [request.requestedAt, 'the alarm was handled'];
  const ms = Date.parse(weightsRequestedAt) - Date.parse(start);
  return Number.isFinite(ms) ? `, ${ms} ms after ${what}` : '';
}

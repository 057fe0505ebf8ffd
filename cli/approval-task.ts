/**
 * Finds the approval a rollout waits for. "Wait for approval" (rollout.asl.json) is a
 * `lambda:invoke.waitForTaskToken` Task; its TaskScheduled event carries the resolved Parameters, whose Payload
 * holds the task token, the plan and the validation verdict. The history is read newest first and only as far
 * back as that event, so long executions cost one or two pages.
 */
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type HistoryEventType,
  type SFNClient,
  type TaskScheduledEventDetails,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { RolloutPlanSchema } from '../lambdas/shared/plan';
import type { Verdict } from '../lambdas/shared/validation-types';
import { awsCall } from './aws-errors';
import { OperationError } from './command';

/** How the TaskScheduled event names `arn:aws:states:::lambda:invoke.waitForTaskToken`. */
const APPROVAL_RESOURCE_TYPE = 'lambda';
const APPROVAL_RESOURCE = 'invoke.waitForTaskToken';

/** Events after which a task can no longer take a decision. */
const TASK_END_TYPES: ReadonlySet<HistoryEventType> = new Set<HistoryEventType>([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskSubmitFailed',
  'TaskStartFailed',
]);

const VERDICTS = ['PASS', 'FAIL', 'INCONCLUSIVE'] as const satisfies readonly Verdict[];

/**
 * The part of the approval task's Parameters the operator needs: the token to answer with and what to show
 * before deciding. Plan fields reuse the plan's own schema; the rest of the plan is not needed here.
 */
const ApprovalTaskParametersSchema = z.object({
  Payload: z.object({
    taskToken: z.string().min(1).max(2048),
    plan: z.object({
      endpointName: RolloutPlanSchema.shape.endpointName,
      modelPackage: RolloutPlanSchema.shape.modelPackage.pick({ arn: true, version: true }),
    }),
    validation: z.object({
      verdict: z.enum(VERDICTS),
      summary: z.string(),
      reportUri: z.string().optional(),
    }),
  }),
});

/** A rollout waiting for an operator. */
export interface PendingApproval {
  /** The token SendTaskSuccess/SendTaskFailure must carry. */
  readonly taskToken: string;
  readonly endpointName: string;
  readonly modelPackageArn: string;
  readonly modelPackageVersion: number;
  readonly verdict: Verdict;
  /** The judge's summary, one line per gate. */
  readonly summary: string;
  /** The full validation report in S3. @default - none */
  readonly reportUri?: string;
  /** When the rollout started waiting. @default - unknown (the event has no timestamp) */
  readonly waitingSince?: Date;
  /** When the wait times out and the rollout is rejected. @default - unknown (no timestamp or timeout in the event) */
  readonly deadline?: Date;
}

/** A rollout that does not wait for a decision now. */
export interface NotWaiting {
  /** The state the execution entered last. @default - unknown (no state entered yet) */
  readonly currentState?: string;
  /** How the latest approval task ended, when there was one. @default - the execution never asked for approval */
  readonly lastApprovalEnded?: { readonly type: HistoryEventType; readonly at?: Date };
}

export type ApprovalLookup = ({ readonly waiting: true } & PendingApproval) | ({ readonly waiting: false } & NotWaiting);

/**
 * Reads the execution's history newest first (following nextToken) down to the latest approval TaskScheduled,
 * and reports whether that task still waits: any end event for it (TaskSucceeded, TaskFailed, TaskTimedOut,
 * TaskSubmitFailed, TaskStartFailed) comes before it in reverse order.
 */
export async function findPendingApproval(stepFunctions: SFNClient, executionArn: string, region: string): Promise<ApprovalLookup> {
  let currentState: string | undefined;
  let lastApprovalEnded: NotWaiting['lastApprovalEnded'];
  let nextToken: string | undefined;
  do {
    const page = await awsCall({ action: 'states:GetExecutionHistory', executionArn, region }, () =>
      stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, nextToken })),
    );
    for (const event of page.events ?? []) {
      currentState ??= event.stateEnteredEventDetails?.name;
      if (isApprovalTaskEnd(event)) {
        lastApprovalEnded ??= { type: event.type, at: event.timestamp };
      } else if (isApprovalTaskScheduled(event.type, event.taskScheduledEventDetails)) {
        if (lastApprovalEnded) return { waiting: false, currentState, lastApprovalEnded };
        return { waiting: true, ...pendingApprovalFrom(event, event.taskScheduledEventDetails) };
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return { waiting: false, currentState };
}

function isApprovalTaskScheduled(type: HistoryEventType | undefined, details: TaskScheduledEventDetails | undefined): details is TaskScheduledEventDetails {
  return type === 'TaskScheduled' && details?.resourceType === APPROVAL_RESOURCE_TYPE && details.resource === APPROVAL_RESOURCE;
}

function isApprovalTaskEnd(event: HistoryEvent): event is HistoryEvent & { type: HistoryEventType } {
  if (!event.type || !TASK_END_TYPES.has(event.type)) return false;
  const details =
    event.taskSucceededEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.taskStartFailedEventDetails;
  return details?.resourceType === APPROVAL_RESOURCE_TYPE && details.resource === APPROVAL_RESOURCE;
}

function pendingApprovalFrom(event: HistoryEvent, details: TaskScheduledEventDetails): PendingApproval {
  let parameters: unknown;
  try {
    parameters = JSON.parse(details.parameters ?? '');
  } catch {
    throw new OperationError(
      `the approval task (event ${event.id}) has no readable parameters: the history was read without execution data, ` +
        'or the state machine no longer matches this tool',
    );
  }
  const parsed = ApprovalTaskParametersSchema.safeParse(parameters);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new OperationError(`the approval task (event ${event.id}) does not carry what this tool expects (${fields}): update the tool or the state machine`);
  }
  const { taskToken, plan, validation } = parsed.data.Payload;
  const waitingSince = event.timestamp;
  return {
    taskToken,
    endpointName: plan.endpointName,
    modelPackageArn: plan.modelPackage.arn,
    modelPackageVersion: plan.modelPackage.version,
    verdict: validation.verdict,
    summary: validation.summary,
    reportUri: validation.reportUri,
    waitingSince,
    deadline: waitingSince && details.timeoutInSeconds ? new Date(waitingSince.getTime() + details.timeoutInSeconds * 1000) : undefined,
  };
}

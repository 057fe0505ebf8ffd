/**
 * Lifecycle events: what a rollout tells the world as it goes. Each event is recorded twice, in this order:
 *
 * 1. in the audit trail (the rollout history table, `audit-trail.ts`), as an item that is never overwritten;
 * 2. on the system's EventBridge bus, for whoever subscribes (the SNS notifications rule, a team's chat bot).
 *
 * The schema is versioned: `detail.schemaVersion` changes (and docs/events.md says how) whenever a field is
 * renamed, removed or changes meaning; new optional fields do not change it. Every detail carries the rollout's
 * identity (`rollout`), when it happened (`at`), a one-line human-readable `message`, and its type's own fields.
 *
 * Recording never fails the step that calls it: a rollout (or, worse, a rollback) must not stop because the bus or
 * the table did not answer. A failure is logged with the whole event (nothing is lost: it is in the logs) and
 * counted in the `LifecycleEventsNotPublished` metric; the calling step's own work stands.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { putAuditEvent, type AuditEventRecord } from './audit-trail';
import type { StepLogger } from './logger';
import type { RolloutPlan } from './plan';
import { SYSTEM_NAME } from './tags';

/** Version of the events' detail schema (docs/events.md). */
export const LIFECYCLE_SCHEMA_VERSION = '1';
/** The events' `source`. */
export const LIFECYCLE_EVENT_SOURCE = SYSTEM_NAME;
/** Environment variable with the bus's name. */
export const LIFECYCLE_BUS_ENV = 'LIFECYCLE_EVENT_BUS';

/** detail-type of each lifecycle event, by the event's `type`. */
export const LIFECYCLE_DETAIL_TYPES = {
  RolloutStarted: 'Rollout Started',
  GreenProvisioned: 'Green Provisioned',
  WarmUpCompleted: 'Warm-up Completed',
  ValidationVerdict: 'Validation Verdict',
  ApprovalRequested: 'Approval Requested',
  ApprovalDecided: 'Approval Decided',
  TrafficShifted: 'Traffic Shifted',
  RolledBack: 'Rollout Rolled Back',
  CleanupCompleted: 'Cleanup Completed',
  Promoted: 'Rollout Promoted',
  Ended: 'Rollout Ended',
} as const;

export type LifecycleEventType = keyof typeof LIFECYCLE_DETAIL_TYPES;

/** Who or what started a rollout. */
export interface RolloutTrigger {
  /** An approval in the Model Registry (EventBridge), or an operator's `deploy` command. */
  readonly kind: 'MODEL_REGISTRY_APPROVAL' | 'OPERATOR_DEPLOY';
  /** Who: the IAM identity or Studio user that approved the package, or the operator's name. Absent when unknown. */
  readonly by?: string;
  /** The EventBridge event id of the approval (or of the synthetic event `deploy` sent). */
  readonly eventId?: string;
}

/** A resource this system created or removed, as the audit trail lists it. */
export interface ResourceRef {
  readonly kind: 'model' | 'endpoint-config' | 'endpoint' | 'variant' | 'alarm' | 'scalable-target';
  readonly name: string;
}

/** One gate's verdict with its statistics (the Validation Verdict event and the summary). */
export interface GateOutcome {
  readonly gate: string;
  readonly verdict: string;
  readonly samples?: number;
  /** Each check: what was measured, the value (null: no data), the threshold and the comparison. */
  readonly checks?: readonly { readonly name: string; readonly statistic: number | null; readonly threshold: number; readonly comparison: string }[];
  readonly reason?: string;
}

/** The final outcome of a rollout. */
export type RolloutOutcome =
  /** Green serves everything, blue is gone. */
  | 'PROMOTED'
  /** Green passed its bake and serves everything, but blue could not be removed. */
  | 'PROMOTION_INCOMPLETE'
  /** Blue serves as before, green is gone: validation, an alarm, an operator or a failure stopped the rollout. */
  | 'ROLLED_BACK'
  /** A rollback needed blue but blue could not serve: traffic was left on green. */
  | 'ROLLBACK_BLOCKED'
  /** Blue could not be restored automatically: an operator must look. */
  | 'ROLLBACK_FAILED'
  /** The execution was stopped, timed out or crashed; the reconciler cleaned up. */
  | 'ABORTED';

/** Every lifecycle event: its `type` and its own fields (besides rollout, at, message and schemaVersion). */
export type LifecycleEvent =
  | {
      readonly type: 'RolloutStarted';
      readonly trigger: RolloutTrigger;
      readonly trafficMode: string;
      readonly stepPercents: readonly number[];
      readonly blueVariantName?: string;
      readonly greenVariantName: string;
      readonly instanceType: string;
      readonly configHash: string;
    }
  | {
      readonly type: 'GreenProvisioned';
      readonly greenVariantName: string;
      readonly instanceType: string;
      readonly instanceCount: number;
      readonly resourcesCreated: readonly ResourceRef[];
    }
  | {
      readonly type: 'WarmUpCompleted';
      readonly variants: readonly { readonly variantName: string; readonly role: string; readonly requests: number; readonly seconds: number; readonly lastWindowP99Ms: number | null }[];
    }
  | { readonly type: 'ValidationVerdict'; readonly verdict: string; readonly gates: readonly GateOutcome[]; readonly reportUri?: string }
  | { readonly type: 'ApprovalRequested'; readonly timeoutSeconds: number; readonly validationSummary?: string }
  | { readonly type: 'ApprovalDecided'; readonly decision: 'APPROVED' | 'REJECTED'; readonly by: string; readonly reason?: string }
  | { readonly type: 'TrafficShifted'; readonly greenPercent: number; readonly bluePercent: number }
  | {
      readonly type: 'RolledBack';
      /** Why: the failure's error name (AlarmTriggered, ValidationFailed, RollbackRequested, ...). */
      readonly error: string;
      readonly reason: string;
      /** Who asked, when an alarm or an operator did. */
      readonly requestedBy?: string;
      readonly resourcesRemoved?: readonly ResourceRef[];
    }
  | { readonly type: 'CleanupCompleted'; readonly resourcesRemoved: readonly ResourceRef[] }
  | { readonly type: 'Promoted'; readonly durationSeconds: number; readonly greenVariantName: string }
  | { readonly type: 'Ended'; readonly outcome: Exclude<RolloutOutcome, 'PROMOTED'>; readonly error?: string; readonly reason: string; readonly durationSeconds: number };

/** Who a rollout is: on every event and every audit item. */
export interface RolloutRef {
  readonly executionArn: string;
  readonly deploymentId: string;
  readonly endpointName: string;
  readonly modelPackageArn: string;
  readonly modelPackageGroupName: string;
  readonly modelPackageVersion: number;
}

/** The plan's fields a rollout's identity is made of (a step that reads only these need not parse a whole plan). */
export type RolloutIdentity = Pick<RolloutPlan, 'executionArn' | 'deploymentId' | 'endpointName'> & {
  readonly modelPackage: Pick<RolloutPlan['modelPackage'], 'arn' | 'groupName' | 'version'>;
};

/** The identity of a planned rollout. */
export function rolloutRef(plan: RolloutIdentity): RolloutRef {
  return {
    executionArn: plan.executionArn,
    deploymentId: plan.deploymentId,
    endpointName: plan.endpointName,
    modelPackageArn: plan.modelPackage.arn,
    modelPackageGroupName: plan.modelPackage.groupName,
    modelPackageVersion: plan.modelPackage.version,
  };
}

/** An event's `detail` as published (and stored). */
export type LifecycleDetail = LifecycleEvent & {
  readonly schemaVersion: typeof LIFECYCLE_SCHEMA_VERSION;
  readonly rollout: RolloutRef;
  readonly at: string;
  readonly message: string;
  /** True for the events the notifications topic receives (isNotified). */
  readonly notify: boolean;
};

/** One decimal: a latency in a sentence (80.2 ms, not 80.23999999999995 ms). */
function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function resources(list: readonly ResourceRef[] | undefined): string {
  return list && list.length > 0 ? list.map((r) => `${r.kind} ${r.name}`).join(', ') : 'nothing';
}

/** The one-line, human-readable message of an event (what the SNS notification says). */
export function describeLifecycleEvent(ref: RolloutRef, event: LifecycleEvent): string {
  const what = `${ref.modelPackageGroupName} v${ref.modelPackageVersion} on ${ref.endpointName}`;
  switch (event.type) {
    case 'RolloutStarted':
      return (
        `Rollout of ${what} started (${event.trigger.kind === 'OPERATOR_DEPLOY' ? 'deployed by hand' : 'approved in the Model Registry'}` +
        `${event.trigger.by ? ` by ${event.trigger.by}` : ''}): ${event.trafficMode.toLowerCase().replace(/_/g, ' ')} ` +
        `${event.stepPercents.join('% → ')}% on ${event.instanceType}`
      );
    case 'GreenProvisioned':
      return `Green variant ${event.greenVariantName} of ${what} requested: ${event.instanceCount} × ${event.instanceType}; created ${resources(event.resourcesCreated)}`;
    case 'WarmUpCompleted':
      return `Warm-up of ${what} done: ${event.variants
        .map((v) => `${v.role} ${v.variantName} ${v.requests} requests in ${v.seconds} s${v.lastWindowP99Ms === null ? '' : `, p99 ${round1(v.lastWindowP99Ms)} ms`}`)
        .join('; ')}`;
    case 'ValidationVerdict':
      return `Validation of ${what}: ${event.verdict} (${event.gates.map((g) => `${g.gate} ${g.verdict}`).join(', ')})`;
    case 'ApprovalRequested':
      return `Rollout of ${what} waits for an operator's decision (up to ${event.timeoutSeconds} s): approve or reject with the operator command line`;
    case 'ApprovalDecided':
      return `Rollout of ${what} ${event.decision.toLowerCase()} by ${event.by}${event.reason ? `: ${event.reason}` : ''}`;
    case 'TrafficShifted':
      return `Traffic of ${ref.endpointName}: green (${ref.modelPackageGroupName} v${ref.modelPackageVersion}) ${event.greenPercent}%, blue ${event.bluePercent}%`;
    case 'RolledBack':
      return `Rollout of ${what} ROLLED BACK (${event.error}${event.requestedBy ? `, by ${event.requestedBy}` : ''}): ${event.reason}`;
    case 'CleanupCompleted':
      return `Cleanup after the rollout of ${what}: removed ${resources(event.resourcesRemoved)}`;
    case 'Promoted':
      return `${what} PROMOTED: green ${event.greenVariantName} serves all traffic (rollout took ${event.durationSeconds} s)`;
    case 'Ended':
      return `Rollout of ${what} ended ${event.outcome}${event.error ? ` (${event.error})` : ''}: ${event.reason}`;
  }
}

/** Where lifecycle events go. An absent table or bus is skipped (a unit test, or a function that only publishes). */
export interface LifecycleSink {
  readonly dynamo?: DynamoDBClient;
  readonly auditTable?: string;
  readonly events?: EventBridgeClient;
  readonly busName?: string;
  readonly logger: StepLogger & { readonly error?: StepLogger['warn'] };
  /** Called once per event that could not be recorded or published (the handler counts it in a metric). */
  readonly onFailure?: (type: LifecycleEventType, stage: 'audit' | 'publish', error: unknown) => void;
}

/** What became of one event. */
export interface LifecycleRecordResult {
  readonly detail: LifecycleDetail;
  /** Written in the audit trail by this call (false: already there from a retried step's first attempt, or not written). */
  readonly recorded: boolean;
  readonly published: boolean;
}

/** EventBridge's limit on one entry (detail, detail-type, source, resources together): an entry must be smaller. */
const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * Records `event` of rollout `ref` in the audit trail, then publishes it on the bus. Never throws.
 * An event is recorded once per rollout, type and `discriminator` (what tells apart two events of the same type in
 * one rollout, e.g. the share of a traffic shift): a retried step finds it already recorded and keeps the first
 * record; it publishes it again (subscribers get EventBridge's at-least-once delivery anyway).
 */
export async function recordLifecycleEvent(
  sink: LifecycleSink,
  ref: RolloutRef,
  event: LifecycleEvent,
  options: { readonly at?: string; readonly discriminator?: string } = {},
): Promise<LifecycleRecordResult> {
  const at = options.at ?? new Date().toISOString();
  const detail = { ...event, schemaVersion: LIFECYCLE_SCHEMA_VERSION, rollout: ref, at, message: describeLifecycleEvent(ref, event), notify: isNotified(event) } as LifecycleDetail;
  let recorded = false;
  if (sink.dynamo && sink.auditTable) {
    try {
      const record: AuditEventRecord = { ref, type: event.type, at, discriminator: options.discriminator, detail };
      recorded = await putAuditEvent(sink.dynamo, sink.auditTable, record);
    } catch (error) {
      report(sink, event.type, 'audit', error, detail);
    }
  }
  let published = false;
  if (sink.events && sink.busName) {
    try {
      const entry = {
        EventBusName: sink.busName,
        Source: LIFECYCLE_EVENT_SOURCE,
        DetailType: LIFECYCLE_DETAIL_TYPES[event.type],
        Resources: [ref.modelPackageArn],
        Detail: JSON.stringify(detail),
      };
      if (Buffer.byteLength(entry.Detail) + entry.DetailType.length + entry.Source.length + ref.modelPackageArn.length >= MAX_ENTRY_BYTES) {
        throw new Error(`the event is larger than EventBridge's ${MAX_ENTRY_BYTES} bytes`);
      }
      const answer = await sink.events.send(new PutEventsCommand({ Entries: [entry] }));
      const failed = answer.Entries?.[0];
      if ((answer.FailedEntryCount ?? 0) > 0 || failed?.ErrorCode) {
        throw new Error(`EventBridge refused the event: ${failed?.ErrorCode ?? 'unknown error'}: ${failed?.ErrorMessage ?? ''}`.trim());
      }
      published = true;
    } catch (error) {
      report(sink, event.type, 'publish', error, detail);
    }
  }
  sink.logger.info('Lifecycle event', { lifecycleEvent: LIFECYCLE_DETAIL_TYPES[event.type], recorded, published, message: detail.message });
  return { detail, recorded, published };
}

function report(sink: LifecycleSink, type: LifecycleEventType, stage: 'audit' | 'publish', error: unknown, detail: LifecycleDetail): void {
  const log = sink.logger.error ?? sink.logger.warn;
  log.call(sink.logger, `Lifecycle event not ${stage === 'audit' ? 'recorded in the audit trail' : 'published'}: kept in this log line`, {
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    lifecycleEvent: detail,
  });
  try {
    sink.onFailure?.(type, stage, error);
  } catch {
    // A metric that cannot be counted must not fail the step either.
  }
}

/**
 * Whether an event is worth a notification (SNS): a rollout that needs someone (approval), that ended (promoted,
 * rolled back, ended otherwise), and a validation that did not pass. Carried in the event as `detail.notify`, so one
 * simple pattern (NOTIFICATION_EVENT_PATTERN) selects them, in the CDK rule and in the rehearsal alike.
 */
export function isNotified(event: LifecycleEvent): boolean {
  switch (event.type) {
    case 'ApprovalRequested':
    case 'RolledBack':
    case 'Promoted':
    case 'Ended':
      return true;
    case 'ValidationVerdict':
      return event.verdict !== 'PASS';
    default:
      return false;
  }
}

/** The EventBridge pattern of the notifications rule. */
export const NOTIFICATION_EVENT_PATTERN = { source: [LIFECYCLE_EVENT_SOURCE], detail: { notify: [true] } };

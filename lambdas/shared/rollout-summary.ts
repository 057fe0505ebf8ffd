/**
 * How a rollout ended, told once: the summary an execution returns as its output (and the reconciler writes for an
 * execution that could not), built from the audit trail; and `concludeRollout`, which records that outcome
 * everywhere it is looked for: the audit trail's outcome item, tags on the model package, the final lifecycle event
 * (Rollout Promoted / Rollout Ended) and the rollout metrics.
 *
 * The rollout is over when this runs: nothing here may fail it. A trail that cannot be read gives a summary of what
 * the caller knows (and the summary says so); a tag, event, metric or outcome item that cannot be written is logged.
 * The summary stays far below Step Functions' 256 KB payload (it is the execution's output, beside the state):
 * `text` is cut at 16 KB, every message at 300 characters, every list bounded.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AddTagsCommand, type SageMakerClient, type Tag } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { putRolloutOutcome, readRolloutAudit, type RolloutAudit } from './audit-trail';
import { describeError, RolloutRejected } from './errors';
import {
  describeLifecycleEvent,
  LIFECYCLE_DETAIL_TYPES,
  recordLifecycleEvent,
  type GateOutcome,
  type LifecycleDetail,
  type LifecycleEvent,
  type LifecycleSink,
  type ResourceRef,
  type RolloutOutcome,
  type RolloutRef,
  type RolloutTrigger,
} from './lifecycle-events';
import type { StepLogger } from './logger';
import { publishRolloutMetrics, ROLLOUT_METRIC_NAMES } from './metrics';

/** One operator decision on the rollout. */
export interface RolloutDecision {
  readonly decision: string;
  readonly by: string;
  readonly reason?: string;
  readonly at: string;
}

/** One line of the rollout's timeline. */
export interface TimelineEntry {
  readonly at: string;
  /** Seconds from the rollout's start (negative if recorded before it, e.g. a clock skew). */
  readonly afterSeconds: number;
  /** The event's detail-type, e.g. `Traffic Shifted`. */
  readonly event: string;
  readonly message: string;
}

/** The rollout's outcome and story: the execution's output and the audit trail's outcome item. */
export interface RolloutSummary {
  readonly outcome: RolloutOutcome;
  /** Multi-line, readable in the Step Functions console; at most MAX_TEXT_BYTES. */
  readonly text: string;
  readonly endpointName: string;
  readonly modelPackageArn: string;
  readonly modelPackageVersion: number;
  readonly deploymentId: string;
  readonly executionArn: string;
  /** Who or what started the rollout, when known. */
  readonly trigger?: RolloutTrigger;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationSeconds: number;
  /** The error the rollout ended with (absent when it was promoted as planned). */
  readonly error?: string;
  readonly reason: string;
  /** The validation verdict (PASS, FAIL, INCONCLUSIVE), when validation ran. */
  readonly verdict?: string;
  readonly gates: readonly GateOutcome[];
  readonly decisions: readonly RolloutDecision[];
  readonly timeline: readonly TimelineEntry[];
  readonly resourcesCreated: readonly ResourceRef[];
  readonly resourcesRemoved: readonly ResourceRef[];
}

/** Bound of `text` (bytes, UTF-8). */
export const MAX_TEXT_BYTES = 16 * 1024;
/** Bound of each timeline message and gate reason (characters). */
export const MAX_MESSAGE_CHARS = 300;
/** Bound of the timeline: the first TIMELINE_HEAD entries, one saying how many were left out, the last TIMELINE_TAIL. */
export const MAX_TIMELINE_ENTRIES = 60;
const TIMELINE_HEAD = 10;
const TIMELINE_TAIL = MAX_TIMELINE_ENTRIES - TIMELINE_HEAD - 1;
/** Bound of each resource list (the text says how many more there were). */
export const MAX_RESOURCES = 40;
const MAX_DECISIONS = 5;
const MAX_GATES = 8;
const MAX_CHECKS_PER_GATE = 5;
/** Resource names (alarm names reach 255) and who decided. */
const MAX_NAME_CHARS = 256;
/** Gate and check names, verdicts. */
const MAX_LABEL_CHARS = 100;
const MAX_REASON_CHARS = 2048;
const MAX_ERROR_CHARS = 256;
/** Bound of the reason in the Rollout Ended event (its SNS notification is meant to be read). */
const MAX_EVENT_REASON_CHARS = 1000;

/** The reason of a promotion that went as planned. */
export const PROMOTED_REASON = 'green serves all traffic; blue retired';

/** A failure as a Catch caught it, as far as the summary reads it (an operator's rejection names who and why). */
export interface CaughtRolloutFailure {
  readonly error: string;
  readonly cause?: string;
}

/** What the caller knows besides the audit trail: used when the trail lacks it (or could not be read). */
export interface RolloutFacts {
  readonly trigger?: RolloutTrigger;
  readonly validation?: { readonly verdict: string; readonly gates?: readonly GateOutcome[] };
  /** An approval the execution received (`$.approval`). */
  readonly approval?: RolloutDecision;
  /** The failure that stopped the rollout (`$.failure`): an operator's rejection is a decision. */
  readonly failure?: CaughtRolloutFailure;
}

/** How a rollout ended, as its concluder knows it: what the summary is built from, besides the audit trail. */
export interface RolloutConclusion {
  readonly ref: RolloutRef;
  readonly outcome: RolloutOutcome;
  readonly error?: string;
  readonly reason: string;
  /** When the execution started: the audit header's start time, when there is one, wins. */
  readonly startedAt: string;
  readonly endedAt: string;
  /** The green variant (named by the Rollout Promoted event). */
  readonly greenVariantName: string;
  readonly facts?: RolloutFacts;
}

export interface BuildRolloutSummaryInput extends RolloutConclusion {
  /** The rollout's audit trail; absent when it could not be read. */
  readonly audit?: RolloutAudit;
  /** Why the audit trail is absent (said in `text`). */
  readonly auditProblem?: string;
}

/** Cuts `text` to `max` characters (code points: never half a surrogate pair), marking the cut with `…`. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

/** `45 s`, `14 min 3 s`, `2 h 5 min`, `2 h 0 min 7 s`: zero parts at the end are left out. */
export function formatSeconds(totalSeconds: number): string {
  const sign = totalSeconds < 0 ? '-' : '';
  let rest = Math.round(Math.abs(totalSeconds));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours} h`);
  if (hours > 0 || minutes > 0) parts.push(`${minutes} min`);
  parts.push(`${seconds} s`);
  while (parts.length > 1 && /^0 /.test(parts[parts.length - 1]!)) parts.pop();
  return `${sign}${parts.join(' ')}`;
}

const secondsBetween = (from: string, to: string): number => {
  const seconds = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  return Number.isFinite(seconds) ? seconds : 0;
};

/** `Rejected by <by>: <reason>` (cli/decision.ts `rejectionCause`, what an operator's `reject` sends) read back. */
export function parseRejectionCause(cause: string | undefined): { readonly by: string; readonly reason?: string } | undefined {
  const match = /^Rejected by (.+?): ([\s\S]*)$/.exec((cause ?? '').trim());
  if (!match) return undefined;
  const reason = match[2]!.trim();
  return { by: match[1]!, ...(reason ? { reason } : {}) };
}

/** The lifecycle event that closes a rollout: Rollout Promoted, or Rollout Ended with the outcome. */
export function finalLifecycleEvent(input: {
  readonly outcome: RolloutOutcome;
  readonly error?: string;
  readonly reason: string;
  readonly durationSeconds: number;
  readonly greenVariantName: string;
}): LifecycleEvent {
  if (input.outcome === 'PROMOTED') return { type: 'Promoted', durationSeconds: input.durationSeconds, greenVariantName: input.greenVariantName };
  return {
    type: 'Ended',
    outcome: input.outcome,
    ...(input.error ? { error: cutText(input.error, MAX_ERROR_CHARS) } : {}),
    reason: cutText(input.reason, MAX_EVENT_REASON_CHARS),
    durationSeconds: input.durationSeconds,
  };
}

function boundedGates(gates: readonly GateOutcome[] | undefined): GateOutcome[] {
  return (gates ?? []).slice(0, MAX_GATES).map((gate) => ({
    gate: cutText(String(gate.gate), MAX_LABEL_CHARS),
    verdict: cutText(String(gate.verdict), MAX_LABEL_CHARS),
    ...(gate.samples !== undefined ? { samples: gate.samples } : {}),
    ...(gate.checks
      ? {
          checks: gate.checks.slice(0, MAX_CHECKS_PER_GATE).map((check) => ({
            name: cutText(String(check.name), MAX_LABEL_CHARS),
            statistic: check.statistic,
            threshold: check.threshold,
            comparison: cutText(String(check.comparison), 8),
          })),
        }
      : {}),
    ...(gate.reason !== undefined ? { reason: cutText(String(gate.reason), MAX_MESSAGE_CHARS) } : {}),
  }));
}

/** Unique by kind and name, in first-seen order; the count of all unique ones (the list stops at MAX_RESOURCES). */
function uniqueResources(lists: ReadonlyArray<readonly ResourceRef[] | undefined>): { readonly list: ResourceRef[]; readonly total: number } {
  const seen = new Set<string>();
  const list: ResourceRef[] = [];
  for (const resource of lists.flatMap((l) => (Array.isArray(l) ? l : []))) {
    const key = `${resource.kind}\u0000${resource.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (list.length < MAX_RESOURCES) list.push({ kind: resource.kind, name: cutText(String(resource.name), MAX_NAME_CHARS) });
  }
  return { list, total: seen.size };
}

function timelineOf(events: readonly LifecycleDetail[], startedAt: string): TimelineEntry[] {
  const entry = (detail: LifecycleDetail): TimelineEntry => ({
    at: detail.at,
    afterSeconds: secondsBetween(startedAt, detail.at),
    event: LIFECYCLE_DETAIL_TYPES[detail.type] ?? String(detail.type),
    message: cutText(oneLine(String(detail.message ?? '')), MAX_MESSAGE_CHARS),
  });
  if (events.length <= MAX_TIMELINE_ENTRIES) return events.map(entry);
  const left = events.length - TIMELINE_HEAD - TIMELINE_TAIL;
  const firstLeft = events[TIMELINE_HEAD]!;
  return [
    ...events.slice(0, TIMELINE_HEAD).map(entry),
    {
      at: firstLeft.at,
      afterSeconds: secondsBetween(startedAt, firstLeft.at),
      event: 'Events Left Out',
      message: `${left} events left out here (the audit trail has all ${events.length})`,
    },
    ...events.slice(events.length - TIMELINE_TAIL).map(entry),
  ];
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Stable by time: events recorded at the same instant keep the trail's order. */
function inTimeOrder(events: readonly LifecycleDetail[]): LifecycleDetail[] {
  return events.map((event, index) => ({ event, index })).sort((a, b) => a.event.at.localeCompare(b.event.at) || a.index - b.index).map(({ event }) => event);
}

function decisionsOf(events: readonly LifecycleDetail[], input: BuildRolloutSummaryInput, rolledBackAt: string | undefined): RolloutDecision[] {
  const decisions: RolloutDecision[] = [];
  for (const event of events) {
    if (event.type !== 'ApprovalDecided') continue;
    decisions.push({ decision: event.decision, by: event.by, ...(event.reason ? { reason: event.reason } : {}), at: event.at });
  }
  const has = (decision: string, by?: string) => decisions.some((d) => d.decision === decision && (by === undefined || d.by === by));
  const approval = input.facts?.approval;
  if (approval && !has(approval.decision, approval.by)) decisions.push(approval);
  // A rejection fails the approval task: restore-blue records it, but the Catch's cause says it too.
  const failure = input.facts?.failure;
  const rejection = failure?.error === RolloutRejected.name ? parseRejectionCause(failure.cause) : undefined;
  if (rejection && !has('REJECTED', rejection.by)) {
    decisions.push({ decision: 'REJECTED', by: rejection.by, ...(rejection.reason ? { reason: rejection.reason } : {}), at: rolledBackAt ?? input.endedAt });
  }
  return decisions.slice(0, MAX_DECISIONS).map((d) => ({
    decision: cutText(d.decision, MAX_LABEL_CHARS),
    by: cutText(d.by, MAX_NAME_CHARS),
    ...(d.reason ? { reason: cutText(d.reason, MAX_MESSAGE_CHARS) } : {}),
    at: d.at,
  }));
}

function describeTrigger(trigger: RolloutTrigger | undefined): string {
  if (!trigger) return 'unknown (not in the audit trail)';
  const how = trigger.kind === 'OPERATOR_DEPLOY' ? 'deployed by hand' : 'approved in the Model Registry';
  return `${how}${trigger.by ? ` by ${trigger.by}` : ''}${trigger.eventId ? ` (event ${trigger.eventId})` : ''}`;
}

const formatNumber = (value: number): string => (Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4))));

function describeGate(gate: GateOutcome): string {
  const checks = (gate.checks ?? []).map(
    (c) => `${c.name} = ${c.statistic === null || c.statistic === undefined ? 'no data' : formatNumber(c.statistic)} ${c.comparison} ${formatNumber(c.threshold)}`,
  );
  return `${gate.gate} ${gate.verdict}${checks.length ? `: ${checks.join(', ')}` : ''}`;
}

function describeResources(resources: { readonly list: readonly ResourceRef[]; readonly total: number }): string {
  if (resources.total === 0) return 'nothing';
  const listed = resources.list.map((r) => `${r.kind} ${r.name}`).join(', ');
  return resources.total > resources.list.length ? `${listed} and ${resources.total - resources.list.length} more` : listed;
}

/** `text` cut to MAX_TEXT_BYTES of UTF-8 (at a character boundary), the cut said at the end. */
function fitText(text: string): string {
  if (Buffer.byteLength(text) <= MAX_TEXT_BYTES) return text;
  const marker = '\n… (cut at 16 KB: the audit trail has the whole story)';
  const budget = MAX_TEXT_BYTES - Buffer.byteLength(marker);
  let used = 0;
  let kept = '';
  for (const character of text) {
    const bytes = Buffer.byteLength(character);
    if (used + bytes > budget) break;
    used += bytes;
    kept += character;
  }
  return kept + marker;
}

/**
 * The summary of a rollout, from its audit trail (when readable) and what the caller knows. Pure.
 * The timeline ends with the closing event (Rollout Promoted / Rollout Ended), recorded or about to be.
 */
export function buildRolloutSummary(input: BuildRolloutSummaryInput): RolloutSummary {
  const { ref, audit } = input;
  const startedAt = audit?.header?.startedAt ?? input.startedAt;
  const durationSeconds = Math.max(0, secondsBetween(startedAt, input.endedAt));
  const error = input.error ? cutText(input.error, MAX_ERROR_CHARS) : undefined;
  const reason = cutText(input.reason, MAX_REASON_CHARS);

  const recorded = inTimeOrder(audit?.events ?? []);
  const final = finalLifecycleEvent({ outcome: input.outcome, error, reason, durationSeconds, greenVariantName: input.greenVariantName });
  // The closing event goes last, unless the trail has it already (a summary written again).
  const closing = recorded.some((event) => event.type === final.type)
    ? []
    : [{ ...final, rollout: ref, at: input.endedAt, message: describeLifecycleEvent(ref, final) } as LifecycleDetail];
  const events = [...recorded, ...closing];

  const started = recorded.find((event) => event.type === 'RolloutStarted');
  const trigger = audit?.header?.trigger ?? (started?.type === 'RolloutStarted' ? started.trigger : undefined) ?? input.facts?.trigger;
  const verdictEvent = [...recorded].reverse().find((event) => event.type === 'ValidationVerdict');
  const validation = verdictEvent?.type === 'ValidationVerdict' ? { verdict: verdictEvent.verdict, gates: verdictEvent.gates } : input.facts?.validation;
  const verdict = validation ? cutText(String(validation.verdict), MAX_LABEL_CHARS) : undefined;
  const gates = boundedGates(validation?.gates);
  const rolledBackAt = recorded.find((event) => event.type === 'RolledBack')?.at;
  const decisions = decisionsOf(recorded, input, rolledBackAt);
  const created = uniqueResources(recorded.map((event) => (event.type === 'GreenProvisioned' ? event.resourcesCreated : undefined)));
  const removed = uniqueResources(
    recorded.map((event) => (event.type === 'RolledBack' || event.type === 'CleanupCompleted' ? event.resourcesRemoved : undefined)),
  );
  const timeline = timelineOf(events, startedAt);

  const lines = [
    `${input.outcome}: ${ref.modelPackageGroupName} v${ref.modelPackageVersion} on ${ref.endpointName} in ${formatSeconds(durationSeconds)}`,
    `Deployment ${ref.deploymentId}, execution ${ref.executionArn}`,
    `Started ${startedAt}, ended ${input.endedAt}`,
    `Trigger: ${describeTrigger(trigger)}`,
    ...(error ? [`Error: ${error}`] : []),
    `Reason: ${oneLine(reason)}`,
    `Verdict: ${verdict ? `${verdict}${gates.length ? ` (${gates.map(describeGate).join('; ')})` : ''}` : 'no validation verdict'}`,
    ...decisions.map((d) => `Decision: ${d.decision} by ${d.by} at ${d.at}${d.reason ? `: ${oneLine(d.reason)}` : ''}`),
    ...(input.auditProblem ? [`Note: ${input.auditProblem}: this summary is built from what the execution knew.`] : []),
    'Timeline:',
    ...timeline.map((t) => `  +${formatSeconds(t.afterSeconds)}  ${t.event}  ${t.message}`),
    `Created: ${describeResources(created)}`,
    `Removed: ${describeResources(removed)}`,
  ];

  return {
    outcome: input.outcome,
    text: fitText(lines.join('\n')),
    endpointName: ref.endpointName,
    modelPackageArn: ref.modelPackageArn,
    modelPackageVersion: ref.modelPackageVersion,
    deploymentId: ref.deploymentId,
    executionArn: ref.executionArn,
    ...(trigger ? { trigger } : {}),
    startedAt,
    endedAt: input.endedAt,
    durationSeconds,
    ...(error ? { error } : {}),
    reason,
    ...(verdict ? { verdict } : {}),
    gates,
    decisions,
    timeline,
    resourcesCreated: created.list,
    resourcesRemoved: removed.list,
  };
}

// ---- Tags on the model package.

/** SageMaker's Tag key and value rules (API model: TagKey 1-128, TagValue 0-256, this character pattern). */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RolloutTagSchema = z.object({
  Key: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters (SageMaker TagKey)').regex(TAG_CHARACTERS, 'has a character SageMaker tags refuse'),
  Value: z.string().max(256, 'must be at most 256 characters (SageMaker TagValue)').regex(TAG_CHARACTERS, 'has a character SageMaker tags refuse'),
});

/** The keys of the outcome tags this system puts on a model package, per endpoint (a package may serve several). */
export function outcomeTagKeys(endpointName: string): { readonly outcome: string; readonly deployedAt: string; readonly deploymentId: string } {
  return {
    outcome: `bluegreen:${endpointName}:outcome`,
    deployedAt: `bluegreen:${endpointName}:deployed-at`,
    deploymentId: `bluegreen:${endpointName}:deployment-id`,
  };
}

/** The outcome tags; a tag SageMaker would refuse is left out (and said why), so the others still go. */
export function outcomeTags(summary: Pick<RolloutSummary, 'endpointName' | 'outcome' | 'endedAt' | 'deploymentId'>): {
  readonly tags: Tag[];
  readonly refused: string[];
} {
  const keys = outcomeTagKeys(summary.endpointName);
  const tags: Tag[] = [];
  const refused: string[] = [];
  for (const candidate of [
    { Key: keys.outcome, Value: summary.outcome },
    { Key: keys.deployedAt, Value: summary.endedAt },
    { Key: keys.deploymentId, Value: summary.deploymentId },
  ]) {
    const parsed = RolloutTagSchema.safeParse(candidate);
    if (parsed.success) tags.push(parsed.data);
    else refused.push(`${candidate.Key}: ${parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`).join('; ')}`);
  }
  return { tags, refused };
}

// ---- Concluding a rollout.

export interface ConcludeRolloutDependencies {
  /** The history table's client and name (absent: the trail is neither read nor written). */
  readonly dynamo?: DynamoDBClient;
  readonly auditTable?: string;
  /** Tags the model package. */
  readonly sageMaker: SageMakerClient;
  readonly sink: LifecycleSink;
  readonly logger: StepLogger;
}

/** A lifecycle event the caller records as part of concluding (the reconciler's rollback and cleanup). */
export interface ConcludingEvent {
  readonly event: LifecycleEvent;
  readonly at?: string;
  readonly discriminator?: string;
}

export interface ConcludeRolloutInput extends RolloutConclusion {
  /** Recorded first (and part of the summary), unless the rollout was already concluded. */
  readonly events?: readonly ConcludingEvent[];
}

/**
 * Reads the audit trail, builds the summary, then (unless the trail already has this rollout's outcome: a retried
 * or second conclusion, whose first one stands) tags the model package, records Rollout Promoted or Rollout Ended,
 * publishes the outcome metrics, and writes the outcome item last: the item says everything before it was done.
 * Never throws: the rollout is over, and its outcome must reach the execution's output whatever fails here.
 */
export async function concludeRollout(deps: ConcludeRolloutDependencies, input: ConcludeRolloutInput): Promise<RolloutSummary> {
  const { ref } = input;
  const warn = (message: string, extra: Record<string, unknown>) => {
    try {
      deps.logger.warn(message, extra);
    } catch {
      // A logger that throws must not fail the conclusion either.
    }
  };

  let audit: RolloutAudit | undefined;
  let auditProblem: string | undefined;
  if (deps.dynamo && deps.auditTable) {
    try {
      audit = await readRolloutAudit(deps.dynamo, deps.auditTable, ref.endpointName, ref.deploymentId);
    } catch (error) {
      auditProblem = `the audit trail could not be read (${describeError(error)})`;
      warn('Audit trail not read: summarizing from what the execution knows', { error: describeError(error) });
    }
  } else {
    auditProblem = 'no rollout history table is configured';
  }

  const base = { ...input, audit, auditProblem };
  if (audit?.outcome) {
    // Concluded before (a retried invocation, or the execution and the reconciler both): the first conclusion stands.
    deps.logger.info('Rollout already concluded: its outcome, tags, event and metrics are not written again', {
      recordedOutcome: audit.outcome.outcome,
      outcome: input.outcome,
    });
    return buildRolloutSummary(base);
  }

  const concluding: LifecycleDetail[] = [];
  for (const { event, at, discriminator } of input.events ?? []) {
    const { detail, recorded } = await recordLifecycleEvent(deps.sink, ref, event, { at, discriminator });
    // Not written because the trail has it already (same type and discriminator): the trail's own stays, once.
    const alreadyInTrail = !recorded && (audit?.events ?? []).some((existing) => existing.type === detail.type);
    if (!alreadyInTrail) concluding.push(detail);
  }
  const summary = buildRolloutSummary({
    ...base,
    audit: audit ? { ...audit, events: [...audit.events, ...concluding] } : concluding.length ? { events: concluding } : undefined,
  });

  await tagModelPackage(deps, summary, warn);

  const final = finalLifecycleEvent({ ...summary, greenVariantName: input.greenVariantName });
  await recordLifecycleEvent(deps.sink, ref, final, { at: summary.endedAt });

  try {
    const counter =
      summary.outcome === 'PROMOTED'
        ? ROLLOUT_METRIC_NAMES.promoted
        : summary.outcome === 'ROLLED_BACK'
          ? ROLLOUT_METRIC_NAMES.rolledBack
          : ROLLOUT_METRIC_NAMES.failed;
    publishRolloutMetrics(ref.endpointName, [
      { name: counter, unit: 'Count', value: 1 },
      { name: ROLLOUT_METRIC_NAMES.durationSeconds, unit: 'Seconds', value: summary.durationSeconds },
    ]);
  } catch (error) {
    warn('Outcome metrics not published', { error: describeError(error) });
  }

  if (deps.dynamo && deps.auditTable) {
    try {
      const written = await putRolloutOutcome(deps.dynamo, deps.auditTable, {
        ref,
        endedAt: summary.endedAt,
        outcome: summary.outcome,
        ...(summary.error ? { error: summary.error } : {}),
        reason: summary.reason,
        durationSeconds: summary.durationSeconds,
        summary,
      });
      if (!written) deps.logger.info('Outcome already in the audit trail (written by a concurrent conclusion): the first one stands', {});
    } catch (error) {
      warn('Outcome not written to the audit trail: kept in this log line', { error: describeError(error), summary });
    }
  }
  return summary;
}

/**
 * Tags the model package with the outcome on this endpoint. AddTags, never UpdateModelPackage: updating an Approved
 * package emits a "Model Package State Change" event, which the approval rule would take for a new approval and
 * deploy again, a version that may just have failed. AddTags emits no such event.
 */
async function tagModelPackage(
  deps: ConcludeRolloutDependencies,
  summary: RolloutSummary,
  warn: (message: string, extra: Record<string, unknown>) => void,
): Promise<void> {
  const { tags, refused } = outcomeTags(summary);
  if (refused.length) warn('Outcome tags left out: SageMaker would refuse them', { refused });
  if (tags.length === 0) return;
  try {
    await deps.sageMaker.send(new AddTagsCommand({ ResourceArn: summary.modelPackageArn, Tags: tags }));
  } catch (error) {
    warn('Model package not tagged with the outcome', { modelPackageArn: summary.modelPackageArn, error: describeError(error) });
  }
}

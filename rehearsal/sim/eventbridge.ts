/**
 * EventBridge, in memory: event buses (the account's `default` bus and the ones the rehearsal creates), PutEvents with
 * EventBridge's validation and per-entry results, and rules that deliver matching events to an SNS topic (recorded) or
 * to a callback. The API side is PutEvents, the one operation the system calls; buses and rules are seeded by the
 * rehearsal (`createEventBus`, `putRule`), the way the CDK stack creates them in a real account.
 *
 * What PutEvents does, from the API model (eventbridge 2015-10-07) and AWS's recorded answers (LocalStack's
 * AWS-validated snapshots of tests/aws/services/events/test_events.py):
 * - 1 to 10 entries, else ValidationException (a Java-rendered list in the message, as AWS prints it);
 * - the entries' total size (EventBridge's documented calculation, eb-putevent-size) must be under 256 KB, else
 *   ValidationException "Total size of the entries in the request is over the limit.";
 * - an entry without Source, DetailType or Detail (absent or empty) fails alone with InvalidArgument, and a Detail that
 *   is not a JSON object with MalformedDetail, in an HTTP 200 answer with FailedEntryCount; the others are accepted.
 *   (The API documentation says a request in which no entry has all three fails as a whole; AWS's recorded answers to
 *   such one-entry requests are per-entry failures with HTTP 200, and that is what the simulation does.)
 * - an entry for a bus that does not exist is ACCEPTED, with an EventId and no error, and the event is dropped: AWS
 *   does not report it (aws/aws-sdk#186, aws/aws-cli#9186 reproduced in January 2025, localstack PR 8264). The
 *   simulation keeps such events apart (`droppedEvents`) so a rehearsal can see them.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { matchesPattern, type EventPattern } from '../event-bus';
import { nowMs } from './clock';
import { AwsServiceError } from './errors';
import { parseAwsInput } from './validation';

/** The bus every account has; PutEvents uses it when an entry names none. */
export const DEFAULT_EVENT_BUS_NAME = 'default';
/** PutEvents' limit on the entries of one request, by EventBridge's size calculation: they must stay below it. */
export const PUT_EVENTS_MAX_REQUEST_BYTES = 256 * 1024;
/** What a `Time` member counts for in that calculation, whatever its value. */
const TIME_MEMBER_BYTES = 14;
/** The documented maximum length of DetailType. */
const MAX_DETAIL_TYPE_LENGTH = 128;

/** An event as EventBridge delivers it to rules' targets. */
export interface EventEnvelope {
  readonly version: '0';
  /** The EventId PutEvents answered for the entry. */
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** The entry's Time, or when PutEvents received it: ISO 8601 to the second (`2026-01-01T09:00:00Z`). */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  /** The entry's Detail, parsed. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Where a rule sends the events it matches. */
export type RuleTarget =
  | {
      readonly kind: 'sns';
      readonly topicArn: string;
      /**
       * A JSONPath into the event (`$.detail.message`): the message is the value there, as an input transformer
       * with the text template `"<value>"` sends it (CDK: `RuleTargetInput.fromText(EventField.fromPath(path))`):
       * a string as is, anything else as its JSON, nothing (the path does not resolve) as an empty message.
       * @default the whole event, as JSON (a target without input transformer)
       */
      readonly messagePath?: string;
    }
  | {
      readonly kind: 'callback';
      /** Called synchronously, during the PutEvents call that published the event. */
      readonly deliver: (event: EventEnvelope) => void;
    };

/** A rule on a bus: events matching `pattern` (`matchesPattern`) go to `target`. */
export interface RuleDefinition {
  /** @default DEFAULT_EVENT_BUS_NAME */
  readonly busName?: string;
  readonly ruleName: string;
  readonly pattern: EventPattern;
  readonly target: RuleTarget;
}

/** A message a rule published to an SNS topic. */
export interface SnsDelivery {
  readonly topicArn: string;
  readonly subject?: undefined;
  readonly message: string;
  /** When it was published (virtual epoch ms). */
  readonly atMs: number;
}

/** An event accepted for a bus that does not exist, which EventBridge drops without a word. */
export interface DroppedEvent {
  /** The EventBusName the entry gave (a name or an ARN). */
  readonly eventBusName: string;
  readonly event: EventEnvelope;
}

/** An event put on the bus by an AWS service rather than through PutEvents (`emitServiceEvent`). */
export interface ServiceEvent {
  /** @default DEFAULT_EVENT_BUS_NAME */
  readonly busName?: string;
  /** `aws.sagemaker`, `aws.cloudwatch`, ... */
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /** @default [] */
  readonly resources?: readonly string[];
}

export interface EventBridgeSimulationOptions {
  readonly region: string;
  readonly accountId: string;
}

// ---------------------------------------------------------------- API input schemas (from the API model)

/** NonPartnerEventBusNameOrArn. */
const EVENT_BUS_NAME_OR_ARN_PATTERN = /^(arn:aws[\w-]*:events:[a-z]{2}-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+$/;
const BUS_ARN_PREFIX = /^arn:aws[\w-]*:events:([a-z]{2}-[a-z]+-[\w-]+):([0-9]{12}):event-bus\//;

const putEventsRequestEntry = z.object({
  // A timestamp: epoch seconds on the awsJson wire.
  Time: z.number().optional(),
  Source: z.string().optional(),
  Resources: z.array(z.string().max(2048)).optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().min(1).max(1600).regex(EVENT_BUS_NAME_OR_ARN_PATTERN).optional(),
  TraceHeader: z.string().min(1).max(500).optional(),
});
type PutEventsRequestEntry = z.output<typeof putEventsRequestEntry>;

const MAX_ENTRIES = 10;
const putEventsInput = z.object({
  Entries: z.array(putEventsRequestEntry).min(1).max(MAX_ENTRIES),
  EndpointId: z.string().min(1).max(50).regex(/^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$/).optional(),
});

// ---------------------------------------------------------------- seeding schemas

/** EventBusName (CreateEventBus): partner buses (`aws.partner/...`) are not the rehearsal's to create. */
const busName = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^[/\.\-_A-Za-z0-9]+$/, 'must match [/.\\-_A-Za-z0-9]+');
/** RuleName. */
const ruleName = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\.\-_A-Za-z0-9]+$/, 'must match [.\\-_A-Za-z0-9]+');
const SNS_TOPIC_ARN_PATTERN = /^arn:aws[\w-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
/** The JSONPath EventBridge supports in input paths: dot notation and array indices. */
const MESSAGE_PATH_PATTERN = /^\$((\.[A-Za-z0-9_\-/]+)|(\[[0-9]+\]))*$/;

const eventPattern = z.custom<EventPattern>(
  (value) => value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0,
  'must be a non-empty object',
).refine((value) => JSON.stringify(value).length <= 4096, 'must be at most 4096 characters as JSON (EventPattern)');

const ruleTarget = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('sns'),
    topicArn: z.string().regex(SNS_TOPIC_ARN_PATTERN, 'must be an SNS topic ARN'),
    messagePath: z.string().regex(MESSAGE_PATH_PATTERN, 'must be a JSONPath in dot notation ($.detail.message)').optional(),
  }),
  z.object({
    kind: z.literal('callback'),
    deliver: z.custom<(event: EventEnvelope) => void>((value) => typeof value === 'function', 'must be a function'),
  }),
]);

const ruleDefinition = z.object({
  busName: busName.optional(),
  ruleName,
  pattern: eventPattern,
  target: ruleTarget,
});

const serviceEvent = z.object({
  busName: busName.optional(),
  source: z.string().min(1, 'must not be empty'),
  detailType: z.string().min(1, 'must not be empty').max(MAX_DETAIL_TYPE_LENGTH, `must be at most ${MAX_DETAIL_TYPE_LENGTH} characters`),
  detail: z.record(z.string(), z.unknown()),
  resources: z.array(z.string()).optional(),
});

/** Parses a seeding argument; a bad one is the rehearsal's bug, reported with each field and what is wrong. */
function parseSeed<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(value)'} ${issue.message}`);
  throw new Error(`invalid ${what}: ${problems.join('; ')}`);
}

function eventsError(code: string, message: string): AwsServiceError {
  return new AwsServiceError(code, message, { service: 'events' });
}

// ---------------------------------------------------------------- helpers

/** ISO 8601 to the second, as EventBridge writes an event's `time`. */
function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function utf8Bytes(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

/** An entry's size by EventBridge's documented calculation (Time 14 bytes; Source, DetailType, Detail, Resources in UTF-8). */
export function putEventsEntrySize(entry: {
  readonly Time?: unknown;
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly Resources?: readonly string[];
}): number {
  let size = entry.Time !== undefined ? TIME_MEMBER_BYTES : 0;
  size += utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8Bytes(resource);
  return size;
}

/** How the service (Java) prints the request's entry list in a validation message. */
function javaEntryList(entries: readonly unknown[]): string {
  const text = (value: unknown): string => (value === undefined || value === null ? 'null' : String(value));
  const rendered = entries.map((raw) => {
    const entry = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000).toISOString() : entry.Time;
    const resources = Array.isArray(entry.Resources) ? `[${entry.Resources.map(text).join(', ')}]` : entry.Resources;
    return (
      `PutEventsRequestEntry(time=${text(time)}, source=${text(entry.Source)}, resources=${text(resources)}, ` +
      `detailType=${text(entry.DetailType)}, detail=${text(entry.Detail)}, eventBusName=${text(entry.EventBusName)}, ` +
      `traceHeader=${text(entry.TraceHeader)}, kmsKeyIdentifier=null, internalMetadata=null)`
    );
  });
  return `[${rendered.join(', ')}]`;
}

/** The value at a dot-notation JSONPath (`$.detail.message`, `$.resources[0]`), or undefined. */
function valueAtPath(root: unknown, path: string): unknown {
  const segments = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[([0-9]+)\]/g)].map((match) => match[1] ?? Number(match[2]));
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

type PerEntryResult = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };

function invalidArgument(member: 'Source' | 'DetailType' | 'Detail'): PerEntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.` };
}

interface StoredRule {
  readonly ruleName: string;
  readonly pattern: EventPattern;
  readonly target: RuleTarget;
}

export class EventBridgeSimulation {
  private readonly region: string;
  private readonly accountId: string;
  /** Rules of each bus, by rule name, in the order they were first put. */
  private readonly buses = new Map<string, Map<string, StoredRule>>([[DEFAULT_EVENT_BUS_NAME, new Map()]]);
  private readonly published: { readonly busName: string; readonly event: EventEnvelope }[] = [];
  private readonly dropped: DroppedEvent[] = [];
  private readonly deliveries: SnsDelivery[] = [];
  private eventCount = 0;

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    PutEvents: (input) => this.putEvents(input),
  };

  constructor(options: EventBridgeSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
  }

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /** Executes one API operation on its decoded JSON input; throws AwsServiceError as EventBridge would answer. */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) throw eventsError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    return run(input);
  }

  // ---------------------------------------------------------------- seeding and inspection

  /** Creates a custom event bus (as the stack does); returns its ARN. */
  createEventBus(name: string): string {
    const parsed = parseSeed(busName, name, 'event bus name');
    if (this.buses.has(parsed)) throw new Error(`event bus ${parsed} already exists`);
    this.buses.set(parsed, new Map());
    return this.busArn(parsed);
  }

  /** Puts (creates or replaces) a rule on an existing bus. */
  putRule(definition: RuleDefinition): void {
    const rule = parseSeed(ruleDefinition, definition, 'rule');
    const bus = rule.busName ?? DEFAULT_EVENT_BUS_NAME;
    const rules = this.buses.get(bus);
    if (!rules) throw new Error(`rule ${rule.ruleName}: event bus ${bus} does not exist (createEventBus first)`);
    rules.set(rule.ruleName, { ruleName: rule.ruleName, pattern: rule.pattern, target: rule.target });
  }

  /** Events accepted onto `busName` (every existing bus when omitted), in the order they arrived. */
  publishedEvents(busName?: string): EventEnvelope[] {
    return this.published.filter((record) => busName === undefined || record.busName === busName).map((record) => record.event);
  }

  /** Events PutEvents accepted for buses that do not exist (EventBridge drops them silently), in order. */
  droppedEvents(): DroppedEvent[] {
    return [...this.dropped];
  }

  /** Messages rules published to SNS topics, in order. */
  snsDeliveries(): SnsDelivery[] {
    return [...this.deliveries];
  }

  /**
   * Puts an event on a bus as an AWS service does (a Model Registry approval, an alarm state change): the bus's rules
   * see it like any other. Returns the delivered envelope.
   */
  emitServiceEvent(event: ServiceEvent): EventEnvelope {
    const parsed = parseSeed(serviceEvent, event, 'service event');
    const bus = parsed.busName ?? DEFAULT_EVENT_BUS_NAME;
    if (!this.buses.has(bus)) throw new Error(`service event ${parsed.detailType}: event bus ${bus} does not exist`);
    const envelope = this.envelope({
      source: parsed.source,
      detailType: parsed.detailType,
      detail: parsed.detail,
      resources: parsed.resources ?? [],
      timeMs: nowMs(),
    });
    this.accept(bus, envelope);
    return envelope;
  }

  // ---------------------------------------------------------------- API

  private putEvents(rawInput: unknown): object {
    const entries = (rawInput as { Entries?: unknown } | null)?.Entries;
    // The service prints the entry list the Java way in this message, not as JSON.
    if (Array.isArray(entries) && entries.length > MAX_ENTRIES) {
      throw eventsError(
        'ValidationException',
        `1 validation error detected: Value '${javaEntryList(entries)}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    }
    const input = parseAwsInput(putEventsInput, rawInput);
    const totalBytes = input.Entries.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0);
    if (totalBytes >= PUT_EVENTS_MAX_REQUEST_BYTES) {
      throw eventsError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const receivedMs = nowMs();
    const results = input.Entries.map((entry) => this.putEntry(entry, receivedMs));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  private putEntry(entry: PutEventsRequestEntry, receivedMs: number): PerEntryResult {
    if (!entry.Source) return invalidArgument('Source');
    if (!entry.DetailType) return invalidArgument('DetailType');
    if (!entry.Detail) return invalidArgument('Detail');
    if (entry.DetailType.length > MAX_DETAIL_TYPE_LENGTH) {
      // The limit is documented (PutEventsRequestEntry.DetailType); this message is the simulation's own wording.
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter DetailType is not valid. Reason: DetailType is longer than ${MAX_DETAIL_TYPE_LENGTH} characters.`,
      };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const envelope = this.envelope({
      source: entry.Source,
      detailType: entry.DetailType,
      detail: detail as Record<string, unknown>,
      resources: entry.Resources ?? [],
      timeMs: entry.Time !== undefined ? entry.Time * 1000 : receivedMs,
    });
    const requestedBus = entry.EventBusName ?? DEFAULT_EVENT_BUS_NAME;
    const bus = this.resolveBus(requestedBus);
    if (bus === undefined) this.dropped.push({ eventBusName: requestedBus, event: envelope });
    else this.accept(bus, envelope);
    return { EventId: envelope.id };
  }

  /** The name of the existing bus a name or ARN designates, or undefined (another account or region, or no such bus). */
  private resolveBus(nameOrArn: string): string | undefined {
    const arn = BUS_ARN_PREFIX.exec(nameOrArn);
    if (arn && (arn[1] !== this.region || arn[2] !== this.accountId)) return undefined;
    const name = arn ? nameOrArn.slice(arn[0].length) : nameOrArn;
    return this.buses.has(name) ? name : undefined;
  }

  private envelope(parts: {
    readonly source: string;
    readonly detailType: string;
    readonly detail: Record<string, unknown>;
    readonly resources: readonly string[];
    readonly timeMs: number;
  }): EventEnvelope {
    return {
      version: '0',
      id: this.nextEventId(),
      'detail-type': parts.detailType,
      source: parts.source,
      account: this.accountId,
      time: isoSeconds(parts.timeMs),
      region: this.region,
      resources: [...parts.resources],
      detail: parts.detail,
    };
  }

  /** Records the event on its bus and delivers it to every rule of the bus that matches it, in rule order. */
  private accept(bus: string, event: EventEnvelope): void {
    this.published.push({ busName: bus, event });
    for (const rule of this.buses.get(bus)!.values()) {
      if (!matchesPattern(rule.pattern, event)) continue;
      if (rule.target.kind === 'callback') {
        rule.target.deliver(event);
        continue;
      }
      this.deliveries.push({ topicArn: rule.target.topicArn, message: this.snsMessage(event, rule.target.messagePath), atMs: nowMs() });
    }
  }

  private snsMessage(event: EventEnvelope, messagePath: string | undefined): string {
    if (messagePath === undefined) return JSON.stringify(event);
    const value = valueAtPath(event, messagePath);
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  /** EventBridge's event ids look like UUIDs; these are deterministic (from a counter) so rehearsals repeat. */
  private nextEventId(): string {
    this.eventCount += 1;
    const hex = createHash('sha256').update(`simulated-event-${this.eventCount}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  private busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.accountId}:event-bus/${name}`;
  }
}

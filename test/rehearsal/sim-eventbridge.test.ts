/**
 * EventBridge in the simulation, through the real SDK client: PutEvents' accepted events and their envelopes,
 * per-entry failures, request validation, a bus that does not exist, rules delivering to SNS or a callback, faults.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SimulatedAws, type EventEnvelope, type SimulationOptions } from '../../rehearsal/sim/world';
import { drive, driveError, installClock, START_MS, type FakeClock } from './sim/helpers';

const BUS = 'rollout-lifecycle';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:rollout-notifications';
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let clock: FakeClock;
let aws: SimulatedAws;
let client: EventBridgeClient;

function world(options: SimulationOptions = {}): void {
  aws = new SimulatedAws(options);
  client = new EventBridgeClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
}

beforeEach(() => {
  clock = installClock();
  world();
});
afterEach(() => clock.uninstall());

const putEvents = (entries: PutEventsRequestEntry[]) => drive(clock, client.send(new PutEventsCommand({ Entries: entries })));
const putEventsError = (entries: PutEventsRequestEntry[]) => driveError(clock, client.send(new PutEventsCommand({ Entries: entries })));

function entry(overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: 'sagemaker-blue-green',
    DetailType: 'Traffic Shifted',
    Detail: JSON.stringify({ greenPercent: 10, message: 'green 10%, blue 90%' }),
    ...overrides,
  };
}

describe('accepted events', () => {
  test('get an EventId each and land on their bus as full EventBridge envelopes', async () => {
    const busArn = aws.eventBridge.createEventBus(BUS);
    expect(busArn).toBe(`arn:aws:events:us-east-1:123456789012:event-bus/${BUS}`);
    await clock.tickAsync(1234);

    const answer = await putEvents([
      entry({ Resources: ['arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/7'] }),
      entry({ EventBusName: busArn, DetailType: 'Rollout Promoted', Detail: '{"outcome":"PROMOTED"}' }),
    ]);

    expect(answer.FailedEntryCount).toBe(0);
    const ids = answer.Entries!.map((result) => result.EventId);
    expect(ids).toHaveLength(2);
    ids.forEach((id) => expect(id).toMatch(UUID_SHAPE));
    expect(new Set(ids).size).toBe(2);
    expect(answer.Entries!.every((result) => result.ErrorCode === undefined)).toBe(true);

    const events = aws.eventBridge.publishedEvents(BUS);
    // The call itself takes the API latency: `time` is when EventBridge received it, to the second.
    const receivedAt = new Date(Math.floor((START_MS + 1234 + aws.timings.apiLatencyMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    expect(events).toEqual<EventEnvelope[]>([
      {
        version: '0',
        id: ids[0]!,
        'detail-type': 'Traffic Shifted',
        source: 'sagemaker-blue-green',
        account: '123456789012',
        time: receivedAt,
        region: 'us-east-1',
        resources: ['arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/7'],
        detail: { greenPercent: 10, message: 'green 10%, blue 90%' },
      },
      {
        version: '0',
        id: ids[1]!,
        'detail-type': 'Rollout Promoted',
        source: 'sagemaker-blue-green',
        account: '123456789012',
        time: receivedAt,
        region: 'us-east-1',
        resources: [],
        detail: { outcome: 'PROMOTED' },
      },
    ]);
    expect(aws.eventBridge.publishedEvents('default')).toEqual([]);
    expect(aws.calls.map((call) => [call.service, call.operation, call.error])).toEqual([['events', 'PutEvents', undefined]]);
  });

  test('an entry without EventBusName goes to the default bus; its Time, when given, is the event time', async () => {
    await putEvents([entry({ EventBusName: undefined, Time: new Date('2025-12-31T23:59:58.750Z') })]);
    const [event] = aws.eventBridge.publishedEvents('default');
    expect(event?.time).toBe('2025-12-31T23:59:58Z');
    expect(aws.eventBridge.publishedEvents()).toEqual([event]);
  });
});

describe('per-entry failures', () => {
  test('a missing or empty Source, DetailType or Detail, and a Detail that is not a JSON object, fail alone with HTTP 200', async () => {
    aws.eventBridge.createEventBus(BUS);
    const answer = await putEvents([
      entry({ Source: undefined }),
      entry({ DetailType: '' }),
      entry({ Detail: undefined }),
      entry({ Detail: 'NotJSON' }),
      entry({ Detail: '[]' }),
      entry({ Detail: JSON.stringify('a string') }),
      entry({ DetailType: 'x'.repeat(129) }),
      entry(),
    ]);

    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(answer.FailedEntryCount).toBe(7);
    const results = answer.Entries!;
    expect(results.slice(0, 6)).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(results[6]).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('DetailType') });
    expect(results[6]!.EventId).toBeUndefined();
    expect(results[7]!.EventId).toMatch(UUID_SHAPE);
    // Only the good entry reached the bus.
    expect(aws.eventBridge.publishedEvents(BUS).map((event) => event.id)).toEqual([results[7]!.EventId]);
  });
});

describe('request validation', () => {
  test('more than 10 entries: ValidationException with the entry list as the service prints it', async () => {
    const error = await putEventsError(Array.from({ length: 11 }, () => entry({ Detail: '{"n":1}' })));
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(
      /^1 validation error detected: Value '\[PutEventsRequestEntry\(time=null, source=sagemaker-blue-green, resources=null, detailType=Traffic Shifted, detail=\{"n":1\}, eventBusName=rollout-lifecycle, traceHeader=null, kmsKeyIdentifier=null, internalMetadata=null\), /,
    );
    expect(error.message.match(/PutEventsRequestEntry\(/g)).toHaveLength(11);
    expect(error.message).toMatch(/\]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10$/);
    expect(aws.eventBridge.publishedEvents()).toEqual([]);
    expect(aws.calls.map((call) => call.error)).toEqual(['ValidationException']);
  });

  test('no entries, or members breaking the model, are ValidationExceptions naming each member', async () => {
    const empty = await putEventsError([]);
    expect([empty.name, empty.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ]);

    const members = await putEventsError([entry(), entry({ EventBusName: 'rollout lifecycle', TraceHeader: '' })]);
    expect(members.name).toBe('ValidationException');
    expect(members.message).toBe(
      '2 validation errors detected: ' +
        "Value 'rollout lifecycle' at 'entries.2.member.eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
        '^(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+$; ' +
        "Value '' at 'entries.2.member.traceHeader' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  test('the entries must total less than 256 KB by EventBridge\'s size calculation', async () => {
    aws.eventBridge.createEventBus(BUS);
    const source = 'sagemaker-blue-green';
    const detailType = 'Traffic Shifted';
    const resource = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/7';
    // Source + DetailType + Detail + Resources in UTF-8, plus 14 bytes for Time: one byte under the limit.
    const wrapper = '{"payload":""}'.length;
    const fits = 256 * 1024 - 1 - 14 - source.length - detailType.length - resource.length - wrapper;
    const sized = (payloadBytes: number): PutEventsRequestEntry =>
      entry({ Source: source, DetailType: detailType, Resources: [resource], Time: new Date(START_MS), Detail: JSON.stringify({ payload: 'p'.repeat(payloadBytes) }) });

    const accepted = await putEvents([sized(fits)]);
    expect(accepted.FailedEntryCount).toBe(0);

    const tooBig = await putEventsError([sized(fits + 1)]);
    expect([tooBig.name, tooBig.message, tooBig.$metadata.httpStatusCode]).toEqual([
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
      400,
    ]);
    // Multi-byte characters count in bytes, and the limit is on the whole request.
    // Four entries of 33,000 two-byte characters: 132,000 characters, but over 264,000 bytes.
    const multiByte = await putEventsError(Array.from({ length: 4 }, () => entry({ Detail: JSON.stringify({ text: 'é'.repeat(33000) }) })));
    expect(multiByte.message).toBe('Total size of the entries in the request is over the limit.');
    expect(aws.eventBridge.publishedEvents(BUS)).toHaveLength(1);
  });
});

describe('a bus that does not exist', () => {
  test('is not an error: the entry gets an EventId and the event is dropped', async () => {
    const answer = await putEvents([entry({ EventBusName: 'no-such-bus' }), entry({ EventBusName: `arn:aws:events:eu-west-1:123456789012:event-bus/default` })]);
    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries!.map((result) => result.EventId)).toEqual([expect.stringMatching(UUID_SHAPE), expect.stringMatching(UUID_SHAPE)]);
    expect(aws.eventBridge.publishedEvents()).toEqual([]);
    expect(aws.eventBridge.droppedEvents().map((dropped) => [dropped.eventBusName, dropped.event.id])).toEqual([
      ['no-such-bus', answer.Entries![0]!.EventId],
      ['arn:aws:events:eu-west-1:123456789012:event-bus/default', answer.Entries![1]!.EventId],
    ]);
  });
});

describe('rules', () => {
  test('deliver matching events to SNS: the value at messagePath, or the whole event as JSON', async () => {
    aws.eventBridge.createEventBus(BUS);
    aws.eventBridge.putRule({
      busName: BUS,
      ruleName: 'notify-rollbacks',
      pattern: { source: ['sagemaker-blue-green'], 'detail-type': ['Rollout Rolled Back'] },
      target: { kind: 'sns', topicArn: TOPIC, messagePath: '$.detail.message' },
    });
    aws.eventBridge.putRule({
      busName: BUS,
      ruleName: 'archive-everything',
      pattern: { source: ['sagemaker-blue-green'] },
      target: { kind: 'sns', topicArn: `${TOPIC}-archive` },
    });
    aws.eventBridge.putRule({
      busName: BUS,
      ruleName: 'greens-percent',
      pattern: { 'detail-type': ['Traffic Shifted'] },
      target: { kind: 'sns', topicArn: `${TOPIC}-traffic`, messagePath: '$.detail.greenPercent' },
    });

    await putEvents([
      entry({ DetailType: 'Rollout Rolled Back', Detail: JSON.stringify({ message: 'Rollout of fraud v7 ROLLED BACK (AlarmTriggered)', error: 'AlarmTriggered' }) }),
      entry(),
    ]);

    const [rolledBack, shifted] = aws.eventBridge.publishedEvents(BUS);
    const atMs = START_MS + aws.timings.apiLatencyMs;
    expect(aws.eventBridge.snsDeliveries()).toEqual([
      { topicArn: TOPIC, message: 'Rollout of fraud v7 ROLLED BACK (AlarmTriggered)', atMs },
      { topicArn: `${TOPIC}-archive`, message: JSON.stringify(rolledBack), atMs },
      { topicArn: `${TOPIC}-archive`, message: JSON.stringify(shifted), atMs },
      { topicArn: `${TOPIC}-traffic`, message: '10', atMs },
    ]);
    expect(JSON.parse(aws.eventBridge.snsDeliveries()[1]!.message)).toMatchObject({ version: '0', 'detail-type': 'Rollout Rolled Back', detail: { error: 'AlarmTriggered' } });
  });

  test('a callback target receives the envelope; rules on another bus, or that do not match, see nothing', async () => {
    aws.eventBridge.createEventBus(BUS);
    const delivered: EventEnvelope[] = [];
    aws.eventBridge.putRule({ busName: BUS, ruleName: 'promotions', pattern: { 'detail-type': ['Rollout Promoted'] }, target: { kind: 'callback', deliver: (event) => delivered.push(event) } });
    aws.eventBridge.putRule({ ruleName: 'on-default', pattern: { source: ['sagemaker-blue-green'] }, target: { kind: 'sns', topicArn: TOPIC } });

    await putEvents([entry(), entry({ DetailType: 'Rollout Promoted', Detail: '{"greenVariantName":"green-7"}' })]);

    expect(delivered).toEqual([aws.eventBridge.publishedEvents(BUS)[1]]);
    expect(delivered[0]?.detail).toEqual({ greenVariantName: 'green-7' });
    expect(aws.eventBridge.snsDeliveries()).toEqual([]);
  });

  test('events put by an AWS service go through the bus\'s rules too', () => {
    const delivered: EventEnvelope[] = [];
    aws.eventBridge.putRule({
      ruleName: 'approvals',
      pattern: { source: ['aws.sagemaker'], detail: { ModelApprovalStatus: ['Approved'] } },
      target: { kind: 'callback', deliver: (event) => delivered.push(event) },
    });
    const approved = aws.eventBridge.emitServiceEvent({
      source: 'aws.sagemaker',
      detailType: 'SageMaker Model Package State Change',
      detail: { ModelPackageGroupName: 'fraud', ModelApprovalStatus: 'Approved' },
    });
    aws.eventBridge.emitServiceEvent({ source: 'aws.sagemaker', detailType: 'SageMaker Model Package State Change', detail: { ModelApprovalStatus: 'Rejected' } });
    expect(delivered).toEqual([approved]);
    expect(approved).toMatchObject({ source: 'aws.sagemaker', time: '2026-01-01T09:00:00Z', resources: [] });
  });

  test('seeding refuses what EventBridge would, naming the field', () => {
    expect(() => aws.eventBridge.createEventBus('default')).toThrow(/default already exists/);
    expect(() => aws.eventBridge.createEventBus('bad bus')).toThrow(/event bus name: \(value\) must match/);
    expect(() => aws.eventBridge.putRule({ busName: 'missing', ruleName: 'r', pattern: { source: ['x'] }, target: { kind: 'sns', topicArn: TOPIC } })).toThrow(
      /event bus missing does not exist/,
    );
    expect(() => aws.eventBridge.putRule({ ruleName: 'r', pattern: { source: ['x'] }, target: { kind: 'sns', topicArn: 'topic' } })).toThrow(/target\.topicArn must be an SNS topic ARN/);
    expect(() =>
      aws.eventBridge.putRule({ ruleName: 'r', pattern: { source: ['x'] }, target: { kind: 'sns', topicArn: TOPIC, messagePath: 'detail.message' } }),
    ).toThrow(/target\.messagePath must be a JSONPath/);
    expect(() => aws.eventBridge.putRule({ ruleName: 'r'.repeat(65), pattern: {}, target: { kind: 'sns', topicArn: TOPIC } })).toThrow(/ruleName must be at most 64 characters; pattern must be a non-empty object/);
  });
});

describe('faults', () => {
  test('a throttled PutEvents is retried by the SDK; a non-retryable fault reaches the caller', async () => {
    world({
      faults: [
        { kind: 'api-error', service: 'events', operation: 'PutEvents', error: 'ThrottlingException' },
        { kind: 'api-error', service: 'events', operation: 'PutEvents', error: 'AccessDeniedException', message: 'not authorized to perform: events:PutEvents', after: 2 },
      ],
    });
    aws.eventBridge.createEventBus(BUS);
    const answer = await putEvents([entry()]);
    expect(answer.FailedEntryCount).toBe(0);
    expect(aws.calls.map((call) => call.error)).toEqual(['ThrottlingException', undefined]);

    const denied = await putEventsError([entry()]);
    expect([denied.name, denied.message]).toEqual(['AccessDeniedException', 'not authorized to perform: events:PutEvents']);
    expect(aws.eventBridge.publishedEvents(BUS)).toHaveLength(1);
  });
});

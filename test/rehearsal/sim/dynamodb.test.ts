/**
 * DynamoDB through the real SDK client over the simulated transport: item operations with conditions and
 * ReturnValues, queries and scans with pagination, DynamoDB's error names, messages and statuses, and the
 * project's active-rollout record (lambdas/shared/rollout-record.ts) running against it.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EndpointNotReady } from '../../../lambdas/shared/errors';
import {
  acquireEndpointLock,
  deleteActiveRollout,
  getActiveRollout,
  putActiveRollout,
  recordRollbackRequest,
  setWatch,
  type ActiveRollout,
} from '../../../lambdas/shared/rollout-record';
import { SimulatedAws } from '../../../rehearsal/sim/world';
import { makePlan } from '../../lambdas/support/fixtures';
import { drive, driveError, installClock, type FakeClock } from './helpers';

const TABLE = 'active-rollouts';
const EVENTS = 'rollout-events';

let clock: FakeClock;
let aws: SimulatedAws;
let dynamo: DynamoDBClient;

beforeEach(() => {
  clock = installClock();
  aws = new SimulatedAws();
  aws.dynamodb.createTable(TABLE, { partitionKey: 'endpointName' });
  aws.dynamodb.createTable(EVENTS, { partitionKey: 'endpointName', sortKey: 'seq', sortKeyType: 'N' });
  dynamo = new DynamoDBClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);

describe('items', () => {
  test('PutItem then GetItem round-trips every attribute type, numbers in canonical form', async () => {
    const item = {
      endpointName: { S: 'fraud-prod' },
      weight: { N: '01.50' },
      payload: { B: new Uint8Array([1, 2, 3]) },
      armed: { BOOL: true },
      cleared: { NULL: true },
      watch: { M: { step: { S: '10%' }, attempts: { L: [{ N: '1' }, { S: 'two' }] } } },
      labels: { SS: ['blue', 'green'] },
      thresholds: { NS: ['0.5', '2'] },
      blobs: { BS: [new Uint8Array([9])] },
    };
    await send(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: item })));
    const { Item, ConsumedCapacity } = await send(
      dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'fraud-prod' } }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' })),
    );
    expect(Item).toEqual({ ...item, weight: { N: '1.5' } });
    expect(ConsumedCapacity).toEqual({ TableName: TABLE, CapacityUnits: 1 });
    expect(aws.calls.map((call) => [call.service, call.operation])).toEqual([
      ['dynamodb', 'PutItem'],
      ['dynamodb', 'GetItem'],
    ]);
  });

  test('GetItem of a missing item has no Item; ProjectionExpression selects paths', async () => {
    expect((await send(dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'none' } } })))).Item).toBeUndefined();
    await send(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' }, a: { S: 'x' }, b: { M: { c: { N: '1' }, d: { N: '2' } } } } })));
    const { Item } = await send(
      dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } }, ProjectionExpression: '#b.c, a', ExpressionAttributeNames: { '#b': 'b' } })),
    );
    expect(Item).toEqual({ a: { S: 'x' }, b: { M: { c: { N: '1' } } } });
  });

  test('a failed condition is ConditionalCheckFailedException (400), with the item when asked', async () => {
    const put = (extra: object) =>
      dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { endpointName: { S: 'e' }, deploymentId: { S: 'aaaa1111' } },
          ConditionExpression: 'attribute_not_exists(endpointName)',
          ...extra,
        }),
      );
    await send(put({}));
    const plain = await sendError(put({}));
    expect([plain.name, plain.message, plain.$metadata.httpStatusCode, plain.Item]).toEqual([
      'ConditionalCheckFailedException',
      'The conditional request failed',
      400,
      undefined,
    ]);
    const withItem = await sendError(put({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
    expect(withItem.Item).toEqual({ endpointName: { S: 'e' }, deploymentId: { S: 'aaaa1111' } });
    expect(aws.calls.at(-1)?.error).toBe('ConditionalCheckFailedException');
  });

  test('UpdateItem creates the item, returns UPDATED_NEW / ALL_OLD, and refuses to touch the key', async () => {
    const key = { endpointName: { S: 'e' } };
    const first = await send(
      dynamo.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET attempts = if_not_exists(attempts, :zero) + :one, #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':s': { S: 'WATCHING' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    expect(first.Attributes).toEqual({ attempts: { N: '1' }, status: { S: 'WATCHING' } });
    const second = await send(
      dynamo.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'ADD attempts :one REMOVE #s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    expect(second.Attributes).toEqual({ endpointName: { S: 'e' }, attempts: { N: '1' }, status: { S: 'WATCHING' } });
    expect(aws.dynamodb.items(TABLE)).toEqual([{ endpointName: { S: 'e' }, attempts: { N: '2' } }]);

    const keyUpdate = await sendError(
      dynamo.send(new UpdateItemCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET endpointName = :n', ExpressionAttributeValues: { ':n': { S: 'f' } } })),
    );
    expect([keyUpdate.name, keyUpdate.message]).toEqual([
      'ValidationException',
      'One or more parameter values were invalid: Cannot update attribute endpointName. This attribute is part of the key',
    ]);
  });

  test('DeleteItem returns ALL_OLD and is idempotent; a condition can guard it', async () => {
    await send(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' }, deploymentId: { S: 'd1' } } })));
    const guarded = await sendError(
      dynamo.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: { endpointName: { S: 'e' } },
          ConditionExpression: 'deploymentId = :d',
          ExpressionAttributeValues: { ':d': { S: 'd2' } },
        }),
      ),
    );
    expect(guarded.name).toBe('ConditionalCheckFailedException');
    const deleted = await send(dynamo.send(new DeleteItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } }, ReturnValues: 'ALL_OLD' })));
    expect(deleted.Attributes).toEqual({ endpointName: { S: 'e' }, deploymentId: { S: 'd1' } });
    const again = await send(dynamo.send(new DeleteItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } }, ReturnValues: 'ALL_OLD' })));
    expect(again.Attributes).toBeUndefined();
    expect(aws.dynamodb.items(TABLE)).toEqual([]);
  });
});

describe('errors', () => {
  test('a missing table is ResourceNotFoundException (400) "Requested resource not found"', async () => {
    const error = await sendError(dynamo.send(new GetItemCommand({ TableName: 'nope', Key: { endpointName: { S: 'e' } } })));
    expect([error.name, error.message, error.$metadata.httpStatusCode]).toEqual(['ResourceNotFoundException', 'Requested resource not found', 400]);
  });

  test('unused expression attribute values or names are refused, naming them', async () => {
    const error = await sendError(
      dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { endpointName: { S: 'e' } },
          ConditionExpression: 'attribute_not_exists(endpointName)',
          ExpressionAttributeValues: { ':x': { S: 'unused' } },
        }),
      ),
    );
    expect([error.name, error.message]).toEqual(['ValidationException', 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}']);
    const withoutExpression = await sendError(
      dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' } }, ExpressionAttributeNames: { '#a': 'a' } })),
    );
    expect(withoutExpression.message).toBe('ExpressionAttributeNames can only be specified when using expressions');
  });

  test('keys must match the schema: present, of the declared type, not empty', async () => {
    const wrongKey = await sendError(dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'e' } } })));
    expect(wrongKey.message).toBe('The provided key element does not match the schema');
    const wrongType = await sendError(dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { N: '1' } } })));
    expect(wrongType.message).toBe('The provided key element does not match the schema');
    const missing = await sendError(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { other: { S: 'x' } } })));
    expect(missing.message).toBe('One or more parameter values were invalid: Missing the key endpointName in the item');
    const mismatch = await sendError(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { N: '5' } } })));
    expect(mismatch.message).toBe('One or more parameter values were invalid: Type mismatch for key endpointName expected: S actual: N');
    const empty = await sendError(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: '' } } })));
    expect(empty.message).toBe(
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: endpointName',
    );
  });

  test('an item over 400 KB is refused', async () => {
    const error = await sendError(dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' }, big: { S: 'x'.repeat(400 * 1024) } } })));
    expect([error.name, error.message]).toEqual(['ValidationException', 'Item size has exceeded the maximum allowed size']);
  });

  test('a reserved word in an expression is refused; legacy parameters are refused rather than ignored', async () => {
    const reserved = await sendError(
      dynamo.send(new UpdateItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } }, UpdateExpression: 'SET status = :s', ExpressionAttributeValues: { ':s': { S: 'x' } } })),
    );
    expect(reserved.message).toBe('Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status');
    const legacy = await sendError(
      dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' } }, Expected: { endpointName: { Exists: false } } })),
    );
    expect(legacy.message).toMatch(/^Expected is a legacy parameter/);
  });

  test('api-error faults apply to DynamoDB calls', async () => {
    aws = new SimulatedAws({ faults: [{ kind: 'api-error', service: 'dynamodb', operation: 'GetItem', error: 'ProvisionedThroughputExceededException' }] });
    aws.dynamodb.createTable(TABLE, { partitionKey: 'endpointName' });
    dynamo = new DynamoDBClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
    const error = await sendError(dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } } })));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['ProvisionedThroughputExceededException', 400]);
    expect((await send(dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { endpointName: { S: 'e' } } })))).Item).toBeUndefined();
  });
});

describe('Query and Scan', () => {
  beforeEach(async () => {
    for (const [endpointName, seq] of [['a', 3], ['a', 1], ['a', 2], ['b', 1], ['a', 10]] as const) {
      await send(dynamo.send(new PutItemCommand({ TableName: EVENTS, Item: { endpointName: { S: endpointName }, seq: { N: String(seq) }, kind: { S: seq % 2 ? 'odd' : 'even' } } })));
    }
  });

  const seqs = (items: Record<string, { N?: string }>[] | undefined): number[] => (items ?? []).map((item) => Number(item.seq!.N));

  test('Query orders by sort key (numerically), forward or backward, with a sort key condition', async () => {
    const forward = await send(
      dynamo.send(new QueryCommand({ TableName: EVENTS, KeyConditionExpression: 'endpointName = :e', ExpressionAttributeValues: { ':e': { S: 'a' } } })),
    );
    expect(seqs(forward.Items)).toEqual([1, 2, 3, 10]);
    const backward = await send(
      dynamo.send(
        new QueryCommand({
          TableName: EVENTS,
          KeyConditionExpression: 'endpointName = :e AND seq >= :two',
          ExpressionAttributeValues: { ':e': { S: 'a' }, ':two': { N: '2' } },
          ScanIndexForward: false,
        }),
      ),
    );
    expect(seqs(backward.Items)).toEqual([10, 3, 2]);
  });

  test('Limit pages through results with LastEvaluatedKey / ExclusiveStartKey; the filter applies after the limit', async () => {
    const query = (start?: Record<string, any>) =>
      dynamo.send(
        new QueryCommand({
          TableName: EVENTS,
          KeyConditionExpression: 'endpointName = :e',
          FilterExpression: 'kind = :odd',
          ExpressionAttributeValues: { ':e': { S: 'a' }, ':odd': { S: 'odd' } },
          Limit: 2,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
    const first = await send(query());
    expect([seqs(first.Items), first.Count, first.ScannedCount]).toEqual([[1], 1, 2]);
    expect(first.LastEvaluatedKey).toEqual({ endpointName: { S: 'a' }, seq: { N: '2' } });
    const second = await send(query(first.LastEvaluatedKey));
    expect([seqs(second.Items), second.ScannedCount]).toEqual([[3], 2]);
    // The page stopped at the limit: DynamoDB still returns a LastEvaluatedKey, and the next page is empty.
    const third = await send(query(second.LastEvaluatedKey));
    expect([third.Items, third.LastEvaluatedKey]).toEqual([[], undefined]);
  });

  test('Scan reads every item in key order; Select COUNT returns counts only', async () => {
    const all = await send(dynamo.send(new ScanCommand({ TableName: EVENTS })));
    expect(all.Items?.map((item) => `${item.endpointName!.S}${item.seq!.N}`)).toEqual(['a1', 'a2', 'a3', 'a10', 'b1']);
    const count = await send(dynamo.send(new ScanCommand({ TableName: EVENTS, Select: 'COUNT', FilterExpression: 'kind = :k', ExpressionAttributeValues: { ':k': { S: 'even' } } })));
    expect([count.Items, count.Count, count.ScannedCount]).toEqual([undefined, 2, 5]);
  });

  test('a key condition on a non-key attribute, or a filter on a key, is refused', async () => {
    const noKey = await sendError(dynamo.send(new QueryCommand({ TableName: EVENTS, KeyConditionExpression: 'kind = :k', ExpressionAttributeValues: { ':k': { S: 'odd' } } })));
    expect(noKey.message).toBe('Query condition missed key schema element: endpointName');
    const keyFilter = await sendError(
      dynamo.send(
        new QueryCommand({
          TableName: EVENTS,
          KeyConditionExpression: 'endpointName = :e',
          FilterExpression: 'seq > :n',
          ExpressionAttributeValues: { ':e': { S: 'a' }, ':n': { N: '1' } },
        }),
      ),
    );
    expect(keyFilter.message).toBe('Filter Expression can only contain non-primary key attributes: Primary key attribute: seq');
  });
});

describe("the project's active-rollout record", () => {
  const rollout: ActiveRollout = {
    endpointName: 'fraud-prod',
    deploymentId: 'abcd1234',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:rollout:abcd1234',
    modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/2',
    blueVariantName: 'blue',
    blueWeight: 1,
    blueInstanceCount: 2,
    greenVariantName: 'green-abcd1234',
    alarmNames: ['sagemaker-blue-green-fraud-prod-abcd1234-errors'],
    ownAlarmNames: ['sagemaker-blue-green-fraud-prod-abcd1234-errors'],
    payloads: { kind: 'inline', body: '{}', contentType: 'application/json' },
    createdAt: '2026-01-01T09:00:00.000Z',
  };

  test('registration is exclusive per endpoint, watch and rollback request are conditional, deletion is guarded', async () => {
    // Arming needs the endpoint's lock, taken first (by "Lock endpoint").
    const lock = {
      endpointName: rollout.endpointName,
      deploymentId: rollout.deploymentId,
      executionArn: rollout.executionArn,
      modelPackageArn: rollout.modelPackageArn,
      lockedAt: '2026-01-01T09:00:00.000Z',
      expiresAt: 1_767_300_000,
      plan: makePlan({ deploymentId: rollout.deploymentId }),
    };
    expect(await send(acquireEndpointLock(dynamo, TABLE, lock, 1_767_258_000))).toMatchObject({ acquired: true });
    await send(putActiveRollout(dynamo, TABLE, rollout));
    // Idempotent for the same deployment; refused for another.
    await send(putActiveRollout(dynamo, TABLE, rollout));
    const other = await sendError(putActiveRollout(dynamo, TABLE, { ...rollout, deploymentId: 'ffff0000' }));
    expect(other).toBeInstanceOf(EndpointNotReady);

    const watch = { taskToken: 'token-1', step: '10%', since: '2026-01-01T09:05:00.000Z' };
    expect(await send(setWatch(dynamo, TABLE, 'fraud-prod', 'abcd1234', watch))).toBe(true);
    expect(await send(setWatch(dynamo, TABLE, 'fraud-prod', 'ffff0000', watch))).toBe(false);

    const request = { kind: 'ALARM' as const, by: 'alarm-1', reason: 'errors', requestedAt: '2026-01-01T09:06:00.000Z' };
    expect(await send(recordRollbackRequest(dynamo, TABLE, 'fraud-prod', 'abcd1234', request))).toBe(true);
    expect(await send(recordRollbackRequest(dynamo, TABLE, 'fraud-prod', 'abcd1234', { ...request, by: 'alarm-2' }))).toBe(false);
    const record = await send(getActiveRollout(dynamo, TABLE, 'fraud-prod'));
    expect(record).toMatchObject({ deploymentId: 'abcd1234', watch, rollbackRequest: request });

    expect(await send(deleteActiveRollout(dynamo, TABLE, 'fraud-prod', 'ffff0000'))).toBe(false);
    expect(await send(deleteActiveRollout(dynamo, TABLE, 'fraud-prod', 'abcd1234'))).toBe(true);
    expect(await send(deleteActiveRollout(dynamo, TABLE, 'fraud-prod', 'abcd1234'))).toBe(true);
    expect(aws.dynamodb.items(TABLE)).toEqual([]);
  });
});

test('the account-based endpoint (credentials with an account ID) is served too', async () => {
  const client = new DynamoDBClient({
    region: aws.region,
    credentials: { ...aws.credentials, accountId: aws.accountId },
    requestHandler: aws.requestHandler,
    maxAttempts: 1,
  });
  await send(client.send(new PutItemCommand({ TableName: TABLE, Item: { endpointName: { S: 'e' } } })));
  expect(aws.dynamodb.items(TABLE)).toEqual([{ endpointName: { S: 'e' } }]);
});

/**
 * S3 through the real S3Client (restXml): objects, byte ranges, streaming on virtual time, uploads (plain and
 * aws-chunked with checksums), ListObjectsV2 pagination, S3's errors on the wire and through the SDK, faults.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { readBody } from '../../../rehearsal/sim/transport';
import { S3_RESPONSE_CHUNK_BYTES } from '../../../rehearsal/sim/s3-wire';
import { isMutatingOperation, type SimulationOptions } from '../../../rehearsal/sim/world';
import { drive, driveError, harness, installClock, START_MS, type FakeClock, type Harness } from './helpers';

const BUCKET = 'golden-datasets';
const TEXT = 'hello, simulated S3!';

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
  h.aws.s3.createBucket(BUCKET);
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);
const md5Etag = (bytes: string | Uint8Array): string => `"${createHash('md5').update(bytes).digest('hex')}"`;

/** Reads a response body to the end on virtual time; returns its bytes and the size of each chunk. */
async function readChunks(body: unknown): Promise<{ bytes: Buffer; chunkSizes: number[] }> {
  const chunks: Buffer[] = [];
  await drive(
    clock,
    (async () => {
      for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
    })(),
  );
  return { bytes: Buffer.concat(chunks), chunkSizes: chunks.map((chunk) => chunk.byteLength) };
}

async function getText(client: S3Client, key: string, range?: string) {
  const output = await send(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...(range ? { Range: range } : {}) })));
  const { bytes } = await readChunks(output.Body);
  return { output, text: bytes.toString('utf8') };
}

/** `count` bytes of a pattern that differs at every position in a 251-byte cycle (a prime: no chunk aligns with it). */
function patternBytes(count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let index = 0; index < count; index++) bytes[index] = index % 251;
  return bytes;
}

describe('GetObject', () => {
  test('the whole object, with its metadata', async () => {
    h.aws.s3.putObject(BUCKET, 'datasets/fraud.jsonl', TEXT, 'application/x-ndjson');
    const { output, text } = await getText(h.s3, 'datasets/fraud.jsonl');
    expect(text).toBe(TEXT);
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(output.ContentType).toBe('application/x-ndjson');
    expect(output.ContentLength).toBe(Buffer.byteLength(TEXT));
    expect(output.ETag).toBe(md5Etag(TEXT));
    expect(output.AcceptRanges).toBe('bytes');
    expect(output.LastModified?.getTime()).toBe(START_MS);
    expect(output.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/);
  });

  test('a byte range answers 206 with Content-Range and exactly those bytes', async () => {
    const bytes = patternBytes(1000);
    h.aws.s3.putObject(BUCKET, 'blob.bin', bytes);
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=990-', 990, 999],
      ['bytes=-5', 995, 999],
      ['bytes=900-5000', 900, 999],
      ['bytes=-5000', 0, 999],
    ];
    for (const [range, start, end] of cases) {
      const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'blob.bin', Range: range })));
      const { bytes: received } = await readChunks(output.Body);
      expect([range, output.$metadata.httpStatusCode, output.ContentRange, output.ContentLength]).toEqual([range, 206, `bytes ${start}-${end}/1000`, end - start + 1]);
      expect(Buffer.compare(received, Buffer.from(bytes.subarray(start, end + 1)))).toBe(0);
    }
  });

  test('a request without x-id (another client, a presigned URL) is still a GetObject; response-* overrides headers', async () => {
    h.aws.s3.putObject(BUCKET, 'k', TEXT, 'text/plain');
    const request = new HttpRequest({
      protocol: 'https:',
      hostname: 's3.us-east-1.amazonaws.com',
      method: 'GET',
      path: `/${BUCKET}/k`,
      query: { 'X-Amz-Signature': 'abc', 'response-content-type': 'application/json' },
      headers: {},
    });
    const { response } = await drive(clock, h.aws.requestHandler.handle(request));
    expect([response.statusCode, response.headers['content-type']]).toEqual([200, 'application/json']);
    expect(new TextDecoder().decode(await drive(clock, readBody(response.body)))).toBe(TEXT);
    expect(h.aws.calls[0]).toMatchObject({ operation: 'GetObject', input: { Bucket: BUCKET, Key: 'k' } });
  });

  test('a Range S3 ignores (several ranges, first > last, another unit) answers the whole object with 200', async () => {
    h.aws.s3.putObject(BUCKET, 'k', TEXT);
    for (const range of ['bytes=0-1,4-5', 'bytes=5-2', 'items=0-1']) {
      const { output, text } = await getText(h.s3, 'k', range);
      expect([range, output.$metadata.httpStatusCode, output.ContentRange, text]).toEqual([range, 200, undefined, TEXT]);
    }
  });

  test('a 50 MB object streams in many chunks, none holding the whole object, at 100 MB/s of virtual time', async () => {
    const size = 50_000_000;
    const bytes = patternBytes(size);
    h.aws.s3.putObject(BUCKET, 'models/large.bin', bytes);
    const requestedAt = Date.now();
    const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'models/large.bin' })));
    // Headers arrive after the API latency alone: the body has not been transferred yet.
    expect(Date.now() - requestedAt).toBe(40);
    const { bytes: received, chunkSizes } = await readChunks(output.Body);
    expect(received.byteLength).toBe(size);
    expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    // Produced S3_RESPONSE_CHUNK_BYTES at a time; chunks delivered in the same millisecond may be read together.
    expect(chunkSizes.length).toBeGreaterThan(size / (4 * S3_RESPONSE_CHUNK_BYTES));
    expect(Math.max(...chunkSizes)).toBeLessThanOrEqual(4 * S3_RESPONSE_CHUNK_BYTES);
    // 50 MB at 100 MB/s: 500 ms after the headers.
    expect(Date.now() - requestedAt).toBe(540);
  });

  test('a ranged read only transfers (and only waits for) its range', async () => {
    h.aws.s3.putObject(BUCKET, 'models/large.bin', patternBytes(50_000_000));
    const requestedAt = Date.now();
    const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'models/large.bin', Range: 'bytes=0-9999999' })));
    const { bytes } = await readChunks(output.Body);
    expect(bytes.byteLength).toBe(10_000_000);
    expect(Date.now() - requestedAt).toBe(40 + 100);
  });

  test('the transfer rate is configurable', async () => {
    h = harness({ s3BytesPerSecond: 10_000_000 } satisfies SimulationOptions);
    h.aws.s3.createBucket(BUCKET);
    h.aws.s3.putObject(BUCKET, 'k', patternBytes(1_000_000));
    const requestedAt = Date.now();
    const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    await readChunks(output.Body);
    expect(Date.now() - requestedAt).toBe(40 + 100);
  });

  test('aborting the request mid-stream fails the body with AbortError', async () => {
    h.aws.s3.putObject(BUCKET, 'k', patternBytes(5_000_000));
    const controller = new AbortController();
    const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }), { abortSignal: controller.signal }));
    let received = 0;
    const reading = (async () => {
      for await (const chunk of output.Body as Readable) {
        received += (chunk as Uint8Array).byteLength;
        if (received >= 1_000_000) controller.abort();
      }
    })();
    const error = await driveError(clock, reading);
    expect(error.name).toBe('AbortError');
    expect(received).toBeLessThan(5_000_000);
  });
});

describe('HeadObject', () => {
  test('answers the metadata without a body', async () => {
    h.aws.s3.putObject(BUCKET, 'k', TEXT, 'text/plain');
    const output = await send(h.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect([output.$metadata.httpStatusCode, output.ContentLength, output.ContentType, output.ETag]).toEqual([200, Buffer.byteLength(TEXT), 'text/plain', md5Etag(TEXT)]);
    expect(h.aws.calls.at(-1)).toEqual({ service: 's3', operation: 'HeadObject', input: { Bucket: BUCKET, Key: 'k' }, atMs: expect.any(Number) });
  });

  test('a missing key or bucket is NotFound (404): the SDK gets no error body', async () => {
    const missingKey = await sendError(h.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })));
    expect([missingKey.name, missingKey.$metadata.httpStatusCode]).toEqual(['NotFound', 404]);
    const missingBucket = await sendError(h.s3.send(new HeadObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })));
    expect([missingBucket.name, missingBucket.$metadata.httpStatusCode]).toEqual(['NotFound', 404]);
    // The record keeps S3's own code.
    expect(h.aws.calls.map((call) => call.error)).toEqual(['NoSuchKey', 'NoSuchBucket']);
  });
});

describe('PutObject', () => {
  test('stores the body and Content-Type; GetObject returns them; the record has the length, not the body', async () => {
    const put = await send(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'results/run-1.json', Body: '{"accuracy": 0.97}', ContentType: 'application/json' })));
    expect(put.ETag).toBe(md5Etag('{"accuracy": 0.97}'));
    expect(h.aws.s3.getObjectText(BUCKET, 'results/run-1.json')).toBe('{"accuracy": 0.97}');
    const { output, text } = await getText(h.s3, 'results/run-1.json');
    expect([text, output.ContentType, output.ETag]).toEqual(['{"accuracy": 0.97}', 'application/json', put.ETag]);
    expect(h.aws.calls[0]).toEqual({
      service: 's3',
      operation: 'PutObject',
      input: { Bucket: BUCKET, Key: 'results/run-1.json', ContentType: 'application/json', ContentLength: 18 },
      atMs: START_MS,
    });
    expect(isMutatingOperation('s3', 'PutObject')).toBe(true);
  });

  test('the checksum the SDK sends is verified, stored, and returned (and validated by the SDK) on a checksum-mode GetObject', async () => {
    const put = await send(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'hello' })));
    // CRC32 of "hello" is 0x3610a686.
    expect(put.ChecksumCRC32).toBe('NhCmhg==');
    const output = await send(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k', ChecksumMode: 'ENABLED' })));
    expect(output.ChecksumCRC32).toBe('NhCmhg==');
    expect((await readChunks(output.Body)).bytes.toString()).toBe('hello');
    const wrong = await sendError(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k2', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })));
    expect([wrong.name, wrong.$metadata.httpStatusCode]).toEqual(['BadDigest', 400]);
    expect(h.aws.s3.listKeys(BUCKET)).toEqual(['k']);
  });

  test('a stream body with ContentLength goes aws-chunked with a trailing checksum, and is stored decoded', async () => {
    const parts = [Buffer.from('line 1\n'), Buffer.from('line 2\n'), Buffer.from('line 3\n')];
    await send(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed.txt', Body: Readable.from(parts), ContentLength: 21, ContentType: 'text/plain' })));
    expect(h.aws.s3.getObjectText(BUCKET, 'streamed.txt')).toBe('line 1\nline 2\nline 3\n');
    expect(h.aws.calls[0]!.input).toEqual({ Bucket: BUCKET, Key: 'streamed.txt', ContentType: 'text/plain', ContentLength: 21 });
  });

  test('a stream body of unknown length is MissingContentLength (411), as S3 answers it', async () => {
    // The SDK warns that it cannot retry a streaming request; the warning is expected here.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = await sendError(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: Readable.from([Buffer.from('abc')]) })));
    warn.mockRestore();
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['MissingContentLength', 411]);
    expect(h.aws.s3.listKeys(BUCKET)).toEqual([]);
  });

  test('without a ContentType the SDK sends application/octet-stream; seeding without one stores binary/octet-stream', async () => {
    await send(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk', Body: 'x' })));
    h.aws.s3.putObject(BUCKET, 'seeded', 'x');
    expect((await send(h.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk' })))).ContentType).toBe('application/octet-stream');
    expect((await send(h.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seeded' })))).ContentType).toBe('binary/octet-stream');
  });

  test('an upload takes the API latency plus its transfer time', async () => {
    const startedAt = Date.now();
    await send(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: patternBytes(20_000_000) })));
    expect(Date.now() - startedAt).toBe(40 + 200);
  });
});

describe('ListObjectsV2', () => {
  const KEYS = ['data/a.jsonl', 'data/b.jsonl', 'data/c.jsonl', 'data/d.jsonl', 'data/e.jsonl', 'data/nested/f.jsonl', 'data/nested/g.jsonl', 'other/z.txt'];
  beforeEach(() => {
    // Seeded out of order: listings come back in key order.
    for (const key of [...KEYS].reverse()) h.aws.s3.putObject(BUCKET, key, key);
  });

  test('MaxKeys pages through a prefix with continuation tokens', async () => {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'data/', MaxKeys: 3, ...(token ? { ContinuationToken: token } : {}) })));
      pages.push(page);
      token = page.NextContinuationToken;
    } while (token);
    expect(pages.map((page) => page.Contents?.map((object) => object.Key))).toEqual([KEYS.slice(0, 3), KEYS.slice(3, 6), KEYS.slice(6, 7)]);
    expect(pages.map((page) => [page.IsTruncated, page.KeyCount, page.MaxKeys, page.Prefix])).toEqual([
      [true, 3, 3, 'data/'],
      [true, 3, 3, 'data/'],
      [false, 1, 3, 'data/'],
    ]);
    expect(pages[1]!.ContinuationToken).toBe(pages[0]!.NextContinuationToken);
    expect(pages[0]!.Contents![0]).toMatchObject({ Key: 'data/a.jsonl', Size: 12, ETag: md5Etag('data/a.jsonl'), StorageClass: 'STANDARD', LastModified: new Date(START_MS) });
    expect(h.aws.calls[1]!.input).toEqual({ Bucket: BUCKET, Prefix: 'data/', MaxKeys: 3, ContinuationToken: pages[0]!.NextContinuationToken });
    expect(isMutatingOperation('s3', 'ListObjectsV2')).toBe(false);
  });

  test('without MaxKeys a listing holds up to 1000 keys', async () => {
    const page = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET })));
    expect([page.Contents?.map((object) => object.Key), page.IsTruncated, page.MaxKeys]).toEqual([KEYS, false, 1000]);
    expect(h.aws.s3.listKeys(BUCKET, 'data/nested/')).toEqual(['data/nested/f.jsonl', 'data/nested/g.jsonl']);
  });

  test('Delimiter groups keys into CommonPrefixes, which page like keys; StartAfter skips', async () => {
    const first = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'data/', Delimiter: '/', MaxKeys: 5 })));
    expect([first.Contents?.map((object) => object.Key), first.CommonPrefixes, first.IsTruncated]).toEqual([KEYS.slice(0, 5), undefined, true]);
    const second = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'data/', Delimiter: '/', MaxKeys: 5, ContinuationToken: first.NextContinuationToken })));
    expect([second.Contents, second.CommonPrefixes, second.KeyCount, second.IsTruncated]).toEqual([undefined, [{ Prefix: 'data/nested/' }], 1, false]);
    const after = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'data/e.jsonl' })));
    expect(after.Contents?.map((object) => object.Key)).toEqual(KEYS.slice(5));
  });

  test('keys with XML markup characters survive the round trip', async () => {
    h.aws.s3.putObject(BUCKET, 'odd/a&b <c> "d" \'e\'.txt', 'x');
    const page = await send(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'odd/' })));
    expect(page.Contents?.map((object) => object.Key)).toEqual(['odd/a&b <c> "d" \'e\'.txt']);
  });

  test('an invalid continuation token is InvalidArgument (400)', async () => {
    const error = await sendError(h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'not-a-token' })));
    expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual(['InvalidArgument', 400, 'The continuation token provided is incorrect']);
  });
});

describe('errors', () => {
  test('NoSuchKey, NoSuchBucket and InvalidRange through the SDK: name, status, message', async () => {
    h.aws.s3.putObject(BUCKET, 'small', '0123456789');
    const noKey = await sendError(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing.json' })));
    expect([noKey.name, noKey.$metadata.httpStatusCode, noKey.message, noKey.Key]).toEqual(['NoSuchKey', 404, 'The specified key does not exist.', 'missing.json']);
    for (const command of [
      new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }),
      new ListObjectsV2Command({ Bucket: 'no-such-bucket' }),
      new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' }),
      new DeleteObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }),
    ]) {
      const noBucket = await sendError(h.s3.send(command as GetObjectCommand));
      expect([noBucket.name, noBucket.$metadata.httpStatusCode, noBucket.message, noBucket.BucketName]).toEqual(['NoSuchBucket', 404, 'The specified bucket does not exist', 'no-such-bucket']);
    }
    const range = await sendError(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'small', Range: 'bytes=10-20' })));
    expect([range.name, range.$metadata.httpStatusCode, range.message]).toEqual(['InvalidRange', 416, 'The requested range is not satisfiable']);
  });

  test('on the wire: an XML <Error> body with Code, Message and RequestId; a HEAD error has no body', async () => {
    const get = new HttpRequest({ protocol: 'https:', hostname: `${BUCKET}.s3.us-east-1.amazonaws.com`, method: 'GET', path: '/missing', query: { 'x-id': 'GetObject' }, headers: {} });
    const { response } = await drive(clock, h.aws.requestHandler.handle(get));
    const xml = new TextDecoder().decode(await drive(clock, readBody(response.body)));
    expect([response.statusCode, response.headers['content-type']]).toEqual([404, 'application/xml']);
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Key>missing<\/Key><RequestId>([0-9A-F]{16})<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
    expect(xml).toContain(`<RequestId>${response.headers['x-amz-request-id']}</RequestId>`);

    const head = new HttpRequest({ ...get, method: 'HEAD', query: {} });
    const headAnswer = await drive(clock, h.aws.requestHandler.handle(head));
    expect(headAnswer.response.statusCode).toBe(404);
    expect((await drive(clock, readBody(headAnswer.response.body))).byteLength).toBe(0);
  });

  test('an unsatisfiable range on the wire carries Content-Range bytes */size and the requested range', async () => {
    h.aws.s3.putObject(BUCKET, 'small', '0123456789');
    const request = new HttpRequest({ protocol: 'https:', hostname: 's3.us-east-1.amazonaws.com', method: 'GET', path: `/${BUCKET}/small`, headers: { range: 'bytes=-0' } });
    const { response } = await drive(clock, h.aws.requestHandler.handle(request));
    const xml = new TextDecoder().decode(await drive(clock, readBody(response.body)));
    expect([response.statusCode, response.headers['content-range']]).toEqual([416, 'bytes */10']);
    expect(xml).toContain('<Code>InvalidRange</Code>');
    expect(xml).toContain('<RangeRequested>bytes=-0</RangeRequested><ActualObjectSize>10</ActualObjectSize>');
  });

  test('an operation the simulation does not implement is NotImplemented (501), and is recorded', async () => {
    h.aws.s3.putObject(BUCKET, 'k', 'x');
    const error = await sendError(h.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'k' })));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['NotImplemented', 501]);
    expect(h.aws.calls.at(-1)).toMatchObject({ service: 's3', operation: 'GET /k?tagging', input: { Bucket: BUCKET, Key: 'k' }, error: 'NotImplemented' });
    expect(isMutatingOperation('s3', 'GET /k?tagging')).toBe(false);
    expect(isMutatingOperation('s3', 'PUT /k?tagging')).toBe(true);
  });
});

describe('addressing', () => {
  test('path-style clients (and buckets with dots, which the SDK addresses path-style) are served too', async () => {
    const pathStyle = new S3Client({ region: h.aws.region, credentials: h.aws.credentials, requestHandler: h.aws.requestHandler, forcePathStyle: true });
    await send(pathStyle.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'nested/key with spaces+plus.txt', Body: TEXT })));
    expect(h.aws.s3.getObjectText(BUCKET, 'nested/key with spaces+plus.txt')).toBe(TEXT);
    expect((await getText(pathStyle, 'nested/key with spaces+plus.txt')).text).toBe(TEXT);
    expect((await getText(h.s3, 'nested/key with spaces+plus.txt')).text).toBe(TEXT);
    const listed = await send(pathStyle.send(new ListObjectsV2Command({ Bucket: BUCKET })));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['nested/key with spaces+plus.txt']);

    h.aws.s3.createBucket('models.example.com');
    h.aws.s3.putObject('models.example.com', 'v1/model.tar.gz', 'weights');
    const dotted = await send(h.s3.send(new HeadObjectCommand({ Bucket: 'models.example.com', Key: 'v1/model.tar.gz' })));
    expect(dotted.ContentLength).toBe(7);
  });

  test('another region is not served: the request fails like a DNS lookup', async () => {
    const elsewhere = new S3Client({ region: 'eu-west-1', credentials: h.aws.credentials, requestHandler: h.aws.requestHandler, maxAttempts: 1 });
    const error = await sendError(elsewhere.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect(error.message).toMatch(/ENOTFOUND golden-datasets\.s3\.eu-west-1\.amazonaws\.com/);
    expect(h.aws.calls).toEqual([]);
  });
});

describe('DeleteObject', () => {
  test('removes the key; deleting a missing key succeeds (204) as on an unversioned bucket', async () => {
    h.aws.s3.putObject(BUCKET, 'k', 'x');
    const deleted = await send(h.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(h.aws.s3.getObjectText(BUCKET, 'k')).toBeUndefined();
    const again = await send(h.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect(isMutatingOperation('s3', 'DeleteObject')).toBe(true);
    expect(isMutatingOperation('s3', 'HeadObject')).toBe(false);
    expect(isMutatingOperation('s3', 'GetObject')).toBe(false);
  });
});

describe('faults', () => {
  test('SlowDown (503) is retried by the SDK; InternalError (500) surfaces once retries run out; AccessDenied (403) is not retried', async () => {
    h = harness({
      faults: [
        { kind: 'api-error', service: 's3', operation: 'GetObject', error: 'SlowDown', times: 1 },
        { kind: 'api-error', service: 's3', operation: 'GetObject', error: 'InternalError', times: 3, after: 2 },
        { kind: 'api-error', service: 's3', operation: 'PutObject', error: 'AccessDenied' },
      ],
    });
    h.aws.s3.createBucket(BUCKET);
    h.aws.s3.putObject(BUCKET, 'k', TEXT);

    const { output, text } = await getText(h.s3, 'k');
    expect([text, output.$metadata.attempts]).toEqual([TEXT, 2]);
    const internal = await sendError(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect([internal.name, internal.$metadata.httpStatusCode, internal.$metadata.attempts]).toEqual(['InternalError', 500, 3]);
    const denied = await sendError(h.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'new', Body: 'x' })));
    expect([denied.name, denied.message, denied.$metadata.httpStatusCode, denied.$metadata.attempts]).toEqual(['AccessDenied', 'Access Denied', 403, 1]);
    expect(h.aws.s3.getObjectText(BUCKET, 'new')).toBeUndefined();
    expect(h.aws.calls.map((call) => `${call.operation}:${call.error ?? 'ok'}`)).toEqual([
      'GetObject:SlowDown',
      'GetObject:ok',
      'GetObject:InternalError',
      'GetObject:InternalError',
      'GetObject:InternalError',
      'PutObject:AccessDenied',
    ]);
  });

  test('a NoSuchKey fault answers like a missing key', async () => {
    h = harness({ faults: [{ kind: 'api-error', service: 's3', operation: 'GetObject', error: 'NoSuchKey' }] });
    h.aws.s3.createBucket(BUCKET);
    h.aws.s3.putObject(BUCKET, 'k', TEXT);
    const error = await sendError(h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })));
    expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual(['NoSuchKey', 404, 'The specified key does not exist.']);
  });
});

describe('seeding API', () => {
  test('buckets must exist and have valid names; inspection answers undefined or [] for what does not exist', () => {
    expect(() => h.aws.s3.createBucket('Invalid_Bucket')).toThrow(/invalid S3 bucket name/);
    expect(() => h.aws.s3.createBucket('ab')).toThrow(/invalid S3 bucket name/);
    expect(() => h.aws.s3.putObject('missing-bucket', 'k', 'x')).toThrow(/createBucket/);
    expect(() => h.aws.s3.putObject(BUCKET, '', 'x')).toThrow(/invalid S3 key/);
    expect(h.aws.s3.getObjectText(BUCKET, 'missing')).toBeUndefined();
    expect(h.aws.s3.getObjectText('missing-bucket', 'k')).toBeUndefined();
    expect(h.aws.s3.listKeys('missing-bucket')).toEqual([]);
  });

  test('a seeded object is a copy: changing the caller\'s buffer afterwards does not change it', () => {
    const bytes = new TextEncoder().encode('abc');
    h.aws.s3.putObject(BUCKET, 'k', bytes);
    bytes[0] = 'z'.charCodeAt(0);
    expect(h.aws.s3.getObjectText(BUCKET, 'k')).toBe('abc');
  });

  test('listKeys orders keys by their UTF-8 bytes, as S3 lists them', () => {
    // U+FF21 (EF BC A1 in UTF-8) sorts before U+1F600 (F0 9F 98 80), though its UTF-16 code unit is larger.
    for (const key of ['\u{1F600}', '\uFF21', 'a']) h.aws.s3.putObject(BUCKET, key, 'x');
    expect(h.aws.s3.listKeys(BUCKET)).toEqual(['a', '\uFF21', '\u{1F600}']);
  });
});

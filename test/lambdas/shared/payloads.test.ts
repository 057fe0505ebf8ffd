import 'aws-sdk-client-mock-jest';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  bodyLines,
  firstPayload,
  isRepeatBatch,
  leadingPayloads,
  MAX_BATCHES,
  parseS3Uri,
  planBatches,
  readPayloads,
  type Payload,
  type ValidationBatch,
} from '../../../lambdas/shared/payloads';
import type { PayloadSource } from '../../../lambdas/shared/plan';
import { DATASET_PAYLOADS, DATASET_URI, INLINE_PAYLOADS, s3Body, s3Error, serveObjects } from '../support/fixtures';

const s3 = mockClient(S3Client);
const client = new S3Client({});
let objects: Map<string, Uint8Array | string>;

/** Serves `content` as the dataset, in chunks of `chunkSize` bytes. */
function dataset(content: string, chunkSize = 64): void {
  objects.set(DATASET_URI, content);
  serveObjects(s3, objects, chunkSize);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** Every payload of every batch, each batch read through its own byte range. */
async function readAllBatches(source: PayloadSource, batches: readonly ValidationBatch[]): Promise<Payload[]> {
  const payloads: Payload[] = [];
  for (const batch of batches) {
    if (isRepeatBatch(batch)) throw new Error('expected dataset batches');
    payloads.push(...(await collect(readPayloads(client, source, batch))));
  }
  return payloads;
}

beforeEach(() => {
  s3.reset();
  objects = new Map();
});

describe('readPayloads: a JSON Lines dataset', () => {
  test('object inputs are sent as JSON, string inputs as they are; expected only when the line has one', async () => {
    dataset('{"input": {"features": [1, 2.5]}, "expected": 1}\n{"input": "3,4,5"}\n{"input": [1], "expected": null}\n');
    const payloads = await collect(readPayloads(client, DATASET_PAYLOADS));
    expect(payloads).toEqual([
      { index: 0, body: '{"features":[1,2.5]}', contentType: 'application/json', expected: 1 },
      { index: 1, body: '3,4,5', contentType: 'application/json' },
      { index: 2, body: '[1]', contentType: 'application/json', expected: null },
    ]);
    expect('expected' in payloads[1]!).toBe(false);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'fraud-detector-ml-artifacts', Key: 'golden/fraud-detector.jsonl' });
  });

  test('blank lines send nothing but keep their number; CRLF endings, a byte order mark and a last line without newline are read', async () => {
    dataset('\uFEFF{"input": "a"}\r\n\r\n   \n{"input": "é"}\r\n{"input": "z"}', 3);
    const payloads = await collect(readPayloads(client, DATASET_PAYLOADS));
    expect(payloads.map((p) => [p.index, p.body])).toEqual([
      [0, 'a'],
      [3, 'é'],
      [4, 'z'],
    ]);
  });

  test.each([
    ['{"input": "a"}\n{"input": "b"\n', /line 2 is not valid JSON/],
    ['{"input": "a"}\n\n{"features": [1]}\n', /line 3 has no "input": each line must be \{"input": <payload>, "expected"\?: <output>\}, got \{"features": \[1\]\}/],
    ['[1, 2]\n', /line 1 has no "input"/],
    ['{"input": ""}\n', /line 1: "input" is empty/],
  ])('a malformed line (%#): PayloadUnavailable naming the line (1-based) and the URI', async (content, message) => {
    dataset(content);
    const reading = collect(readPayloads(client, DATASET_PAYLOADS));
    await expect(reading).rejects.toMatchObject({ name: 'PayloadUnavailable', message: expect.stringMatching(message) });
    await expect(reading).rejects.toThrow(DATASET_URI);
  });

  test('the lines before a malformed one are delivered first (streaming, not a whole-object parse)', async () => {
    dataset('{"input": "a"}\n{"input": "b"}\nnot json\n');
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const payload of readPayloads(client, DATASET_PAYLOADS)) seen.push(payload.body);
      })(),
    ).rejects.toMatchObject({ name: 'PayloadUnavailable', message: expect.stringContaining('line 3') });
    expect(seen).toEqual(['a', 'b']);
  });

  test('a line longer than a request can be is refused without buffering the rest', async () => {
    dataset(`{"input": "${'x'.repeat(13 * 1024 * 1024)}"}\n`, 1024 * 1024);
    await expect(collect(readPayloads(client, DATASET_PAYLOADS))).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringMatching(/line 1 is longer than \d+ bytes/),
    });
  });

  test('with a range: a Range request (and If-Match on the planned ETag), lines numbered from the range\'s first line', async () => {
    const content = '{"input": "a"}\n{"input": "b"}\n{"input": "c"}\n';
    dataset(content);
    const byteStart = content.indexOf('{"input": "b"}');
    const payloads = await collect(readPayloads(client, DATASET_PAYLOADS, { firstLine: 1, byteStart, byteEnd: content.length - 1, etag: '"abc"' }));
    expect(payloads.map((p) => [p.index, p.body])).toEqual([
      [1, 'b'],
      [2, 'c'],
    ]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Range: `bytes=${byteStart}-${content.length - 1}`, IfMatch: '"abc"' });
  });

  test('leadingPayloads reads only the lines it needs (a malformed line further on is never reached)', async () => {
    const lines = Array.from({ length: 500 }, (_u, i) => (i === 400 ? 'not json' : JSON.stringify({ input: { i } })));
    dataset(lines.join('\n'), 16);
    const payloads = await leadingPayloads(client, DATASET_PAYLOADS, 3);
    expect(payloads.map((p) => p.body)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    await expect(leadingPayloads(client, DATASET_PAYLOADS, 450)).rejects.toMatchObject({ name: 'PayloadUnavailable', message: expect.stringContaining('line 401') });
  });

  test('firstPayload of a dataset with only blank lines: PayloadUnavailable', async () => {
    dataset('\n  \n');
    await expect(firstPayload(client, DATASET_PAYLOADS)).rejects.toMatchObject({ name: 'PayloadUnavailable', message: expect.stringContaining('holds no request') });
  });
});

describe('readPayloads: S3 errors', () => {
  test.each([
    ['NoSuchKey', 404, 'the object does not exist (NoSuchKey)'],
    ['NoSuchBucket', 404, 'the bucket does not exist (NoSuchBucket)'],
    ['AccessDenied', 403, 'access denied (AccessDenied): the rollout functions may not read it'],
    ['PreconditionFailed', 412, 'the object changed since validation was planned'],
  ])('%s: PayloadUnavailable with the URI and what was wrong', async (name, status, what) => {
    s3.on(GetObjectCommand).rejects(s3Error(name, status));
    await expect(firstPayload(client, DATASET_PAYLOADS)).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringContaining(`Cannot read ${DATASET_URI}: ${what}`),
    });
  });

  test('throttling and server errors propagate unchanged (the state machine retries them)', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('SlowDown', 503, 'Please reduce your request rate.'));
    await expect(firstPayload(client, DATASET_PAYLOADS)).rejects.toMatchObject({ name: 'SlowDown' });
  });

  test('an inline source reads nothing from S3', async () => {
    expect(await collect(readPayloads(client, INLINE_PAYLOADS))).toEqual([{ index: 0, body: INLINE_PAYLOADS.kind === 'inline' ? INLINE_PAYLOADS.body : '', contentType: 'application/json' }]);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('planBatches: a dataset', () => {
  const line = (i: number) => JSON.stringify({ input: { features: [i, i * 0.5], note: i % 3 === 0 ? 'naïve ✓' : 'x' }, expected: i % 2 });

  test.each([
    [1, true],
    [9, true],
    [10, true],
    [10, false],
    [11, false],
    [25, true],
    [25, false],
  ])('%i lines (trailing newline: %s), batches of 10: every line in exactly one batch, ranges adjacent', async (lines, trailingNewline) => {
    const content = Array.from({ length: lines }, (_u, i) => line(i)).join('\n') + (trailingNewline ? '\n' : '');
    dataset(content, 7);
    const plan = await planBatches(client, DATASET_PAYLOADS, 10, 200);

    expect(plan.totalRequests).toBe(lines);
    expect(plan.batches).toHaveLength(Math.ceil(lines / 10));
    const batches = plan.batches.map((batch) => {
      if (isRepeatBatch(batch)) throw new Error('a dataset gives byte ranges');
      return batch;
    });
    expect(batches[0]!.byteStart).toBe(0);
    expect(batches.at(-1)!.byteEnd).toBe(Buffer.byteLength(content) - 1);
    batches.slice(1).forEach((batch, i) => expect(batch.byteStart).toBe(batches[i]!.byteEnd + 1));
    expect(batches.map((b) => [b.index, b.firstLine, b.lines])).toEqual(
      batches.map((_b, i) => [i, i * 10, Math.min(10, lines - i * 10)]),
    );
    expect(batches.every((b) => b.etag === '"0123456789abcdef"')).toBe(true);

    const payloads = await readAllBatches(DATASET_PAYLOADS, plan.batches);
    expect(payloads.map((p) => p.index)).toEqual(Array.from({ length: lines }, (_u, i) => i));
    expect(payloads.map((p) => p.expected)).toEqual(Array.from({ length: lines }, (_u, i) => i % 2));
  });

  test('property: for any lines, batch size, line endings and chunking, the batches read back every request exactly once', async () => {
    const lineArbitrary = fc.oneof(
      fc.record({ input: fc.oneof(fc.string({ minLength: 1 }), fc.dictionary(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }))) }),
      fc.constant(null), // a blank line
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArbitrary, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        async (records, batchSize, trailingNewline, crlf, chunkSize) => {
          fc.pre(records.some((r) => r !== null));
          s3.reset();
          objects = new Map();
          const texts = records.map((r) => (r === null ? '' : JSON.stringify(r)));
          const content = texts.join(crlf ? '\r\n' : '\n') + (trailingNewline ? '\n' : '');
          dataset(content, chunkSize);
          const plan = await planBatches(client, DATASET_PAYLOADS, batchSize, 200);
          const payloads = await readAllBatches(DATASET_PAYLOADS, plan.batches);
          const expected = records.flatMap((r, i) =>
            r === null ? [] : [{ index: i, body: typeof r.input === 'string' ? r.input : JSON.stringify(r.input) }],
          );
          expect(payloads.map((p) => ({ index: p.index, body: p.body }))).toEqual(expected);
          expect(plan.totalRequests).toBe(expected.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a malformed line fails the planning (before any traffic), naming the line', async () => {
    dataset(`${line(0)}\n${line(1)}\n{"input": oops}\n${line(3)}\n`);
    await expect(planBatches(client, DATASET_PAYLOADS, 2, 200)).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringMatching(new RegExp(`Dataset ${DATASET_URI} line 3 is not valid JSON`)),
    });
  });

  test.each([[''], ['\n\n  \n']])('an empty or blank dataset (%j): PayloadUnavailable', async (content) => {
    dataset(content);
    await expect(planBatches(client, DATASET_PAYLOADS, 10, 200)).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringContaining('holds no request'),
    });
  });

  test(`more than ${MAX_BATCHES} batches: ConfigurationError with the batch size that would fit`, async () => {
    dataset(Array.from({ length: 2010 }, (_u, i) => JSON.stringify({ input: i })).join('\n'), 4096);
    await expect(planBatches(client, DATASET_PAYLOADS, 10, 200)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/2010 lines: 201 batches of 10, more than the 200 .*batchSize to at least 11/),
    });
  });
});

describe('planBatches: one payload, repeated', () => {
  test('fallbackRequests in batches of batchSize, numbered by request, without reading S3', async () => {
    const plan = await planBatches(client, INLINE_PAYLOADS, 10, 25);
    expect(plan).toEqual({
      totalRequests: 25,
      batches: [
        { index: 0, firstLine: 0, lines: 10, repeat: true, firstRequest: 0 },
        { index: 1, firstLine: 0, lines: 10, repeat: true, firstRequest: 10 },
        { index: 2, firstLine: 0, lines: 5, repeat: true, firstRequest: 20 },
      ],
    });
    expect(s3.calls()).toHaveLength(0);
  });

  test(`batches grow rather than exceed ${MAX_BATCHES}`, async () => {
    const plan = await planBatches(client, INLINE_PAYLOADS, 10, 10_000);
    expect(plan.batches.length).toBeLessThanOrEqual(MAX_BATCHES);
    expect(plan.batches.reduce((sum, batch) => sum + batch.lines, 0)).toBe(10_000);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Model package samples: a tiny tar.gz built by hand

/** One tar entry: a 512-byte ustar header (checksum computed) and the data padded to 512 bytes. */
function tarEntry(name: string, content: string | Buffer, type = '0'): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('14712345670\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A gzipped tar: the entries, then the two zero blocks that end an archive. */
const tarGz = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

const SAMPLE_URI = 's3://model-samples/fraud/7/sample.tar.gz';
const SAMPLE_SOURCE: PayloadSource = { kind: 'model-package-sample', s3Uri: SAMPLE_URI, contentType: 'text/csv' };

function sample(archive: Buffer, chunkSize = 100): void {
  objects.set(SAMPLE_URI, archive);
  serveObjects(s3, objects, chunkSize);
}

describe('readPayloads: a model package sample (.tar.gz)', () => {
  test('the first regular file is the payload; directories, pax headers and macOS ._ files before it are skipped', async () => {
    sample(
      tarGz(
        tarEntry('payload/', '', '5'),
        tarEntry('PaxHeader/request.csv', '30 mtime=1700000000.123456789\n', 'x'),
        tarEntry('payload/._request.csv', Buffer.from([0, 5, 22, 7, 0, 2])),
        tarEntry('payload/request.csv', '0.31,1.2,5.0,0.0\n'.repeat(40)),
        tarEntry('payload/other.csv', '9,9,9'),
      ),
      13,
    );
    expect(await collect(readPayloads(client, SAMPLE_SOURCE))).toEqual([{ index: 0, body: '0.31,1.2,5.0,0.0\n'.repeat(40), contentType: 'text/csv' }]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'model-samples', Key: 'fraud/7/sample.tar.gz' });
  });

  test.each([
    ['no regular file', () => tarGz(tarEntry('empty-dir/', '', '5')), /the archive holds no regular file/],
    ['an empty first file', () => tarGz(tarEntry('request.json', '')), /request\.json is empty/],
    ['a binary first file', () => tarGz(tarEntry('image.bin', Buffer.from([0xff, 0xfe, 0x00, 0x81]))), /image\.bin is not UTF-8 text/],
    ['not gzip', () => Buffer.from('{"features": [1, 2]}'), /not a gzip archive/],
    ['gzip but not tar', () => gzipSync(Buffer.from('{"features": [1, 2]}'.repeat(40))), /not a tar archive \(bad header checksum at byte 0\)/],
  ])('%s: PayloadUnavailable naming the sample', async (_what, archive, message) => {
    sample(archive());
    await expect(firstPayload(client, SAMPLE_SOURCE)).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringMatching(new RegExp(`^Model package sample ${SAMPLE_URI.replace(/[.]/g, '\\.')}: ${message.source}`)),
    });
  });

  test('a missing archive: PayloadUnavailable with the URI', async () => {
    serveObjects(s3, objects);
    await expect(firstPayload(client, SAMPLE_SOURCE)).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: `Cannot read ${SAMPLE_URI}: the object does not exist (NoSuchKey).`,
    });
  });
});

describe('bodyLines and parseS3Uri', () => {
  test('byte offsets count bytes, not characters, and cover the body exactly', async () => {
    const content = 'é\n\nab\r\nlast';
    const lines = await collect(bodyLines(s3Body(content, 1)));
    expect(lines).toEqual([
      { lineNumber: 0, byteStart: 0, byteEnd: 3, text: 'é' },
      { lineNumber: 1, byteStart: 3, byteEnd: 4, text: '' },
      { lineNumber: 2, byteStart: 4, byteEnd: 8, text: 'ab' },
      { lineNumber: 3, byteStart: 8, byteEnd: 12, text: 'last' },
    ]);
    expect(lines.at(-1)!.byteEnd).toBe(Buffer.byteLength(content));
  });

  test.each([
    ['s3://bucket/a/b.jsonl', { bucket: 'bucket', key: 'a/b.jsonl' }],
    ['https://my.bucket.s3.eu-west-1.amazonaws.com/a/b%20c.tar.gz', { bucket: 'my.bucket', key: 'a/b c.tar.gz' }],
    ['https://s3.amazonaws.com/bucket/key', { bucket: 'bucket', key: 'key' }],
    ['s3://bucket/', undefined],
    ['https://example.com/bucket/key', undefined],
    ['ftp://bucket/key', undefined],
  ])('%s', (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
  });
});

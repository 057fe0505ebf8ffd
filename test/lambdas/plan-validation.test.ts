import 'aws-sdk-client-mock-jest';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/plan-validation';
import { DATASET_PAYLOADS, DATASET_URI, makePlan, serveObjects, validationPolicy } from './support/fixtures';

const s3 = mockClient(S3Client);

beforeEach(() => s3.reset());

describe('plan-validation', () => {
  test('a dataset: byte-range batches of batchSize lines, the request count and the source kind', async () => {
    const content = Array.from({ length: 25 }, (_u, i) => JSON.stringify({ input: { i }, expected: i % 2 })).join('\n');
    serveObjects(s3, new Map([[DATASET_URI, content]]));
    const result = await handler({ plan: makePlan({ payloads: DATASET_PAYLOADS, validation: validationPolicy({ batchSize: 10 }) }) });
    expect(result.source).toBe('dataset');
    expect(result.totalRequests).toBe(25);
    expect(result.batches.map((b) => [b.index, b.firstLine, b.lines])).toEqual([
      [0, 0, 10],
      [1, 10, 10],
      [2, 20, 5],
    ]);
    expect(result.batches[2]).toMatchObject({ byteEnd: Buffer.byteLength(content) - 1 });
    // One streaming pass over the whole object.
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.Range).toBeUndefined();
  });

  test('the inline sample payload: fallbackRequests repeats, no S3 read', async () => {
    const result = await handler({ plan: makePlan({ validation: validationPolicy({ batchSize: 100, fallbackRequests: 250 }) }) });
    expect(result).toEqual({
      source: 'inline',
      totalRequests: 250,
      batches: [
        { index: 0, firstLine: 0, lines: 100, repeat: true, firstRequest: 0 },
        { index: 1, firstLine: 0, lines: 100, repeat: true, firstRequest: 100 },
        { index: 2, firstLine: 0, lines: 50, repeat: true, firstRequest: 200 },
      ],
    });
    expect(s3.calls()).toHaveLength(0);
  });

  test('a malformed dataset line fails here, naming it, before any validation traffic', async () => {
    serveObjects(s3, new Map([[DATASET_URI, '{"input": 1}\n{"input": 2\n']]));
    await expect(handler({ plan: makePlan({ payloads: DATASET_PAYLOADS }) })).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      // The parser's own words in between depend on the Node version.
      message: expect.stringMatching(new RegExp(`^Dataset ${DATASET_URI.replace(/[.]/g, '\\.')} line 2 is not valid JSON \\(.+\\): each line must be \\{"input"`)),
    });
  });
});

import 'aws-sdk-client-mock-jest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ARTIFACTS_BUCKET_ENV,
  artifactsBucket,
  batchSamplesKey,
  putJson,
  putJsonLines,
  readJsonLines,
  reportKey,
  s3Uri,
} from '../../../lambdas/shared/artifacts';
import { ARTIFACTS_BUCKET, DEPLOYMENT_ID, ENDPOINT, serveObjects } from '../support/fixtures';

const s3 = mockClient(S3Client);
const client = new S3Client({});

beforeEach(() => s3.reset());

describe('artifacts', () => {
  test('the bucket comes from ARTIFACTS_BUCKET; unset or blank is a ConfigurationError saying so', () => {
    expect(artifactsBucket({ [ARTIFACTS_BUCKET_ENV]: ARTIFACTS_BUCKET })).toBe(ARTIFACTS_BUCKET);
    for (const env of [{}, { [ARTIFACTS_BUCKET_ENV]: '  ' }]) {
      expect(() => artifactsBucket(env)).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining('ARTIFACTS_BUCKET is not set') }));
    }
  });

  test('keys: one prefix per endpoint and rollout, batches numbered on 5 digits so they sort', () => {
    expect(batchSamplesKey(ENDPOINT, DEPLOYMENT_ID, 3)).toBe(`validation/${ENDPOINT}/${DEPLOYMENT_ID}/batch-00003.jsonl`);
    expect(batchSamplesKey(ENDPOINT, DEPLOYMENT_ID, 199)).toBe(`validation/${ENDPOINT}/${DEPLOYMENT_ID}/batch-00199.jsonl`);
    expect(reportKey(ENDPOINT, DEPLOYMENT_ID)).toBe(`validation/${ENDPOINT}/${DEPLOYMENT_ID}/report.json`);
    expect(s3Uri('b', 'k/x.json')).toBe('s3://b/k/x.json');
  });

  test('JSON Lines written are read back, document by document, across chunk boundaries', async () => {
    const objects = new Map<string, Uint8Array | string>();
    serveObjects(s3, objects, 5);
    const records = [{ index: 0, text: 'a\nb' }, { index: 1, nested: { é: [1, 2] } }, null, 'plain'];
    await putJsonLines(client, ARTIFACTS_BUCKET, 'x/samples.jsonl', records);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: ARTIFACTS_BUCKET, Key: 'x/samples.jsonl', ContentType: 'application/x-ndjson' });
    const read: unknown[] = [];
    for await (const document of readJsonLines(client, ARTIFACTS_BUCKET, 'x/samples.jsonl')) read.push(document);
    expect(read).toEqual(records);
  });

  test('a line that is not JSON is named with the object', async () => {
    serveObjects(s3, new Map([[`s3://${ARTIFACTS_BUCKET}/x/bad.jsonl`, '{"a": 1}\n{oops\n']]));
    const reading = (async () => {
      for await (const _document of readJsonLines(client, ARTIFACTS_BUCKET, 'x/bad.jsonl'));
    })();
    await expect(reading).rejects.toThrow(`s3://${ARTIFACTS_BUCKET}/x/bad.jsonl line 2 is not JSON`);
  });

  test('putJson writes one JSON document', async () => {
    const objects = new Map<string, Uint8Array | string>();
    serveObjects(s3, objects);
    await putJson(client, ARTIFACTS_BUCKET, 'x/report.json', { verdict: 'PASS', gates: [] });
    expect(JSON.parse(String(objects.get(`s3://${ARTIFACTS_BUCKET}/x/report.json`)))).toEqual({ verdict: 'PASS', gates: [] });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { ContentType: 'application/json' });
  });
});

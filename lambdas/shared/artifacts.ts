/**
 * The system's artifacts bucket: validation samples and reports. Each rollout writes under its own prefix
 * (`validation/<endpoint>/<deploymentId>/`), so two rollouts never share an object and a retried step
 * overwrites or reuses only its own.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError } from './errors';
import { bodyLines } from './payloads';

/** Environment variable naming the artifacts bucket (the CDK stack sets it on the functions that need it). */
export const ARTIFACTS_BUCKET_ENV = 'ARTIFACTS_BUCKET';

/**
 * The artifacts bucket's name, from the function's environment.
 * @throws ConfigurationError when the variable is unset or empty
 */
export function artifactsBucket(env: NodeJS.ProcessEnv = process.env): string {
  const bucket = env[ARTIFACTS_BUCKET_ENV]?.trim();
  if (!bucket) {
    throw new ConfigurationError(
      `${ARTIFACTS_BUCKET_ENV} is not set: the function does not know where to store validation samples and reports.`,
    );
  }
  return bucket;
}

/** `validation/<endpointName>/<deploymentId>`: everything one rollout's validation writes. */
export function validationPrefix(endpointName: string, deploymentId: string): string {
  return `validation/${endpointName}/${deploymentId}`;
}

/** `validation/<endpointName>/<deploymentId>/batch-00003.jsonl`: one batch's paired samples, as JSON Lines. */
export function batchSamplesKey(endpointName: string, deploymentId: string, batchIndex: number): string {
  return `${validationPrefix(endpointName, deploymentId)}/batch-${String(batchIndex).padStart(5, '0')}.jsonl`;
}

/** `validation/<endpointName>/<deploymentId>/report.json`: the judge's full report. */
export function reportKey(endpointName: string, deploymentId: string): string {
  return `${validationPrefix(endpointName, deploymentId)}/report.json`;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Writes `records` as JSON Lines: one JSON document per line, every line ending with a newline. */
export async function putJsonLines(s3: S3Client, bucket: string, key: string, records: readonly unknown[]): Promise<void> {
  const body = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
}

/** Writes `value` as one (indented) JSON document. */
export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value, null, 2), ContentType: 'application/json' }));
}

/**
 * The documents of a JSON Lines object, streamed (never held whole); blank lines are skipped.
 * @throws Error naming the object and the line when a line is not JSON; S3 errors (NoSuchKey, ...) propagate
 */
export async function* readJsonLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<unknown> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  for await (const line of bodyLines(response.Body)) {
    if (line.text.trim() === '') continue;
    let document: unknown;
    try {
      document = JSON.parse(line.text);
    } catch (error) {
      throw new Error(`${s3Uri(bucket, key)} line ${line.lineNumber + 1} is not JSON: ${(error as Error).message}`);
    }
    yield document;
  }
}

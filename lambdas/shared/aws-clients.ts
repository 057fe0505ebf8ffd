/**
 * The AWS SDK clients every handler uses, created once per Lambda container. In Lambda they use the
 * default configuration. The local rehearsal calls `configureAwsClients` before running handlers to swap
 * only the HTTP transport (and give static credentials), so requests still go through the SDK's real
 * serializers, retries and error parsing: the handler code that runs locally is the code that runs in Lambda.
 * Every client is traced with X-Ray in Lambda (traceAwsClient); outside Lambda tracing is off and the
 * client is returned untouched, so the rehearsal's transport sees the SDK's requests unchanged.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { AwsCredentialIdentity, HttpHandlerOptions, RequestHandler } from '@smithy/types';
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { traceAwsClient } from './tracing';

export interface AwsClientOverrides {
  readonly region?: string;
  readonly credentials?: AwsCredentialIdentity;
  readonly requestHandler?: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
}

let overrides: AwsClientOverrides = {};
const cache = new Map<string, unknown>();

/** Replaces the transport and credentials of every client created from now on (rehearsal only). */
export function configureAwsClients(next: AwsClientOverrides): void {
  overrides = next;
  cache.clear();
}

/** The cached client for `key`, created (and traced) on first use. */
function memo<T>(key: string, create: () => T): T {
  if (!cache.has(key)) cache.set(key, traceAwsClient(create()));
  return cache.get(key) as T;
}

export const sageMakerClient = (): SageMakerClient => memo('sagemaker', () => new SageMakerClient({ ...overrides }));
export const sageMakerRuntimeClient = (): SageMakerRuntimeClient =>
  memo('sagemaker-runtime', () => new SageMakerRuntimeClient({ ...overrides }));
/**
 * SageMaker Runtime for validation traffic: one attempt per call, no SDK retries. A retried request would
 * report the latency of several attempts and hide the 5xx and throttling that the gates must count.
 */
export const singleAttemptRuntimeClient = (): SageMakerRuntimeClient =>
  memo('sagemaker-runtime-single-attempt', () => new SageMakerRuntimeClient({ ...overrides, maxAttempts: 1 }));
export const s3Client = (): S3Client => memo('s3', () => new S3Client({ ...overrides }));
export const cloudWatchClient = (): CloudWatchClient => memo('cloudwatch', () => new CloudWatchClient({ ...overrides }));
export const autoScalingClient = (): ApplicationAutoScalingClient =>
  memo('application-autoscaling', () => new ApplicationAutoScalingClient({ ...overrides }));
export const dynamoDbClient = (): DynamoDBClient => memo('dynamodb', () => new DynamoDBClient({ ...overrides }));
export const eventBridgeClient = (): EventBridgeClient => memo('eventbridge', () => new EventBridgeClient({ ...overrides }));
export const sfnClient = (): SFNClient => memo('sfn', () => new SFNClient({ ...overrides }));
export const serviceQuotasClient = (): ServiceQuotasClient => memo('service-quotas', () => new ServiceQuotasClient({ ...overrides }));

import 'aws-sdk-client-mock-jest';
import {
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ValidationError,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/smoke-check';
import { MODEL_NOT_READY_DELAY_MS, smokeCheck } from '../../lambdas/smoke-check/smoke';
import { createLogger } from '../../lambdas/shared/logger';
import { BLUE, DATASET_PAYLOADS, DATASET_URI, ENDPOINT, makePlan, NAMES, s3Body, SAMPLE_BODY } from './support/fixtures';

const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const deps = (sleep: (ms: number) => Promise<void>) => ({ runtime: new SageMakerRuntimeClient({}), s3: new S3Client({}), logger: createLogger('test'), sleep });
const body = (text: string) => new TextEncoder().encode(text) as InvokeEndpointCommandOutput['Body'];
const answer = (variant = NAMES.greenVariantName, text = '{"fraud_probability": 0.07}') => ({
  Body: body(text),
  ContentType: 'application/json',
  InvokedProductionVariant: variant,
});
const notReady = () => new ModelNotReadyException({ $metadata: {}, message: 'Model is not ready yet' });

beforeEach(() => {
  runtime.reset();
  s3.reset();
  jest.useRealTimers();
});

describe('smoke-check', () => {
  test('invokes green with the inline sample payload and reports the variant that answered', async () => {
    runtime.on(InvokeEndpointCommand).resolves(answer());
    const result = await handler({ plan: makePlan() });
    expect(result.invokedVariant).toBe(NAMES.greenVariantName);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const sent = runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ EndpointName: ENDPOINT, TargetVariant: NAMES.greenVariantName, ContentType: 'application/json' });
    expect(new TextDecoder().decode(sent.Body as Uint8Array)).toBe(SAMPLE_BODY);
    expect(s3.calls()).toHaveLength(0);
  });

  test('with a dataset: the first non-blank line\'s input, read from S3, with the source\'s content type', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body('\n{"input": {"features": [9, 8]}, "expected": 1}\n{"input": "second"}\n') });
    runtime.on(InvokeEndpointCommand).resolves(answer());
    await handler({ plan: makePlan({ payloads: { ...DATASET_PAYLOADS, contentType: 'application/jsonlines' } }) });
    const sent = runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(new TextDecoder().decode(sent.Body as Uint8Array)).toBe('{"features":[9,8]}');
    expect(sent.ContentType).toBe('application/jsonlines');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'fraud-detector-ml-artifacts', Key: 'golden/fraud-detector.jsonl' });
  });

  test('a dataset that cannot be read: PayloadUnavailable naming it, and green is not called', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }));
    await expect(handler({ plan: makePlan({ payloads: DATASET_PAYLOADS }) })).rejects.toMatchObject({
      name: 'PayloadUnavailable',
      message: expect.stringContaining(`Cannot read ${DATASET_URI}: the object does not exist (NoSuchKey)`),
    });
    expect(runtime.calls()).toHaveLength(0);
  });

  test('ModelNotReadyException is retried 5 s apart until green answers', async () => {
    runtime.on(InvokeEndpointCommand).rejectsOnce(notReady()).rejectsOnce(notReady()).resolves(answer());
    const sleep = jest.fn(() => Promise.resolve());
    await expect(smokeCheck(makePlan(), deps(sleep))).resolves.toMatchObject({
      invokedVariant: NAMES.greenVariantName,
    });
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 3);
    expect(sleep.mock.calls).toEqual([[MODEL_NOT_READY_DELAY_MS], [MODEL_NOT_READY_DELAY_MS]]);
    expect(MODEL_NOT_READY_DELAY_MS).toBe(5000);
  });

  test('the handler really waits (a setTimeout promise) between retries', async () => {
    jest.useFakeTimers();
    runtime.on(InvokeEndpointCommand).rejectsOnce(notReady()).resolves(answer());
    let settled = false;
    const running = handler({ plan: makePlan() }).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(4999);
    expect(settled).toBe(false);
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(running).resolves.toMatchObject({ invokedVariant: NAMES.greenVariantName });
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 2);
  });

  test('still not ready after 3 retries: SmokeCheckFailed after 4 calls', async () => {
    runtime.on(InvokeEndpointCommand).rejects(notReady());
    const sleep = jest.fn(() => Promise.resolve());
    await expect(smokeCheck(makePlan(), deps(sleep))).rejects.toMatchObject({
      name: 'SmokeCheckFailed',
      message: expect.stringMatching(new RegExp(`green variant ${NAMES.greenVariantName} .*ModelNotReadyException: Model is not ready yet \\(after 4 attempts\\)`)),
    });
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 4);
    expect(sleep).toHaveBeenCalledTimes(3);
  });

  test('a ModelError fails at once, with its OriginalStatusCode', async () => {
    runtime.on(InvokeEndpointCommand).rejects(
      new ModelError({
        $metadata: {},
        message: 'Received server error (500) from primary with message "CUDA out of memory"',
        OriginalStatusCode: 500,
        OriginalMessage: 'CUDA out of memory',
        LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/fraud-detector-prod',
      }),
    );
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'SmokeCheckFailed',
      message: expect.stringMatching(new RegExp(`variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT} failed: ModelError \\(OriginalStatusCode 500\\)`)),
    });
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
  });

  test('any other error: SmokeCheckFailed naming the error', async () => {
    runtime.on(InvokeEndpointCommand).rejects(new ValidationError({ $metadata: {}, message: 'Endpoint variant v7 not found' }));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'SmokeCheckFailed',
      message: expect.stringMatching(/ValidationError: Endpoint variant v7 not found/),
    });
  });

  test('an empty answer: SmokeCheckFailed', async () => {
    runtime.on(InvokeEndpointCommand).resolves(answer(NAMES.greenVariantName, ''));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'SmokeCheckFailed', message: expect.stringMatching(/body is empty/) });
  });

  test('an answer from another variant: SmokeCheckFailed naming it', async () => {
    runtime.on(InvokeEndpointCommand).resolves(answer(BLUE.variantName));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({
      name: 'SmokeCheckFailed',
      message: expect.stringMatching(new RegExp(`variant ${BLUE.variantName} answered, not ${NAMES.greenVariantName}`)),
    });
  });

  test('rejects a missing plan without invoking', async () => {
    await expect(handler({})).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/plan: /) });
    expect(runtime.calls()).toHaveLength(0);
  });
});

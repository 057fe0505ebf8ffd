import 'aws-sdk-client-mock-jest';
import {
  InternalDependencyException,
  InternalFailure,
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ServiceUnavailable,
  ValidationError,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { classifyInvocationError, invocationFor, invokeVariant, mapWithConcurrency, variantsUnderTest, type InvokeVariantRequest } from '../../../lambdas/shared/invoke';
import { BLUE, ENDPOINT, makeFirstDeploymentPlan, makePlan, NAMES, validationPolicy } from '../support/fixtures';

const runtime = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({});

const REQUEST: InvokeVariantRequest = {
  endpointName: ENDPOINT,
  variantName: NAMES.greenVariantName,
  body: '{"features": [1, 2]}',
  contentType: 'application/json',
  timeoutMs: 1000,
  scorePath: '/score',
  predictionPath: 'predictions[0].label',
};

const answer = (text: string, variant = NAMES.greenVariantName): Partial<InvokeEndpointCommandOutput> => ({
  Body: new TextEncoder().encode(text) as InvokeEndpointCommandOutput['Body'],
  ContentType: 'application/json',
  InvokedProductionVariant: variant,
});

const serviceException = (name: string, httpStatusCode?: number) =>
  new SageMakerRuntimeServiceException({
    name,
    $fault: (httpStatusCode ?? 500) < 500 ? 'client' : 'server',
    message: `${name} (simulated)`,
    $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
  });

beforeEach(() => {
  runtime.reset();
  jest.useRealTimers();
});

describe('invokeVariant: answers', () => {
  test('OK: sends to the target variant and reads score and prediction (JSON pointer and JMESPath)', async () => {
    runtime.on(InvokeEndpointCommand).resolves(answer('{"score": 0.87, "predictions": [{"label": "fraud"}]}'));
    const sample = await invokeVariant(client, REQUEST);
    expect(sample).toEqual({ outcome: 'OK', statusCode: 200, latencyMs: expect.any(Number), score: 0.87, prediction: 'fraud' });
    const sent = runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ EndpointName: ENDPOINT, TargetVariant: NAMES.greenVariantName, ContentType: 'application/json' });
    expect(new TextDecoder().decode(sent.Body as Uint8Array)).toBe(REQUEST.body);
  });

  test.each([
    ['not JSON', 'fraud,0.87', {}],
    ['a non-numeric score', '{"score": "high", "predictions": [{"label": 1}]}', { prediction: 1 }],
    ['no score, a null prediction', '{"predictions": [{"label": null}]}', { prediction: null }],
  ])('OK with %s: only what the response has', async (_what, text, read) => {
    runtime.on(InvokeEndpointCommand).resolves(answer(text));
    const sample = await invokeVariant(client, REQUEST);
    expect(sample).toEqual({ outcome: 'OK', statusCode: 200, latencyMs: expect.any(Number), ...read });
  });

  test('latency is the client-observed time, on the (fakeable) clock', async () => {
    jest.useFakeTimers();
    runtime.on(InvokeEndpointCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve(answer('{"score": 1}')), 137)));
    const pending = invokeVariant(client, REQUEST);
    await jest.advanceTimersByTimeAsync(137);
    expect(await pending).toMatchObject({ outcome: 'OK', latencyMs: 137, score: 1 });
  });

  test('an answer from another variant than the target: FAILED (the measurement is not the variant\'s)', async () => {
    runtime.on(InvokeEndpointCommand).resolves(answer('{"score": 1}', BLUE.variantName));
    expect(await invokeVariant(client, REQUEST)).toMatchObject({ outcome: 'FAILED', errorName: 'UnexpectedVariant' });
  });
});

describe('invokeVariant: timeouts', () => {
  test('no answer within timeoutMs: TIMEOUT, the SDK call aborted, even when the transport ignores the signal', async () => {
    jest.useFakeTimers();
    runtime.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined)); // never answers, ignores the signal
    const send = jest.spyOn(client, 'send');
    const pending = invokeVariant(client, { ...REQUEST, timeoutMs: 2500 });
    const signal = (send.mock.calls[0]![1] as { abortSignal?: AbortSignal }).abortSignal;
    expect(signal?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(2499);
    expect(signal?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual({ outcome: 'TIMEOUT', latencyMs: 2500, errorName: 'TimeoutError' });
    expect(signal?.aborted).toBe(true);
    send.mockRestore();
  });

  test('a transport that honours the signal rejects with AbortError: still TIMEOUT, not FAILED', async () => {
    jest.useFakeTimers();
    const send = jest.spyOn(client, 'send').mockImplementation(((_command: unknown, options: { abortSignal: AbortSignal }) =>
      new Promise((_resolve, reject) =>
        options.abortSignal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))),
      )) as never);
    const pending = invokeVariant(client, { ...REQUEST, timeoutMs: 500 });
    await jest.advanceTimersByTimeAsync(500);
    expect(await pending).toMatchObject({ outcome: 'TIMEOUT', latencyMs: 500 });
    send.mockRestore();
  });

  test('an answer before the timeout clears the timer (nothing left pending)', async () => {
    jest.useFakeTimers();
    runtime.on(InvokeEndpointCommand).resolves(answer('{"score": 1}'));
    await invokeVariant(client, REQUEST);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('classifyInvocationError: every way an invocation fails', () => {
  test.each([
    ['ModelError 500', 'MODEL_ERROR', 500, new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'boom', OriginalStatusCode: 500 })],
    ['ModelError 400', 'MODEL_ERROR', 400, new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'bad input', OriginalStatusCode: 400 })],
    ['ValidationError', 'CLIENT_ERROR', 400, new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'bad' })],
    ['another 4xx', 'CLIENT_ERROR', 403, serviceException('AccessDeniedException', 403)],
    ['ThrottlingException', 'THROTTLED', 400, serviceException('ThrottlingException', 400)],
    ['any 429', 'THROTTLED', 429, serviceException('TooManyRequests', 429)],
    ['ModelNotReadyException (a 429 that is not a throttle)', 'FAILED', 429, new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'not ready' })],
    ['ServiceUnavailable', 'FAILED', 503, new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'unavailable' })],
    ['InternalFailure', 'FAILED', 500, new InternalFailure({ $metadata: { httpStatusCode: 500 }, message: 'internal' })],
    ['InternalDependencyException', 'FAILED', 530, new InternalDependencyException({ $metadata: { httpStatusCode: 530 }, message: 'dependency' })],
    ['an unknown 5xx', 'FAILED', 502, serviceException('BadGateway', 502)],
    ['a network error (no HTTP status)', 'FAILED', undefined, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ] as const)('%s -> %s', async (_what, outcome, statusCode, error) => {
    expect(classifyInvocationError(error)).toEqual({ outcome, errorName: error.name, ...(statusCode !== undefined ? { statusCode } : {}) });
    runtime.on(InvokeEndpointCommand).rejects(error);
    expect(await invokeVariant(client, REQUEST)).toMatchObject({ outcome, latencyMs: expect.any(Number), errorName: error.name });
  });
});

describe('plan helpers', () => {
  test('green and blue on an endpoint that serves blue; green alone on a first deployment', () => {
    expect(variantsUnderTest(makePlan())).toEqual([
      { role: 'green', variantName: NAMES.greenVariantName },
      { role: 'blue', variantName: BLUE.variantName },
    ]);
    expect(variantsUnderTest(makeFirstDeploymentPlan())).toEqual([{ role: 'green', variantName: NAMES.greenVariantName }]);
  });

  test('a request carries the policy\'s timeout and response paths', () => {
    const plan = makePlan({ validation: validationPolicy({ requestTimeoutMs: 2500, scorePath: 'probability', predictionPath: '/class' }) });
    expect(invocationFor(plan, BLUE.variantName, { body: 'x', contentType: 'text/csv' })).toEqual({
      endpointName: ENDPOINT,
      variantName: BLUE.variantName,
      body: 'x',
      contentType: 'text/csv',
      timeoutMs: 2500,
      scorePath: 'probability',
      predictionPath: '/class',
    });
  });
});

describe('mapWithConcurrency', () => {
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('results in the items\' order, never more than `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([30, 5, 20, 1, 15, 2, 8, 3], 3, async (ms, position) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await delay(ms);
      inFlight--;
      return `${position}:${ms}`;
    });
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:15', '5:2', '6:8', '7:3']);
    expect(peak).toBe(3);
  });

  test('an async iterable is pulled only as workers free up', async () => {
    let pulled = 0;
    async function* items() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        yield i;
      }
    }
    let maxAhead = 0;
    let done = 0;
    const results = await mapWithConcurrency(items(), 2, async (item) => {
      maxAhead = Math.max(maxAhead, pulled - done);
      await delay(1);
      done++;
      return item * 2;
    });
    expect(results).toEqual(Array.from({ length: 20 }, (_u, i) => i * 2));
    expect(maxAhead).toBeLessThanOrEqual(2);
  });

  test('the first failure rejects the whole and no new call starts', async () => {
    const started: number[] = [];
    await expect(
      mapWithConcurrency([1, 2, 3, 4, 5, 6], 2, async (item) => {
        started.push(item);
        await delay(item);
        if (item === 2) throw new Error('item 2 failed');
        return item;
      }),
    ).rejects.toThrow('item 2 failed');
    await delay(20);
    expect(started.length).toBeLessThan(6);
  });

  test('an error of the iterable itself rejects the whole', async () => {
    async function* items() {
      yield 1;
      throw new Error('stream broke');
    }
    await expect(mapWithConcurrency(items(), 4, async (item) => item)).rejects.toThrow('stream broke');
  });

  test('refuses a limit below 1', async () => {
    await expect(mapWithConcurrency([1], 0, async (item) => item)).rejects.toThrow(RangeError);
  });
});

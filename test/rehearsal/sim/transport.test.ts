/**
 * The transport on the wire: raw HTTP requests in every body form the SDK may send, and responses
 * encoded as the services encode them (error type header, JSON error bodies, Readable bodies).
 */
import { Readable } from 'node:stream';
import { ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { HttpRequest, type HttpResponse } from '@smithy/protocol-http';
import { readBody } from '../../../rehearsal/sim/transport';
import { SimulatedAws, isMutatingOperation } from '../../../rehearsal/sim/world';
import { drive, driveError, harness, installClock, START_MS, type FakeClock } from './helpers';

const SAGEMAKER_HOST = 'api.sagemaker.us-east-1.amazonaws.com';
const RUNTIME_HOST = 'runtime.sagemaker.us-east-1.amazonaws.com';

let clock: FakeClock;
let aws: SimulatedAws;

beforeEach(() => {
  clock = installClock();
  aws = new SimulatedAws();
});
afterEach(() => clock.uninstall());

function sageMakerRequest(operation: string | undefined, body: unknown): HttpRequest {
  return new HttpRequest({
    protocol: 'https:',
    hostname: SAGEMAKER_HOST,
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', ...(operation ? { 'x-amz-target': `SageMaker.${operation}` } : {}) },
    body,
  });
}

async function answer(request: HttpRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: HttpResponse; text: string; json: any }> {
  const { response } = await drive(clock, aws.requestHandler.handle(request, options));
  expect(response.body).toBeInstanceOf(Readable);
  const text = new TextDecoder().decode(await readBody(response.body));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { response, text, json };
}

describe('request bodies', () => {
  const payload = JSON.stringify({ EndpointName: 'missing' });
  const forms: [string, () => unknown][] = [
    ['string', () => payload],
    ['Uint8Array', () => new TextEncoder().encode(payload)],
    ['Buffer', () => Buffer.from(payload)],
    ['Node Readable', () => Readable.from([Buffer.from(payload.slice(0, 5)), Buffer.from(payload.slice(5))])],
  ];
  test.each(forms)('a %s body is decoded as JSON', async (_form, body) => {
    const { response, json } = await answer(sageMakerRequest('DescribeEndpoint', body()));
    expect(response.statusCode).toBe(400);
    expect(json.__type).toBe('ValidationException');
    expect(aws.calls).toEqual([{ service: 'sagemaker', operation: 'DescribeEndpoint', input: { EndpointName: 'missing' }, atMs: expect.any(Number), error: 'ValidationException' }]);
  });
});

describe('SageMaker (awsJson1_1) responses', () => {
  test('an error carries its name in x-amzn-errortype and in the body, with the message', async () => {
    const { response, json } = await answer(sageMakerRequest('DescribeEndpoint', JSON.stringify({ EndpointName: 'missing' })));
    expect(response.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(response.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(response.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(json).toEqual({ __type: 'ValidationException', message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/missing".' });
  });

  test('malformed JSON is a SerializationException and is still recorded', async () => {
    const { response, json } = await answer(sageMakerRequest('DescribeEndpoint', '{"EndpointName": '));
    expect(response.statusCode).toBe(400);
    expect(json.__type).toBe('SerializationException');
    expect(aws.calls[0]).toMatchObject({ operation: 'DescribeEndpoint', input: '{"EndpointName": ', error: 'SerializationException' });
  });

  test('a member of the wrong type, or a body that is not an object, is a SerializationException', async () => {
    const wrongType = await answer(sageMakerRequest('DescribeEndpoint', JSON.stringify({ EndpointName: 5 })));
    expect(wrongType.json.__type).toBe('SerializationException');
    expect(wrongType.json.message).toMatch(/'endpointName'/);
    const list = await answer(sageMakerRequest('DescribeEndpoint', '[]'));
    expect(list.json.__type).toBe('SerializationException');
    const nested = await answer(
      sageMakerRequest('CreateEndpointConfig', JSON.stringify({ EndpointConfigName: 'c', ProductionVariants: [{ VariantName: 'v', ModelName: 'm', InstanceType: 'ml.m5.large', InitialInstanceCount: '1' }] })),
    );
    expect(nested.json.__type).toBe('SerializationException');
    expect(nested.json.message).toMatch(/'productionVariants\.1\.member\.initialInstanceCount'/);
  });

  test('a missing required member is a ValidationException naming it', async () => {
    const { json } = await answer(sageMakerRequest('DescribeEndpoint', '{}'));
    expect(json).toEqual({
      __type: 'ValidationException',
      message: "1 validation error detected: Value null at 'endpointName' failed to satisfy constraint: Member must not be null",
    });
  });

  test('an operation the simulation does not implement, or no X-Amz-Target, is an UnknownOperationException', async () => {
    const unknown = await answer(sageMakerRequest('ListTrainingJobs', '{}'));
    expect([unknown.response.statusCode, unknown.json.__type]).toEqual([400, 'UnknownOperationException']);
    const untargeted = await answer(sageMakerRequest(undefined, '{}'));
    expect(untargeted.json.__type).toBe('UnknownOperationException');
  });

  test('through the SDK, an unimplemented operation fails with UnknownOperationException', async () => {
    const { sagemaker } = harness();
    const error = await driveError(clock, sagemaker.send(new ListTrainingJobsCommand({})));
    expect(error.name).toBe('UnknownOperationException');
  });

  test('a success is a 200 with the JSON output and epoch-second timestamps', async () => {
    aws.sagemaker.seedEndpoint({
      endpointName: 'e',
      endpointConfigName: 'c',
      variants: [{ variantName: 'v', modelName: 'm', image: 'image:1', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
    const { response, json } = await answer(sageMakerRequest('DescribeEndpoint', JSON.stringify({ EndpointName: 'e' })));
    expect(response.statusCode).toBe(200);
    expect(json.EndpointStatus).toBe('InService');
    expect(json.CreationTime).toBe(START_MS / 1000);
  });
});

describe('SageMaker Runtime (restJson1) responses', () => {
  function invocation(path: string, body: string, headers: Record<string, string> = {}): HttpRequest {
    return new HttpRequest({ protocol: 'https:', hostname: RUNTIME_HOST, method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body });
  }

  test('a success carries the invoked variant header and the body', async () => {
    aws.sagemaker.seedEndpoint({
      endpointName: 'e',
      endpointConfigName: 'c',
      variants: [{ variantName: 'v', modelName: 'm', image: 'image:1', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
    const { response, json } = await answer(invocation('/endpoints/e/invocations', '{"x": 1}', { 'X-Amzn-SageMaker-Target-Variant': 'v' }));
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-amzn-invoked-production-variant']).toBe('v');
    expect(typeof json.score).toBe('number');
    expect(aws.calls[0]!.input).toEqual({ EndpointName: 'e', TargetVariant: 'v', ContentType: 'application/json', Body: '{"x": 1}' });
  });

  test('an error carries x-amzn-errortype and a JSON body with Message', async () => {
    const { response, json } = await answer(invocation('/endpoints/nope/invocations', '{}'));
    expect([response.statusCode, response.headers['x-amzn-errortype']]).toEqual([400, 'ValidationError']);
    expect(json).toEqual({ Message: 'Endpoint nope of account 123456789012 not found.' });
  });

  test('a path other than /endpoints/{name}/invocations is not an operation', async () => {
    const { response, json } = await answer(invocation('/endpoints/e/other', '{}'));
    expect(response.statusCode).toBe(404);
    expect(response.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(json.Message).toMatch(/POST \/endpoints\/e\/other/);
  });
});

test('a host the simulation does not serve fails like a DNS lookup', async () => {
  const request = sageMakerRequest('DescribeEndpoint', '{}');
  request.hostname = 'api.sagemaker.eu-west-1.amazonaws.com';
  await expect(aws.requestHandler.handle(request)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  expect(aws.calls).toEqual([]);
});

test('an aborted request rejects with AbortError while it waits', async () => {
  const controller = new AbortController();
  const pending = aws.requestHandler.handle(sageMakerRequest('DescribeEndpoint', '{"EndpointName": "e"}'), { abortSignal: controller.signal });
  const outcome = pending.then(
    () => 'answered',
    (error: Error) => error.name,
  );
  await clock.tickAsync(10);
  controller.abort();
  await clock.tickAsync(100);
  expect(await outcome).toBe('AbortError');
});

test('isMutatingOperation: writes are mutating, reads and invocations are not', () => {
  for (const operation of ['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint', 'UpdateEndpoint', 'UpdateEndpointWeightsAndCapacities', 'DeleteEndpoint', 'DeleteEndpointConfig', 'DeleteModel', 'AddTags', 'DeleteTags', 'StartPipelineExecution']) {
    expect(isMutatingOperation('sagemaker', operation)).toBe(true);
  }
  for (const operation of ['DescribeEndpoint', 'DescribeModelPackage', 'ListTags', 'ListEndpoints', 'GetScalingConfigurationRecommendation', 'Search']) {
    expect(isMutatingOperation('sagemaker', operation)).toBe(false);
  }
  expect(isMutatingOperation('sagemaker-runtime', 'InvokeEndpoint')).toBe(false);
});

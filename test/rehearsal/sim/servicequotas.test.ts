/**
 * Service Quotas in the simulation, through the real SDK client: the seeded endpoint-usage quotas, pagination,
 * GetServiceQuota, and the service's errors on the wire.
 */
import { Readable } from 'node:stream';
import {
  GetServiceQuotaCommand,
  ListServiceQuotasCommand,
  paginateListServiceQuotas,
  ServiceQuotasClient,
  type ServiceQuota,
} from '@aws-sdk/client-service-quotas';
import { HttpRequest } from '@smithy/protocol-http';
import { readBody } from '../../../rehearsal/sim/transport';
import { endpointUsageQuotaName, quotaCodeFor, SimulatedAws } from '../../../rehearsal/sim/world';
import { drive, driveError, installClock, type FakeClock } from './helpers';

let clock: FakeClock;
let aws: SimulatedAws;
let client: ServiceQuotasClient;

beforeEach(() => {
  clock = installClock();
  aws = new SimulatedAws();
  client = new ServiceQuotasClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);

describe('seeded endpoint-usage quotas', () => {
  test('are listed under sagemaker with a stable L- code, their name, value and ARN', async () => {
    aws.servicequotas.setEndpointQuota('ml.g5.xlarge', 4);
    const { Quotas, NextToken } = await send(client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker' })));
    const code = quotaCodeFor('ml.g5.xlarge for endpoint usage');
    expect(code).toMatch(/^L-[0-9A-F]{8}$/);
    expect(Quotas).toEqual([
      {
        ServiceCode: 'sagemaker',
        ServiceName: 'Amazon SageMaker',
        QuotaArn: `arn:aws:servicequotas:us-east-1:123456789012:sagemaker/${code}`,
        QuotaCode: code,
        QuotaName: 'ml.g5.xlarge for endpoint usage',
        Value: 4,
        Unit: 'None',
        Adjustable: true,
        GlobalQuota: false,
        QuotaAppliedAtLevel: 'ACCOUNT',
      },
    ]);
    expect(NextToken).toBeUndefined();
    expect(aws.calls.map((call) => [call.service, call.operation, call.error])).toEqual([['servicequotas', 'ListServiceQuotas', undefined]]);
  });

  test('setting a quota again changes its value, not the list', async () => {
    aws.servicequotas.setEndpointQuota('ml.g5.xlarge', 4);
    aws.servicequotas.setEndpointQuota('ml.g5.xlarge', 10);
    const { Quotas } = await send(client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker' })));
    expect(Quotas?.map((q) => [q.QuotaName, q.Value])).toEqual([['ml.g5.xlarge for endpoint usage', 10]]);
    expect(aws.servicequotas.endpointQuota('ml.g5.xlarge')).toEqual({ quotaName: 'ml.g5.xlarge for endpoint usage', value: 10 });
    expect(aws.servicequotas.endpointQuota('ml.g6.xlarge')).toBeUndefined();
  });

  test('SageMaker without seeded quotas lists none', async () => {
    await expect(send(client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker' })))).resolves.toMatchObject({ Quotas: [] });
  });

  test('seeding refuses what is not an instance type or a count', () => {
    expect(() => aws.servicequotas.setEndpointQuota('g5.xlarge', 1)).toThrow(/invalid instance type/);
    expect(() => aws.servicequotas.setEndpointQuota('ml.g5.xlarge', -1)).toThrow(/non-negative integer/);
    expect(() => aws.servicequotas.setEndpointQuota('ml.g5.xlarge', 1.5)).toThrow(/non-negative integer/);
  });
});

describe('ListServiceQuotas pagination', () => {
  const types = ['ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g6.xlarge', 'ml.p4d.24xlarge'];

  test('MaxResults per page, a base64 NextToken while more remain, every quota once in the order set', async () => {
    types.forEach((type, index) => aws.servicequotas.setEndpointQuota(type, index));
    const first = await send(client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker', MaxResults: 2 })));
    expect(first.Quotas).toHaveLength(2);
    expect(first.NextToken).toMatch(/^[a-zA-Z0-9/+]+={0,2}$/);
    const all: ServiceQuota[] = [];
    const pages = paginateListServiceQuotas({ client, pageSize: 2 }, { ServiceCode: 'sagemaker' });
    const collect = async () => {
      let count = 0;
      for await (const page of pages) {
        all.push(...(page.Quotas ?? []));
        count += 1;
      }
      return count;
    };
    await expect(send(collect())).resolves.toBe(3);
    expect(all.map((q) => q.QuotaName)).toEqual(types.map(endpointUsageQuotaName));
  });

  test('a token that is not one of ours (or another service\'s) is InvalidPaginationTokenException', async () => {
    aws.servicequotas.setEndpointQuota('ml.g5.xlarge', 1);
    const error = await driveError(clock, client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker', NextToken: 'bm9wZQ==' })));
    expect(error).toMatchObject({ name: 'InvalidPaginationTokenException', message: 'Invalid pagination token.', $metadata: { httpStatusCode: 400 } });
  });

  test('MaxResults past 100 is a ValidationException naming the member', async () => {
    const error = await driveError(clock, client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker', MaxResults: 101 })));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe("1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100");
  });

  test('an unknown service code is NoSuchResourceException', async () => {
    const error = await driveError(clock, client.send(new ListServiceQuotasCommand({ ServiceCode: 'no-such-service' })));
    expect(error).toMatchObject({ name: 'NoSuchResourceException', message: 'The request failed because the specified service does not exist.' });
  });
});

describe('GetServiceQuota', () => {
  test('returns the quota of a code ListServiceQuotas gave', async () => {
    aws.servicequotas.setEndpointQuota('ml.g5.2xlarge', 6);
    const code = quotaCodeFor('ml.g5.2xlarge for endpoint usage');
    const { Quota } = await send(client.send(new GetServiceQuotaCommand({ ServiceCode: 'sagemaker', QuotaCode: code })));
    expect(Quota).toMatchObject({ QuotaCode: code, QuotaName: 'ml.g5.2xlarge for endpoint usage', Value: 6 });
  });

  test('an unknown quota code is NoSuchResourceException (400), its message in the Message member', async () => {
    const request = new HttpRequest({
      protocol: 'https:',
      hostname: 'servicequotas.us-east-1.amazonaws.com',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'ServiceQuotasV20190624.GetServiceQuota' },
      body: JSON.stringify({ ServiceCode: 'sagemaker', QuotaCode: 'L-00000000' }),
    });
    const { response } = await send(aws.requestHandler.handle(request));
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe('NoSuchResourceException');
    expect(response.body).toBeInstanceOf(Readable);
    expect(JSON.parse(new TextDecoder().decode(await readBody(response.body)))).toEqual({
      __type: 'NoSuchResourceException',
      Message: 'The request failed because the specified service quota does not exist.',
    });
    const error = await driveError(clock, client.send(new GetServiceQuotaCommand({ ServiceCode: 'sagemaker', QuotaCode: 'L-00000000' })));
    expect(error).toMatchObject({ name: 'NoSuchResourceException', message: 'The request failed because the specified service quota does not exist.' });
  });

  test('an injected fault answers with the fault\'s error', async () => {
    aws = new SimulatedAws({ faults: [{ kind: 'api-error', service: 'servicequotas', operation: 'GetServiceQuota', error: 'AccessDeniedException', message: 'not allowed' }] });
    client = new ServiceQuotasClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
    const error = await driveError(clock, client.send(new GetServiceQuotaCommand({ ServiceCode: 'sagemaker', QuotaCode: 'L-00000000' })));
    expect(error).toMatchObject({ name: 'AccessDeniedException', message: 'not allowed' });
  });
});

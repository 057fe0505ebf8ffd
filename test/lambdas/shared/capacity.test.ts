import 'aws-sdk-client-mock-jest';
import { DescribeEndpointCommand, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import {
  endpointUsageQuota,
  endpointUsageQuotas,
  headroom,
  instancesInUse,
  instancesInUseByType,
  isCapacityFailure,
} from '../../../lambdas/shared/capacity';
import { INSUFFICIENT_CAPACITY_REASON } from '../../../rehearsal/sim/faults';
import { endpointQuota, fakeAccount, quotaCode, serveAccount, serveQuotas, UNRELATED_QUOTAS } from '../support/capacity';
import { REGION, serviceError, validationException } from '../support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const serviceQuotas = mockClient(ServiceQuotasClient);
// mockClient stubs every instance of the class: these clients answer from the mocks.
const sageMakerClient = new SageMakerClient({ region: REGION });
const quotasClient = new ServiceQuotasClient({ region: REGION });

beforeEach(() => {
  sageMaker.reset();
  serviceQuotas.reset();
});

describe('endpointUsageQuotas', () => {
  test('pages through SageMaker\'s quotas and picks each type\'s "for endpoint usage" quota, nothing else', async () => {
    serveQuotas(serviceQuotas, [...UNRELATED_QUOTAS, endpointQuota('ml.g5.2xlarge', 2), endpointQuota('ml.g5.xlarge', 8)], 3);
    const quotas = await endpointUsageQuotas(quotasClient, ['ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g6.xlarge']);
    expect([...quotas.values()]).toEqual([
      { instanceType: 'ml.g5.2xlarge', quotaCode: quotaCode('ml.g5.2xlarge for endpoint usage'), quotaName: 'ml.g5.2xlarge for endpoint usage', value: 2 },
      { instanceType: 'ml.g5.xlarge', quotaCode: quotaCode('ml.g5.xlarge for endpoint usage'), quotaName: 'ml.g5.xlarge for endpoint usage', value: 8 },
    ]);
    // 7 quotas, 3 a page: every page was read looking for ml.g6.xlarge.
    expect(serviceQuotas).toHaveReceivedCommandTimes(ListServiceQuotasCommand, 3);
    expect(serviceQuotas).toHaveReceivedCommandWith(ListServiceQuotasCommand, { ServiceCode: 'sagemaker', MaxResults: 100 });
  });

  test('stops paging once every asked type is found', async () => {
    serveQuotas(serviceQuotas, [endpointQuota('ml.g5.xlarge', 8), ...UNRELATED_QUOTAS], 2);
    await expect(endpointUsageQuota(quotasClient, 'ml.g5.xlarge')).resolves.toMatchObject({ value: 8 });
    expect(serviceQuotas).toHaveReceivedCommandTimes(ListServiceQuotasCommand, 1);
  });

  test('a type without a listed quota, or whose quota has no value (ErrorReason), is unknown', async () => {
    const unavailable = { ...endpointQuota('ml.p4d.24xlarge', 0), Value: undefined, ErrorReason: { ErrorCode: 'SERVICE_QUOTA_NOT_AVAILABLE_ERROR' as const } };
    serveQuotas(serviceQuotas, [...UNRELATED_QUOTAS, unavailable]);
    await expect(endpointUsageQuota(quotasClient, 'ml.g5.xlarge')).resolves.toBeUndefined();
    await expect(endpointUsageQuota(quotasClient, 'ml.p4d.24xlarge')).resolves.toBeUndefined();
  });

  test('Service Quotas errors propagate with their names', async () => {
    serviceQuotas.on(ListServiceQuotasCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(endpointUsageQuota(quotasClient, 'ml.g5.xlarge')).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });
});

describe('instancesInUseByType', () => {
  const account = () =>
    fakeAccount(
      [
        // Blue of the rollout's endpoint, autoscaled to 3.
        { name: 'fraud-detector-prod', configName: 'fraud-v6', variants: [{ name: 'v6', instanceType: 'ml.g5.xlarge', current: 3 }] },
        // Scaling up: the desired count is already held.
        { name: 'search-prod', configName: 'search-v2', status: 'Updating', variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.2xlarge', current: 1, desired: 2 }] },
        // An UpdateEndpoint in progress: old and new fleets both exist.
        {
          name: 'ranker-prod',
          configName: 'ranker-v1',
          status: 'Updating',
          variants: [{ name: 'v1', instanceType: 'ml.g5.xlarge', current: 2 }],
          pending: {
            configName: 'ranker-v1-v2',
            variants: [
              { name: 'v1', instanceType: 'ml.g5.xlarge', current: 0, desired: 2 },
              { name: 'v2', instanceType: 'ml.g6.xlarge', current: 0, desired: 1 },
            ],
          },
        },
        // Still creating: no fleet reported yet, its config says what is being provisioned.
        { name: 'new-prod', configName: 'new-v1', status: 'Creating', variants: [] },
        // Its config was deleted: the type of its instances is unknown.
        { name: 'orphan-prod', configName: 'gone', variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', current: 4 }] },
        // Failed creation: holds nothing.
        { name: 'broken-prod', configName: 'broken-v1', status: 'Failed', variants: [] },
      ],
      [
        { name: 'fraud-v6', variants: [{ name: 'v6', instanceType: 'ml.g5.xlarge', initialInstanceCount: 2 }] },
        { name: 'search-v2', variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.2xlarge', initialInstanceCount: 1 }] },
        { name: 'ranker-v1', variants: [{ name: 'v1', instanceType: 'ml.g5.xlarge', initialInstanceCount: 2 }] },
        { name: 'new-v1', variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', initialInstanceCount: 1 }] },
        { name: 'broken-v1', variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', initialInstanceCount: 5 }] },
      ],
    );

  test('sums every endpoint\'s fleets by type: max of current and desired, pending deployments, creations', async () => {
    serveAccount(sageMaker, account(), 2);
    const usage = await instancesInUseByType(sageMakerClient);
    expect(Object.fromEntries(usage.byType)).toEqual({ 'ml.g5.xlarge': 3 + 2 + 2 + 1, 'ml.g5.2xlarge': 2, 'ml.g6.xlarge': 1 });
    expect(usage.unattributed).toBe(4);
    expect(usage.endpoints).toBe(6);
    // Six endpoints, two a page.
    expect(sageMaker).toHaveReceivedCommandTimes(ListEndpointsCommand, 3);
    expect(sageMaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 6);
  });

  test('an endpoint deleted between ListEndpoints and DescribeEndpoint counts nothing', async () => {
    const state = account();
    serveAccount(sageMaker, state, 10);
    sageMaker.on(DescribeEndpointCommand, { EndpointName: 'fraud-detector-prod' }).rejects(validationException('Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-detector-prod".'));
    const usage = await instancesInUseByType(sageMakerClient);
    expect(usage.byType.get('ml.g5.xlarge')).toBe(2 + 2 + 1);
    expect(usage.endpoints).toBe(5);
  });

  test('instancesInUse: one type; none when the account has no endpoint', async () => {
    serveAccount(sageMaker, account());
    await expect(instancesInUse(sageMakerClient, 'ml.g5.2xlarge')).resolves.toBe(2);
    serveAccount(sageMaker, fakeAccount([], []));
    await expect(instancesInUse(sageMakerClient, 'ml.g5.xlarge')).resolves.toBe(0);
  });
});

describe('headroom', () => {
  const quota = { instanceType: 'ml.g5.xlarge', quotaCode: 'L-1194F27D', quotaName: 'ml.g5.xlarge for endpoint usage', value: 4 };

  test('fits when in use plus needed is at most the quota', () => {
    expect(headroom('ml.g5.xlarge', quota, 2, 2)).toEqual({
      fits: true,
      available: 2,
      reason: "quota 'ml.g5.xlarge for endpoint usage' (L-1194F27D) is 4; 2 in use; green needs 2",
    });
  });

  test('does not fit one instance past the quota, and says why', () => {
    expect(headroom('ml.g5.xlarge', quota, 3, 2)).toEqual({
      fits: false,
      available: 1,
      reason: "quota 'ml.g5.xlarge for endpoint usage' (L-1194F27D) is 4; 3 in use; green needs 2",
    });
    expect(headroom('ml.g5.xlarge', quota, 5, 1)).toMatchObject({ fits: false, available: 0 });
  });

  test('an unknown quota sets no limit here, and says so', () => {
    const room = headroom('ml.g6.xlarge', undefined, 40, 2);
    expect(room.fits).toBe(true);
    expect(room.available).toBeUndefined();
    expect(room.reason).toBe("no quota 'ml.g6.xlarge for endpoint usage' listed in Service Quotas: no pre-flight limit; 40 in use; green needs 2");
  });
});

describe('isCapacityFailure', () => {
  test.each([
    ['ResourceLimitExceeded', serviceError('ResourceLimitExceeded', "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 4 Instances"), true],
    ['InsufficientInstanceCapacity', INSUFFICIENT_CAPACITY_REASON, true],
    ['compute capacity', 'Unable to provision requested ML compute capacity. Please retry using a different ML instance type.', true],
    ['a quota', 'The account-level service limit was exceeded: request a quota increase.', true],
    ['a busy endpoint', validationException('Cannot update in-progress endpoint "x".'), false],
    ['throttling', serviceError('ThrottlingException'), false],
    ['a failed health check', 'The primary container for production variant v7 did not pass the ping health check.', false],
    ['no reason', '', false],
    ['nothing', undefined, false],
  ])('%s', (_label, reasonOrError, expected) => {
    expect(isCapacityFailure(reasonOrError)).toBe(expected);
  });
});

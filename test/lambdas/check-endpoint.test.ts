import 'aws-sdk-client-mock-jest';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, SageMakerClient, type EndpointStatus, type ProductionVariant } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/check-endpoint';
import { INSUFFICIENT_CAPACITY_REASON } from '../../rehearsal/sim/faults';
import { BLUE, BLUE_CONFIG_VARIANT, describedEndpoint, describedEndpointConfig, ENDPOINT, errors, NAMES, serviceError } from './support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const EXPECTED = NAMES.transitionEndpointConfigName;
const HEALTH_CHECK_REASON = 'The primary container for production variant v7 did not pass the ping health check. Please check CloudWatch logs for this endpoint.';
/** Green on a fallback type, as check-capacity chose it. */
const GREEN_CONFIG_VARIANT: ProductionVariant = {
  VariantName: NAMES.greenVariantName,
  ModelName: NAMES.greenModelName,
  InstanceType: 'ml.g5.2xlarge',
  InitialInstanceCount: 2,
  InitialVariantWeight: 0,
};
const TRANSITION_CONFIG = describedEndpointConfig(EXPECTED, [{ ...BLUE_CONFIG_VARIANT, InitialInstanceCount: 3 }, GREEN_CONFIG_VARIANT]);

/** Input as the ASL builds it, for an update requested `secondsAgo` seconds ago. */
const input = (secondsAgo = 60, timeoutSeconds = 3600) => ({
  endpointName: ENDPOINT,
  expectedEndpointConfigName: EXPECTED,
  requestedAt: new Date(Date.now() - secondsAgo * 1000).toISOString(),
  timeoutSeconds,
});

const onTransition = (status: EndpointStatus, greenWeights: { currentWeight: number; desiredWeight?: number } = { currentWeight: 0 }, failureReason?: string) =>
  describedEndpoint({
    status,
    failureReason,
    configName: EXPECTED,
    variants: [{ name: BLUE.variantName, currentWeight: 1 }, { name: NAMES.greenVariantName, ...greenWeights }],
  });

beforeEach(() => sageMaker.reset());

describe('check-endpoint', () => {
  test("takes the rollout's identity for its log lines, and names a bad one", async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition('Updating'));
    const identity = { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:rollout:x', deploymentId: '7ae3dbda', modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/g/7' };
    await expect(handler({ ...input(), ...identity })).resolves.toEqual({ inService: false, status: 'Updating' });
    await expect(handler({ ...input(), ...identity, executionArn: '' })).rejects.toThrow(/executionArn: must not be empty/);
  });

  test.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'] as const)('%s within the timeout: not yet in service', async (status) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(status));
    await expect(handler(input())).resolves.toEqual({ inService: false, status });
    expect(sageMaker).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT });
  });

  test('Updating longer than the timeout: EndpointUpdateTimedOut', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition('Updating'));
    await expect(handler(input(3601, 3600))).rejects.toMatchObject({
      name: 'EndpointUpdateTimedOut',
      message: expect.stringMatching(/still Updating 3601 s after the request.*limit 3600 s/),
    });
  });

  test('InService on the requested config with settled weights: in service', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition('InService'));
    await expect(handler(input())).resolves.toEqual({ inService: true, status: 'InService' });
  });

  test('InService with weights still converging: not yet', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition('InService', { currentWeight: 0, desiredWeight: 1 }));
    await expect(handler(input())).resolves.toEqual({ inService: false, status: 'InService' });
  });

  test('InService with weights equal up to SageMaker\'s 32-bit storage: in service', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition('InService', { currentWeight: Math.fround(1 / 3), desiredWeight: 1 / 3 }));
    await expect(handler(input())).resolves.toEqual({ inService: true, status: 'InService' });
  });

  test('InService on another config: SageMaker rolled the update back', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({
        configName: BLUE.endpointConfigName,
        variants: [{ name: BLUE.variantName }],
        failureReason: HEALTH_CHECK_REASON,
      }),
    );
    await expect(handler(input())).rejects.toMatchObject({
      name: 'EndpointUpdateRolledBack',
      message:
        `SageMaker rolled the update back: endpoint ${ENDPOINT} is InService on config ${BLUE.endpointConfigName}, ` +
        `not the requested ${EXPECTED}. FailureReason: ${HEALTH_CHECK_REASON}`,
    });
    // Not a capacity reason: the requested config is not even looked at.
    expect(sageMaker).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
  });

  test('green\'s provisioning rolled back for capacity: CapacityUnavailable naming green\'s instance type and the reason', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }], failureReason: INSUFFICIENT_CAPACITY_REASON }),
    );
    sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: EXPECTED }).resolves(TRANSITION_CONFIG);
    await expect(handler(input())).rejects.toMatchObject({
      name: 'CapacityUnavailable',
      message:
        `SageMaker could not provision 2 x ml.g5.2xlarge for variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT}: ` +
        `the update to config ${EXPECTED} rolled back (InService on ${BLUE.endpointConfigName}). FailureReason: ${INSUFFICIENT_CAPACITY_REASON}`,
    });
  });

  test('another update rolled back for capacity (blue\'s removal adds no variant): EndpointUpdateRolledBack, not retried on another type', async () => {
    const finalConfig = NAMES.finalEndpointConfigName;
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({
        configName: EXPECTED,
        variants: [{ name: BLUE.variantName, currentWeight: 0 }, { name: NAMES.greenVariantName }],
        failureReason: INSUFFICIENT_CAPACITY_REASON,
      }),
    );
    sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: finalConfig }).resolves(
      describedEndpointConfig(finalConfig, [{ ...GREEN_CONFIG_VARIANT, InitialVariantWeight: 1 }]),
    );
    await expect(handler({ ...input(), expectedEndpointConfigName: finalConfig })).rejects.toMatchObject({ name: 'EndpointUpdateRolledBack' });
  });

  test('a capacity rollback whose requested config is gone: EndpointUpdateRolledBack', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }], failureReason: INSUFFICIENT_CAPACITY_REASON }),
    );
    sageMaker.on(DescribeEndpointConfigCommand).rejects(errors.endpointConfigNotFound(EXPECTED));
    await expect(handler(input())).rejects.toMatchObject({ name: 'EndpointUpdateRolledBack' });
  });

  test('a first deployment whose creation failed for capacity: EndpointUpdateFailed (the endpoint is deleted, not retried)', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ status: 'Failed', configName: NAMES.finalEndpointConfigName, variants: [], failureReason: INSUFFICIENT_CAPACITY_REASON }),
    );
    await expect(handler({ ...input(), expectedEndpointConfigName: NAMES.finalEndpointConfigName })).rejects.toMatchObject({ name: 'EndpointUpdateFailed' });
  });

  test('rolled back without a FailureReason: says so', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }));
    await expect(handler(input())).rejects.toMatchObject({ name: 'EndpointUpdateRolledBack', message: expect.stringMatching(/FailureReason: none given$/) });
  });

  test.each(['Failed', 'UpdateRollbackFailed', 'OutOfService', 'Deleting'] as const)('%s: EndpointUpdateFailed with status and reason', async (status) => {
    sageMaker.on(DescribeEndpointCommand).resolves(onTransition(status, undefined, 'The primary container for production variant v7 did not pass the ping health check.'));
    await expect(handler(input())).rejects.toMatchObject({
      name: 'EndpointUpdateFailed',
      message: expect.stringMatching(new RegExp(`is ${status} \\(FailureReason: The primary container .* did not pass the ping health check\\.\\)`)),
    });
  });

  test('a missing endpoint: EndpointUpdateFailed', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
    await expect(handler(input())).rejects.toMatchObject({ name: 'EndpointUpdateFailed', message: expect.stringMatching(/does not exist/) });
  });

  test('throttling propagates unchanged', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(serviceError('ThrottlingException'));
    await expect(handler(input())).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test.each([
    [{ ...input(), requestedAt: 'yesterday' }, /requestedAt: must be an ISO 8601 date-time/],
    [{ ...input(), timeoutSeconds: -5 }, /timeoutSeconds: must be > 0/],
    [{ ...input(), endpointName: '' }, /endpointName: must not be empty/],
    [{ endpointName: ENDPOINT }, /expectedEndpointConfigName: /],
  ])('rejects bad input %#, naming the field, without calling AWS', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

/** Fault rules: which calls they fire on, and how they count. */
import { FaultInjector, INSUFFICIENT_CAPACITY_REASON } from '../../../rehearsal/sim/faults';

const fired = (injector: FaultInjector, count: number, operation = 'DescribeEndpoint'): (string | undefined)[] =>
  Array.from({ length: count }, () => injector.apiErrorFor('sagemaker', operation)?.code);

test('api-error fires `times` times (default 1) after skipping `after` matching calls (default 0)', () => {
  expect(fired(new FaultInjector([{ kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'ThrottlingException' }]), 3)).toEqual([
    'ThrottlingException',
    undefined,
    undefined,
  ]);
  expect(
    fired(new FaultInjector([{ kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'InternalFailure', times: 2, after: 1 }]), 4),
  ).toEqual([undefined, 'InternalFailure', 'InternalFailure', undefined]);
});

test('api-error matches service and operation exactly', () => {
  const injector = new FaultInjector([{ kind: 'api-error', service: 'sagemaker-runtime', operation: 'InvokeEndpoint', error: 'ModelError', times: 5 }]);
  expect(injector.apiErrorFor('sagemaker', 'InvokeEndpoint')).toBeUndefined();
  expect(injector.apiErrorFor('sagemaker-runtime', 'DescribeEndpoint')).toBeUndefined();
  const error = injector.apiErrorFor('sagemaker-runtime', 'InvokeEndpoint');
  expect([error?.code, error?.httpStatus, error?.details.OriginalStatusCode]).toEqual(['ModelError', 424, 500]);
});

test('injected errors get AWS status codes and plausible messages', () => {
  const injector = new FaultInjector([
    { kind: 'api-error', service: 'sagemaker', operation: 'A', error: 'ThrottlingException' },
    { kind: 'api-error', service: 'sagemaker', operation: 'B', error: 'ServiceUnavailable' },
    { kind: 'api-error', service: 'sagemaker', operation: 'C', error: 'ResourceLimitExceeded', message: 'custom' },
  ]);
  expect([injector.apiErrorFor('sagemaker', 'A')?.message, injector.apiErrorFor('sagemaker', 'A')]).toEqual(['Rate exceeded', undefined]);
  expect(injector.apiErrorFor('sagemaker', 'B')?.httpStatus).toBe(503);
  expect(injector.apiErrorFor('sagemaker', 'C')?.message).toBe('custom');
});

test('every matching rule counts a call, even when an earlier rule fired on it', () => {
  const injector = new FaultInjector([
    { kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'ThrottlingException' },
    { kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'InternalFailure', after: 1 },
  ]);
  expect(fired(injector, 3)).toEqual(['ThrottlingException', 'InternalFailure', undefined]);
});

test('update-rollback fires for the matching target config only, `times` times', () => {
  const injector = new FaultInjector([{ kind: 'update-rollback', endpointConfigName: 'green-config', times: 2 }]);
  expect(injector.rollbackReasonFor('other-config')).toBeUndefined();
  expect(injector.rollbackReasonFor('green-config')).toBe(INSUFFICIENT_CAPACITY_REASON);
  expect(injector.rollbackReasonFor('green-config')).toBe(INSUFFICIENT_CAPACITY_REASON);
  expect(injector.rollbackReasonFor('green-config')).toBeUndefined();
});

test('create-failure fires once by default, with its reason', () => {
  const injector = new FaultInjector([{ kind: 'create-failure', reason: 'no capacity' }]);
  expect(injector.createFailureReason()).toBe('no capacity');
  expect(injector.createFailureReason()).toBeUndefined();
});

test('invalid counters are rejected up front', () => {
  expect(() => new FaultInjector([{ kind: 'create-failure', times: -1 }])).toThrow(RangeError);
  expect(() => new FaultInjector([{ kind: 'api-error', service: 'sagemaker', operation: 'X', error: 'Y', after: 1.5 }])).toThrow(RangeError);
});

import 'aws-sdk-client-mock-jest';
import { ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createUnlessExists,
  isAlreadyExistsError,
  isEndpointBusyError,
  isNotFoundError,
  listAllTags,
  unlessNotFound,
  whenEndpointConfigVisible,
} from '../../../lambdas/shared/sagemaker';
import { errors, serviceError, validationException } from '../support/fixtures';

describe('SageMaker error recognition', () => {
  test('each "not found" message is recognized as its own kind only', () => {
    const cases = [
      [errors.endpointNotFound(), 'endpoint'],
      [errors.endpointConfigNotFound('fraud-detector-prod-v6-0a1b2c3d'), 'endpoint configuration'],
      [errors.modelNotFound('fraud-detector-v6-0a1b2c3d'), 'model'],
      [errors.modelPackageNotFound(), 'model package'],
    ] as const;
    for (const [error, kind] of cases) {
      for (const other of ['endpoint', 'endpoint configuration', 'model', 'model package'] as const) {
        expect([kind, other, isNotFoundError(error, other)]).toEqual([kind, other, other === kind]);
      }
    }
  });

  test('the message alone is not enough: only a ValidationException is SageMaker saying "not found"', () => {
    const lookalike = new Error('Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x".');
    expect(isNotFoundError(lookalike, 'endpoint')).toBe(false);
    expect(isNotFoundError(serviceError('ThrottlingException', 'Rate exceeded'), 'endpoint')).toBe(false);
  });

  test('"already existing" is recognized per kind', () => {
    expect(isAlreadyExistsError(errors.modelExists('m'), 'model')).toBe(true);
    expect(isAlreadyExistsError(errors.modelExists('m'), 'endpoint configuration')).toBe(false);
    expect(isAlreadyExistsError(errors.endpointConfigExists('c'), 'endpoint configuration')).toBe(true);
    expect(isAlreadyExistsError(errors.endpointConfigExists('c'), 'endpoint')).toBe(false);
    expect(isAlreadyExistsError(errors.endpointExists(), 'endpoint')).toBe(true);
    expect(isAlreadyExistsError(validationException('1 validation error detected'), 'model')).toBe(false);
  });

  test('a busy endpoint is recognized, other validation errors are not', () => {
    expect(isEndpointBusyError(errors.endpointBusy())).toBe(true);
    expect(isEndpointBusyError(errors.endpointNotFound())).toBe(false);
  });

  test('unlessNotFound turns only its own kind of "not found" into undefined', async () => {
    await expect(unlessNotFound('model', () => Promise.reject(errors.modelNotFound('m')))).resolves.toBeUndefined();
    await expect(unlessNotFound('model', () => Promise.reject(errors.endpointNotFound()))).rejects.toThrow(/Could not find endpoint/);
    await expect(unlessNotFound('model', () => Promise.resolve('described'))).resolves.toBe('described');
  });

  test('createUnlessExists reports created, existing, or rethrows anything else', async () => {
    await expect(createUnlessExists('model', () => Promise.resolve({}))).resolves.toBe('created');
    await expect(createUnlessExists('model', () => Promise.reject(errors.modelExists('m')))).resolves.toBe('existing');
    await expect(createUnlessExists('model', () => Promise.reject(serviceError('ResourceLimitExceeded')))).rejects.toMatchObject({
      name: 'ResourceLimitExceeded',
    });
  });
});

describe('whenEndpointConfigVisible', () => {
  test('retries a call that does not see a just-created config yet, then returns its result', async () => {
    const call = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(errors.endpointConfigNotFound('c'))
      .mockRejectedValueOnce(errors.endpointConfigNotFound('c'))
      .mockResolvedValue('updated');
    await expect(whenEndpointConfigVisible(call, { delayMs: 0 })).resolves.toBe('updated');
    expect(call).toHaveBeenCalledTimes(3);
  });

  test('gives up after the configured attempts with the last error', async () => {
    const call = jest.fn<Promise<string>, []>().mockRejectedValue(errors.endpointConfigNotFound('c'));
    await expect(whenEndpointConfigVisible(call, { attempts: 3, delayMs: 0 })).rejects.toThrow(/Could not find endpoint configuration/);
    expect(call).toHaveBeenCalledTimes(3);
  });

  test('does not retry any other error', async () => {
    const call = jest.fn<Promise<string>, []>().mockRejectedValue(errors.endpointBusy());
    await expect(whenEndpointConfigVisible(call, { delayMs: 0 })).rejects.toThrow(/in-progress/);
    expect(call).toHaveBeenCalledTimes(1);
  });
});

describe('listAllTags', () => {
  const sageMaker = mockClient(SageMakerClient);
  afterAll(() => sageMaker.restore());

  test('pages through ListTags', async () => {
    sageMaker
      .on(ListTagsCommand)
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'fraud' }], NextToken: 'page-2' })
      .resolvesOnce({ Tags: [{ Key: 'bluegreen:managed-by', Value: 'sagemaker-blue-green' }] });
    const tags = await listAllTags(new SageMakerClient({ region: 'us-east-1' }), 'arn:aws:sagemaker:us-east-1:123456789012:model/m');
    expect(tags.map((t) => t.Key)).toEqual(['team', 'bluegreen:managed-by']);
    expect(sageMaker).toHaveReceivedCommandTimes(ListTagsCommand, 2);
    expect(sageMaker).toHaveReceivedNthCommandWith(2, ListTagsCommand, { NextToken: 'page-2' });
  });
});

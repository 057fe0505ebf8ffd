import { explainAwsError } from '../../cli/aws-errors';
import { EXECUTION_ARN, REGION, serviceError } from './support';

const target = { action: 'states:DescribeExecution', executionArn: EXECUTION_ARN, region: REGION };
const named = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name }, extra);

describe('explainAwsError', () => {
  test.each([
    ['ExecutionDoesNotExist', serviceError('ExecutionDoesNotExist'), `no execution ${EXECUTION_ARN} (check the ARN and --region)`],
    ['InvalidArn', serviceError('InvalidArn', 'Invalid Arn'), `${EXECUTION_ARN} is not an execution ARN Step Functions accepts: Invalid Arn`],
    ['TaskTimedOut', serviceError('TaskTimedOut'), 'the decision came too late: the approval timed out'],
    ['TaskDoesNotExist', serviceError('TaskDoesNotExist'), 'the decision came too late: the approval timed out'],
    ['AccessDeniedException', serviceError('AccessDeniedException'), 'permission missing: your AWS identity may not call states:DescribeExecution'],
    ['KmsAccessDeniedException', serviceError('KmsAccessDeniedException'), 'kms:Decrypt'],
    ['CredentialsProviderError', named('CredentialsProviderError', 'Could not load credentials from any providers'), 'no AWS credentials found'],
    ['ExpiredTokenException', serviceError('ExpiredTokenException'), 'your AWS credentials have expired'],
    ['UnrecognizedClientException', serviceError('UnrecognizedClientException'), 'AWS did not accept your credentials'],
    ['a missing region', new Error('Region is missing'), 'no AWS region configured: pass --region'],
    ['ThrottlingException', serviceError('ThrottlingException'), 'AWS throttled states:DescribeExecution even after retries'],
    ['no network', named('Error', 'getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com', { code: 'ENOTFOUND' }), 'cannot reach Step Functions in eu-west-1'],
  ])('%s', (_, error, expected) => {
    expect(explainAwsError(error, target)).toContain(expected);
  });

  test('no network: names the service of the action', () => {
    const offline = named('Error', 'getaddrinfo ENOTFOUND dynamodb.eu-west-1.amazonaws.com', { code: 'ENOTFOUND' });
    expect(explainAwsError(offline, { ...target, action: 'dynamodb:Query' })).toContain('cannot reach DynamoDB in eu-west-1');
    expect(explainAwsError(offline, { ...target, action: 'sagemaker:DescribeEndpoint' })).toContain('cannot reach SageMaker in eu-west-1');
  });

  test('anything else: the action, the error name and AWS\'s message', () => {
    expect(explainAwsError(serviceError('InternalServerError', 'try later'), target)).toBe('states:DescribeExecution failed: InternalServerError: try later');
    expect(explainAwsError('boom', target)).toBe('states:DescribeExecution failed: Error: boom');
  });
});

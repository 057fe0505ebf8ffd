import { approvalEventPattern, ModelPackageStateChangeEventSchema } from '../../../lambdas/shared/events';
import { approvalEvent, PACKAGE_ARN } from '../support/fixtures';

/** The paths of the fields zod rejects. */
function rejectedPaths(event: unknown): string[] {
  const result = ModelPackageStateChangeEventSchema.safeParse(event);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('ModelPackageStateChangeEventSchema', () => {
  test('accepts an EventBridge approval event and keeps its other fields', () => {
    const parsed = ModelPackageStateChangeEventSchema.parse(approvalEvent());
    expect(parsed.detail.ModelPackageArn).toBe(PACKAGE_ARN);
    expect(parsed.detail).toHaveProperty('ModelPackageStatus', 'Completed');
    expect(parsed).toHaveProperty('account', '123456789012');
  });

  test('accepts non-approved statuses: not approving is a decision, not bad input', () => {
    expect(rejectedPaths(approvalEvent({ ModelApprovalStatus: 'Rejected' }))).toEqual([]);
  });

  test.each([
    [{ ...approvalEvent(), source: 'aws.s3' }, 'source'],
    [{ ...approvalEvent(), 'detail-type': 'SageMaker Endpoint State Change' }, 'detail-type'],
    [approvalEvent({ ModelPackageArn: undefined }), 'detail.ModelPackageArn'],
    [approvalEvent({ ModelPackageArn: 'arn:aws:s3:::bucket/key' }), 'detail.ModelPackageArn'],
    [approvalEvent({ ModelPackageVersion: 0 }), 'detail.ModelPackageVersion'],
    [approvalEvent({ ModelPackageVersion: 1.5 }), 'detail.ModelPackageVersion'],
    [approvalEvent({ ModelPackageVersion: '7' }), 'detail.ModelPackageVersion'],
    [approvalEvent({ ModelPackageGroupName: 'fraud_detector' }), 'detail.ModelPackageGroupName'],
    [approvalEvent({ ModelApprovalStatus: '' }), 'detail.ModelApprovalStatus'],
  ])('rejects %#, naming %s', (event, path) => {
    expect(rejectedPaths(event)).toEqual([path]);
  });

  test('the schema and the EventBridge pattern agree on source and detail-type', () => {
    const pattern = approvalEventPattern(['fraud-detector']);
    expect(rejectedPaths({ ...approvalEvent(), source: pattern.source[0], 'detail-type': pattern['detail-type'][0] })).toEqual([]);
  });
});

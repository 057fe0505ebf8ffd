/**
 * The approval event: what starts a rollout. The EventBridge rule (lib/approval-trigger.ts) and the local
 * rehearsal's bus both use `approvalEventPattern`, so the rehearsal filters exactly as AWS does.
 */
export const APPROVAL_EVENT_SOURCE = 'aws.sagemaker';
export const APPROVAL_EVENT_DETAIL_TYPE = 'SageMaker Model Package State Change';

export interface ApprovalEventPattern {
  readonly source: string[];
  readonly 'detail-type': string[];
  readonly detail: { readonly ModelApprovalStatus: string[]; readonly ModelPackageGroupName: string[] };
}

/** Approvals of the given model package groups, and nothing else. */
export function approvalEventPattern(modelPackageGroupNames: readonly string[]): ApprovalEventPattern {
  return {
    source: [APPROVAL_EVENT_SOURCE],
    'detail-type': [APPROVAL_EVENT_DETAIL_TYPE],
    detail: { ModelApprovalStatus: ['Approved'], ModelPackageGroupName: [...modelPackageGroupNames] },
  };
}

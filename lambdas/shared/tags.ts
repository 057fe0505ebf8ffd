/**
 * Tags on everything a rollout creates. They are how this system recognizes its own resources: cleanup
 * deletes only what carries MANAGED_BY_TAG, never what a person or another tool created.
 */
import type { Tag } from '@aws-sdk/client-sagemaker';

export const SYSTEM_NAME = 'sagemaker-blue-green';
export const MANAGED_BY_TAG = 'bluegreen:managed-by';
export const DEPLOYMENT_ID_TAG = 'bluegreen:deployment-id';
export const MODEL_PACKAGE_ARN_TAG = 'bluegreen:model-package-arn';

export function rolloutTags(deploymentId: string, modelPackageArn: string): Tag[] {
  return [
    { Key: MANAGED_BY_TAG, Value: SYSTEM_NAME },
    { Key: DEPLOYMENT_ID_TAG, Value: deploymentId },
    { Key: MODEL_PACKAGE_ARN_TAG, Value: modelPackageArn },
  ];
}

export function isManagedBySystem(tags: readonly Tag[] | undefined): boolean {
  return (tags ?? []).some((t) => t.Key === MANAGED_BY_TAG && t.Value === SYSTEM_NAME);
}

/**
 * Shared by the infra tests: an example configuration, a synthesized stack (bundling skipped, so the real
 * lambdas/<dir>/index.ts entries need only exist), and a view of each function's IAM grants as flat
 * (action, resource, condition) triples that tests compare exactly.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { RolloutConfigInput } from '../../lambdas/shared/config';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import type { RolloutRef } from '../../lambdas/shared/lifecycle-events';
import { EVENT_HANDLERS, RECONCILER_STEP, ROLLOUT_STEPS } from '../../lambdas/steps';
import { BlueGreenDeploymentStack, type BlueGreenDeploymentStackProps } from '../../lib/blue-green-deployment-stack';

export const REPO_ROOT = path.join(__dirname, '..', '..');
export const ASL_PATH = path.join(REPO_ROOT, 'state-machines', 'rollout.asl.json');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJson = require('../../cdk.json') as { context: Record<string, unknown> };

/**
 * Two targets: a mixed-case endpoint name checks that ARNs are lowercased; the second shares a sample-payload
 * bucket with the first, which must be granted once. The first moves traffic ALL_AT_ONCE, the second as a 10%
 * CANARY (so their state machines differ); both name existing alarms, one of them shared.
 */
export const TEST_CONFIG: RolloutConfigInput = {
  targets: [
    {
      modelPackageGroupName: 'Fraud-Detector',
      endpointName: 'Fraud-Detector-Prod',
      modelExecutionRoleArn: 'arn:aws:iam::123456789012:role/fraud-detector-sagemaker-execution',
      green: { instanceType: 'ml.g5.xlarge', initialInstanceCount: 2 },
      policy: {
        samplePayload: { body: '{"features": [0.31, 1.2]}', contentType: 'application/json' },
        validation: { datasetS3Uri: 's3://golden-datasets/fraud/golden.jsonl', samplePayloadBuckets: ['model-samples'] },
        alarms: { existingAlarmNames: ['fraud-prod-p50-latency', 'ml-platform-health'] },
      },
    },
    {
      modelPackageGroupName: 'churn-model',
      endpointName: 'churn-prod',
      modelExecutionRoleArn: 'arn:aws:iam::123456789012:role/churn-sagemaker-execution',
      green: { instanceType: 'ml.m5.large' },
      policy: {
        bakeSeconds: 60,
        samplePayload: { body: '1,2,3', contentType: 'text/csv' },
        validation: { datasetS3Uri: 's3://golden-datasets/churn/v2/golden.jsonl', samplePayloadBuckets: ['model-samples', 'churn-samples'] },
        traffic: { mode: 'CANARY', canaryPercent: 10, stepBakeSeconds: 120 },
        alarms: { existingAlarmNames: ['ml-platform-health'] },
      },
    },
  ],
};

/** A rollout's identity, for what the deployed resources receive from the lifecycle code (items, events). */
export const TEST_ROLLOUT_REF: RolloutRef = {
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:rollout:3f9a2c1b',
  deploymentId: '3f9a2c1b',
  endpointName: 'fraud-prod',
  modelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-detector/7',
  modelPackageGroupName: 'fraud-detector',
  modelPackageVersion: 7,
};

/** An App with the project's feature flags (cdk.json) and bundling skipped. */
export function testApp(extraContext: Record<string, unknown> = {}): App {
  return new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], blueGreen: TEST_CONFIG, ...extraContext },
  });
}

export function synthStack(overrides: Partial<BlueGreenDeploymentStackProps> = {}): {
  stack: BlueGreenDeploymentStack;
  template: Template;
} {
  const app = testApp();
  const stack = new BlueGreenDeploymentStack(app, 'SageMakerBlueGreen', {
    config: parseRolloutConfig(TEST_CONFIG),
    ...overrides,
  });
  return { stack, template: Template.fromStack(stack) };
}

type Json = unknown;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;

/** `{Fn::Join}` / `{Ref}` to `arn:${AWS::Partition}:...`, the way one reads an ARN. */
export function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, Json>;
  if (node && Array.isArray(node['Fn::Join'])) {
    const [delimiter, items] = node['Fn::Join'] as [string, Json[]];
    return items.map(flatten).join(delimiter);
  }
  if (node && typeof node.Ref === 'string') return `\${${node.Ref}}`;
  if (node && Array.isArray(node['Fn::GetAtt'])) return `\${${(node['Fn::GetAtt'] as string[]).join('.')}}`;
  return JSON.stringify(value);
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The ARN form of a SageMaker resource in an environment-agnostic stack. */
export const sagemakerArn = (resource: string) => `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${resource}`;
/** The ARN form of an S3 object (or object pattern) in an environment-agnostic stack. */
export const s3Arn = (bucketAndKey: string) => `arn:\${AWS::Partition}:s3:::${bucketAndKey}`;

/** The logical id of the artifacts bucket: the one bucket whose access logs go to another. */
export function artifactsBucketLogicalId(template: Template): string {
  const logged = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: {} } }));
  if (logged.length !== 1) throw new Error(`expected one bucket with access logging, found ${logged.length}`);
  return logged[0];
}

/** One permission: an action allowed on a resource under a condition (JSON, '' for none). */
export interface Grant {
  readonly action: string;
  readonly resource: string;
  readonly condition: string;
}

export function grantKey(grant: Grant): string {
  return `${grant.action} on ${grant.resource}${grant.condition ? ` if ${grant.condition}` : ''}`;
}

/** Every function the stack creates, by handler directory: the rollout steps, the event handlers, the reconciler's function. */
export const ALL_FUNCTION_DIRS: readonly string[] = [...ROLLOUT_STEPS, ...EVENT_HANDLERS, RECONCILER_STEP].map((fn) => fn.dir);

/**
 * The logical id of a step's, event handler's or the reconciler's function (found by its description, which
 * lambdas/steps.ts sets).
 */
export function functionLogicalId(template: Template, dir: string): string {
  const step = [...ROLLOUT_STEPS, ...EVENT_HANDLERS, RECONCILER_STEP].find((s) => s.dir === dir);
  if (!step) throw new Error(`unknown step or event handler ${dir}`);
  const matches = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, resource]) => (resource as { Properties: { Description?: string } }).Properties.Description === step.description,
  );
  if (matches.length !== 1) throw new Error(`expected one function for ${dir}, found ${matches.length}`);
  return matches[0][0];
}

/** Every Allow grant of the role of the logical id's function (inline policies and attached policies). */
export function grantsOfRole(template: Template, roleLogicalId: string): Grant[] {
  const resources = template.toJSON().Resources as Resources;
  const documents: Json[] = [];
  const role = resources[roleLogicalId];
  for (const policy of asArray(role.Properties?.Policies as Json[] | undefined)) {
    documents.push((policy as { PolicyDocument: Json }).PolicyDocument);
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = asArray(resource.Properties?.Roles as Json[] | undefined) as Array<{ Ref?: string }>;
    if (roles.some((r) => r.Ref === roleLogicalId)) documents.push(resource.Properties?.PolicyDocument);
  }
  const grants: Grant[] = [];
  for (const document of documents) {
    for (const statement of (document as { Statement: Array<Record<string, Json>> }).Statement) {
      if (statement.Effect !== 'Allow') continue;
      if (statement.NotAction || statement.NotResource) throw new Error('NotAction/NotResource would widen a grant');
      const condition = statement.Condition ? JSON.stringify(statement.Condition) : '';
      for (const action of asArray(statement.Action as string | string[])) {
        for (const resource of asArray(statement.Resource as Json | Json[])) {
          grants.push({ action, resource: flatten(resource), condition });
        }
      }
    }
  }
  return grants;
}

/** The role logical id of a step's function. */
export function functionRoleLogicalId(template: Template, dir: string): string {
  const fn = (template.toJSON().Resources as Resources)[functionLogicalId(template, dir)];
  return ((fn.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
}

/** The grants of a step's function, as sorted readable lines. */
export function grantsOfStep(template: Template, dir: string): Grant[] {
  return grantsOfRole(template, functionRoleLogicalId(template, dir));
}

/** Expands `actions x resources` under one condition into sorted readable lines. */
export function expectedGrants(actions: string[], resources: string[], condition?: Record<string, unknown>): string[] {
  return actions.flatMap((action) =>
    resources.map((resource) => grantKey({ action, resource, condition: condition ? JSON.stringify(condition) : '' })),
  );
}

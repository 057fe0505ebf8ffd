import { Stack, Validations, type PolicyViolation } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { BlueGreenDeploymentStack } from '../../lib/blue-green-deployment-stack';
import { TEST_CONFIG, testApp } from './helpers';

/** The app as bin/app.ts builds it, with bundling skipped. */
function nagCheckedApp(env?: { account: string; region: string }) {
  const app = testApp();
  const stack = new BlueGreenDeploymentStack(app, 'SageMakerBlueGreen', {
    config: parseRolloutConfig(TEST_CONFIG),
    env,
  });
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  return { app, stack, checks };
}

const describeViolations = (violations: PolicyViolation[]) =>
  violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}`);

test('AwsSolutionsChecks reports no unacknowledged finding, and synth passes its validation', () => {
  const { app, checks } = nagCheckedApp();
  expect(describeViolations(checks.validateScope(app).violations)).toEqual([]);
  expect(() => app.synth()).not.toThrow();
});

test('acknowledgements still match when the stack has a concrete account and region (literal ARNs)', () => {
  const { app, checks } = nagCheckedApp({ account: '123456789012', region: 'eu-west-1' });
  expect(describeViolations(checks.validateScope(app).violations)).toEqual([]);
});

test('a new wildcard permission is reported and fails synth (control: the check above can fail)', () => {
  const { app, stack, checks } = nagCheckedApp();
  const anyEndpoint = Stack.of(stack).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: '*' });
  stack.functions.functionFor('check-endpoint').addToRolePolicy(
    new iam.PolicyStatement({ actions: ['sagemaker:DeleteEndpoint'], resources: [anyEndpoint] }),
  );
  expect(describeViolations(checks.validateScope(app).violations)).toEqual([
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/*] at ' +
      'SageMakerBlueGreen/Functions/CheckEndpointRole/DefaultPolicy/Resource',
  ]);
  expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint\/\*\]/);
});

test('every acknowledgement carries a substantive reason', () => {
  const { stack } = nagCheckedApp();
  const acknowledgements: Array<{ path: string; id: string; reason: string }> = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        acknowledgements.push({ path: construct.node.path, id, reason: typeof reason === 'string' ? reason : JSON.stringify(reason) });
      }
    }
    construct.node.children.forEach(visit);
  };
  visit(stack);
  expect(acknowledgements.length).toBeGreaterThan(0);
  for (const acknowledgement of acknowledgements) {
    expect(acknowledgement.reason.length).toBeGreaterThan(60);
  }
  // Wildcards are acknowledged one by one, never as a blanket AwsSolutions-IAM5.
  expect(acknowledgements.filter((a) => /IAM5$/.test(a.id))).toEqual([]);
});

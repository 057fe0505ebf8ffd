import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalTrigger } from '../../lib/approval-trigger';
import { grantsOfRole, grantKey, synthStack } from './helpers';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const [ruleId, rule] = Object.entries(template.findResources('AWS::Events::Rule'))[0] as [string, { Properties: Record<string, any> }];
const stateMachineId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
const queueId = Object.keys(template.findResources('AWS::SQS::Queue'))[0];

describe('the approval rule', () => {
  test('matches exactly the approvals of the configured groups', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      detail: { ModelApprovalStatus: ['Approved'], ModelPackageGroupName: ['Fraud-Detector', 'churn-model'] },
    });
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus, where SageMaker publishes
  });

  test('has one target: the state machine, with the whole event as input, retries and a dead-letter queue', () => {
    expect(rule.Properties.Targets).toHaveLength(1);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: stateMachineId });
    expect(target.Input).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
  });

  test("the target's role may only start executions of the rollout state machine", () => {
    const [target] = rule.Properties.Targets;
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    expect(grantsOfRole(template, roleId).map(grantKey)).toEqual([`states:StartExecution on \${${stateMachineId}}`]);
  });

  test('is named by the ApprovalRuleName output', () => {
    template.hasOutput('ApprovalRuleName', { Value: { Ref: ruleId } });
  });
});

describe('the dead-letter queue', () => {
  test('is encrypted and keeps undelivered approvals for 14 days', () => {
    expect(resources[queueId].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  test('refuses plain HTTP and accepts messages only from this rule', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Array<{ Properties: Record<string, any> }>;
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Action: 'sqs:SendMessage',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
    });
  });
});

test('ApprovalTrigger refuses an empty group list (the rule would match nothing)', () => {
  const stack = new Stack(new App());
  const stateMachine = sfn.StateMachine.fromStateMachineArn(stack, 'Sm', 'arn:aws:states:us-east-1:123456789012:stateMachine:x');
  expect(() => new ApprovalTrigger(stack, 'Trigger', { stateMachine, modelPackageGroupNames: [] })).toThrow(/at least one model package group/);
});

test('ApprovalTrigger passes its retry settings through', () => {
  const stack = new Stack(new App());
  const stateMachine = sfn.StateMachine.fromStateMachineArn(stack, 'Sm', 'arn:aws:states:us-east-1:123456789012:stateMachine:x');
  new ApprovalTrigger(stack, 'Trigger', { stateMachine, modelPackageGroupNames: ['g'], retryAttempts: 2 });
  Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
    Targets: [{ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } }],
  });
});

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalTrigger } from '../../lib/approval-trigger';
import { grantsOfRole, grantKey, synthStack } from './helpers';

const { stack, template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
type Rule = { Properties: Record<string, any> };
/** The approval rules (source aws.sagemaker), by logical id; the alarm rule is tested in alarm-rollback-trigger.test.ts. */
const approvalRules = Object.entries(template.findResources('AWS::Events::Rule')).filter(
  ([, rule]) => (rule as Rule).Properties.EventPattern?.source?.[0] === 'aws.sagemaker',
) as Array<[string, Rule]>;
const GROUPS = ['Fraud-Detector', 'churn-model'];
const stateMachineIdOf = (group: string) => (stack.resolve(stack.rollout.stateMachineFor(group).stateMachineArn) as { Ref: string }).Ref;
const ruleOf = (group: string): [string, Rule] => {
  const found = approvalRules.filter(([, rule]) => rule.Properties.EventPattern.detail.ModelPackageGroupName.includes(group));
  if (found.length !== 1) throw new Error(`expected one approval rule for ${group}, found ${found.length}`);
  return found[0];
};
const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('ApprovalTrigger'))!;

describe('the approval rules', () => {
  test('there is one per target, each matching exactly the approvals of its group', () => {
    expect(approvalRules).toHaveLength(2);
    for (const group of GROUPS) {
      const [, rule] = ruleOf(group);
      expect(rule.Properties.EventPattern).toEqual({
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: { ModelApprovalStatus: ['Approved'], ModelPackageGroupName: [group] },
      });
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus, where SageMaker publishes
      expect(rule.Properties.Description).toBe(`Starts a blue/green rollout when a model package of group ${group} is approved`);
    }
  });

  test.each(GROUPS)("%s's rule has one target: its group's state machine, with the whole event, retries and the shared dead-letter queue", (group) => {
    const [, rule] = ruleOf(group);
    expect(rule.Properties.Targets).toHaveLength(1);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: stateMachineIdOf(group) });
    expect(target.Input).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
  });

  test('the two groups start different state machines', () => {
    expect(new Set(GROUPS.map(stateMachineIdOf)).size).toBe(2);
  });

  test.each(GROUPS)("%s's target role may only start executions of that group's state machine", (group) => {
    const [, rule] = ruleOf(group);
    const roleId = rule.Properties.Targets[0].RoleArn['Fn::GetAtt'][0];
    expect(grantsOfRole(template, roleId).map(grantKey)).toEqual([`states:StartExecution on \${${stateMachineIdOf(group)}}`]);
  });

  test('each is named by an ApprovalRuleName<index> output, in the order of the targets', () => {
    GROUPS.forEach((group, index) => template.hasOutput(`ApprovalRuleName${index}`, { Value: { Ref: ruleOf(group)[0] } }));
    expect(template.findOutputs('ApprovalRuleName')).toEqual({});
  });

  test('ruleFor finds the rule of a group and rejects an unknown group', () => {
    expect(stack.resolve(stack.trigger.ruleFor('churn-model').ruleName)).toEqual({ Ref: ruleOf('churn-model')[0] });
    expect(() => stack.trigger.ruleFor('nobody')).toThrow(/No approval rule for model package group "nobody"; groups are Fraud-Detector, churn-model/);
  });
});

describe('the dead-letter queue', () => {
  test('is encrypted and keeps undelivered approvals for 14 days', () => {
    expect(resources[queueId].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  test('refuses plain HTTP and accepts messages only from the approval rules', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter(
      (policy) => (policy as { Properties: { Queues: unknown[] } }).Properties.Queues.some((q) => JSON.stringify(q).includes(queueId)),
    ) as Array<{ Properties: Record<string, any> }>;
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    for (const allow of allows) {
      expect(allow).toMatchObject({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } });
    }
    expect(allows.map((s) => s.Condition.ArnEquals['aws:SourceArn']['Fn::GetAtt'][0]).sort()).toEqual(GROUPS.map((g) => ruleOf(g)[0]).sort());
  });
});

describe('ApprovalTrigger', () => {
  const route = (stack: Stack, group: string) => ({
    modelPackageGroupName: group,
    stateMachine: sfn.StateMachine.fromStateMachineArn(stack, `Sm-${group}`, `arn:aws:states:us-east-1:123456789012:stateMachine:${group}`),
  });

  test('refuses an empty route list (no rule would match anything)', () => {
    const stack = new Stack(new App());
    expect(() => new ApprovalTrigger(stack, 'Trigger', { routes: [] })).toThrow(/at least one model package group/);
  });

  test('refuses a group routed twice (every approval would start two rollouts)', () => {
    const stack = new Stack(new App());
    expect(() => new ApprovalTrigger(stack, 'Trigger', { routes: [route(stack, 'g'), route(stack, 'h'), { ...route(stack, 'x'), modelPackageGroupName: 'g' }] })).toThrow(
      /model package group\(s\) g routed more than once/,
    );
  });

  test('passes its retry settings through, to every rule', () => {
    const stack = new Stack(new App());
    new ApprovalTrigger(stack, 'Trigger', { routes: [route(stack, 'g'), route(stack, 'h')], retryAttempts: 2 });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as Rule[];
    expect(rules.map((rule) => rule.Properties.Targets[0].RetryPolicy)).toEqual([
      { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
      { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
    ]);
  });
});

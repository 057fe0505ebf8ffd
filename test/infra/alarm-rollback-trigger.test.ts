import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { alarmEventPattern } from '../../lambdas/shared/events';
import { ALARM_NAME_PREFIX, rolloutAlarmNames } from '../../lambdas/shared/names';
import { AlarmRollbackTrigger, EVENT_PATTERN_MAX_LENGTH } from '../../lib/alarm-rollback-trigger';
import { matchesPattern, type EventPattern } from '../../rehearsal/event-bus';
import { functionLogicalId, synthStack } from './helpers';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
type Rule = { Properties: Record<string, any> };
const alarmRules = Object.entries(template.findResources('AWS::Events::Rule')).filter(
  ([, rule]) => (rule as Rule).Properties.EventPattern?.source?.[0] === 'aws.cloudwatch',
) as Array<[string, Rule]>;
const [ruleId, rule] = alarmRules[0];
const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('AlarmRollbackTrigger'))!;
const onAlarmId = functionLogicalId(template, 'on-alarm');

/** A `CloudWatch Alarm State Change` event as CloudWatch sends it (fields the pattern looks at, and a few more). */
const alarmEvent = (alarmName: string, state = 'ALARM') => ({
  version: '0',
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  account: '123456789012',
  region: 'eu-west-1',
  resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
  detail: { alarmName, state: { value: state, reason: 'Threshold Crossed' }, previousState: { value: 'OK' } },
});

describe('the alarm rule', () => {
  test('is one rule matching ALARM states of the alarms rollouts create (by prefix) and of every configured existing alarm, once each', () => {
    expect(alarmRules).toHaveLength(1);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { state: { value: ['ALARM'] }, alarmName: [{ prefix: 'sagemaker-blue-green-' }, 'fraud-prod-p50-latency', 'ml-platform-health'] },
    });
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus, where CloudWatch publishes
  });

  test('as deployed, it lets through a rollout alarm and a configured alarm going to ALARM, and nothing else', () => {
    const pattern = rule.Properties.EventPattern as EventPattern;
    const own = rolloutAlarmNames('fraud-detector-prod', '3f9a2c1b').latencyP99;
    expect(matchesPattern(pattern, alarmEvent(own))).toBe(true);
    expect(matchesPattern(pattern, alarmEvent('ml-platform-health'))).toBe(true);
    expect(matchesPattern(pattern, alarmEvent(own, 'OK'))).toBe(false);
    expect(matchesPattern(pattern, alarmEvent(own, 'INSUFFICIENT_DATA'))).toBe(false);
    expect(matchesPattern(pattern, alarmEvent('someone-elses-alarm'))).toBe(false);
    expect(matchesPattern(pattern, alarmEvent('ml-platform-health-2'))).toBe(false);
    expect(matchesPattern(pattern, { ...alarmEvent(own), source: 'aws.sagemaker' })).toBe(false);
  });

  test('has one target: the alarm handler, with the whole event, few retries, a short event age and a dead-letter queue', () => {
    expect(rule.Properties.Targets).toHaveLength(1);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [onAlarmId, 'Arn'] });
    expect(target.Input).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    expect(target.RoleArn).toBeUndefined(); // Lambda targets are authorized by the function's resource policy
  });

  test('only this rule may invoke the alarm handler, and nothing may invoke the step functions from EventBridge', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')) as Array<{ Properties: Record<string, any> }>;
    const onAlarmPermissions = permissions.filter((p) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === onAlarmId);
    expect(onAlarmPermissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [onAlarmId, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
    // The only other function EventBridge may invoke is the other event handler, the sweeper (from its schedule).
    const others = permissions.filter((p) => p.Properties.FunctionName['Fn::GetAtt']?.[0] !== onAlarmId);
    expect(others.map((p) => p.Properties.FunctionName)).toEqual([{ 'Fn::GetAtt': [functionLogicalId(template, 'sweep-resources'), 'Arn'] }]);
  });

  test('is named by the AlarmRuleName output', () => {
    template.hasOutput('AlarmRuleName', { Value: { Ref: ruleId } });
  });
});

describe('its dead-letter queue', () => {
  test('is its own (not the approvals\'), encrypted, and keeps events for 14 days', () => {
    expect(resources[queueId].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    // One dead-letter queue each: approvals, alarms, the reconciler, the sweeper.
    template.resourceCountIs('AWS::SQS::Queue', 4);
    expect(Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('AlarmRollbackTrigger'))).toEqual([queueId]);
  });

  test('refuses plain HTTP and accepts messages from EventBridge only for this rule', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter(
      (policy) => (policy as { Properties: { Queues: unknown[] } }).Properties.Queues.some((q) => JSON.stringify(q).includes(queueId)),
    ) as Array<{ Properties: Record<string, any> }>;
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      }),
    ]);
  });
});

describe('AlarmRollbackTrigger', () => {
  const handlerIn = (stack: Stack) =>
    lambda.Function.fromFunctionAttributes(stack, 'Handler', {
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:on-alarm',
      // The on-failure destination is sent to with the function's role.
      role: iam.Role.fromRoleArn(stack, 'HandlerRole', 'arn:aws:iam::123456789012:role/on-alarm'),
      sameEnvironment: true,
    });

  test('passes its retry settings and prefix through', () => {
    const stack = new Stack(new App());
    new AlarmRollbackTrigger(stack, 'Trigger', {
      handler: handlerIn(stack),
      existingAlarmNames: [],
      alarmNamePrefix: 'other-',
      retryAttempts: 1,
      maxEventAge: Duration.minutes(2),
    });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as Rule[];
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern.detail.alarmName).toEqual([{ prefix: 'other-' }]);
    expect(rules[0].Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 120 });
  });

  test('refuses existing alarm names that would make the pattern longer than EventBridge allows, saying what to do', () => {
    const name = (i: number) => `team-${i}-`.padEnd(250, 'x');
    // Each name adds its length plus 3 characters ("", and a comma) to the pattern.
    const base = JSON.stringify(alarmEventPattern(ALARM_NAME_PREFIX, [])).length;
    const fitting = Math.floor((EVENT_PATTERN_MAX_LENGTH - base) / (250 + 3));
    const names = Array.from({ length: fitting }, (_, i) => name(i));
    expect(JSON.stringify(alarmEventPattern(ALARM_NAME_PREFIX, names)).length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_LENGTH);
    const stack = new Stack(new App());
    expect(() => new AlarmRollbackTrigger(stack, 'Fits', { handler: handlerIn(stack), existingAlarmNames: names })).not.toThrow();

    const tooMany = [...names, name(fitting)];
    const other = new Stack(new App());
    let error: unknown;
    try {
      new AlarmRollbackTrigger(other, 'TooLong', { handler: handlerIn(other), existingAlarmNames: tooMany });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      new RegExp(`would be \\d+ characters; EventBridge allows 4096\\. It lists every target's policy\\.alarms\\.existingAlarmNames \\(${fitting + 1} distinct names\\)`),
    );
  });
});

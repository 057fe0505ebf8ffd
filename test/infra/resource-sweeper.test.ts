import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ResourceSweeper } from '../../lib/resource-sweeper';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function synth(props: { schedule?: events.Schedule; retryAttempts?: number } = {}) {
  const stack = new Stack(new App());
  const sweepFunction = new lambda.Function(stack, 'Sweep', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const sweeper = new ResourceSweeper(stack, 'Sweeper', { sweepFunction, ...props });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const idOf = (type: string) => {
    const ids = Object.keys(resources).filter((id) => resources[id]!.Type === type);
    if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
    return ids[0]!;
  };
  return { stack, sweeper, template, resources, idOf, functionId: stack.getLogicalId(sweepFunction.node.defaultChild as lambda.CfnFunction) };
}

describe('the sweeper schedule', () => {
  const { resources, idOf, functionId } = synth();
  const rule = resources[idOf('AWS::Events::Rule')]!.Properties;
  const queueId = idOf('AWS::SQS::Queue');

  test('runs every six hours by default, on the default bus', () => {
    expect(rule.ScheduleExpression).toBe('rate(6 hours)');
    expect(rule.State).toBe('ENABLED');
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toBeUndefined();
  });

  test('has one target: the sweeper, with the scheduled event as it is, retries and the dead-letter queue', () => {
    expect(rule.Targets).toHaveLength(1);
    const [target] = rule.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    expect(target.Input).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
  });

  test('only the rule may invoke the function (from EventBridge)', () => {
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [idOf('AWS::Events::Rule'), 'Arn'] },
      },
    ]);
  });

  test('a run whose handler failed is retried once by Lambda, then recorded in the same queue', () => {
    expect(resources[idOf('AWS::Lambda::EventInvokeConfig')]!.Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  test('the queue is encrypted, keeps failed runs 14 days and refuses plain HTTP', () => {
    expect(resources[queueId]!.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    const policy = resources[idOf('AWS::SQS::QueuePolicy')]!.Properties;
    const statements = policy.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [idOf('AWS::Events::Rule'), 'Arn'] } } },
      }),
    ]);
  });
});

describe('ResourceSweeper', () => {
  test('takes another schedule and retry count', () => {
    const { resources, idOf } = synth({ schedule: events.Schedule.rate(Duration.hours(12)), retryAttempts: 0 });
    const rule = resources[idOf('AWS::Events::Rule')]!.Properties;
    expect(rule.ScheduleExpression).toBe('rate(12 hours)');
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
  });

  test('exposes its rule and queue', () => {
    const { stack, sweeper, idOf } = synth();
    expect(stack.resolve(sweeper.rule.ruleArn)).toEqual({ 'Fn::GetAtt': [idOf('AWS::Events::Rule'), 'Arn'] });
    expect(stack.resolve(sweeper.deadLetterQueue.queueArn)).toEqual({ 'Fn::GetAtt': [idOf('AWS::SQS::Queue'), 'Arn'] });
  });
});

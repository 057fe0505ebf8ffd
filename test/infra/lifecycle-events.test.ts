import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { ConfigurationError } from '../../lambdas/shared/errors';
import {
  describeLifecycleEvent,
  LIFECYCLE_DETAIL_TYPES,
  NOTIFICATION_EVENT_PATTERN,
  recordLifecycleEvent,
  type LifecycleEvent,
} from '../../lambdas/shared/lifecycle-events';
import { BlueGreenDeploymentStack } from '../../lib/blue-green-deployment-stack';
import { parseNotificationsConfig, type NotificationsConfigInput } from '../../lib/config';
import { LifecycleEvents, lifecycleBusNameFor } from '../../lib/lifecycle-events';
import { matchesPattern, type EventPattern } from '../../rehearsal/event-bus';
import { synthStack, TEST_CONFIG, TEST_ROLLOUT_REF, testApp } from './helpers';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
const resourcesOf = (template: Template) => template.toJSON().Resources as Record<string, Resource>;
const ofType = (template: Template, type: string) => Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);
/** Rules on the lifecycle bus (the other rules are on the default bus, without EventBusName). */
const busRules = (template: Template) => ofType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventBusName !== undefined);

/** A bare stack with only the construct: fast, for what does not need the rest of the system. */
function constructOnly(notifications: NotificationsConfigInput, env?: { account: string; region: string }) {
  const stack = new Stack(testApp(), 'Events', { env });
  const construct = new LifecycleEvents(stack, 'LifecycleEvents', { notifications: parseNotificationsConfig(notifications) });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('the lifecycle bus and its archive (notifications off, the default)', () => {
  const { stack, template } = synthStack();
  const [[busId, bus]] = ofType(template, 'AWS::Events::EventBus');

  test("one bus, named after the stack, with no policy: only the functions' IAM grants put events on it", () => {
    expect(ofType(template, 'AWS::Events::EventBus')).toHaveLength(1);
    expect(bus!.Properties.Name).toBe(lifecycleBusNameFor('SageMakerBlueGreen'));
    expect(bus!.Properties.Name).toBe('SageMakerBlueGreen-rollout-events');
    expect(ofType(template, 'AWS::Events::EventBusPolicy')).toEqual([]);
    expect(bus!.Properties.Policy).toBeUndefined();
    expect(stack.resolve(stack.lifecycle.bus.eventBusArn)).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
  });

  test('an archive of its lifecycle events keeps them 90 days for replay', () => {
    const archives = ofType(template, 'AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    const [, archive] = archives[0]!;
    expect(archive.Properties.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(archive.Properties.RetentionDays).toBe(90);
    expect(archive.Properties.EventPattern).toEqual({ source: ['sagemaker-blue-green'] });
    expect(archive.Properties.EventPattern.source).toEqual(NOTIFICATION_EVENT_PATTERN.source);
  });

  test('no topic, no notification rule, no key besides the execution logs\' one, and no NotificationTopicArn output', () => {
    expect(ofType(template, 'AWS::SNS::Topic')).toEqual([]);
    expect(ofType(template, 'AWS::SNS::Subscription')).toEqual([]);
    expect(busRules(template)).toEqual([]);
    expect(ofType(template, 'AWS::KMS::Key').map(([id]) => id)).toEqual([(stack.resolve(stack.rollout.logKey.keyArn) as any)['Fn::GetAtt'][0]]);
    expect(stack.lifecycle.topic).toBeUndefined();
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('NotificationTopicArn');
  });

  test('the LifecycleEventBusName output names it', () => {
    template.hasOutput('LifecycleEventBusName', { Value: { Ref: busId } });
  });
});

describe('notifications enabled, with a topic of its own and email subscriptions', () => {
  const app = testApp();
  const stack = new BlueGreenDeploymentStack(app, 'SageMakerBlueGreen', {
    config: parseRolloutConfig(TEST_CONFIG),
    notifications: parseNotificationsConfig({ enabled: true, emails: ['ml-oncall@example.com', 'platform@example.com'], archiveRetentionDays: 30 }),
  });
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  const template = Template.fromStack(stack);
  const [[topicId, topic]] = ofType(template, 'AWS::SNS::Topic');
  const keyId = topic!.Properties.KmsMasterKeyId['Fn::GetAtt'][0] as string;
  const [[ruleId, rule]] = busRules(template);
  const busId = ofType(template, 'AWS::Events::EventBus')[0]![0];

  test('one rule on the bus, with exactly NOTIFICATION_EVENT_PATTERN (the rehearsal\'s), sending detail.message to the topic', () => {
    expect(busRules(template)).toHaveLength(1);
    expect(rule!.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule!.Properties.EventPattern).toEqual(NOTIFICATION_EVENT_PATTERN);
    expect(rule!.Properties.Targets).toHaveLength(1);
    const [target] = rule!.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: topicId });
    // A text template (not an InputPath, which would send the JSON string, quotes included).
    expect(target.InputTransformer).toEqual({ InputPathsMap: { 'detail-message': '$.detail.message' }, InputTemplate: '"<detail-message>"' });
    expect(target.InputPath).toBeUndefined();
    expect(target.Input).toBeUndefined();
    expect(target.RoleArn).toBeUndefined(); // SNS targets are authorized by the topic's policy (a role breaks KMS-encrypted topics)
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    const queueId = (stack.resolve(stack.lifecycle.deadLetterQueue!.queueArn) as any)['Fn::GetAtt'][0];
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    expect(stack.resolve(stack.lifecycle.notificationRule!.ruleArn)).toEqual({ 'Fn::GetAtt': [ruleId, 'Arn'] });
  });

  test('the topic is encrypted with its own rotating key, whose policy lets EventBridge use it (an AWS-managed key could not)', () => {
    const key = resourcesOf(template)[keyId]!;
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const forEventBridge = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).filter(
      (s) => s.Effect === 'Allow' && s.Principal?.Service === 'events.amazonaws.com',
    );
    expect(forEventBridge.flatMap((s) => [s.Action].flat()).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  test('the topic policy refuses plain HTTP and lets EventBridge publish, and nobody else', () => {
    const policies = ofType(template, 'AWS::SNS::TopicPolicy').filter(([, p]) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: topicId }]));
    expect(policies).toHaveLength(1);
    const statements = policies[0]![1].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: { Ref: topicId } }),
    );
    expect(statements.filter((s) => s.Effect === 'Allow').map((s) => [s.Principal, s.Action])).toEqual([[{ Service: 'events.amazonaws.com' }, 'sns:Publish']]);
  });

  test('each configured address is subscribed by email, and the NotificationTopicArn output names the topic', () => {
    const subscriptions = ofType(template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties);
    expect(subscriptions).toEqual([
      { Protocol: 'email', Endpoint: 'ml-oncall@example.com', TopicArn: { Ref: topicId } },
      { Protocol: 'email', Endpoint: 'platform@example.com', TopicArn: { Ref: topicId } },
    ]);
    template.hasOutput('NotificationTopicArn', { Value: { Ref: topicId } });
  });

  test('the archive keeps the configured number of days', () => {
    expect(ofType(template, 'AWS::Events::Archive').map(([, a]) => a.Properties.RetentionDays)).toEqual([30]);
  });

  test('cdk-nag (AwsSolutionsChecks) reports nothing: the topic is encrypted (SNS2) and TLS-only (SNS3), its key rotates, its queue is a DLQ', () => {
    const findings = checks.validateScope(app).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

describe('which events are notified, as deployed (the pattern applied to the entries recordLifecycleEvent publishes)', () => {
  const ref = TEST_ROLLOUT_REF;
  const verdict = (value: string): LifecycleEvent => ({ type: 'ValidationVerdict', verdict: value, gates: [{ gate: 'latency', verdict: value }] });
  const cases: Array<[string, boolean, LifecycleEvent]> = [
    ['RolloutStarted', false, { type: 'RolloutStarted', trigger: { kind: 'MODEL_REGISTRY_APPROVAL' }, trafficMode: 'CANARY', stepPercents: [10, 100], greenVariantName: 'v7-3f9a2c1b', instanceType: 'ml.g5.xlarge', configHash: 'abc' }],
    ['TrafficShifted', false, { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }],
    ['ValidationVerdict PASS', false, verdict('PASS')],
    ['ValidationVerdict FAIL', true, verdict('FAIL')],
    ['ValidationVerdict INCONCLUSIVE', true, verdict('INCONCLUSIVE')],
    ['ApprovalRequested', true, { type: 'ApprovalRequested', timeoutSeconds: 3600 }],
    ['ApprovalDecided', false, { type: 'ApprovalDecided', decision: 'APPROVED', by: 'alice' }],
    ['RolledBack', true, { type: 'RolledBack', error: 'AlarmTriggered', reason: '5xx rate above 1%' }],
    ['CleanupCompleted', false, { type: 'CleanupCompleted', resourcesRemoved: [] }],
    ['Promoted', true, { type: 'Promoted', durationSeconds: 5400, greenVariantName: 'v7-3f9a2c1b' }],
    ['Ended', true, { type: 'Ended', outcome: 'ABORTED', reason: 'execution stopped', durationSeconds: 60 }],
  ];
  const { template } = constructOnly({ enabled: true });
  const [[, rule]] = busRules(template);
  const pattern = rule!.Properties.EventPattern as EventPattern;
  const inputPath = rule!.Properties.Targets[0].InputTransformer.InputPathsMap['detail-message'] as string;

  /** The event EventBridge would match: the entry recordLifecycleEvent sends, as the bus delivers it. */
  async function published(event: LifecycleEvent) {
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    try {
      const logger = { info: () => undefined, warn: () => undefined, debug: () => undefined } as never;
      await recordLifecycleEvent({ events: new EventBridgeClient({}), busName: 'bus', logger }, ref, event);
      const [entry] = eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries!;
      return { version: '0', source: entry!.Source, 'detail-type': entry!.DetailType, resources: entry!.Resources, detail: JSON.parse(entry!.Detail!) };
    } finally {
      eventBridge.restore();
    }
  }

  test.each(cases)('%s: notified %s', async (_, notified, event) => {
    const delivered = await published(event);
    expect(delivered['detail-type']).toBe(LIFECYCLE_DETAIL_TYPES[event.type]);
    expect(matchesPattern(pattern, delivered)).toBe(notified);
    // What the topic receives: the event's one-line message, found where the target's input transformer points.
    const message = inputPath.replace(/^\$\./, '').split('.').reduce<any>((node, key) => node?.[key], delivered);
    expect(message).toBe(describeLifecycleEvent(ref, event));
  });

  test('an event from another source is not notified, whatever its detail says', async () => {
    const delivered = await published({ type: 'Promoted', durationSeconds: 1, greenVariantName: 'g' });
    expect(matchesPattern(pattern, { ...delivered, source: 'someone-else' })).toBe(false);
  });
});

describe('notifications to an existing topic', () => {
  const arn = 'arn:aws:sns:eu-west-1:123456789012:ml-platform-alerts';

  test('creates no topic and no key, targets the given ARN, and subscribes the addresses to it', () => {
    const { construct, template, stack } = constructOnly({ enabled: true, topicArn: arn, emails: ['ml-oncall@example.com'] });
    expect(ofType(template, 'AWS::SNS::Topic')).toEqual([]);
    expect(ofType(template, 'AWS::KMS::Key')).toEqual([]);
    // Its policy belongs to its owner: nothing is added to it.
    expect(ofType(template, 'AWS::SNS::TopicPolicy')).toEqual([]);
    const [[, rule]] = busRules(template);
    expect(rule!.Properties.Targets.map((t: Record<string, any>) => [t.Arn, t.InputTransformer?.InputPathsMap])).toEqual([[arn, { 'detail-message': '$.detail.message' }]]);
    expect(ofType(template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties)).toEqual([{ Protocol: 'email', Endpoint: 'ml-oncall@example.com', TopicArn: arn }]);
    expect(stack.resolve(construct.topic!.topicArn)).toBe(arn);
  });

  test("is refused when it is in another region than the stack's (EventBridge delivers within its region only)", () => {
    expect(() => constructOnly({ enabled: true, topicArn: arn }, { account: '123456789012', region: 'us-east-1' })).toThrow(ConfigurationError);
    expect(() => constructOnly({ enabled: true, topicArn: arn }, { account: '123456789012', region: 'us-east-1' })).toThrow(
      'notifications.topicArn: the topic is in eu-west-1 but the stack deploys to us-east-1; EventBridge rules deliver only to targets in their own region',
    );
    expect(() => constructOnly({ enabled: true, topicArn: arn }, { account: '123456789012', region: 'eu-west-1' })).not.toThrow();
  });
});

describe('the archive retention', () => {
  test('0 days keeps events forever (EventBridge RetentionDays 0)', () => {
    const { template } = constructOnly({ archiveRetentionDays: 0 });
    expect(ofType(template, 'AWS::Events::Archive').map(([, a]) => a.Properties.RetentionDays)).toEqual([0]);
  });
});

describe('parseNotificationsConfig', () => {
  const errorOf = (raw: unknown): string => {
    try {
      parseNotificationsConfig(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigurationError');
  };

  test('absent or empty: notifications off, no addresses, 90 days of archive', () => {
    const defaults = { enabled: false, emails: [], archiveRetentionDays: 90 };
    expect(parseNotificationsConfig(undefined)).toEqual(defaults);
    expect(parseNotificationsConfig({})).toEqual(defaults);
    expect(parseNotificationsConfig('')).toEqual(defaults);
  });

  test("reads cdk.json's entry and a JSON string (how -c notifications=... arrives)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cdkJson = require('../../cdk.json') as { context: { notifications: unknown } };
    expect(parseNotificationsConfig(cdkJson.context.notifications)).toEqual({ enabled: false, emails: [], archiveRetentionDays: 90 });
    expect(parseNotificationsConfig('{"enabled":true,"emails":["a@example.com"]}')).toEqual({ enabled: true, emails: ['a@example.com'], archiveRetentionDays: 90 });
    expect(errorOf('{"enabled":')).toMatch(/^The context notifications is not valid JSON/);
  });

  test('names each wrong field, with the index of a wrong address', () => {
    expect(errorOf({ enabled: true, emails: ['ok@example.com', 'not-an-address', 'OK@example.com'] })).toBe(
      'Invalid notifications settings in context notifications:\n' +
        '  notifications.emails[1]: must be an email address\n' +
        '  notifications.emails[2]: repeats emails[0] (OK@example.com)',
    );
    expect(errorOf({ enabled: 'yes' })).toMatch(/notifications\.enabled: must be true or false/);
    expect(errorOf({ archiveRetentionDays: -1 })).toMatch(/notifications\.archiveRetentionDays: must be 0 \(keep forever\) or more/);
    expect(errorOf({ archiveRetentionDays: 1.5 })).toMatch(/notifications\.archiveRetentionDays: must be a whole number of days/);
    expect(errorOf({ emailz: [] })).toMatch(/notifications: unknown field\(s\) emailz; the fields are enabled, emails, topicArn, archiveRetentionDays/);
  });

  test('refuses a topic that is not a standard SNS topic ARN', () => {
    expect(errorOf({ enabled: true, topicArn: 'ml-platform-alerts' })).toMatch(/notifications\.topicArn: must be an SNS topic ARN/);
    expect(errorOf({ enabled: true, topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' })).toMatch(/notifications\.topicArn: must be an SNS topic ARN/);
    expect(errorOf({ enabled: true, topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts.fifo' })).toMatch(/notifications\.topicArn: must be a standard topic/);
  });

  test('refuses addresses or a topic while notifications are off, rather than ignore them', () => {
    expect(errorOf({ emails: ['a@example.com'], topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' })).toBe(
      'Invalid notifications settings in context notifications:\n' +
        '  notifications.emails: subscribes nobody while enabled is false: set enabled to true\n' +
        '  notifications.topicArn: is not notified while enabled is false: set enabled to true',
    );
  });
});

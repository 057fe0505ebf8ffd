/**
 * Where rollouts tell the world what happens: the lifecycle event bus (lambdas/shared/lifecycle-events.ts publishes on
 * it), an archive of it for replay, and, when notifications are enabled, an SNS topic that receives the human-readable
 * message of the events worth a notification. The rule's pattern is NOTIFICATION_EVENT_PATTERN, the one the local
 * rehearsal filters with, so what a person is notified of is decided in one place.
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigurationError } from '../lambdas/shared/errors';
import { LIFECYCLE_EVENT_SOURCE, NOTIFICATION_EVENT_PATTERN } from '../lambdas/shared/lifecycle-events';
import { parseNotificationsConfig, type NotificationsConfig } from './config';
import { deadLetterQueue } from './dead-letter-queue';

/** The bus of a stack: `<stack name>-rollout-events` (a fixed name, so subscribers can find it without the stack's outputs). */
export function lifecycleBusNameFor(stackName: string): string {
  return `${stackName}-rollout-events`;
}

/** The notification's text: the event's one-line human-readable message (describeLifecycleEvent). */
export const NOTIFICATION_MESSAGE_PATH = '$.detail.message';

export interface LifecycleEventsProps {
  /**
   * Notifications (cdk.json context `notifications`, parseNotificationsConfig).
   * @default notifications off: the bus and its archive only
   */
  readonly notifications?: NotificationsConfig;
  /**
   * How many times EventBridge retries a notification it could not deliver.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying a notification. A notification a day late is still worth having.
   * @default Duration.hours(24) (EventBridge's longest)
   */
  readonly maxEventAge?: Duration;
}

/**
 * The bus `<stack>-rollout-events` (only the rollout functions may put events on it: no bus policy, IAM grants) and
 * its archive of the lifecycle events (retention from the settings, default 90 days). With notifications enabled: a
 * rule on the bus matching NOTIFICATION_EVENT_PATTERN, sending `detail.message` to a topic (a new one, encrypted with
 * its own customer-managed key and refusing plain HTTP, or the configured `topicArn`), with the configured email
 * subscriptions and a dead-letter queue for the notifications EventBridge could not deliver.
 */
export class LifecycleEvents extends Construct {
  /** The bus the rollout functions publish lifecycle events on (their LIFECYCLE_EVENT_BUS). */
  readonly bus: events.EventBus;
  /** Every lifecycle event on the bus, kept for replay. */
  readonly archive: events.Archive;
  /** Where notifications go; undefined when notifications are off. */
  readonly topic?: sns.ITopic;
  /** The key of a topic this construct created (EventBridge cannot publish to a topic encrypted with alias/aws/sns). */
  readonly topicKey?: kms.Key;
  /** The rule sending the notified events' messages to the topic; undefined when notifications are off. */
  readonly notificationRule?: events.Rule;
  /** Notifications EventBridge could not deliver; undefined when notifications are off. */
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: LifecycleEventsProps = {}) {
    super(scope, id);
    const notifications = props.notifications ?? parseNotificationsConfig(undefined);
    const stack = Stack.of(this);

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: lifecycleBusNameFor(stack.stackName),
      description: 'Lifecycle events of the blue/green rollouts (started, traffic shifted, rolled back, promoted, ...)',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Lifecycle events of the blue/green rollouts, for replay',
      eventPattern: { source: [LIFECYCLE_EVENT_SOURCE] },
      // EventBridge reads 0 days as "keep forever".
      retention: Duration.days(notifications.archiveRetentionDays),
    });

    if (!notifications.enabled) return;

    if (notifications.topicArn) {
      this.assertSameRegion(notifications.topicArn);
      // An imported topic's policy is not ours to change: its owner must let events.amazonaws.com publish (and use its key).
      this.topic = sns.Topic.fromTopicArn(this, 'ExistingTopic', notifications.topicArn);
    } else {
      // EventBridge publishes as its service principal, which then needs the topic's key: an AWS-managed key
      // (alias/aws/sns) cannot allow that (its policy is not ours to change), hence a key of our own. The SnsTopic
      // target below adds events.amazonaws.com to this key's policy (kms:Decrypt, kms:GenerateDataKey*) and to the topic's.
      this.topicKey = new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the blue/green rollout notifications topic',
        enableKeyRotation: true,
      });
      this.topic = new sns.Topic(this, 'Topic', {
        displayName: 'Blue/green rollouts',
        masterKey: this.topicKey,
        enforceSSL: true,
      });
    }
    for (const email of notifications.emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.deadLetterQueue = deadLetterQueue(this, "the notification rule's target (EventBridge DeadLetterConfig)");
    this.notificationRule = new events.Rule(this, 'NotificationRule', {
      eventBus: this.bus,
      description: 'Notifies people of the rollout events worth it: approval requested, validation not passed, rolled back, promoted, ended',
      eventPattern: { source: NOTIFICATION_EVENT_PATTERN.source, detail: NOTIFICATION_EVENT_PATTERN.detail },
    });
    this.notificationRule.addTarget(
      new targets.SnsTopic(this.topic, {
        // An input transformer with a text template: the topic gets the sentence itself. An InputPath would send
        // the JSON value, the sentence in quotes.
        message: events.RuleTargetInput.fromText(events.EventField.fromPath(NOTIFICATION_MESSAGE_PATH)),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(24),
      }),
    );
  }

  /** EventBridge delivers only to targets in the rule's region: refuse another region's topic when the stack's is known. */
  private assertSameRegion(topicArn: string): void {
    const region = Stack.of(this).region;
    const topicRegion = topicArn.split(':')[3];
    if (!Token.isUnresolved(region) && topicRegion !== region) {
      throw new ConfigurationError(
        `notifications.topicArn: the topic is in ${topicRegion} but the stack deploys to ${region}; EventBridge rules deliver only to targets in their own region`,
      );
    }
  }
}

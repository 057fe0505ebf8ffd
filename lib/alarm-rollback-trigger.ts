/**
 * Rolls green back within seconds of an alarm going to ALARM: an EventBridge rule on `CloudWatch Alarm State
 * Change` events invokes the alarm handler (lambdas/on-alarm), instead of waiting for the state machine's next
 * periodic check. The pattern comes from lambdas/shared/events.ts, the one the local rehearsal's bus filters with.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigurationError } from '../lambdas/shared/errors';
import { alarmEventPattern } from '../lambdas/shared/events';
import { ALARM_NAME_PREFIX } from '../lambdas/shared/names';
import { deadLetterQueue } from './dead-letter-queue';

/** EventBridge's longest event pattern (PutRule EventPattern). */
export const EVENT_PATTERN_MAX_LENGTH = 4096;

export interface AlarmRollbackTriggerProps {
  /** The alarm handler (EVENT_HANDLERS `on-alarm`); it receives the whole event. */
  readonly handler: lambda.IFunction;
  /** Existing alarms (every target's `policy.alarms.existingAlarmNames`) whose ALARM state also rolls back. */
  readonly existingAlarmNames: readonly string[];
  /**
   * Alarms this system creates all start with this.
   * @default ALARM_NAME_PREFIX
   */
  readonly alarmNamePrefix?: string;
  /**
   * How many times EventBridge retries an invocation it could not deliver (throttled, say).
   * @default 4
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge, and Lambda for an invocation whose handler failed, keep retrying an event. A rollback
   * that comes much later than this is no better than the state machine's own periodic alarm check.
   * @default Duration.minutes(10)
   */
  readonly maxEventAge?: Duration;
}

/**
 * An EventBridge rule on the default bus matching ALARM states of this system's alarms (by name prefix) and of the
 * configured existing alarms, targeting the alarm handler. Events that could not be delivered, and invocations
 * whose handler still failed after Lambda's retries, go to one dead-letter queue.
 */
export class AlarmRollbackTrigger extends Construct {
  /** The rule on the default event bus, where CloudWatch publishes alarm state changes. */
  readonly rule: events.Rule;
  /** Alarm events that never led to a handled rollback (undelivered, or the handler kept failing). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AlarmRollbackTriggerProps) {
    super(scope, id);
    const maxEventAge = props.maxEventAge ?? Duration.minutes(10);
    const pattern = alarmEventPattern(props.alarmNamePrefix ?? ALARM_NAME_PREFIX, props.existingAlarmNames);
    const patternLength = JSON.stringify(pattern).length;
    if (patternLength > EVENT_PATTERN_MAX_LENGTH) {
      throw new ConfigurationError(
        `The alarm rule's event pattern would be ${patternLength} characters; EventBridge allows ${EVENT_PATTERN_MAX_LENGTH}. ` +
          `It lists every target's policy.alarms.existingAlarmNames (${pattern.detail.alarmName.length - 1} distinct names): ` +
          'name fewer existing alarms (a composite alarm can stand for several) or split the targets across several stacks.',
      );
    }

    this.deadLetterQueue = deadLetterQueue(this, "the alarm rule's target (EventBridge DeadLetterConfig) and the on-failure destination of the alarm handler");

    this.rule = new events.Rule(this, 'Rule', {
      description: 'Rolls a blue/green rollout back when one of the alarms watching its green variant goes to ALARM',
      // CDK spells detail-type in camelCase and renders it back.
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 4,
        maxEventAge,
      }),
    );
    // EventBridge invokes asynchronously: a handler error is retried by Lambda (twice, a minute or two apart) for
    // at most maxEventAge, not Lambda's default six hours, and then recorded in the same queue.
    props.handler.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
  }
}

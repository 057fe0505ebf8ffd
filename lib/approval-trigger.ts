/**
 * Starts a rollout for each model package approval of a configured group. The pattern comes from
 * lambdas/shared/events.ts, the same one the local rehearsal's bus filters with.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { approvalEventPattern } from '../lambdas/shared/events';

export interface ApprovalTriggerProps {
  /** The state machine each approval starts; it receives the whole event as its input. */
  readonly stateMachine: sfn.IStateMachine;
  /** The model package groups whose approvals start a rollout. */
  readonly modelPackageGroupNames: readonly string[];
  /**
   * How many times EventBridge retries a failed StartExecution before the event goes to the dead-letter queue.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
}

/** An EventBridge rule on approvals, targeting the state machine, with a dead-letter queue for failed deliveries. */
export class ApprovalTrigger extends Construct {
  /** The rule on the default event bus. */
  readonly rule: events.Rule;
  /** Approvals EventBridge could not deliver (e.g. StartExecution throttled or denied past the retries). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ApprovalTriggerProps) {
    super(scope, id);
    if (props.modelPackageGroupNames.length === 0) {
      throw new Error('ApprovalTrigger needs at least one model package group');
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: a lost approval must be noticed and replayed by hand.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself the dead-letter queue of the approval rule's target (EventBridge DeadLetterConfig, which cdk-nag does not see)",
    });

    const pattern = approvalEventPattern(props.modelPackageGroupNames);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Starts a blue/green rollout when a model package of a configured group is approved',
      // CDK spells detail-type in camelCase and renders it back.
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(2),
      }),
    );
  }
}

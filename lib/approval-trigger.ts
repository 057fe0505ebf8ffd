/**
 * Starts a rollout for each model package approval of a configured group, on the state machine of that group's
 * target. The pattern comes from lambdas/shared/events.ts, the same one the local rehearsal's bus filters with.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { approvalEventPattern } from '../lambdas/shared/events';
import { deadLetterQueue } from './dead-letter-queue';

/** Whose approvals start which state machine. */
export interface ApprovalRoute {
  /** The model package group whose approvals start a rollout. */
  readonly modelPackageGroupName: string;
  /** The state machine each approval starts; it receives the whole event as its input. */
  readonly stateMachine: sfn.IStateMachine;
}

export interface ApprovalTriggerProps {
  /** One per deployment target, each group at most once. */
  readonly routes: readonly ApprovalRoute[];
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

/**
 * One EventBridge rule per route (construct id `Rule<index>`), matching the approvals of its group and targeting
 * its state machine, with one dead-letter queue for the deliveries that failed on any of them.
 */
export class ApprovalTrigger extends Construct {
  /** The rules on the default event bus, in the order of the routes. */
  readonly rules: readonly events.Rule[];
  /** Approvals EventBridge could not deliver (e.g. StartExecution throttled or denied past the retries). */
  readonly deadLetterQueue: sqs.Queue;
  private readonly groups: readonly string[];

  constructor(scope: Construct, id: string, props: ApprovalTriggerProps) {
    super(scope, id);
    if (props.routes.length === 0) {
      throw new Error('ApprovalTrigger needs at least one model package group');
    }
    const groups = props.routes.map((route) => route.modelPackageGroupName);
    this.groups = groups;
    const repeated = groups.filter((group, index) => groups.indexOf(group) !== index);
    if (repeated.length) {
      // Two rules on one group would start two rollouts of every approval.
      throw new Error(`ApprovalTrigger: model package group(s) ${[...new Set(repeated)].join(', ')} routed more than once`);
    }

    this.deadLetterQueue = deadLetterQueue(this, "the approval rules' targets (EventBridge DeadLetterConfig)");

    this.rules = props.routes.map((route, index) => {
      const pattern = approvalEventPattern([route.modelPackageGroupName]);
      const rule = new events.Rule(this, `Rule${index}`, {
        description: `Starts a blue/green rollout when a model package of group ${route.modelPackageGroupName} is approved`,
        // CDK spells detail-type in camelCase and renders it back.
        eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
      });
      rule.addTarget(
        new targets.SfnStateMachine(route.stateMachine, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(2),
        }),
      );
      return rule;
    });
  }

  /** The rule starting rollouts of `modelPackageGroupName`. */
  ruleFor(modelPackageGroupName: string): events.Rule {
    const index = this.groups.indexOf(modelPackageGroupName);
    if (index < 0) throw new Error(`No approval rule for model package group "${modelPackageGroupName}"; groups are ${this.groups.join(', ')}`);
    return this.rules[index]!;
  }
}

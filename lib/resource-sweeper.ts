/**
 * Runs the sweeper (lambdas/sweep-resources) on a schedule: an EventBridge rule invokes it every few hours, so
 * what failed, timed-out or stopped executions left behind (endpoint configs, models, alarms, stray variants) does
 * not keep costing. The function's settings (dry run, minimum age) are its environment, set by whoever creates it.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';

/** @default every six hours */
export const DEFAULT_SWEEP_SCHEDULE = events.Schedule.rate(Duration.hours(6));

export interface ResourceSweeperProps {
  /** The sweeper (EVENT_HANDLERS `sweep-resources`); the scheduled event it receives carries no settings. */
  readonly sweepFunction: lambda.IFunction;
  /**
   * When the sweep runs.
   * @default rate(6 hours)
   */
  readonly schedule?: events.Schedule;
  /**
   * How many times EventBridge retries an invocation it could not deliver (throttled, say).
   * @default 2
   */
  readonly retryAttempts?: number;
}

/**
 * An EventBridge rule on the default bus, on `schedule`, targeting the sweeper. Runs that could not be delivered,
 * and runs whose handler still failed after Lambda's retry, go to a dead-letter queue: a sweeper that keeps
 * failing (say, an unreadable active-rollouts record) must be noticed, or leftovers pile up unseen.
 */
export class ResourceSweeper extends Construct {
  /** The schedule rule. */
  readonly rule: events.Rule;
  /** Sweeps that never ran, or failed as a whole. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ResourceSweeperProps) {
    super(scope, id);
    // A run later than the next scheduled one is worthless: that one sweeps the same leftovers.
    const maxEventAge = Duration.hours(1);

    this.deadLetterQueue = deadLetterQueue(this, "the sweeper schedule's target (EventBridge DeadLetterConfig) and the on-failure destination of the sweeper function");

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the sweeper: removes what the blue/green rollouts created that no running rollout owns',
      schedule: props.schedule ?? DEFAULT_SWEEP_SCHEDULE,
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.sweepFunction, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 2,
        maxEventAge,
      }),
    );
    // EventBridge invokes asynchronously: a failed run is retried once by Lambda, then recorded in the queue.
    props.sweepFunction.configureAsyncInvoke({
      retryAttempts: 1,
      maxEventAge,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
  }
}

/**
 * Cleans up after rollout executions that ended without their failure path: a state-machine timeout, a console
 * Stop or an uncatchable runtime error can leave green running (GPU cost), blue at weight 0, the rollout's alarms
 * and the endpoint's lock. An EventBridge rule on `Step Functions Execution Status Change` (FAILED, TIMED_OUT,
 * ABORTED of the rollout state machines) starts the reconciler state machine (state-machines/reconcile.asl.json),
 * which calls reconcile-rollout in a Wait loop. The pattern comes from lambdas/shared/execution-events.ts.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { executionEndedEventPattern } from '../lambdas/shared/execution-events';
import { RECONCILER_STEP } from '../lambdas/steps';
import { assertSubstitutionsMatch } from './rollout-state-machine';
import { deadLetterQueue } from './dead-letter-queue';

/** The reconciler's ASL (JSONPath, so the local engine runs it as AWS does). */
export const RECONCILE_ASL_PATH = path.join(__dirname, '..', 'state-machines', 'reconcile.asl.json');

export interface RolloutReconcilerProps {
  /** reconcile-rollout (RECONCILER_STEP): invoked by the reconciler state machine only. */
  readonly reconcileFunction: lambda.IFunction;
  /** The rollout state machines whose failed, timed-out or stopped executions are reconciled (at least one). */
  readonly rolloutStateMachines: readonly sfn.IStateMachine[];
  /** Where the reconciler's execution events (with their data) are logged: the rollouts' log group. */
  readonly logGroup: logs.ILogGroup;
  /**
   * How many times EventBridge retries a failed StartExecution before the event goes to the dead-letter queue.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event. Reconciling late still stops a green that costs.
   * @default Duration.hours(24) (EventBridge's longest)
   */
  readonly maxEventAge?: Duration;
}

/**
 * The reconciler state machine (STANDARD, traced, logging every event with its data) and the rule that starts it
 * with the whole status change event, with a dead-letter queue for the events it could not start it for.
 */
export class RolloutReconciler extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The rule on the default event bus, where Step Functions publishes execution status changes. */
  readonly rule: events.Rule;
  /** Status changes EventBridge could not start the reconciler for (throttled or denied past the retries). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RolloutReconcilerProps) {
    super(scope, id);
    if (props.rolloutStateMachines.length === 0) throw new Error('RolloutReconciler needs at least one rollout state machine');

    const aslText = JSON.stringify(JSON.parse(readFileSync(RECONCILE_ASL_PATH, 'utf8')));
    const substitutions = { [RECONCILER_STEP.substitution]: props.reconcileFunction.functionArn };
    assertSubstitutionsMatch(aslText, substitutions, RECONCILE_ASL_PATH);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Inline, placeholder kept: CloudFormation substitutes the ARN (DefinitionSubstitutions).
      definitionBody: sfn.DefinitionBody.fromString(aslText),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // fromString infers no permissions. The unqualified ARN only: the ASL invokes no version or alias.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.reconcileFunction.functionArn] }),
    );
    Validations.of(this.stateMachine.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by CDK for tracing and logging: the X-Ray actions and the CloudWatch Logs log-delivery actions ' +
        '(logs:CreateLogDelivery, logs:PutResourcePolicy, ...) that Step Functions logging requires support no resource-level permissions',
    });

    this.deadLetterQueue = deadLetterQueue(this, "the reconciler rule's target (EventBridge DeadLetterConfig)");

    const pattern = executionEndedEventPattern(props.rolloutStateMachines.map((stateMachine) => stateMachine.stateMachineArn));
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Starts the reconciler when a blue/green rollout execution fails, times out or is stopped',
      // CDK spells detail-type in camelCase and renders it back.
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(this.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(24),
      }),
    );
  }
}

/**
 * The stack platform teams deploy: the artifacts bucket, the active-rollouts table, the rollout history table (the
 * audit trail), the lifecycle event bus with its archive and optional notifications, the rollout functions, one
 * state machine per deployment target with the approval rule that starts it, the alarm rule that rolls a
 * rollout back, the reconciler that cleans up after an execution failed, timed out or was stopped, and the
 * scheduled sweeper, and a CloudWatch dashboard per endpoint. Thin on purpose: each part is its own construct.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RolloutConfig } from '../lambdas/shared/config';
import { parseSweeperConfig, type SweeperConfig } from '../lambdas/shared/sweeper-config';
import { ActiveRolloutsTable } from './active-rollouts-table';
import { AlarmRollbackTrigger } from './alarm-rollback-trigger';
import { ApprovalTrigger } from './approval-trigger';
import { ArtifactsBucket } from './artifacts-bucket';
import { parseNotificationsConfig, type NotificationsConfig } from './config';
import { LifecycleEvents } from './lifecycle-events';
import { RolloutFunctions, SWEEPER_DIR } from './rollout-functions';
import { RolloutHistoryTable } from './rollout-history-table';
import { RolloutReconciler } from './rollout-reconciler';
import { ResourceSweeper } from './resource-sweeper';
import { RolloutDashboards } from './rollout-dashboard';
import { ROLLOUT_ASL_PATH, rolloutDefinitions, RolloutStateMachines } from './rollout-state-machine';

/** The event handler the alarm rule invokes (EVENT_HANDLERS in lambdas/steps.ts). */
export const ALARM_HANDLER_DIR = 'on-alarm';

export interface BlueGreenDeploymentStackProps extends StackProps {
  /** The validated deployment targets (see lib/config.ts `loadRolloutConfig`). */
  readonly config: RolloutConfig;
  /**
   * The rollout ASL template, unrolled per target for its traffic steps.
   * @default ROLLOUT_ASL_PATH (state-machines/rollout.asl.json)
   */
  readonly definitionFile?: string;
  /**
   * Directory with one `<dir>/index.ts` handler per rollout step and event handler.
   * @default the repository's lambdas/ directory
   */
  readonly handlersDirectory?: string;
  /**
   * Retention of the functions' logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly functionLogRetention?: logs.RetentionDays;
  /**
   * Retention of the state machines' execution logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly executionLogRetention?: logs.RetentionDays;
  /**
   * The scheduled sweeper: dry run, minimum age of what it removes, schedule (cdk.json context `sweeper`).
   * @default removes what is older than a day, every 6 hours
   */
  readonly sweeper?: SweeperConfig;
  /**
   * Notifications of the important lifecycle events (cdk.json context `notifications`, parseNotificationsConfig),
   * and how long the bus's archive keeps events.
   * @default no notifications; the archive keeps 90 days
   */
  readonly notifications?: NotificationsConfig;
}

/**
 * Outputs: `StateMachineArns` (a JSON object: model package group -> state machine ARN, for scripts), and per
 * target `StateMachineArn<index>` and `ApprovalRuleName<index>` (index in the configuration's target list);
 * `AlarmRuleName`, `ReconcilerStateMachineArn`, `SweeperRuleName`, `DashboardNames`, `ActiveRolloutsTableName`, `RolloutHistoryTableName`,
 * `LifecycleEventBusName`, `NotificationTopicArn` (when notifications are enabled), `ArtifactsBucketName`. The single `StateMachineArn` and
 * `ApprovalRuleName` outputs of one-state-machine stacks are gone: each target now has its own.
 */
export class BlueGreenDeploymentStack extends Stack {
  readonly artifacts: ArtifactsBucket;
  readonly activeRollouts: ActiveRolloutsTable;
  readonly history: RolloutHistoryTable;
  readonly lifecycle: LifecycleEvents;
  readonly functions: RolloutFunctions;
  readonly rollout: RolloutStateMachines;
  readonly trigger: ApprovalTrigger;
  readonly alarmTrigger: AlarmRollbackTrigger;
  readonly reconciler: RolloutReconciler;
  readonly sweeper: ResourceSweeper;
  readonly dashboards: RolloutDashboards;

  constructor(scope: Construct, id: string, props: BlueGreenDeploymentStackProps) {
    super(scope, id, props);
    // Unrolled and checked once (traffic steps, execution timeout), then used by the functions and the state machines.
    const definitions = rolloutDefinitions(props.config, props.definitionFile ?? ROLLOUT_ASL_PATH);
    const sweeper = props.sweeper ?? parseSweeperConfig({});

    this.artifacts = new ArtifactsBucket(this, 'Artifacts');
    this.activeRollouts = new ActiveRolloutsTable(this, 'ActiveRollouts');
    this.history = new RolloutHistoryTable(this, 'RolloutHistory');
    this.lifecycle = new LifecycleEvents(this, 'LifecycleEvents', { notifications: props.notifications ?? parseNotificationsConfig(undefined) });
    this.functions = new RolloutFunctions(this, 'Functions', {
      config: props.config,
      artifacts: this.artifacts,
      rolloutsTable: this.activeRollouts.table,
      historyTable: this.history.table,
      lifecycleBus: this.lifecycle.bus,
      definitions,
      handlersDirectory: props.handlersDirectory,
      logRetention: props.functionLogRetention,
      sweeper,
    });
    this.rollout = new RolloutStateMachines(this, 'Rollout', {
      functions: this.functions,
      definitions,
      logRetention: props.executionLogRetention,
    });
    this.trigger = new ApprovalTrigger(this, 'ApprovalTrigger', {
      routes: this.rollout.targets.map(({ definition, stateMachine }) => ({
        modelPackageGroupName: definition.target.modelPackageGroupName,
        stateMachine,
      })),
    });
    this.alarmTrigger = new AlarmRollbackTrigger(this, 'AlarmRollbackTrigger', {
      handler: this.functions.functionFor(ALARM_HANDLER_DIR),
      existingAlarmNames: props.config.targets.flatMap((target) => target.policy.alarms.existingAlarmNames),
    });

    this.reconciler = new RolloutReconciler(this, 'Reconciler', {
      reconcileFunction: this.functions.reconcileFunction,
      rolloutStateMachines: this.rollout.targets.map((t) => t.stateMachine),
      logGroup: this.rollout.logGroup,
    });

    this.sweeper = new ResourceSweeper(this, 'Sweeper', {
      sweepFunction: this.functions.functionFor(SWEEPER_DIR),
      schedule: events.Schedule.rate(Duration.hours(sweeper.scheduleHours)),
    });

    this.dashboards = new RolloutDashboards(this, 'Dashboards', { config: props.config });

    new CfnOutput(this, 'StateMachineArns', {
      description: 'The rollout state machine of each model package group, as JSON (one execution per approval)',
      value: this.toJsonString(
        Object.fromEntries(this.rollout.targets.map(({ definition, stateMachine }) => [definition.target.modelPackageGroupName, stateMachine.stateMachineArn])),
      ),
    });
    for (const { definition, stateMachine } of this.rollout.targets) {
      const { modelPackageGroupName, endpointName } = definition.target;
      new CfnOutput(this, `StateMachineArn${definition.index}`, {
        description: `The rollout state machine of group ${modelPackageGroupName} (endpoint ${endpointName})`,
        value: stateMachine.stateMachineArn,
      });
      new CfnOutput(this, `ApprovalRuleName${definition.index}`, {
        description: `The EventBridge rule that starts a rollout on each approval of group ${modelPackageGroupName}`,
        value: this.trigger.ruleFor(modelPackageGroupName).ruleName,
      });
    }
    new CfnOutput(this, 'AlarmRuleName', {
      description: 'The EventBridge rule that rolls a rollout back when an alarm watching green goes to ALARM',
      value: this.alarmTrigger.rule.ruleName,
    });
    new CfnOutput(this, 'ReconcilerStateMachineArn', {
      description: 'The state machine that cleans up after a rollout execution failed, timed out or was stopped',
      value: this.reconciler.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'SweeperRuleName', {
      description: `The schedule of the sweeper (every ${sweeper.scheduleHours} h${sweeper.dryRun ? ', dry run' : ''}: removes what this system created that no running rollout owns, older than ${sweeper.minAgeSeconds} s)`,
      value: this.sweeper.rule.ruleName,
    });
    new CfnOutput(this, 'DashboardNames', {
      description: 'The CloudWatch dashboard of each endpoint (blue and green side by side), as JSON: endpoint -> dashboard name',
      value: this.toJsonString(Object.fromEntries([...this.dashboards.dashboards].map(([endpoint, dashboard]) => [endpoint, dashboard.dashboardName]))),
    });
    new CfnOutput(this, 'ActiveRolloutsTableName', {
      description: 'The DynamoDB table of active rollouts (one item per endpoint while a rollout watches green)',
      value: this.activeRollouts.table.tableName,
    });
    new CfnOutput(this, 'RolloutHistoryTableName', {
      description: 'The DynamoDB table of every rollout (the audit trail: header, lifecycle events, outcome), kept forever',
      value: this.history.table.tableName,
    });
    new CfnOutput(this, 'LifecycleEventBusName', {
      description: 'The EventBridge bus the rollouts publish their lifecycle events on (archived for replay)',
      value: this.lifecycle.bus.eventBusName,
    });
    if (this.lifecycle.topic) {
      new CfnOutput(this, 'NotificationTopicArn', {
        description: 'The SNS topic notified of approvals requested, validations not passed, rollbacks, promotions and other ends',
        value: this.lifecycle.topic.topicArn,
      });
    }
    new CfnOutput(this, 'ArtifactsBucketName', {
      description: 'The bucket of validation samples and reports (under validation/, expired after 90 days)',
      value: this.artifacts.bucket.bucketName,
    });
  }
}

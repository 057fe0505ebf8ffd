/**
 * The stack platform teams deploy: the artifacts bucket, the rollout functions, the state machine that
 * orchestrates them, and the approval rule that starts it. Thin on purpose: each part is its own construct.
 */
import { readFileSync } from 'node:fs';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RolloutConfig } from '../lambdas/shared/config';
import { ApprovalTrigger } from './approval-trigger';
import { ArtifactsBucket } from './artifacts-bucket';
import { RolloutFunctions } from './rollout-functions';
import { assertPolicyWaitsFitExecution, ROLLOUT_ASL_PATH, RolloutStateMachine } from './rollout-state-machine';

export interface BlueGreenDeploymentStackProps extends StackProps {
  /** The validated deployment targets (see lib/config.ts `loadRolloutConfig`). */
  readonly config: RolloutConfig;
  /**
   * The rollout ASL.
   * @default ROLLOUT_ASL_PATH (state-machines/rollout.asl.json)
   */
  readonly definitionFile?: string;
  /**
   * Directory with one `<step dir>/index.ts` handler per rollout step.
   * @default the repository's lambdas/ directory
   */
  readonly handlersDirectory?: string;
  /**
   * Retention of the functions' logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly functionLogRetention?: logs.RetentionDays;
  /**
   * Retention of the state machine's execution logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly executionLogRetention?: logs.RetentionDays;
}

export class BlueGreenDeploymentStack extends Stack {
  readonly artifacts: ArtifactsBucket;
  readonly functions: RolloutFunctions;
  readonly rollout: RolloutStateMachine;
  readonly trigger: ApprovalTrigger;

  constructor(scope: Construct, id: string, props: BlueGreenDeploymentStackProps) {
    super(scope, id, props);
    const definitionFile = props.definitionFile ?? ROLLOUT_ASL_PATH;
    assertPolicyWaitsFitExecution(props.config, readFileSync(definitionFile, 'utf8'), definitionFile);

    this.artifacts = new ArtifactsBucket(this, 'Artifacts');
    this.functions = new RolloutFunctions(this, 'Functions', {
      config: props.config,
      artifacts: this.artifacts,
      definitionFile,
      handlersDirectory: props.handlersDirectory,
      logRetention: props.functionLogRetention,
    });
    this.rollout = new RolloutStateMachine(this, 'Rollout', {
      functions: this.functions,
      definitionFile,
      logRetention: props.executionLogRetention,
    });
    this.trigger = new ApprovalTrigger(this, 'ApprovalTrigger', {
      stateMachine: this.rollout.stateMachine,
      modelPackageGroupNames: props.config.targets.map((target) => target.modelPackageGroupName),
    });

    new CfnOutput(this, 'StateMachineArn', {
      description: 'The rollout state machine (one execution per approval)',
      value: this.rollout.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ApprovalRuleName', {
      description: 'The EventBridge rule that starts a rollout on each approval',
      value: this.trigger.rule.ruleName,
    });
    new CfnOutput(this, 'ArtifactsBucketName', {
      description: 'The bucket of validation samples and reports (under validation/, expired after 90 days)',
      value: this.artifacts.bucket.bucketName,
    });
  }
}

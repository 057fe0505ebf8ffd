/**
 * One rollout state machine per deployment target. Each runs the ASL template state-machines/rollout.asl.json
 * (the same template the local rehearsal runs) unrolled for the target's traffic steps
 * (state-machines/rollout-definition.ts), with an execution timeout computed from the target's policy and the
 * Lambda ARNs filled in through definition substitutions. The targets share one encrypted execution log group.
 */
import { ArnFormat, Aws, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DeploymentTarget, RolloutConfig } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';
import { trafficStepPercents } from '../lambdas/shared/traffic';
import {
  executionTimeoutSeconds,
  expandTrafficSteps,
  MAX_EXECUTION_SECONDS,
  readRolloutTemplate,
  ROLLOUT_ASL_PATH,
  type AslDefinition,
  type ExecutionTimePolicy,
} from '../state-machines/rollout-definition';

export { ROLLOUT_ASL_PATH };

/** A `${Name}` definition substitution placeholder (the syntax CloudFormation's DefinitionSubstitutions use). */
const PLACEHOLDER = /\$\{([^}]+)\}/g;

/** The ASL fields this code reads; everything else passes through untouched. */
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: unknown };
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Branches?: readonly AslStates[];
  readonly Iterator?: AslStates;
  readonly ItemProcessor?: AslStates;
}
interface AslStates {
  readonly States: Readonly<Record<string, AslState>>;
}

/** The names of every `${...}` placeholder in an ASL text. */
export function aslPlaceholders(aslText: string): Set<string> {
  return new Set([...aslText.matchAll(PLACEHOLDER)].map((match) => match[1]));
}

/**
 * Throws unless the ASL's placeholders and the substitutions are the same set: a placeholder without a
 * substitution would reach Step Functions literally, and a substitution without a placeholder means a
 * function the state machine never calls.
 */
export function assertSubstitutionsMatch(aslText: string, substitutions: Readonly<Record<string, string>>, source: string): void {
  const placeholders = aslPlaceholders(aslText);
  const provided = new Set(Object.keys(substitutions));
  const unsubstituted = [...placeholders].filter((name) => !provided.has(name));
  const unused = [...provided].filter((name) => !placeholders.has(name));
  const problems = [
    ...(unsubstituted.length ? [`placeholders with no substitution: ${unsubstituted.map((n) => '${' + n + '}').join(', ')}`] : []),
    ...(unused.length ? [`substitutions with no placeholder: ${unused.join(', ')}`] : []),
  ];
  if (problems.length) {
    throw new Error(`The definition substitutions do not match ${source}: ${problems.join('; ')}`);
  }
}

/**
 * Timeout of a Lambda invoked by a `.waitForTaskToken` Task: the function only announces the wait and
 * returns; the Task's own TimeoutSeconds(Path) bounds the wait for the token, not the function.
 */
export const WAIT_FOR_TASK_TOKEN_LAMBDA_TIMEOUT_SECONDS = 30;

/**
 * For each substitution used as a Task's `Parameters.FunctionName`, the smallest timeout the Task states that
 * invoke it allow (Parallel branches and Map processors included). A Lambda's timeout must not exceed it, or
 * Step Functions gives up on the task while the function still runs. For a plain Task that is its
 * TimeoutSeconds (required: the function's timeout must be known at deploy time, so TimeoutSecondsPath alone
 * is refused). A `.waitForTaskToken` Task counts WAIT_FOR_TASK_TOKEN_LAMBDA_TIMEOUT_SECONDS, and must have
 * TimeoutSeconds or TimeoutSecondsPath: a lost token would otherwise hold the execution until it times out.
 */
export function lambdaTaskTimeouts(aslText: string, source: string): Map<string, number> {
  const definition = JSON.parse(aslText) as AslStates;
  const timeouts = new Map<string, number>();
  const taskTimeout = (stateName: string, state: AslState, substitution: string): number => {
    const where = `State "${stateName}" in ${source} invokes \${${substitution}}`;
    if (state.Resource?.endsWith('.waitForTaskToken')) {
      if (typeof state.TimeoutSeconds !== 'number' && typeof state.TimeoutSecondsPath !== 'string') {
        throw new Error(`${where} and waits for a task token without TimeoutSeconds or TimeoutSecondsPath`);
      }
      return WAIT_FOR_TASK_TOKEN_LAMBDA_TIMEOUT_SECONDS;
    }
    if (typeof state.TimeoutSeconds !== 'number') {
      const pathOnly = typeof state.TimeoutSecondsPath === 'string' ? ' (TimeoutSecondsPath is only known at run time)' : '';
      throw new Error(`${where} without TimeoutSeconds${pathOnly}`);
    }
    return state.TimeoutSeconds;
  };
  const visit = (states: AslStates): void => {
    for (const [stateName, state] of Object.entries(states.States)) {
      const functionName = state.Parameters?.FunctionName;
      const substitution = typeof functionName === 'string' ? /^\$\{([^}]+)\}$/.exec(functionName)?.[1] : undefined;
      if (state.Type === 'Task' && substitution) {
        const seconds = taskTimeout(stateName, state, substitution);
        timeouts.set(substitution, Math.min(timeouts.get(substitution) ?? Infinity, seconds));
      }
      state.Branches?.forEach(visit);
      if (state.Iterator) visit(state.Iterator);
      if (state.ItemProcessor) visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return timeouts;
}

/** `targets[0] (fraud-detector)`: how messages name a target. */
function targetLabel(target: DeploymentTarget, index: number): string {
  return `targets[${index}] (${target.modelPackageGroupName})`;
}

/**
 * The execution timeout of a target's state machine (executionTimeoutSeconds: every wait its policy allows plus a
 * day of margin). Throws a ConfigurationError naming the target and the fields when that reaches Step Functions'
 * one-year maximum: the timeout would then be capped below what the policy may wait, and a state-machine timeout
 * is caught by nothing, so neither blue would be restored nor green deleted.
 */
export function assertExecutionTimeoutFits(policy: ExecutionTimePolicy, stepPercents: readonly number[], target: string): number {
  const timeoutSeconds = executionTimeoutSeconds(policy, stepPercents);
  if (timeoutSeconds < MAX_EXECUTION_SECONDS) return timeoutSeconds;
  const steps = stepPercents.length;
  throw new ConfigurationError(
    `${target}.policy: the rollout's waits plus a day of margin reach Step Functions' longest execution (${MAX_EXECUTION_SECONDS} s, one year): ` +
      // The queue wait counts too (executionTimeoutSeconds): name it whenever the policy has one, so the sum adds up.
      (policy.queue ? `queue.maxWaitSeconds (${policy.queue.maxWaitSeconds}) + ` : '') +
      `validation.approvalTimeoutSeconds (${policy.validation.approvalTimeoutSeconds}) + ${steps - 1} x traffic.stepBakeSeconds ` +
      `(${policy.traffic.stepBakeSeconds}) + bakeSeconds (${policy.bakeSeconds}) + rollbackWindowSeconds (${policy.rollbackWindowSeconds}) + ` +
      `${steps + 3} x endpointUpdateTimeoutSeconds (${policy.endpointUpdateTimeoutSeconds}) + a day of margin. ` +
      'An execution stopped by its timeout restores nothing: shorten these waits or use fewer traffic steps.',
  );
}

/** One target's rollout definition, as its state machine receives it. */
export interface TargetRolloutDefinition {
  /** The target's position in the configuration (construct ids and outputs are numbered by it). */
  readonly index: number;
  readonly target: DeploymentTarget;
  /** Green's share after each traffic step, in percent, ending at 100 (trafficStepPercents of the policy). */
  readonly stepPercents: readonly number[];
  /** The state machine's TimeoutSeconds (executionTimeoutSeconds of the policy and steps). */
  readonly timeoutSeconds: number;
  /** The unrolled definition, with `${...}` placeholders for the function ARNs. */
  readonly definition: AslDefinition;
  /** The same as compact JSON: the state machine's DefinitionString. */
  readonly aslText: string;
  /** Where it comes from, for messages: `<template> unrolled for targets[0] (fraud-detector)`. */
  readonly source: string;
}

/**
 * Every target's definition: the template unrolled for the target's traffic steps, its TimeoutSeconds computed
 * from the policy (assertExecutionTimeoutFits), and its Comment naming the group, the endpoint and the steps.
 * Throws naming the target when the template cannot be unrolled for it.
 */
export function rolloutDefinitions(config: RolloutConfig, definitionFile: string = ROLLOUT_ASL_PATH): TargetRolloutDefinition[] {
  const template = readRolloutTemplate(definitionFile);
  return config.targets.map((target, index) => {
    const label = targetLabel(target, index);
    const stepPercents = trafficStepPercents(target.policy.traffic);
    const timeoutSeconds = assertExecutionTimeoutFits(target.policy, stepPercents, label);
    const source = `${definitionFile} unrolled for ${label}`;
    let definition: AslDefinition;
    try {
      definition = expandTrafficSteps(template, stepPercents, timeoutSeconds);
    } catch (error) {
      throw new Error(`Cannot unroll ${definitionFile} for ${label} (traffic steps ${stepPercents.join(', ')}%): ${(error as Error).message}`);
    }
    const summary =
      `Rollout of model package group ${target.modelPackageGroupName} to endpoint ${target.endpointName} ` +
      `(${target.policy.traffic.mode}: ${stepPercents.map((percent) => `${percent}%`).join(' -> ')}).`;
    definition = { ...definition, Comment: definition.Comment ? `${summary} ${definition.Comment}` : summary };
    return { index, target, stepPercents, timeoutSeconds, definition, aslText: JSON.stringify(definition), source };
  });
}

/** The functions the state machines invoke, as RolloutFunctions exposes them. */
export interface RolloutStateMachineFunctions {
  /** Every function the ASL invokes. */
  readonly functions: readonly lambda.IFunction[];
  /** `{ [placeholder]: functionArn }` for the ASL's definition substitutions. */
  readonly substitutions: Readonly<Record<string, string>>;
}

export interface RolloutStateMachinesProps {
  /** The Lambdas the ASL's Task states invoke and the substitutions that name them. */
  readonly functions: RolloutStateMachineFunctions;
  /** One definition per target (rolloutDefinitions): one state machine each. */
  readonly definitions: readonly TargetRolloutDefinition[];
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** A target's state machine and the definition it runs. */
export interface TargetStateMachine {
  readonly definition: TargetRolloutDefinition;
  readonly stateMachine: sfn.StateMachine;
}

/**
 * One STANDARD state machine per target (construct id `StateMachine<index>`, name generated by CloudFormation),
 * each traced with X-Ray and logging every execution event with its data to one shared log group, encrypted with
 * a customer-managed KMS key (one key for all targets: a key per target would cost without protecting more).
 */
export class RolloutStateMachines extends Construct {
  /** Per target, in configuration order. */
  readonly targets: readonly TargetStateMachine[];
  /** Where every target's execution events (with input and output data) are logged. */
  readonly logGroup: logs.LogGroup;
  /** The customer-managed key encrypting the log group. */
  readonly logKey: kms.Key;

  constructor(scope: Construct, id: string, props: RolloutStateMachinesProps) {
    super(scope, id);
    if (props.definitions.length === 0) throw new Error('RolloutStateMachines needs at least one target definition');
    // Fail synth, not deployment, when a definition and the functions disagree.
    for (const definition of props.definitions) {
      assertSubstitutionsMatch(definition.aslText, props.functions.substitutions, definition.source);
    }

    const stack = Stack.of(this);
    // The key policy must name the log group, and the log group must name the key: a fixed name breaks the
    // cycle. The stack id's UUID keeps it unique per stack instance, so a retained group from a deleted stack
    // never blocks a new deployment. /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small.
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const logGroupName = `/aws/vendedlogs/states/${stack.stackName}-rollout-${stackUuid}`;

    this.logKey = new kms.Key(this, 'LogKey', {
      description: 'Encrypts the blue/green rollout state machines execution logs (they hold execution data)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForTheRolloutLogGroup',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              resourceName: logGroupName,
            }),
          },
        },
      }),
    );

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName,
      encryptionKey: this.logKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.targets = props.definitions.map((definition) => ({
      definition,
      stateMachine: this.createStateMachine(definition, props.functions),
    }));
  }

  /** The state machine of the target deploying `modelPackageGroupName`. */
  stateMachineFor(modelPackageGroupName: string): sfn.StateMachine {
    const found = this.targets.find((t) => t.definition.target.modelPackageGroupName === modelPackageGroupName);
    if (!found) {
      throw new Error(
        `No rollout state machine for model package group "${modelPackageGroupName}"; groups are ` +
          this.targets.map((t) => t.definition.target.modelPackageGroupName).join(', '),
      );
    }
    return found.stateMachine;
  }

  private createStateMachine(definition: TargetRolloutDefinition, functions: RolloutStateMachineFunctions): sfn.StateMachine {
    const stateMachine = new sfn.StateMachine(this, `StateMachine${definition.index}`, {
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Inline, placeholders kept: CloudFormation substitutes the ARNs (DefinitionSubstitutions), as the rehearsal does.
      definitionBody: sfn.DefinitionBody.fromString(definition.aslText),
      definitionSubstitutions: { ...functions.substitutions },
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // fromString infers no permissions. Unqualified ARNs only: the ASL invokes no version or alias.
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: functions.functions.map((fn) => fn.functionArn),
      }),
    );
    // On the default policy, where CDK puts these statements (next to the scoped invoke grant above).
    Validations.of(stateMachine.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by CDK for tracing and logging: the X-Ray actions and the CloudWatch Logs log-delivery actions ' +
        '(logs:CreateLogDelivery, logs:PutResourcePolicy, ...) that Step Functions logging requires support no resource-level permissions',
    });
    return stateMachine;
  }
}

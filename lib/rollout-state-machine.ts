/**
 * The rollout state machine, defined by the ASL file state-machines/rollout.asl.json (the same file the local
 * rehearsal runs), with the Lambda ARNs filled in through definition substitutions.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RolloutConfig } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';

/** The rollout's ASL, resolved from the repository root so synth works from any working directory. */
export const ROLLOUT_ASL_PATH = path.join(__dirname, '..', 'state-machines', 'rollout.asl.json');

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

/**
 * Throws a ConfigurationError naming the target and fields when its policy can keep one execution waiting
 * longer than the ASL's top-level TimeoutSeconds. Step Functions then stops the execution, and no Catch sees
 * that: nothing restores blue or deletes green. Counted: the longest wait for a decision plus the bake that
 * follows an approval given at its end. The other states take time too, so passing is necessary, not sufficient.
 */
export function assertPolicyWaitsFitExecution(config: RolloutConfig, aslText: string, source: string): void {
  const executionTimeout = (JSON.parse(aslText) as { TimeoutSeconds?: unknown }).TimeoutSeconds;
  if (typeof executionTimeout !== 'number') return;
  const problems = config.targets.flatMap((target, index) => {
    const { bakeSeconds, validation } = target.policy;
    const waits = validation.approvalTimeoutSeconds + bakeSeconds;
    return waits < executionTimeout
      ? []
      : [
          `targets[${index}] (${target.modelPackageGroupName}).policy: validation.approvalTimeoutSeconds (${validation.approvalTimeoutSeconds}) + ` +
            `bakeSeconds (${bakeSeconds}) = ${waits} s is not below the state machine's TimeoutSeconds (${executionTimeout} s in ${source}); ` +
            'an execution stopped by that timeout restores nothing',
        ];
  });
  if (problems.length) throw new ConfigurationError(`Invalid configuration for the rollout state machine:\n  ${problems.join('\n  ')}`);
}

/** The functions the state machine invokes, as RolloutFunctions exposes them. */
export interface RolloutStateMachineFunctions {
  /** Every function the ASL invokes. */
  readonly functions: readonly lambda.IFunction[];
  /** `{ [placeholder]: functionArn }` for the ASL's definition substitutions. */
  readonly substitutions: Readonly<Record<string, string>>;
}

export interface RolloutStateMachineProps {
  /** The Lambdas the ASL's Task states invoke and the substitutions that name them. */
  readonly functions: RolloutStateMachineFunctions;
  /**
   * The ASL file.
   * @default ROLLOUT_ASL_PATH (state-machines/rollout.asl.json)
   */
  readonly definitionFile?: string;
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A STANDARD state machine running the rollout ASL, traced with X-Ray, logging every execution event with
 * its data to a log group encrypted with a customer-managed KMS key.
 */
export class RolloutStateMachine extends Construct {
  /** The state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** Where execution events (with input and output data) are logged. */
  readonly logGroup: logs.LogGroup;
  /** The customer-managed key encrypting the log group. */
  readonly logKey: kms.Key;

  constructor(scope: Construct, id: string, props: RolloutStateMachineProps) {
    super(scope, id);
    const definitionFile = props.definitionFile ?? ROLLOUT_ASL_PATH;
    // Fail synth, not deployment, when the ASL and the functions disagree.
    assertSubstitutionsMatch(readFileSync(definitionFile, 'utf8'), props.functions.substitutions, definitionFile);

    const stack = Stack.of(this);
    // The key policy must name the log group, and the log group must name the key: a fixed name breaks the
    // cycle. The stack id's UUID keeps it unique per stack instance, so a retained group from a deleted stack
    // never blocks a new deployment. /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small.
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const logGroupName = `/aws/vendedlogs/states/${stack.stackName}-rollout-${stackUuid}`;

    this.logKey = new kms.Key(this, 'LogKey', {
      description: 'Encrypts the blue/green rollout state machine execution logs (they hold execution data)',
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

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(definitionFile),
      definitionSubstitutions: { ...props.functions.substitutions },
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // fromFile infers no permissions. Unqualified ARNs only: the ASL invokes no version or alias.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: props.functions.functions.map((fn) => fn.functionArn),
      }),
    );
    // On the default policy, where CDK puts these statements (next to the scoped invoke grant above).
    Validations.of(this.stateMachine.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by CDK for tracing and logging: the X-Ray actions and the CloudWatch Logs log-delivery actions ' +
        '(logs:CreateLogDelivery, logs:PutResourcePolicy, ...) that Step Functions logging requires support no resource-level permissions',
    });
  }
}

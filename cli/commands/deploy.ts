/**
 * `operator deploy`: starts a rollout by hand, by the same path as an approval. The rollout state machine is
 * started with exactly the EventBridge event SageMaker sends when a model package becomes Approved, so "Resolve
 * rollout" and everything after it (the endpoint's lock and queue included) treat it as an approval.
 */
import { randomUUID } from 'node:crypto';
import type { DescribeModelPackageOutput } from '@aws-sdk/client-sagemaker';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { APPROVAL_EVENT_DETAIL_TYPE, APPROVAL_EVENT_SOURCE, MODEL_PACKAGE_ARN_PATTERN } from '../../lambdas/shared/events';
import { describeModelPackageIfExists } from '../../lambdas/shared/sagemaker';
import { awsCall, explainAwsError } from '../aws-errors';
import { OperationError, UsageError, type Command, type OptionsConfig } from '../command';
import { clientsBeside, type CliContext } from '../context';
import { byField, operatorName } from '../decision';
import { REGION_OPTION, regionField } from '../options';

/** Step Functions' limit on an execution name. */
export const MAX_EXECUTION_NAME_CHARS = 80;
const NAME_PREFIX = 'deploy-';
/** Hex characters of randomness at the end of the name: two deploys of one version never collide. */
const RANDOM_CHARS = 8;

/** arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION_OR_ALIAS] (StartExecution takes all three). */
const STATE_MACHINE_ARN_PATTERN = /^arn:aws[a-z-]*:states:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:stateMachine:[^:\s]+(?::[^:\s]+)?$/;
/** The region and account of a model package ARN (MODEL_PACKAGE_ARN_PATTERN has already matched). */
const MODEL_PACKAGE_ARN_PARTS = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):model-package\//;

const DeployOptionsSchema = z.object({
  'model-package-arn': z
    .string({ error: 'required: the ARN of the model package version to deploy' })
    .max(2048, 'at most 2048 characters (a model package ARN)')
    .regex(MODEL_PACKAGE_ARN_PATTERN, 'expected a model package ARN, arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION'),
  'state-machine-arn': z
    .string({ error: 'required: the ARN of the rollout state machine (the stack output)' })
    .max(256, 'at most 256 characters (a state machine ARN)')
    .regex(STATE_MACHINE_ARN_PATTERN, 'expected a state machine ARN, arn:aws:states:REGION:ACCOUNT:stateMachine:NAME'),
  by: byField,
  region: regionField,
});

export type DeployOptions = z.infer<typeof DeployOptionsSchema>;

const DEPLOY_OPTIONS = {
  'model-package-arn': { type: 'string' },
  'state-machine-arn': { type: 'string' },
  by: { type: 'string' },
  ...REGION_OPTION,
} as const satisfies OptionsConfig;

export const deployCommand: Command<DeployOptions> = {
  name: 'deploy',
  summary: 'start a rollout of an approved model package version by hand, as its approval would',
  usage: `Usage: npx sagemaker-blue-green deploy --model-package-arn ARN --state-machine-arn ARN [--by NAME] [--region REGION]

Starts a rollout of an Approved model package version by hand (e.g. again after a rollout failed for a
reason since fixed): the rollout state machine is started with the very event an approval sends, so the
rollout goes exactly as after an approval. The package must exist and be Approved; approve it first
otherwise (approving starts a rollout by itself).

One rollout runs on an endpoint at a time: while another rollout runs there, this one queues behind it
(up to the target's queue limit). A deploy of the version the endpoint already serves ends "Already live",
of an older version "Superseded by a newer version", and of the version already being rolled out
"Duplicate approval", all without changing anything.

Options:
  --model-package-arn ARN  the model package version (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/N)
  --state-machine-arn ARN  the rollout state machine (the stack's output), in the package's region
  --by NAME                who starts it, printed and recorded as the rollout's trigger (default: your OS user name)
  --region REGION          AWS region (default: AWS_REGION or your profile's region); must be the ARNs' region
  --help                   this text`,
  options: DEPLOY_OPTIONS,
  schema: DeployOptionsSchema,
  run: (options, context) => deploy(options, context),
};

/** The model package version a deploy starts, as the approval event names it. */
export interface ApprovedPackage {
  readonly arn: string;
  readonly groupName: string;
  readonly version: number;
  readonly region: string;
  readonly account: string;
  /** @default - not in the event */
  readonly creationTime?: Date;
  /** @default - not in the event */
  readonly status?: string;
}

/**
 * The "SageMaker Model Package State Change" event SageMaker sends when `pkg` becomes Approved (the shape
 * lambdas/shared/events.ts ModelPackageStateChangeEventSchema reads and rehearsal/runner.ts `approvalEvent` sends).
 */
export function approvalEventFor(pkg: ApprovedPackage, id: string, now: Date): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': APPROVAL_EVENT_DETAIL_TYPE,
    source: APPROVAL_EVENT_SOURCE,
    account: pkg.account,
    // EventBridge writes times to the second.
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: pkg.region,
    resources: [pkg.arn],
    detail: {
      ModelPackageGroupName: pkg.groupName,
      ModelPackageVersion: pkg.version,
      ModelPackageArn: pkg.arn,
      ModelPackageName: `${pkg.groupName}/${pkg.version}`,
      ...(pkg.creationTime ? { CreationTime: pkg.creationTime.getTime() } : {}),
      ...(pkg.status ? { ModelPackageStatus: pkg.status } : {}),
      ModelApprovalStatus: 'Approved',
      UpdatedModelPackageFields: ['ModelApprovalStatus'],
    },
  };
}

/**
 * `deploy-<group>-v<version>-<random>`, at most 80 characters: the group is cut (never the version or the
 * random part, which make the name unique). Group names are letters, digits and hyphens, all valid here.
 */
export function deployExecutionName(groupName: string, version: number, random: string): string {
  const suffix = `-v${version}-${random.slice(0, RANDOM_CHARS)}`;
  const room = MAX_EXECUTION_NAME_CHARS - NAME_PREFIX.length - suffix.length;
  const group = groupName.slice(0, room).replace(/-+$/, '');
  return `${NAME_PREFIX}${group}${suffix}`;
}

/** The Step Functions console page of an execution; undefined in partitions without a known console. */
export function executionConsoleUrl(executionArn: string): string | undefined {
  const match = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):/.exec(executionArn);
  if (!match) return undefined;
  const [, partition, region] = match;
  const host = { aws: `${region}.console.aws.amazon.com`, 'aws-cn': 'console.amazonaws.cn', 'aws-us-gov': 'console.amazonaws-us-gov.com' }[partition!];
  return host ? `https://${host}/states/home?region=${region}#/v2/executions/details/${executionArn}` : undefined;
}

async function deploy(options: DeployOptions, context: CliContext): Promise<void> {
  const packageArn = options['model-package-arn'];
  const stateMachineArn = options['state-machine-arn'];
  const by = operatorName(options.by, context);

  const [, packageRegion, account] = MODEL_PACKAGE_ARN_PARTS.exec(packageArn)!;
  const machineRegion = STATE_MACHINE_ARN_PATTERN.exec(stateMachineArn)![1]!;
  if (packageRegion !== machineRegion) {
    // "Resolve rollout" describes the package with a client of the state machine's region.
    throw new UsageError(
      `--model-package-arn: the package is in ${packageRegion}, but the state machine in ${machineRegion}: a rollout deploys ` +
        `packages of its own region (register the package in ${machineRegion}, or use that region's stack)`,
    );
  }

  const stepFunctions = context.aws.stepFunctions(options.region);
  const region = await awsCall({ action: 'finding the AWS region', executionArn: stateMachineArn }, () => stepFunctions.config.region());
  if (region !== machineRegion) {
    throw new OperationError(
      `state machine ${stateMachineArn} is in ${machineRegion}, but requests would go to ${region}` +
        `${options.region ? ' (--region)' : ' (your default region)'}: use --region ${machineRegion}`,
    );
  }
  const { sageMaker } = clientsBeside(stepFunctions);

  let described: DescribeModelPackageOutput | undefined;
  try {
    described = await describeModelPackageIfExists(sageMaker, packageArn);
  } catch (error) {
    throw new OperationError(explainDescribeError(error, packageArn, region));
  }
  const pkg = approvedPackage(packageArn, described, region, account!);

  const name = deployExecutionName(pkg.groupName, pkg.version, randomUUID().replace(/-/g, ''));
  // `deployedBy` beside the event (SageMaker's events never carry it): "Resolve rollout" records an operator deploy by it.
  const input = JSON.stringify({ ...approvalEventFor(pkg, randomUUID(), context.now()), deployedBy: by });
  let executionArn: string | undefined;
  try {
    ({ executionArn } = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name, input })));
  } catch (error) {
    throw new OperationError(explainStartError(error, stateMachineArn, region));
  }
  if (!executionArn) throw new OperationError(`states:StartExecution on ${stateMachineArn} answered without an execution ARN`);

  context.out(`Started a rollout of ${pkg.groupName} version ${pkg.version} (${pkg.arn}), by ${by}.`);
  context.out(`Execution: ${executionArn}`);
  context.out('Follow it with:');
  context.out(`  npx sagemaker-blue-green trace --execution ${executionArn}`);
  const url = executionConsoleUrl(executionArn);
  if (url) context.out(`  ${url}`);
  context.out('If another rollout runs on the endpoint, this one queues behind it; if the endpoint already serves this version, it ends "Already live".');
}

/** The package as the event names it, or a refusal in plain words: it must exist, be versioned and be Approved. */
function approvedPackage(arn: string, described: DescribeModelPackageOutput | undefined, region: string, account: string): ApprovedPackage {
  if (!described) throw new OperationError(`no model package ${arn} in ${region} (check the ARN and --region)`);
  const { ModelPackageGroupName: groupName, ModelPackageVersion: version, ModelApprovalStatus: status } = described;
  if (!groupName || version === undefined) {
    throw new OperationError(`model package ${arn} is not a version in a model package group: only versioned packages are rolled out`);
  }
  if (status !== 'Approved') {
    throw new OperationError(
      `model package ${arn} is ${status ?? 'without an approval status'}, not Approved: approve it first (in SageMaker ` +
        `Studio, or aws sagemaker update-model-package --model-package-arn ${arn} --model-approval-status Approved); ` +
        'the approval starts the rollout by itself',
    );
  }
  return {
    arn: described.ModelPackageArn ?? arn,
    groupName,
    version,
    region,
    account,
    creationTime: described.CreationTime,
    status: described.ModelPackageStatus,
  };
}

/** DescribeModelPackage's failures; its permission is on the package, not on Step Functions. */
function explainDescribeError(error: unknown, packageArn: string, region: string): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return (
      `permission missing: your AWS identity may not call sagemaker:DescribeModelPackage (AWS said: ${(error as Error).message}). ` +
      `Ask for sagemaker:DescribeModelPackage on ${packageArn}`
    );
  }
  return explainAwsError(error, { action: 'sagemaker:DescribeModelPackage', executionArn: packageArn, region });
}

/** StartExecution's refusals in plain words; the rest as every command explains AWS errors. */
function explainStartError(error: unknown, stateMachineArn: string, region: string): string {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case 'StateMachineDoesNotExist':
      return `no state machine ${stateMachineArn} (check --state-machine-arn: the stack output, and --region)`;
    case 'StateMachineDeleting':
      return `state machine ${stateMachineArn} is being deleted: nothing can start on it`;
    case 'InvalidArn':
      return `${stateMachineArn} is not a state machine ARN Step Functions accepts: ${message}`;
    case 'ExecutionLimitExceeded':
      return `too many executions are running in this account and region (${message}): wait for some to end and run the command again`;
    case 'InvalidExecutionInput':
    case 'InvalidName':
    case 'ExecutionAlreadyExists':
      // Bugs of this command (the name is random, the input small JSON), not of the operator's arguments.
      return `Step Functions refused the execution (${name}: ${message})`;
  }
  return explainAwsError(error, { action: 'states:StartExecution', executionArn: stateMachineArn, region });
}

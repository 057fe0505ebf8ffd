/**
 * One Lambda per rollout step and per event handler (lambdas/steps.ts), bundled locally with esbuild, traced with
 * X-Ray, each with its own role holding only the permissions that function needs on the configured endpoints,
 * groups, objects, the rollout's alarms, the active-rollouts table, the rollout history table and the lifecycle bus.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { ARTIFACTS_BUCKET_ENV } from '../lambdas/shared/artifacts';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../lambdas/shared/audit-trail';
import { RolloutConfigSchema, TARGETS_ENV, type RolloutConfig, type RolloutConfigInput } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';
import { LIFECYCLE_BUS_ENV } from '../lambdas/shared/lifecycle-events';
import { METRICS_NAMESPACE } from '../lambdas/shared/metrics';
import { ALARM_NAME_PREFIX } from '../lambdas/shared/names';
import { parseS3Uri } from '../lambdas/shared/payloads';
import { ROLLOUTS_TABLE_ENV } from '../lambdas/shared/rollout-record';
import { parseSweeperConfig, sweeperEnvironment, type SweeperConfig } from '../lambdas/shared/sweeper-config';
import { MANAGED_BY_TAG, SYSTEM_NAME } from '../lambdas/shared/tags';
import { EVENT_HANDLERS, RECONCILER_STEP, ROLLOUT_STEPS } from '../lambdas/steps';
import { VALIDATION_PREFIX, type ArtifactsBucket } from './artifacts-bucket';
import { RECONCILE_ASL_PATH } from './rollout-reconciler';
import { lambdaTaskTimeouts, type TargetRolloutDefinition } from './rollout-state-machine';

const REPO_ROOT = path.join(__dirname, '..');

/** Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Lambda's longest timeout. */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * How the handlers are bundled: locally with esbuild (a devDependency; never Docker), for Node 22, with the
 * AWS SDK inside the bundle so the lockfile's versions run rather than the runtime's. keepNames matters:
 * Step Functions matches Retry/Catch on the error's `name`, which lambdas/shared/errors.ts takes from the
 * class name, and minification would otherwise rename the classes.
 */
export const ROLLOUT_BUNDLING: BundlingOptions = {
  minify: true,
  keepNames: true,
  sourceMap: true,
  target: 'node22',
  externalModules: [],
  forceDockerBundling: false,
};

/** S3's longest bucket name: what the size check counts for a bucket name only known at deployment. */
const S3_BUCKET_NAME_MAX_LENGTH = 63;
/** DynamoDB's longest table name: what the size check counts for a table name only known at deployment. */
const DYNAMODB_TABLE_NAME_MAX_LENGTH = 255;
/** EventBridge's longest event bus name: what the size check counts for a bus name only known at deployment. */
const EVENT_BUS_NAME_MAX_LENGTH = 256;

/** The steps whose handlers read or write the artifacts bucket (and get its name in ARTIFACTS_BUCKET_ENV). */
export const ARTIFACTS_BUCKET_STEPS: ReadonlySet<string> = new Set(['validate-batch', 'judge-validation']);

/** The scheduled sweeper (EVENT_HANDLERS): it gets the sweeper's settings in its environment. */
export const SWEEPER_DIR = 'sweep-resources';

/** The functions that read or write the active-rollouts table (and get its name in ROLLOUTS_TABLE_ENV). */
export const ROLLOUTS_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'lock-endpoint',
  'arm-alarms',
  'hold-blue-capacity',
  'shift-traffic',
  'check-step',
  'watch-step',
  'release-rollout',
  'on-alarm',
  'reconcile-rollout',
  'sweep-resources',
]);

/**
 * The functions that record lifecycle events (lambdas/shared/lifecycle-events.ts): they get the history table's and
 * the bus's names (ROLLOUT_HISTORY_TABLE, LIFECYCLE_EVENT_BUS), PutItem on the table and PutEvents on the bus.
 */
export const LIFECYCLE_EVENT_FUNCTIONS: ReadonlySet<string> = new Set([
  'lock-endpoint',
  'provision-green',
  'warm-up',
  'judge-validation',
  'request-approval',
  'record-approval',
  'shift-traffic',
  'restore-blue',
  'retire-blue',
  'delete-resources',
  'release-rollout',
  'summarize-rollout',
  'reconcile-rollout',
]);

/**
 * The functions that also read a rollout's audit trail back (a Query of its endpoint's records) to write its outcome
 * and summary, and tag the rolled-out model package with it.
 */
export const ROLLOUT_SUMMARY_FUNCTIONS: ReadonlySet<string> = new Set(['summarize-rollout', 'reconcile-rollout']);

/**
 * The prefix of every tag key this system writes (MANAGED_BY_TAG and its siblings in lambdas/shared/tags.ts):
 * tagging a model package, which a person registered, is allowed with these keys only.
 */
export const SYSTEM_TAG_KEY_PATTERN = `${MANAGED_BY_TAG.slice(0, MANAGED_BY_TAG.indexOf(':') + 1)}*`;

/**
 * Timeouts of the event handlers (no ASL Task bounds them). on-alarm may wait up to 60 s for an update in
 * flight before it restores blue's weights, then probes blue and fails the waiting task.
 */
export const EVENT_HANDLER_TIMEOUT_SECONDS: Readonly<Record<string, number>> = { 'on-alarm': 120, 'sweep-resources': 900 };

/** The size Lambda measures: the JSON of the variables map (its error message shows that very string). */
export function lambdaEnvironmentSize(variables: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(variables), 'utf8');
}

/**
 * The smallest configuration input that the schema parses back to exactly `config`: every field whose value
 * is what the schema would default it to is left out (whole objects too, such as an all-default
 * `policy.validation`). The validation policy's defaults alone take about 1 KB per target, which would leave
 * room for only two targets in Lambda's 4 KB; the handlers parse ROLLOUT_TARGETS with the same schema
 * (targetsFromEnvironment), so they read the same validated targets. Throws if no equivalent form is found.
 */
export function compactRolloutConfig(config: RolloutConfig): RolloutConfigInput {
  const compact = structuredClone(config) as unknown;
  const parsesBack = () => {
    const result = RolloutConfigSchema.safeParse(compact);
    return result.success && isDeepStrictEqual(result.data, config);
  };
  if (!parsesBack()) throw new Error('The rollout configuration does not parse back to itself: was it validated with parseRolloutConfig?');
  // Top-down: drop a whole object when it is all defaults, else look inside it. Arrays keep their items.
  const prune = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(prune);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const fields = node as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      delete fields[key];
      if (parsesBack()) continue;
      fields[key] = value;
      prune(value);
    }
  };
  prune(compact);
  return compact as RolloutConfigInput;
}

export interface RolloutEnvironmentOptions {
  /**
   * The artifacts bucket's name (a token at synth time), for the steps that use the bucket.
   * @default no ARTIFACTS_BUCKET variable
   */
  readonly artifactsBucketName?: string;
  /**
   * The active-rollouts table's name (a token at synth time), for the functions that use the table.
   * @default no ROLLOUTS_TABLE variable
   */
  readonly rolloutsTableName?: string;
  /**
   * The rollout history table's name (a token at synth time), for the functions that record lifecycle events.
   * @default no ROLLOUT_HISTORY_TABLE variable
   */
  readonly historyTableName?: string;
  /**
   * The lifecycle event bus's name (a token at synth time), for the functions that record lifecycle events.
   * @default no LIFECYCLE_EVENT_BUS variable
   */
  readonly lifecycleBusName?: string;
}

/**
 * The environment of a rollout function: the targets, Powertools' service name and metrics namespace (what
 * lambdas/shared/metrics.ts publishes under), and the names of the resources it uses. Throws a ConfigurationError if
 * it exceeds Lambda's 4 KB, counting an unresolved bucket name as S3's longest (63 characters), an unresolved table
 * name as DynamoDB's longest (255) and an unresolved bus name as EventBridge's longest (256), since the real ones are
 * known only at deployment.
 */
export function rolloutEnvironment(config: RolloutConfig, options: RolloutEnvironmentOptions = {}): Record<string, string> {
  const variables: Record<string, string> = {
    [TARGETS_ENV]: JSON.stringify(compactRolloutConfig(config)),
    POWERTOOLS_SERVICE_NAME: SYSTEM_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: '--enable-source-maps',
  };
  const measured = { ...variables };
  const counted: string[] = [];
  const addName = (name: string, value: string | undefined, maxLength: number) => {
    if (value === undefined) return;
    variables[name] = value;
    measured[name] = Token.isUnresolved(value) ? 'n'.repeat(maxLength) : value;
    counted.push(`; ${name} counted at ${measured[name].length} bytes`);
  };
  addName(ARTIFACTS_BUCKET_ENV, options.artifactsBucketName, S3_BUCKET_NAME_MAX_LENGTH);
  addName(ROLLOUTS_TABLE_ENV, options.rolloutsTableName, DYNAMODB_TABLE_NAME_MAX_LENGTH);
  addName(ROLLOUT_HISTORY_TABLE_ENV, options.historyTableName, DYNAMODB_TABLE_NAME_MAX_LENGTH);
  addName(LIFECYCLE_BUS_ENV, options.lifecycleBusName, EVENT_BUS_NAME_MAX_LENGTH);
  const size = lambdaEnvironmentSize(measured);
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    throw new ConfigurationError(
      `The deployment targets do not fit in the Lambda environment: Lambda limits environment variables to ` +
        `${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (4 KB) in total, and these need ${size} bytes ` +
        `(${TARGETS_ENV} holds ${config.targets.length} validated target(s) as JSON, without the fields left at their defaults` +
        `${counted.join('')}). Shorten the sample payloads or split the targets across several stacks.`,
    );
  }
  return variables;
}

/** ARNs of the resources the functions may touch, from the configuration and this stack. */
interface RolloutResources {
  /** The configured endpoints. */
  readonly endpoints: string[];
  /** Every endpoint of the account and region: reads only (quota usage is account-wide; a person's endpoint may run one of our configs). */
  readonly anyEndpoint: string;
  /** Every endpoint config: rollouts name theirs at run time, and blue's has a user-chosen name. */
  readonly anyEndpointConfig: string;
  /** Every model: rollouts name theirs at run time. */
  readonly anyModel: string;
  /** Every version of each configured model package group. */
  readonly modelPackages: string[];
  /** The configured model execution roles. */
  readonly modelExecutionRoles: string[];
  /** Each target's golden dataset object (policy.validation.datasetS3Uri). */
  readonly datasetObjects: string[];
  /** Every object of each bucket that may hold a model package's sample payload (policy.validation.samplePayloadBuckets). */
  readonly samplePayloadObjects: string[];
  /** The artifacts bucket's `validation/*` objects: samples and reports. */
  readonly validationArtifacts: string;
  /** Every CloudWatch alarm whose name starts with ALARM_NAME_PREFIX: those the rollouts create. */
  readonly rolloutAlarms: string;
  /** The active-rollouts table. */
  readonly rolloutsTable: string;
  /** The rollout history table (the audit trail). */
  readonly historyTable: string;
  /** The lifecycle event bus. */
  readonly lifecycleBus: string;
  /** The service-linked role Application Auto Scaling uses for SageMaker variants. */
  readonly autoScalingServiceLinkedRole: string;
}

/** Resource '*': for the actions that support no resource-level permission we can use (see wildcardReason). */
const ANY_RESOURCE = '*';
/** The service principal of Application Auto Scaling for SageMaker, named by its service-linked role. */
const SAGEMAKER_AUTO_SCALING_SERVICE = 'sagemaker.application-autoscaling.amazonaws.com';

const REQUEST_TAGGED_AS_MANAGED = { StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG}`]: SYSTEM_NAME } };
const RESOURCE_TAGGED_AS_MANAGED = { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: SYSTEM_NAME } };

function allow(actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions, resources, conditions });
}

/**
 * The bucket and key of an `s3://bucket/key` dataset URI. IAM reads `*` and `?` in a resource as wildcards and
 * `${...}` as a policy variable, with no way to escape them here: a key containing one would widen the grant
 * to other objects, so it is refused.
 */
export function datasetLocation(datasetS3Uri: string, target: string): [bucket: string, key: string] {
  const location = datasetS3Uri.startsWith('s3://') ? parseS3Uri(datasetS3Uri) : undefined;
  if (!location) throw new ConfigurationError(`${target}.policy.validation.datasetS3Uri: must look like s3://bucket/key.jsonl, got ${datasetS3Uri}`);
  const { bucket, key } = location;
  if (/[*?]|\$\{/.test(key)) {
    throw new ConfigurationError(
      `${target}.policy.validation.datasetS3Uri: the key ${key} contains *, ? or \${, which IAM would read as a wildcard or a ` +
        'policy variable and so grant access to other objects; rename the dataset object',
    );
  }
  return [bucket, key];
}

/**
 * Reads of the payloads validation traffic is made of: the golden datasets and the configured sample-payload
 * buckets. Nothing when no target has either (the policy's inline sample payload needs no S3).
 */
function readPayloadStatements(r: RolloutResources): iam.PolicyStatement[] {
  const objects = [...r.datasetObjects, ...r.samplePayloadObjects];
  return objects.length ? [allow(['s3:GetObject'], objects)] : [];
}

/** Application Auto Scaling actions (on '*': scalable target ARNs carry an ID assigned at registration). */
function autoScalingStatement(...operations: string[]): iam.PolicyStatement {
  return allow(operations.map((operation) => `application-autoscaling:${operation}`), [ANY_RESOURCE]);
}

/**
 * What registering a scalable target needs besides application-autoscaling:RegisterScalableTarget: creating the
 * service-linked role Application Auto Scaling creates on the first registration in an account (that role only),
 * and describing the endpoint config. Application Auto Scaling checks that the caller itself may use the variant's
 * endpoint before it registers ("Permissions validation for API calls on target resources" in its user guide;
 * SageMaker's auto scaling prerequisites name DescribeEndpoint, DescribeEndpointConfig and
 * UpdateEndpointWeightsAndCapacities): each caller grants the two endpoint actions with its own.
 */
function registerScalableTargetStatements(r: RolloutResources): iam.PolicyStatement[] {
  return [
    allow(['iam:CreateServiceLinkedRole'], [r.autoScalingServiceLinkedRole], { StringEquals: { 'iam:AWSServiceName': SAGEMAKER_AUTO_SCALING_SERVICE } }),
    allow(['sagemaker:DescribeEndpointConfig'], [r.anyEndpointConfig]),
  ];
}

/** DescribeAlarms, on '*': CloudWatch returns composite alarms only to callers allowed on every alarm. */
function describeAlarmsStatement(): iam.PolicyStatement {
  return allow(['cloudwatch:DescribeAlarms'], [ANY_RESOURCE]);
}

/** Item operations on the active-rollouts table, and nothing on its indexes or streams. */
function tableStatement(r: RolloutResources, ...operations: string[]): iam.PolicyStatement {
  return allow(operations.map((operation) => `dynamodb:${operation}`), [r.rolloutsTable]);
}

/**
 * Recording a lifecycle event: a conditional PutItem of a new key in the history table (never an update: the trail is
 * never overwritten), then PutEvents on the lifecycle bus (lambdas/shared/lifecycle-events.ts).
 */
function recordLifecycleStatements(r: RolloutResources): iam.PolicyStatement[] {
  return [allow(['dynamodb:PutItem'], [r.historyTable]), allow(['events:PutEvents'], [r.lifecycleBus])];
}

/**
 * Writing a rollout's outcome: what recording an event takes, a Query of the endpoint's records in the history table
 * (the rollout's header and events), and tagging the rolled-out model package with the outcome, with this system's
 * tag keys only.
 */
function summarizeRolloutStatements(r: RolloutResources): iam.PolicyStatement[] {
  return [
    allow(['dynamodb:PutItem', 'dynamodb:Query'], [r.historyTable]),
    allow(['events:PutEvents'], [r.lifecycleBus]),
    allow(['sagemaker:AddTags'], r.modelPackages, { 'ForAllValues:StringLike': { 'aws:TagKeys': [SYSTEM_TAG_KEY_PATTERN] } }),
  ];
}

/** Reads of an endpoint and the configs/models it runs. */
function describeEndpointStatements(r: RolloutResources, withModels: boolean): iam.PolicyStatement[] {
  return [
    allow(['sagemaker:DescribeEndpoint'], r.endpoints),
    allow(['sagemaker:DescribeEndpointConfig'], [r.anyEndpointConfig]),
    ...(withModels ? [allow(['sagemaker:DescribeModel'], [r.anyModel])] : []),
  ];
}

/**
 * Least privilege per function (rollout steps and event handlers). No mutating SageMaker action has Resource
 * '*': endpoint mutations are limited to the configured endpoints; creations of generated names need this
 * system's tag on the request, and deletions need it on the resource, so nothing a person or another tool
 * created can be deleted. CloudWatch writes touch only alarms named with ALARM_NAME_PREFIX; DynamoDB only the
 * active-rollouts table and the rollout history table, each function with the item operations it performs (the
 * history only ever gets new items: PutItem, and Query to read a rollout back); EventBridge only the lifecycle bus.
 */
const STEP_PERMISSIONS: Readonly<Record<string, (r: RolloutResources) => iam.PolicyStatement[]>> = {
  'resolve-rollout': (r) => [
    allow(['sagemaker:DescribeModelPackage'], r.modelPackages),
    ...describeEndpointStatements(r, false),
  ],
  // The endpoint's lock: a conditional put; a refused put returns the holder; ALREADY_LIVE/SUPERSEDED/busy give it back.
  // Records the rollout's header (and its start) in the history table once it holds the lock.
  'lock-endpoint': (r) => [tableStatement(r, 'PutItem', 'GetItem', 'DeleteItem'), ...recordLifecycleStatements(r)],
  'provision-green': (r) => [
    allow(['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig'], [r.anyModel, r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:AddTags'], [r.anyModel, r.anyEndpointConfig, ...r.endpoints], REQUEST_TAGGED_AS_MANAGED),
    // SageMaker authorizes CreateEndpoint/UpdateEndpoint on the endpoint and on the config it references.
    allow(['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    ...describeEndpointStatements(r, false),
    allow(['iam:PassRole'], r.modelExecutionRoles, { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }),
    ...recordLifecycleStatements(r),
  ],
  // DescribeEndpointConfig: whether a rolled-back update was green's provisioning (capacity: the next instance type).
  'check-endpoint': (r) => [allow(['sagemaker:DescribeEndpoint'], r.endpoints), allow(['sagemaker:DescribeEndpointConfig'], [r.anyEndpointConfig])],
  // Service Quotas headroom against the account's instances of each type (every endpoint: the quota is account-wide);
  // deletes a failed attempt's endpoint config (tagged as ours) before the next instance type.
  'check-capacity': (r) => [
    allow(['servicequotas:ListServiceQuotas', 'sagemaker:ListEndpoints'], [ANY_RESOURCE]),
    allow(['sagemaker:DescribeEndpoint'], [r.anyEndpoint]),
    allow(['sagemaker:DescribeEndpointConfig', 'sagemaker:ListTags'], [r.anyEndpointConfig]),
    allow(['sagemaker:DeleteEndpointConfig'], [r.anyEndpointConfig], RESOURCE_TAGGED_AS_MANAGED),
  ],
  'smoke-check': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r)],
  'warm-up': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r), ...recordLifecycleStatements(r)],
  // Only reads the payload source to split it into batches (byte ranges of the dataset): invokes nothing.
  'plan-validation': (r) => readPayloadStatements(r),
  'validate-batch': (r) => [
    allow(['sagemaker:InvokeEndpoint'], r.endpoints),
    ...readPayloadStatements(r),
    allow(['s3:PutObject'], [r.validationArtifacts]),
  ],
  'probe-robustness': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r)],
  // Reads the batches' samples, writes the report.
  'judge-validation': (r) => [allow(['s3:GetObject', 's3:PutObject'], [r.validationArtifacts]), ...recordLifecycleStatements(r)],
  // Announces that the rollout waits for a decision (a lifecycle event); the operator answers with the task token.
  'request-approval': (r) => recordLifecycleStatements(r),
  // Records who approved, and why, once the operator's decision arrived.
  'record-approval': (r) => recordLifecycleStatements(r),
  // GetItem: a rollback requested while the step runs (in the endpoint's lock) wins over the shift.
  'shift-traffic': (r) => [
    allow(['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DescribeEndpoint'], r.endpoints),
    tableStatement(r, 'GetItem'),
    ...recordLifecycleStatements(r),
  ],
  // Checks that the policy's existing alarms exist, creates the rollout's own (tagged), registers the rollout.
  'arm-alarms': (r) => [
    allow(['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource'], [r.rolloutAlarms]),
    describeAlarmsStatement(),
    // Adds the rollout's alarms to the endpoint's lock (a conditional update); GetItem names the holder of a lock not ours.
    tableStatement(r, 'UpdateItem', 'GetItem'),
  ],
  // Suspends blue's scale-in (a RegisterScalableTarget of its existing target); the endpoint actions are what
  // Application Auto Scaling validates on registration (registerScalableTargetStatements).
  'hold-blue-capacity': (r) => [
    autoScalingStatement('DescribeScalableTargets', 'RegisterScalableTarget'),
    ...registerScalableTargetStatements(r),
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], r.endpoints),
    // Records the hold in the endpoint's lock, so that the reconciler resumes blue's scale-in after a stop.
    tableStatement(r, 'UpdateItem'),
  ],
  'check-step': (r) => [describeAlarmsStatement(), tableStatement(r, 'GetItem', 'UpdateItem')],
  'watch-step': (r) => [describeAlarmsStatement(), tableStatement(r, 'GetItem', 'UpdateItem')],
  // Copies blue's scalable target and policies to the promoted green.
  'scale-green': (r) => [
    autoScalingStatement('DescribeScalableTargets', 'DescribeScalingPolicies', 'RegisterScalableTarget', 'PutScalingPolicy'),
    ...registerScalableTargetStatements(r),
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], r.endpoints),
  ],
  // Releases blue's auto scaling, creates a green-only config and moves the endpoint to it: no model, no endpoint creation, no PassRole.
  'retire-blue': (r) => [
    allow(['sagemaker:CreateEndpointConfig'], [r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:AddTags'], [r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    ...describeEndpointStatements(r, false),
    autoScalingStatement('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget'),
    ...recordLifecycleStatements(r),
  ],
  // Probes blue (InvokeEndpoint, payloads from S3) before giving it its weight back; releases green's auto
  // scaling before removing it; resumes blue's scale-in (a RegisterScalableTarget of its existing target).
  'restore-blue': (r) => [
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'], r.endpoints),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    // Only an endpoint this system created (a failed first deployment) may be deleted.
    allow(['sagemaker:DeleteEndpoint'], r.endpoints, RESOURCE_TAGGED_AS_MANAGED),
    ...readPayloadStatements(r),
    autoScalingStatement('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget', 'RegisterScalableTarget'),
    ...registerScalableTargetStatements(r),
    ...recordLifecycleStatements(r),
  ],
  // Reads the endpoint, its configs and models to keep whatever is still in use.
  'delete-resources': (r) => [
    ...describeEndpointStatements(r, true),
    allow(['sagemaker:ListTags'], [r.anyEndpointConfig, r.anyModel]),
    allow(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [r.anyEndpointConfig, r.anyModel], RESOURCE_TAGGED_AS_MANAGED),
    ...recordLifecycleStatements(r),
  ],
  // After a failed, timed-out or stopped execution: what restore-blue, delete-resources and release-rollout do,
  // finding the execution's lock by its ARN (a Scan of the small table), then what summarize-rollout does (ABORTED);
  // without a lock, finding the execution's rollout in the history table by its ARN (a Scan: the table is keyed by
  // endpoint) to conclude one stopped after its release and before its summary.
  'reconcile-rollout': (r) => [
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'], r.endpoints),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    allow(['sagemaker:DeleteEndpoint'], r.endpoints, RESOURCE_TAGGED_AS_MANAGED),
    ...describeEndpointStatements(r, true),
    allow(['sagemaker:ListTags'], [r.anyEndpointConfig, r.anyModel]),
    allow(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [r.anyEndpointConfig, r.anyModel], RESOURCE_TAGGED_AS_MANAGED),
    ...readPayloadStatements(r),
    autoScalingStatement('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget', 'RegisterScalableTarget'),
    ...registerScalableTargetStatements(r),
    allow(['cloudwatch:DeleteAlarms'], [r.rolloutAlarms]),
    describeAlarmsStatement(),
    tableStatement(r, 'Scan', 'DeleteItem'),
    ...summarizeRolloutStatements(r),
    allow(['dynamodb:Scan'], [r.historyTable]),
  ],
  // Scheduled: lists what this system created, removes what no running rollout owns (tags and the lock table decide).
  'sweep-resources': (r) => [
    allow(['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'], [ANY_RESOURCE]),
    allow(['sagemaker:DescribeEndpoint'], [r.anyEndpoint]),
    allow(['sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags'], [r.anyEndpointConfig, r.anyModel]),
    allow(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [r.anyEndpointConfig, r.anyModel], RESOURCE_TAGGED_AS_MANAGED),
    allow(['sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'], [r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    autoScalingStatement('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget'),
    describeAlarmsStatement(),
    allow(['cloudwatch:ListTagsForResource', 'cloudwatch:DeleteAlarms'], [r.rolloutAlarms]),
    tableStatement(r, 'Scan'),
  ],
  // Deletes the rollout's own alarms (never an existing one: those do not carry the prefix) and its record.
  'release-rollout': (r) => [
    allow(['cloudwatch:DeleteAlarms'], [r.rolloutAlarms]),
    describeAlarmsStatement(),
    tableStatement(r, 'DeleteItem'),
    ...recordLifecycleStatements(r),
  ],
  // Reads the rollout's trail back, writes its outcome and summary, publishes it, tags the model package with it.
  'summarize-rollout': (r) => summarizeRolloutStatements(r),
  // The alarm handler: restores blue's weights once a probe shows blue serves, records the request, fails the waiting task.
  'on-alarm': (r) => [
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'], r.endpoints),
    ...readPayloadStatements(r),
    tableStatement(r, 'GetItem', 'UpdateItem'),
    allow(['states:SendTaskFailure'], [ANY_RESOURCE]),
  ],
};

/**
 * Flattens a resolved CloudFormation value the way cdk-nag names findings (`{Ref: X}` -> `<X>`,
 * `Fn::Join` joined), so an acknowledgement names exactly the finding it answers.
 */
function flattenForNag(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const node = value as Record<string, unknown>;
  if (Array.isArray(node?.['Fn::Join'])) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenForNag).join(delimiter);
  }
  if (node?.Ref !== undefined) return `<${flattenForNag(node.Ref)}>`;
  if (Array.isArray(node?.['Fn::GetAtt'])) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenForNag(resource)}.${flattenForNag(attribute)}>`;
  }
  return JSON.stringify(value);
}

/** The id cdk-nag's AwsSolutions-IAM5 gives a wildcard resource in a policy of `scope`'s stack. */
export function wildcardResourceFindingId(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenForNag(Stack.of(scope).resolve(resource))}]`;
}

/**
 * Why Resource '*' is acceptable for each action a function is granted on it. Each reason names what the action
 * cannot be scoped by and what keeps it narrow anyway.
 */
const ANY_RESOURCE_REASONS: ReadonlyArray<{ readonly actions: RegExp; readonly reason: string }> = [
  {
    actions: /^cloudwatch:DescribeAlarms$/,
    reason:
      "cloudwatch:DescribeAlarms returns composite alarms only to a caller allowed it on '*' (CloudWatch permissions reference), and a " +
      "policy's existingAlarmNames may name composite alarms; read-only, and the handlers ask only for the rollout's own and the configured alarms",
  },
  {
    actions: /^application-autoscaling:/,
    reason:
      'Application Auto Scaling names a scalable target by an ID assigned at registration (scalable-target/<id>), not by the endpoint or ' +
      "variant, and blue's target was registered outside this stack without a tag of ours, so neither an ARN nor a tag condition can " +
      'name it at deploy time; the handlers only send ResourceIds of the configured endpoints\' variants (endpoint/<endpoint>/variant/<variant>)',
  },
  {
    actions: /^servicequotas:ListServiceQuotas$/,
    reason:
      'servicequotas:ListServiceQuotas has no resource type in the Service Authorization Reference; read-only, and the capacity check asks ' +
      "only for SageMaker's quotas (ServiceCode sagemaker)",
  },
  {
    actions: /^sagemaker:List(Endpoints|EndpointConfigs|Models)$/,
    reason:
      'sagemaker:ListEndpoints, ListEndpointConfigs and ListModels support no resource-level permission (Service Authorization Reference); ' +
      'read-only: the capacity check counts instances in use, the sweeper finds what carries this system\'s tag',
  },
  {
    actions: /^states:SendTaskFailure$/,
    reason:
      'states:SendTaskFailure supports no resource-level permission (the task token identifies the execution); the alarm handler fails only ' +
      "the token the endpoint's active-rollout record holds, which only this stack's state machines write",
  },
];

/** Why each wildcard resource the functions use is acceptable; a wildcard with no reason here fails synth. */
function wildcardReason(resource: string, r: RolloutResources, actions: readonly string[]): string | undefined {
  if (resource === ANY_RESOURCE) {
    const reasons = actions.map((action) => ANY_RESOURCE_REASONS.find((entry) => entry.actions.test(action))?.reason);
    if (reasons.some((reason) => reason === undefined)) return undefined;
    return [...new Set(reasons)].join(' | ');
  }
  if (resource === r.rolloutAlarms) {
    return (
      `${actions.join(', ')}: alarm names are generated per rollout at run time (rolloutAlarmNames in lambdas/shared/names.ts); ` +
      `the wildcard covers only alarms named with this system's prefix ${ALARM_NAME_PREFIX}, never an existing alarm a policy names`
    );
  }
  const readOnly = actions.every((action) => /^sagemaker:(Describe|List)/.test(action));
  const guard = (guarded: string) => (readOnly ? 'these actions only read' : guarded);
  const tagged = `${MANAGED_BY_TAG}=${SYSTEM_NAME}`;
  if (resource === r.anyModel) {
    return (
      `${actions.join(', ')}: model names are generated per rollout at run time (lambdas/shared/names.ts), so no ARN is known at deploy time; ` +
      guard(`creating or tagging one requires the request tag ${tagged} and deleting one requires that tag on the model`)
    );
  }
  if (resource === r.anyEndpointConfig) {
    return (
      `${actions.join(', ')}: endpoint config names are generated per rollout at run time and blue's config has a user-chosen name, so none is known at deploy time; ` +
      guard(
        `creating or tagging one requires the request tag ${tagged}, deleting one requires that tag on the config, ` +
          'and UpdateEndpoint/CreateEndpoint are also bound to the configured endpoints',
      )
    );
  }
  if (resource === r.anyEndpoint) {
    // Only reads may be granted on every endpoint: a mutation on it would fail this check and synth.
    return readOnly
      ? `${actions.join(', ')}: read-only on every endpoint of the account and region: the endpoint-usage quota counts every endpoint's instances, and a person's endpoint may run a config this system created`
      : undefined;
  }
  if (r.modelPackages.includes(resource)) {
    const versions = `${actions.join(', ')}: model package versions are registered after deployment; the wildcard covers only the versions of a configured model package group`;
    return actions.every((action) => /^sagemaker:(Describe|List)/.test(action))
      ? `${versions}, read-only`
      : `${versions}; the only change allowed is tagging a version with the rollout's outcome, with this system's tag keys only (${SYSTEM_TAG_KEY_PATTERN})`;
  }
  if (r.samplePayloadObjects.includes(resource)) {
    return (
      `${actions.join(', ')}: a model package's SamplePayloadUrl is known only once the package is registered, after deployment; ` +
      'read-only, and only in a bucket the configuration lists in samplePayloadBuckets'
    );
  }
  if (resource === r.validationArtifacts) {
    return (
      `${actions.join(', ')}: sample and report keys are named per rollout execution at run time; ` +
      `the wildcard covers only the ${VALIDATION_PREFIX} prefix of this stack's own artifacts bucket`
    );
  }
  return undefined;
}

export interface RolloutFunctionsProps {
  /** The validated deployment targets: scope the permissions and become the functions' ROLLOUT_TARGETS. */
  readonly config: RolloutConfig;
  /** Where validation samples and reports go: ARTIFACTS_BUCKET of the steps in ARTIFACTS_BUCKET_STEPS. */
  readonly artifacts: ArtifactsBucket;
  /** The active-rollouts table: ROLLOUTS_TABLE of the functions in ROLLOUTS_TABLE_FUNCTIONS. */
  readonly rolloutsTable: dynamodb.ITable;
  /** The audit trail: ROLLOUT_HISTORY_TABLE of the functions in LIFECYCLE_EVENT_FUNCTIONS. */
  readonly historyTable: dynamodb.ITable;
  /** Where lifecycle events are published: LIFECYCLE_EVENT_BUS of the functions in LIFECYCLE_EVENT_FUNCTIONS. */
  readonly lifecycleBus: events.IEventBus;
  /** Every target's definition (rolloutDefinitions): their Task TimeoutSeconds bound each step function's timeout. */
  readonly definitions: readonly TargetRolloutDefinition[];
  /**
   * Directory holding one `<dir>/index.ts` per step and event handler, each exporting `handler`.
   * @default the repository's lambdas/ directory
   */
  readonly handlersDirectory?: string;
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The sweeper's settings (its function's environment).
   * @default dry run off, resources older than a day, every 6 hours (SweeperConfigSchema)
   */
  readonly sweeper?: SweeperConfig;
}

/** A function to create: a rollout step or an event handler of lambdas/steps.ts. */
interface FunctionSpec {
  readonly dir: string;
  readonly description: string;
  /** `Rollout step` or `Event handler`: the role's description starts with it. */
  readonly kind: string;
}

/**
 * One NodejsFunction per entry of ROLLOUT_STEPS and of EVENT_HANDLERS, and the reconciler's (RECONCILER_STEP),
 * each with its own least-privilege role and log group.
 */
export class RolloutFunctions extends Construct {
  /** Every step's function, in ROLLOUT_STEPS order: what the state machines invoke. */
  readonly functions: readonly NodejsFunction[];
  /** Every event handler's function, in EVENT_HANDLERS order (invoked by EventBridge, never by a state machine). */
  readonly eventHandlers: readonly NodejsFunction[];
  /** The reconciler state machine's function (RECONCILER_STEP). */
  readonly reconcileFunction: NodejsFunction;
  /** `{ [step.substitution]: functionArn }`: the state machines' definition substitutions. */
  readonly substitutions: Readonly<Record<string, string>>;
  private readonly byDir = new Map<string, NodejsFunction>();

  constructor(scope: Construct, id: string, props: RolloutFunctionsProps) {
    super(scope, id);
    const handlersDirectory = props.handlersDirectory ?? path.join(REPO_ROOT, 'lambdas');
    const missingHandlers = [...ROLLOUT_STEPS, ...EVENT_HANDLERS, RECONCILER_STEP]
      .map((fn) => path.join(handlersDirectory, fn.dir, 'index.ts'))
      .filter((entry) => !existsSync(entry));
    if (missingHandlers.length) {
      throw new Error(
        `Missing rollout handlers (each step and event handler of lambdas/steps.ts needs <dir>/index.ts exporting handler): ${missingHandlers.join(', ')}`,
      );
    }
    if (props.definitions.length === 0) throw new Error('RolloutFunctions needs at least one target definition');
    const timeouts = this.taskTimeouts(props.definitions);
    const resources = this.rolloutResources(props);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const sweeper = props.sweeper ?? parseSweeperConfig({});
    const environmentFor = (dir: string) => ({
      ...rolloutEnvironment(props.config, {
        artifactsBucketName: ARTIFACTS_BUCKET_STEPS.has(dir) ? props.artifacts.bucket.bucketName : undefined,
        rolloutsTableName: ROLLOUTS_TABLE_FUNCTIONS.has(dir) ? props.rolloutsTable.tableName : undefined,
        historyTableName: LIFECYCLE_EVENT_FUNCTIONS.has(dir) ? props.historyTable.tableName : undefined,
        lifecycleBusName: LIFECYCLE_EVENT_FUNCTIONS.has(dir) ? props.lifecycleBus.eventBusName : undefined,
      }),
      ...(dir === SWEEPER_DIR ? sweeperEnvironment(sweeper) : {}),
    });
    const substitutions: Record<string, string> = {};

    const stepFunctions = ROLLOUT_STEPS.map((step) => {
      const seconds = timeouts.get(step.substitution);
      if (seconds === undefined) {
        throw new Error(`No Task state in ${props.definitions.map((d) => d.source).join('; ')} invokes \${${step.substitution}} (step ${step.dir})`);
      }
      const fn = this.createFunction({ ...step, kind: 'Rollout step' }, {
        entry: path.join(handlersDirectory, step.dir, 'index.ts'),
        timeoutSeconds: Math.min(seconds, LAMBDA_MAX_TIMEOUT_SECONDS),
        environment: environmentFor(step.dir),
        resources,
        logRetention,
      });
      substitutions[step.substitution] = fn.functionArn;
      return fn;
    });
    const eventHandlers = EVENT_HANDLERS.map((handler) => {
      const seconds = EVENT_HANDLER_TIMEOUT_SECONDS[handler.dir];
      if (seconds === undefined) throw new Error(`No timeout is defined for event handler "${handler.dir}" (EVENT_HANDLER_TIMEOUT_SECONDS)`);
      return this.createFunction({ ...handler, kind: 'Event handler' }, {
        entry: path.join(handlersDirectory, handler.dir, 'index.ts'),
        timeoutSeconds: seconds,
        environment: environmentFor(handler.dir),
        resources,
        logRetention,
      });
    });
    const reconcileSeconds = lambdaTaskTimeouts(readFileSync(RECONCILE_ASL_PATH, 'utf8'), RECONCILE_ASL_PATH).get(RECONCILER_STEP.substitution);
    if (reconcileSeconds === undefined) throw new Error(`No Task state in ${RECONCILE_ASL_PATH} invokes \${${RECONCILER_STEP.substitution}}`);
    this.reconcileFunction = this.createFunction({ ...RECONCILER_STEP, kind: 'Reconciler step' }, {
      entry: path.join(handlersDirectory, RECONCILER_STEP.dir, 'index.ts'),
      timeoutSeconds: Math.min(reconcileSeconds, LAMBDA_MAX_TIMEOUT_SECONDS),
      environment: environmentFor(RECONCILER_STEP.dir),
      resources,
      logRetention,
    });
    this.functions = stepFunctions;
    this.eventHandlers = eventHandlers;
    this.substitutions = substitutions;
  }

  /** The function whose handler lives in lambdas/<dir>/ (a step, an event handler or the reconciler's). */
  functionFor(dir: string): NodejsFunction {
    const fn = this.byDir.get(dir);
    if (!fn) throw new Error(`No rollout function for "${dir}"; functions are ${[...this.byDir.keys()].join(', ')}`);
    return fn;
  }

  /**
   * For each substitution, the tightest timeout of the Tasks that invoke it in any target's definition
   * (lambdaTaskTimeouts of each unrolled text, so a step copied per traffic step counts every copy).
   */
  private taskTimeouts(definitions: readonly TargetRolloutDefinition[]): Map<string, number> {
    const timeouts = new Map<string, number>();
    for (const definition of definitions) {
      for (const [substitution, seconds] of lambdaTaskTimeouts(definition.aslText, definition.source)) {
        timeouts.set(substitution, Math.min(timeouts.get(substitution) ?? Infinity, seconds));
      }
    }
    return timeouts;
  }

  private rolloutResources({ config, artifacts, rolloutsTable, historyTable, lifecycleBus }: RolloutFunctionsProps): RolloutResources {
    const stack = Stack.of(this);
    // SageMaker lowercases resource names in its ARNs (endpoint/my-endpoint), whatever case they were created with.
    const sagemakerArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName: resourceName.toLowerCase() });
    // S3 ARNs have no region or account: arn:<partition>:s3:::<bucket>/<key>.
    const s3ObjectArn = (bucket: string, key: string) =>
      stack.formatArn({ service: 's3', region: '', account: '', resource: bucket, resourceName: key });
    const datasetObjects = config.targets.flatMap((target, index) => {
      const uri = target.policy.validation.datasetS3Uri;
      return uri === undefined ? [] : [s3ObjectArn(...datasetLocation(uri, `targets[${index}] (${target.modelPackageGroupName})`))];
    });
    return {
      datasetObjects: [...new Set(datasetObjects)],
      samplePayloadObjects: [
        ...new Set(config.targets.flatMap((t) => t.policy.validation.samplePayloadBuckets.map((bucket) => s3ObjectArn(bucket, '*')))),
      ],
      validationArtifacts: artifacts.validationObjectsArn(),
      endpoints: [...new Set(config.targets.map((t) => sagemakerArn('endpoint', t.endpointName)))],
      anyEndpoint: sagemakerArn('endpoint', '*'),
      anyEndpointConfig: sagemakerArn('endpoint-config', '*'),
      anyModel: sagemakerArn('model', '*'),
      modelPackages: [...new Set(config.targets.map((t) => sagemakerArn('model-package', `${t.modelPackageGroupName}/*`)))],
      modelExecutionRoles: [...new Set(config.targets.map((t) => t.modelExecutionRoleArn))],
      // arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>
      rolloutAlarms: stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${ALARM_NAME_PREFIX}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      rolloutsTable: rolloutsTable.tableArn,
      historyTable: historyTable.tableArn,
      lifecycleBus: lifecycleBus.eventBusArn,
      // IAM ARNs have no region.
      autoScalingServiceLinkedRole: stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `aws-service-role/${SAGEMAKER_AUTO_SCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
      }),
    };
  }

  private createFunction(
    spec: FunctionSpec,
    options: {
      entry: string;
      timeoutSeconds: number;
      environment: Record<string, string>;
      resources: RolloutResources;
      logRetention: logs.RetentionDays;
    },
  ): NodejsFunction {
    const id = spec.dir.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
    const statementsFor = STEP_PERMISSIONS[spec.dir];
    if (!statementsFor) throw new Error(`No IAM permissions are defined for rollout function "${spec.dir}"`);

    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: options.logRetention });
    // An own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole, which lets
    // the function write to any log group; this one writes only to its own.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.kind} ${spec.dir}: ${spec.description}`,
    });
    logGroup.grantWrite(role);
    // The function's own permissions live in their own policy, so the acknowledgement of X-Ray's Resource '*'
    // (on the role's default policy, below) can never cover a wildcard added here.
    const statements = statementsFor(options.resources);
    // A function with no permission of its own would get no policy: an empty one is not even synthesized.
    const stepPolicy = statements.length ? new iam.Policy(this, `${id}Permissions`, { roles: [role], statements }) : undefined;
    if (stepPolicy) this.acknowledgeWildcards(stepPolicy, spec.dir, statements, options.resources);

    const fn = new NodejsFunction(this, id, {
      entry: options.entry,
      handler: 'handler',
      description: spec.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(options.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: options.environment,
      bundling: ROLLOUT_BUNDLING,
    });

    if (stepPolicy) fn.node.addDependency(stepPolicy);
    this.byDir.set(spec.dir, fn);
    // Tracing.ACTIVE adds the X-Ray statement to the role's default policy, next to the log-group grant.
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the bundle targets node22 (esbuild target) and the handlers are tested against it; move runtime and target together',
    });
    return fn;
  }

  /** Acknowledges each wildcard resource of the function's policy with the reason it is needed. */
  private acknowledgeWildcards(policy: iam.Policy, dir: string, statements: iam.PolicyStatement[], r: RolloutResources): void {
    const actionsByResource = new Map<string, string[]>();
    for (const statement of statements) {
      for (const resource of statement.resources.filter((res) => res.includes('*'))) {
        actionsByResource.set(resource, [...(actionsByResource.get(resource) ?? []), ...statement.actions]);
      }
    }
    for (const [resource, actions] of actionsByResource) {
      const reason = wildcardReason(resource, r, actions);
      if (!reason) throw new Error(`Rollout function "${dir}" uses wildcard resource ${resource} (${actions.join(', ')}) with no documented reason`);
      Validations.of(policy).acknowledge({ id: wildcardResourceFindingId(policy, resource), reason });
    }
  }
}

/**
 * One Lambda per rollout step (lambdas/steps.ts), bundled locally with esbuild, each with its own role
 * holding only the SageMaker and S3 permissions that step needs on the configured endpoints, groups and objects.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { ARTIFACTS_BUCKET_ENV } from '../lambdas/shared/artifacts';
import { RolloutConfigSchema, TARGETS_ENV, type RolloutConfig, type RolloutConfigInput } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';
import { parseS3Uri } from '../lambdas/shared/payloads';
import { MANAGED_BY_TAG, SYSTEM_NAME } from '../lambdas/shared/tags';
import { ROLLOUT_STEPS, type RolloutStep } from '../lambdas/steps';
import { VALIDATION_PREFIX, type ArtifactsBucket } from './artifacts-bucket';
import { lambdaTaskTimeouts, ROLLOUT_ASL_PATH } from './rollout-state-machine';

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

/** The steps whose handlers read or write the artifacts bucket (and get its name in ARTIFACTS_BUCKET_ENV). */
export const ARTIFACTS_BUCKET_STEPS: ReadonlySet<string> = new Set(['validate-batch', 'judge-validation']);

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
}

/**
 * The environment of a rollout function. Throws a ConfigurationError if it exceeds Lambda's 4 KB, counting
 * an unresolved bucket name as S3's longest (63 characters), since the real one is known only at deployment.
 */
export function rolloutEnvironment(config: RolloutConfig, options: RolloutEnvironmentOptions = {}): Record<string, string> {
  const variables: Record<string, string> = {
    [TARGETS_ENV]: JSON.stringify(compactRolloutConfig(config)),
    POWERTOOLS_SERVICE_NAME: SYSTEM_NAME,
    NODE_OPTIONS: '--enable-source-maps',
  };
  const measured = { ...variables };
  if (options.artifactsBucketName !== undefined) {
    variables[ARTIFACTS_BUCKET_ENV] = options.artifactsBucketName;
    measured[ARTIFACTS_BUCKET_ENV] = Token.isUnresolved(options.artifactsBucketName)
      ? 'b'.repeat(S3_BUCKET_NAME_MAX_LENGTH)
      : options.artifactsBucketName;
  }
  const size = lambdaEnvironmentSize(measured);
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    throw new ConfigurationError(
      `The deployment targets do not fit in the Lambda environment: Lambda limits environment variables to ` +
        `${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (4 KB) in total, and these need ${size} bytes ` +
        `(${TARGETS_ENV} holds ${config.targets.length} validated target(s) as JSON, without the fields left at their defaults` +
        `${measured[ARTIFACTS_BUCKET_ENV] === undefined ? '' : `; ${ARTIFACTS_BUCKET_ENV} counted at ${measured[ARTIFACTS_BUCKET_ENV].length} bytes`}). ` +
        `Shorten the sample payloads or split the targets across several stacks.`,
    );
  }
  return variables;
}

/** ARNs of the SageMaker and IAM resources the rollout may touch, from the configuration. */
interface RolloutResources {
  /** The configured endpoints. */
  readonly endpoints: string[];
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
}

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

/** Reads of an endpoint and the configs/models it runs. */
function describeEndpointStatements(r: RolloutResources, withModels: boolean): iam.PolicyStatement[] {
  return [
    allow(['sagemaker:DescribeEndpoint'], r.endpoints),
    allow(['sagemaker:DescribeEndpointConfig'], [r.anyEndpointConfig]),
    ...(withModels ? [allow(['sagemaker:DescribeModel'], [r.anyModel])] : []),
  ];
}

/**
 * Least privilege per step. No mutating SageMaker action has Resource '*': endpoint mutations are limited
 * to the configured endpoints; creations of generated names need this system's tag on the request, and
 * deletions need it on the resource, so nothing a person or another tool created can be deleted.
 */
const STEP_PERMISSIONS: Readonly<Record<string, (r: RolloutResources) => iam.PolicyStatement[]>> = {
  'resolve-rollout': (r) => [
    allow(['sagemaker:DescribeModelPackage'], r.modelPackages),
    ...describeEndpointStatements(r, false),
  ],
  'provision-green': (r) => [
    allow(['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig'], [r.anyModel, r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:AddTags'], [r.anyModel, r.anyEndpointConfig, ...r.endpoints], REQUEST_TAGGED_AS_MANAGED),
    // SageMaker authorizes CreateEndpoint/UpdateEndpoint on the endpoint and on the config it references.
    allow(['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    ...describeEndpointStatements(r, true),
    allow(['iam:PassRole'], r.modelExecutionRoles, { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }),
  ],
  'check-endpoint': (r) => [allow(['sagemaker:DescribeEndpoint'], r.endpoints)],
  'smoke-check': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r)],
  'warm-up': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r)],
  // Only reads the payload source to split it into batches (byte ranges of the dataset): invokes nothing.
  'plan-validation': (r) => readPayloadStatements(r),
  'validate-batch': (r) => [
    allow(['sagemaker:InvokeEndpoint'], r.endpoints),
    ...readPayloadStatements(r),
    allow(['s3:PutObject'], [r.validationArtifacts]),
  ],
  'probe-robustness': (r) => [allow(['sagemaker:InvokeEndpoint'], r.endpoints), ...readPayloadStatements(r)],
  // Reads the batches' samples, writes the report.
  'judge-validation': (r) => [allow(['s3:GetObject', 's3:PutObject'], [r.validationArtifacts])],
  // Only announces that the rollout waits for a decision; the operator answers with the task token. No AWS call.
  'request-approval': () => [],
  'shift-traffic': (r) => [allow(['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DescribeEndpoint'], r.endpoints)],
  // Creates a green-only config and moves the endpoint to it: no model, no endpoint creation, no PassRole.
  'retire-blue': (r) => [
    allow(['sagemaker:CreateEndpointConfig'], [r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:AddTags'], [r.anyEndpointConfig], REQUEST_TAGGED_AS_MANAGED),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    ...describeEndpointStatements(r, true),
  ],
  'restore-blue': (r) => [
    allow(['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'], r.endpoints),
    allow(['sagemaker:UpdateEndpoint'], [...r.endpoints, r.anyEndpointConfig]),
    // Only an endpoint this system created (a failed first deployment) may be deleted.
    allow(['sagemaker:DeleteEndpoint'], r.endpoints, RESOURCE_TAGGED_AS_MANAGED),
  ],
  // Reads the endpoint, its configs and models to keep whatever is still in use.
  'delete-resources': (r) => [
    ...describeEndpointStatements(r, true),
    allow(['sagemaker:ListTags'], [r.anyEndpointConfig, r.anyModel]),
    allow(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [r.anyEndpointConfig, r.anyModel], RESOURCE_TAGGED_AS_MANAGED),
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

/** Why each wildcard resource the steps use is acceptable; a wildcard with no reason here fails synth. */
function wildcardReason(resource: string, r: RolloutResources, actions: readonly string[]): string | undefined {
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
  if (r.modelPackages.includes(resource)) {
    return `${actions.join(', ')}: model package versions are registered after deployment; the wildcard covers only the versions of a configured model package group, read-only`;
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
  /**
   * The ASL whose Task TimeoutSeconds bound each function's timeout.
   * @default ROLLOUT_ASL_PATH (state-machines/rollout.asl.json)
   */
  readonly definitionFile?: string;
  /**
   * Directory holding one `<step dir>/index.ts` per step, each exporting `handler`.
   * @default the repository's lambdas/ directory
   */
  readonly handlersDirectory?: string;
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** One NodejsFunction per entry of ROLLOUT_STEPS, with its own least-privilege role and log group. */
export class RolloutFunctions extends Construct {
  /** Every step's function, in ROLLOUT_STEPS order. */
  readonly functions: readonly NodejsFunction[];
  /** `{ [step.substitution]: functionArn }`: the state machine's definition substitutions. */
  readonly substitutions: Readonly<Record<string, string>>;
  private readonly byDir = new Map<string, NodejsFunction>();

  constructor(scope: Construct, id: string, props: RolloutFunctionsProps) {
    super(scope, id);
    const definitionFile = props.definitionFile ?? ROLLOUT_ASL_PATH;
    const handlersDirectory = props.handlersDirectory ?? path.join(REPO_ROOT, 'lambdas');
    const missingHandlers = ROLLOUT_STEPS.map((step) => path.join(handlersDirectory, step.dir, 'index.ts')).filter(
      (entry) => !existsSync(entry),
    );
    if (missingHandlers.length) {
      throw new Error(
        `Missing rollout handlers (each step of lambdas/steps.ts needs <dir>/index.ts exporting handler): ${missingHandlers.join(', ')}`,
      );
    }
    const timeouts = lambdaTaskTimeouts(readFileSync(definitionFile, 'utf8'), definitionFile);
    const environment = rolloutEnvironment(props.config);
    const environmentWithArtifacts = rolloutEnvironment(props.config, { artifactsBucketName: props.artifacts.bucket.bucketName });
    const resources = this.rolloutResources(props.config, props.artifacts);
    const substitutions: Record<string, string> = {};

    for (const step of ROLLOUT_STEPS) {
      const fn = this.createFunction(step, {
        entry: path.join(handlersDirectory, step.dir, 'index.ts'),
        timeoutSeconds: this.timeoutFor(step, timeouts, definitionFile),
        environment: ARTIFACTS_BUCKET_STEPS.has(step.dir) ? environmentWithArtifacts : environment,
        resources,
        logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      });
      this.byDir.set(step.dir, fn);
      substitutions[step.substitution] = fn.functionArn;
    }
    this.functions = [...this.byDir.values()];
    this.substitutions = substitutions;
  }

  /** The function of the step whose handler lives in lambdas/<dir>/. */
  functionFor(dir: string): NodejsFunction {
    const fn = this.byDir.get(dir);
    if (!fn) throw new Error(`No rollout function for "${dir}"; steps are ${[...this.byDir.keys()].join(', ')}`);
    return fn;
  }

  private rolloutResources(config: RolloutConfig, artifacts: ArtifactsBucket): RolloutResources {
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
      anyEndpointConfig: sagemakerArn('endpoint-config', '*'),
      anyModel: sagemakerArn('model', '*'),
      modelPackages: [...new Set(config.targets.map((t) => sagemakerArn('model-package', `${t.modelPackageGroupName}/*`)))],
      modelExecutionRoles: [...new Set(config.targets.map((t) => t.modelExecutionRoleArn))],
    };
  }

  private timeoutFor(step: RolloutStep, timeouts: Map<string, number>, definitionFile: string): number {
    const seconds = timeouts.get(step.substitution);
    if (seconds === undefined) {
      throw new Error(`No Task state in ${definitionFile} invokes \${${step.substitution}} (step ${step.dir})`);
    }
    return Math.min(seconds, LAMBDA_MAX_TIMEOUT_SECONDS);
  }

  private createFunction(
    step: RolloutStep,
    options: {
      entry: string;
      timeoutSeconds: number;
      environment: Record<string, string>;
      resources: RolloutResources;
      logRetention: logs.RetentionDays;
    },
  ): NodejsFunction {
    const id = step.dir.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
    const statementsFor = STEP_PERMISSIONS[step.dir];
    if (!statementsFor) throw new Error(`No IAM permissions are defined for rollout step "${step.dir}"`);

    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: options.logRetention });
    // An own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole, which lets
    // the function write to any log group; this one writes only to its own.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Rollout step ${step.dir}: ${step.description}`,
    });
    logGroup.grantWrite(role);
    // The step's own permissions live in their own policy, so the acknowledgement of X-Ray's Resource '*'
    // (on the role's default policy, below) can never cover a wildcard added here.
    const statements = statementsFor(options.resources);
    // A step with no permission of its own (request-approval) gets no policy: an empty one is not even synthesized.
    const stepPolicy = statements.length ? new iam.Policy(this, `${id}Permissions`, { roles: [role], statements }) : undefined;
    if (stepPolicy) this.acknowledgeWildcards(stepPolicy, step, statements, options.resources);

    const fn = new NodejsFunction(this, id, {
      entry: options.entry,
      handler: 'handler',
      description: step.description,
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

  /** Acknowledges each wildcard resource of the step's policy with the reason it is needed. */
  private acknowledgeWildcards(policy: iam.Policy, step: RolloutStep, statements: iam.PolicyStatement[], r: RolloutResources): void {
    const actionsByResource = new Map<string, string[]>();
    for (const statement of statements) {
      for (const resource of statement.resources.filter((res) => res.includes('*'))) {
        actionsByResource.set(resource, [...(actionsByResource.get(resource) ?? []), ...statement.actions]);
      }
    }
    for (const [resource, actions] of actionsByResource) {
      const reason = wildcardReason(resource, r, actions);
      if (!reason) throw new Error(`Rollout step "${step.dir}" uses wildcard resource ${resource} with no documented reason`);
      Validations.of(policy).acknowledge({ id: wildcardResourceFindingId(policy, resource), reason });
    }
  }
}

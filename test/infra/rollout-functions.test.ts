import { readFileSync } from 'node:fs';
import { Token } from 'aws-cdk-lib';
import { parseRolloutConfig, targetsFromEnvironment, TARGETS_ENV, type RolloutConfigInput } from '../../lambdas/shared/config';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../../lambdas/shared/audit-trail';
import { LIFECYCLE_BUS_ENV } from '../../lambdas/shared/lifecycle-events';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { SWEEPER_DRY_RUN_ENV, SWEEPER_MIN_AGE_SECONDS_ENV } from '../../lambdas/shared/sweeper-config';
import { RECONCILER_STEP, ROLLOUT_STEPS } from '../../lambdas/steps';
import { ARTIFACTS_BUCKET_ENV } from '../../lambdas/shared/artifacts';
import {
  compactRolloutConfig,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  lambdaEnvironmentSize,
  rolloutEnvironment,
} from '../../lib/rollout-functions';
import { RECONCILE_ASL_PATH } from '../../lib/rollout-reconciler';
import { lambdaTaskTimeouts, WAIT_FOR_TASK_TOKEN_LAMBDA_TIMEOUT_SECONDS } from '../../lib/rollout-state-machine';
import {
  ALL_FUNCTION_DIRS,
  artifactsBucketLogicalId,
  expectedGrants,
  functionLogicalId,
  functionRoleLogicalId,
  grantKey,
  grantsOfStep,
  s3Arn,
  sagemakerArn,
  synthStack,
  TEST_CONFIG,
  type Grant,
} from './helpers';

const { stack, template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const functionProps = (dir: string) => resources[functionLogicalId(template, dir)].Properties;
/** Every function: the rollout steps, then the event handlers, then the reconciler's function. */
const FUNCTION_DIRS = ALL_FUNCTION_DIRS;
const refOf = (token: string) => (stack.resolve(token) as { Ref: string }).Ref;
const tableLogicalId = refOf(stack.activeRollouts.table.tableName);
const historyTableLogicalId = refOf(stack.history.table.tableName);
const busLogicalId = refOf(stack.lifecycle.bus.eventBusName);
/** The definitions the rollout state machines run (one per target), as deployed: substitutions still as placeholders. */
const deployedDefinitions = stack.rollout.targets.map(({ stateMachine }) => {
  const id = (stack.resolve(stateMachine.stateMachineArn) as { Ref: string }).Ref;
  return JSON.parse(resources[id].Properties.DefinitionString as string) as { States: Record<string, any> };
});

const ENDPOINTS = [sagemakerArn('endpoint/fraud-detector-prod'), sagemakerArn('endpoint/churn-prod')];
const ANY_ENDPOINT_CONFIG = sagemakerArn('endpoint-config/*');
const ANY_MODEL = sagemakerArn('model/*');
const MODEL_PACKAGES = [sagemakerArn('model-package/fraud-detector/*'), sagemakerArn('model-package/churn-model/*')];
const EXECUTION_ROLES = [
  'arn:aws:iam::123456789012:role/fraud-detector-sagemaker-execution',
  'arn:aws:iam::123456789012:role/churn-sagemaker-execution',
];
// Each dataset object exactly; every object of each sample-payload bucket, once even when two targets list it.
const PAYLOAD_OBJECTS = [
  s3Arn('golden-datasets/fraud/golden.jsonl'),
  s3Arn('golden-datasets/churn/v2/golden.jsonl'),
  s3Arn('model-samples/*'),
  s3Arn('churn-samples/*'),
];
const VALIDATION_ARTIFACTS = `\${${artifactsBucketLogicalId(template)}.Arn}/validation/*`;
const STEPS_WITH_ARTIFACTS_BUCKET = ['validate-batch', 'judge-validation'];
const FUNCTIONS_WITH_ROLLOUTS_TABLE = [
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
];
/** The functions that record lifecycle events: the history table and the bus, PutItem on one, PutEvents on the other. */
const FUNCTIONS_RECORDING_LIFECYCLE_EVENTS = [
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
];
/** The functions that read a rollout's trail back (Query) and tag its model package with the outcome. */
const FUNCTIONS_SUMMARIZING_ROLLOUTS = ['summarize-rollout', 'reconcile-rollout'];
/** The functions that find a lock by something else than its endpoint: a Scan of the (small) table. */
const FUNCTIONS_SCANNING_ROLLOUTS_TABLE = ['reconcile-rollout', 'sweep-resources'];
const ANY_ENDPOINT = sagemakerArn('endpoint/*');
const ROLLOUTS_TABLE = `\${${tableLogicalId}.Arn}`;
const HISTORY_TABLE = `\${${historyTableLogicalId}.Arn}`;
const LIFECYCLE_BUS = `\${${busLogicalId}.Arn}`;
/** Recording a lifecycle event: a new item in the history table, an event on the bus. */
const LIFECYCLE_GRANTS = [...expectedGrants(['dynamodb:PutItem'], [HISTORY_TABLE]), ...expectedGrants(['events:PutEvents'], [LIFECYCLE_BUS])];
/** Tagging a model package (with the rollout's outcome) is allowed with this system's tag keys only. */
const SYSTEM_TAG_KEYS = { 'ForAllValues:StringLike': { 'aws:TagKeys': ['bluegreen:*'] } };
/** Writing a rollout's outcome: recording, reading the trail back, tagging the model package. */
const SUMMARY_GRANTS = [
  ...LIFECYCLE_GRANTS,
  ...expectedGrants(['dynamodb:Query'], [HISTORY_TABLE]),
  ...expectedGrants(['sagemaker:AddTags'], MODEL_PACKAGES, SYSTEM_TAG_KEYS),
];
const ROLLOUT_ALARMS = 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:sagemaker-blue-green-*';
const AUTO_SCALING_SERVICE_LINKED_ROLE =
  'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/' +
  'AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint';
const FOR_SAGEMAKER_AUTO_SCALING = { StringEquals: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } };
/** What registering a scalable target takes besides the Auto Scaling action (service-linked role, endpoint validation). */
const REGISTRATION_GRANTS = [
  ...expectedGrants(['iam:CreateServiceLinkedRole'], [AUTO_SCALING_SERVICE_LINKED_ROLE], FOR_SAGEMAKER_AUTO_SCALING),
  ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
];
const autoScaling = (...operations: string[]) => expectedGrants(operations.map((o) => `application-autoscaling:${o}`), ['*']);
const REQUEST_TAGGED = { StringEquals: { 'aws:RequestTag/bluegreen:managed-by': 'sagemaker-blue-green' } };
const RESOURCE_TAGGED = { StringEquals: { 'aws:ResourceTag/bluegreen:managed-by': 'sagemaker-blue-green' } };
const PASSED_TO_SAGEMAKER = { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } };

/** The alarm dead-letter queue, where Lambda sends on-alarm's failed invocations (with on-alarm's role). */
const alarmDeadLetterQueueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('AlarmRollbackTrigger'))!;
const ALARM_DEAD_LETTER_QUEUE = `\${${alarmDeadLetterQueueId}.Arn}`;
/** The sweeper dead-letter queue, where Lambda sends sweep-resources' failed runs (with sweep-resources' role). */
const sweeperDeadLetterQueueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('Sweeper'))!;
const SWEEPER_DEAD_LETTER_QUEUE = `\${${sweeperDeadLetterQueueId}.Arn}`;
/** Service grants of a function (logs and X-Ray are checked separately), sorted. */
const serviceGrants = (dir: string): string[] =>
  grantsOfStep(template, dir)
    .filter((g) => !g.action.startsWith('logs:') && !g.action.startsWith('xray:'))
    .map(grantKey)
    .sort();
const allStepGrants = (): Array<Grant & { dir: string }> =>
  FUNCTION_DIRS.flatMap((dir) => grantsOfStep(template, dir).map((g) => ({ ...g, dir })));
const isReadOnly = (action: string) => /^sagemaker:(Describe|List)/.test(action);

/** Every Task state of an ASL, Parallel branches and Map processors included, read independently of lib/. */
function aslTasks(definition: { States: Record<string, any> }): Array<Record<string, any>> {
  return Object.values(definition.States).flatMap((state) => [
    ...(state.Type === 'Task' ? [state] : []),
    ...(state.Branches ?? []).flatMap(aslTasks),
    ...(state.ItemProcessor ? aslTasks(state.ItemProcessor) : []),
    ...(state.Iterator ? aslTasks(state.Iterator) : []),
  ]);
}

describe('each rollout function', () => {
  test("there is one function per step and event handler, plus the reconciler's, and no other", () => {
    expect(FUNCTION_DIRS).toEqual(expect.arrayContaining(['lock-endpoint', 'check-capacity', 'sweep-resources', 'reconcile-rollout']));
    template.resourceCountIs('AWS::Lambda::Function', FUNCTION_DIRS.length);
    expect(new Set(FUNCTION_DIRS.map((dir) => functionLogicalId(template, dir))).size).toBe(FUNCTION_DIRS.length);
  });

  test.each(FUNCTION_DIRS)('%s runs Node 22 on arm64 with 256 MB, X-Ray and its own handler', (dir) => {
    const props = functionProps(dir);
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.MemorySize).toBe(256);
    expect(props.Handler).toBe('index.handler');
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
  });

  test.each(FUNCTION_DIRS)('%s gets the validated targets, the service name, the metrics namespace and source maps', (dir) => {
    const variables = functionProps(dir).Environment.Variables as Record<string, unknown>;
    const expectedKeys = [TARGETS_ENV, 'NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE'];
    if (STEPS_WITH_ARTIFACTS_BUCKET.includes(dir)) expectedKeys.push(ARTIFACTS_BUCKET_ENV);
    if (FUNCTIONS_WITH_ROLLOUTS_TABLE.includes(dir)) expectedKeys.push(ROLLOUTS_TABLE_ENV);
    if (FUNCTIONS_RECORDING_LIFECYCLE_EVENTS.includes(dir)) expectedKeys.push(ROLLOUT_HISTORY_TABLE_ENV, LIFECYCLE_BUS_ENV);
    if (dir === 'sweep-resources') expectedKeys.push(SWEEPER_DRY_RUN_ENV, SWEEPER_MIN_AGE_SECONDS_ENV);
    expect(Object.keys(variables).sort()).toEqual(expectedKeys.sort());
    // The handlers read it back with the same schema: defaults applied, round trip exact.
    expect(targetsFromEnvironment(variables as Record<string, string>)).toEqual(parseRolloutConfig(TEST_CONFIG));
    // ...though the variable leaves out what is at its default (pollIntervalSeconds, the gates, ...).
    const carried = JSON.parse(variables[TARGETS_ENV] as string);
    expect(carried.targets[1].policy.pollIntervalSeconds).toBeUndefined();
    expect(carried.targets[1].policy.validation).toEqual(TEST_CONFIG.targets[1].policy.validation);
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe('sagemaker-blue-green');
    // What lambdas/shared/metrics.ts publishes under, and what the dashboards read.
    expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('SageMakerBlueGreen');
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  test('validate-batch and judge-validation, and only they, get the artifacts bucket name', () => {
    for (const dir of FUNCTION_DIRS) {
      const bucket = (functionProps(dir).Environment.Variables as Record<string, unknown>)[ARTIFACTS_BUCKET_ENV];
      expect([dir, bucket]).toEqual([dir, STEPS_WITH_ARTIFACTS_BUCKET.includes(dir) ? { Ref: artifactsBucketLogicalId(template) } : undefined]);
    }
  });

  test('the functions that use the active-rollouts table, and only they, get its name', () => {
    for (const dir of FUNCTION_DIRS) {
      const table = (functionProps(dir).Environment.Variables as Record<string, unknown>)[ROLLOUTS_TABLE_ENV];
      expect([dir, table]).toEqual([dir, FUNCTIONS_WITH_ROLLOUTS_TABLE.includes(dir) ? { Ref: tableLogicalId } : undefined]);
    }
  });

  test('the functions that record lifecycle events, and only they, get the history table\'s and the bus\'s names', () => {
    expect(FUNCTION_DIRS).toEqual(expect.arrayContaining(FUNCTIONS_RECORDING_LIFECYCLE_EVENTS));
    for (const dir of FUNCTION_DIRS) {
      const variables = functionProps(dir).Environment.Variables as Record<string, unknown>;
      const recording = FUNCTIONS_RECORDING_LIFECYCLE_EVENTS.includes(dir);
      expect([dir, variables[ROLLOUT_HISTORY_TABLE_ENV], variables[LIFECYCLE_BUS_ENV]]).toEqual([
        dir,
        recording ? { Ref: historyTableLogicalId } : undefined,
        recording ? { Ref: busLogicalId } : undefined,
      ]);
    }
  });

  test('sweep-resources, and only it, gets the sweeper settings: by default not a dry run, and only what is a day old', () => {
    for (const dir of FUNCTION_DIRS) {
      const variables = functionProps(dir).Environment.Variables as Record<string, unknown>;
      const settings = [variables[SWEEPER_DRY_RUN_ENV], variables[SWEEPER_MIN_AGE_SECONDS_ENV]];
      expect([dir, settings]).toEqual([dir, dir === 'sweep-resources' ? ['false', '86400'] : [undefined, undefined]]);
    }
  });

  test.each(FUNCTION_DIRS)('%s logs to its own log group with a retention', (dir) => {
    const logGroupId = functionProps(dir).LoggingConfig.LogGroup.Ref as string;
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logGroupId].Properties.RetentionInDays).toBe(90);
    const logGrants = grantsOfStep(template, dir).filter((g) => g.action.startsWith('logs:'));
    expect(logGrants.map(grantKey).sort()).toEqual(
      expectedGrants(['logs:CreateLogStream', 'logs:PutLogEvents'], [`\${${logGroupId}.Arn}`]).sort(),
    );
  });

  test('log groups are not shared between functions', () => {
    const logGroups = FUNCTION_DIRS.map((dir) => functionProps(dir).LoggingConfig.LogGroup.Ref);
    expect(new Set(logGroups).size).toBe(FUNCTION_DIRS.length);
  });

  test.each(ROLLOUT_STEPS)('$dir times out no later than every Task that invokes it in any target\'s state machine', (step) => {
    expect(deployedDefinitions).toHaveLength(2);
    expect(deployedDefinitions.map((d) => d.States['Resolve rollout']?.Type)).toEqual(['Task', 'Task']);
    const tasks = deployedDefinitions.flatMap(aslTasks).filter((task) => task.Parameters?.FunctionName === `\${${step.substitution}}`);
    expect(tasks.length).toBeGreaterThan(0);
    // A waitForTaskToken Task's timeout bounds the wait for the token; its Lambda only announces the wait.
    const taskTimeouts = tasks.map((task) =>
      String(task.Resource).endsWith('.waitForTaskToken') ? WAIT_FOR_TASK_TOKEN_LAMBDA_TIMEOUT_SECONDS : (task.TimeoutSeconds as number),
    );
    const timeout = functionProps(step.dir).Timeout as number;
    for (const taskTimeout of taskTimeouts) expect(timeout).toBeLessThanOrEqual(taskTimeout);
    // ...and uses all the time the tightest Task allows.
    expect(timeout).toBe(Math.min(...taskTimeouts));
  });

  test('validate-batch, inside the Map state, gets the timeout of its Task there; request-approval and watch-step (waitForTaskToken) get 30 s', () => {
    expect(functionProps('validate-batch').Timeout).toBe(900);
    expect(functionProps('request-approval').Timeout).toBe(30);
    expect(functionProps('watch-step').Timeout).toBe(30);
  });

  test('on-alarm, which no Task bounds, gets 120 s: room to wait 60 s for an update in flight, then restore and probe', () => {
    expect(functionProps('on-alarm').Timeout).toBe(120);
  });

  test('sweep-resources, which no Task bounds, gets Lambda\'s longest timeout (900 s)', () => {
    expect(functionProps('sweep-resources').Timeout).toBe(900);
  });

  test("reconcile-rollout times out with its Task in reconcile.asl.json (and no rollout state machine invokes it)", () => {
    const reconcileTasks = aslTasks(JSON.parse(readFileSync(RECONCILE_ASL_PATH, 'utf8'))).filter(
      (task) => task.Parameters?.FunctionName === `\${${RECONCILER_STEP.substitution}}`,
    );
    expect(reconcileTasks).toHaveLength(1);
    expect(functionProps('reconcile-rollout').Timeout).toBe(reconcileTasks[0].TimeoutSeconds);
    expect(deployedDefinitions.flatMap(aslTasks).filter((task) => task.Parameters?.FunctionName === `\${${RECONCILER_STEP.substitution}}`)).toEqual([]);
  });

  test('on-alarm is retried by Lambda at most twice within 10 minutes, then recorded in the alarm dead-letter queue', () => {
    const configs = (Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')) as Array<{ Properties: Record<string, any> }>).filter(
      (config) => config.Properties.FunctionName.Ref === functionLogicalId(template, 'on-alarm'),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0].Properties).toEqual({
      FunctionName: { Ref: functionLogicalId(template, 'on-alarm') },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [alarmDeadLetterQueueId, 'Arn'] } } },
    });
  });

  test('each role trusts only Lambda and carries no managed policy', () => {
    for (const dir of FUNCTION_DIRS) {
      const role = resources[functionRoleLogicalId(template, dir)].Properties;
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
    expect(new Set(FUNCTION_DIRS.map((dir) => functionRoleLogicalId(template, dir))).size).toBe(FUNCTION_DIRS.length);
  });
});

describe('RolloutFunctions API', () => {
  test('substitutions map every step placeholder to that step function ARN', () => {
    const substitutions = stack.functions.substitutions;
    expect(Object.keys(substitutions).sort()).toEqual(ROLLOUT_STEPS.map((s) => s.substitution).sort());
    for (const step of ROLLOUT_STEPS) {
      expect(stack.resolve(substitutions[step.substitution])).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, step.dir), 'Arn'] });
    }
  });

  test('functionFor returns the step function and rejects an unknown step', () => {
    const fn = stack.functions.functionFor('smoke-check');
    expect(stack.resolve(fn.functionArn)).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, 'smoke-check'), 'Arn'] });
    expect(() => stack.functions.functionFor('deploy-everything')).toThrow(/No rollout function for "deploy-everything"/);
  });

  test("functions lists the steps only (what the state machines invoke); eventHandlers the event handlers; reconcileFunction the reconciler's", () => {
    expect(stack.functions.functions.map((fn) => stack.resolve(fn.functionArn))).toEqual(
      ROLLOUT_STEPS.map((step) => ({ 'Fn::GetAtt': [functionLogicalId(template, step.dir), 'Arn'] })),
    );
    expect(stack.functions.eventHandlers.map((fn) => stack.resolve(fn.functionArn))).toEqual([
      { 'Fn::GetAtt': [functionLogicalId(template, 'on-alarm'), 'Arn'] },
      { 'Fn::GetAtt': [functionLogicalId(template, 'sweep-resources'), 'Arn'] },
    ]);
    expect(stack.functions.functionFor('on-alarm')).toBe(stack.functions.eventHandlers[0]);
    expect(stack.functions.functionFor('sweep-resources')).toBe(stack.functions.eventHandlers[1]);
    expect(stack.resolve(stack.functions.reconcileFunction.functionArn)).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, 'reconcile-rollout'), 'Arn'] });
    expect(stack.functions.functionFor('reconcile-rollout')).toBe(stack.functions.reconcileFunction);
    // Neither the reconciler's function nor an event handler is a step the rollout state machines invoke.
    expect(stack.functions.functions).not.toContain(stack.functions.reconcileFunction);
    expect(Object.keys(stack.functions.substitutions)).not.toContain(RECONCILER_STEP.substitution);
  });
});

describe('least-privilege policies, one per function', () => {
  test('resolve-rollout only reads: the configured groups packages, the endpoints and endpoint configs', () => {
    expect(serviceGrants('resolve-rollout')).toEqual(
      [
        ...expectedGrants(['sagemaker:DescribeModelPackage'], MODEL_PACKAGES),
        ...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
      ].sort(),
    );
    expect(grantsOfStep(template, 'resolve-rollout').filter((g) => g.action.startsWith('sagemaker:') && !isReadOnly(g.action))).toEqual([]);
  });

  test('provision-green creates only tagged models and configs, updates only configured endpoints, passes only the configured roles to SageMaker', () => {
    expect(serviceGrants('provision-green')).toEqual(
      [
        ...expectedGrants(['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig'], [ANY_MODEL, ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:AddTags'], [ANY_MODEL, ANY_ENDPOINT_CONFIG, ...ENDPOINTS], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['iam:PassRole'], EXECUTION_ROLES, PASSED_TO_SAGEMAKER),
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });

  test('lock-endpoint only puts, reads and deletes items of the table (the endpoint\'s lock), and records the rollout\'s header and events', () => {
    expect(serviceGrants('lock-endpoint')).toEqual(
      [...expectedGrants(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'], [ROLLOUTS_TABLE]), ...LIFECYCLE_GRANTS].sort(),
    );
  });

  test('check-capacity reads quotas and every endpoint, deletes only endpoint configs this system tagged', () => {
    expect(serviceGrants('check-capacity')).toEqual(
      [
        ...expectedGrants(['servicequotas:ListServiceQuotas', 'sagemaker:ListEndpoints'], ['*']),
        // Read-only on every endpoint: the quota counts the account's instances, whoever's endpoint runs them.
        ...expectedGrants(['sagemaker:DescribeEndpoint'], [ANY_ENDPOINT]),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig', 'sagemaker:ListTags'], [ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DeleteEndpointConfig'], [ANY_ENDPOINT_CONFIG], RESOURCE_TAGGED),
      ].sort(),
    );
  });

  test('check-endpoint only describes the configured endpoints and endpoint configs', () => {
    expect(serviceGrants('check-endpoint')).toEqual(
      [...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS), ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG])].sort(),
    );
  });

  test('smoke-check only invokes the configured endpoints and reads the payload sources', () => {
    expect(serviceGrants('smoke-check')).toEqual(
      [...expectedGrants(['sagemaker:InvokeEndpoint'], ENDPOINTS), ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS)].sort(),
    );
  });

  test('warm-up only invokes the configured endpoints, reads the payload sources and records its lifecycle event', () => {
    expect(serviceGrants('warm-up')).toEqual(
      [...expectedGrants(['sagemaker:InvokeEndpoint'], ENDPOINTS), ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS), ...LIFECYCLE_GRANTS].sort(),
    );
  });

  test('plan-validation only reads the payload sources (it invokes nothing)', () => {
    expect(serviceGrants('plan-validation')).toEqual(expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS).sort());
  });

  test('validate-batch invokes the configured endpoints, reads the payload sources, writes only validation/ of the artifacts bucket', () => {
    expect(serviceGrants('validate-batch')).toEqual(
      [
        ...expectedGrants(['sagemaker:InvokeEndpoint'], ENDPOINTS),
        ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS),
        ...expectedGrants(['s3:PutObject'], [VALIDATION_ARTIFACTS]),
      ].sort(),
    );
  });

  test('probe-robustness only invokes the configured endpoints and reads the payload sources', () => {
    expect(serviceGrants('probe-robustness')).toEqual(
      [...expectedGrants(['sagemaker:InvokeEndpoint'], ENDPOINTS), ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS)].sort(),
    );
  });

  test('judge-validation only reads and writes validation/ of the artifacts bucket, and records its verdict', () => {
    expect(serviceGrants('judge-validation')).toEqual([...expectedGrants(['s3:GetObject', 's3:PutObject'], [VALIDATION_ARTIFACTS]), ...LIFECYCLE_GRANTS].sort());
  });

  test.each(['request-approval', 'record-approval'])('%s only records its lifecycle event, besides its own logs and X-Ray', (dir) => {
    expect(serviceGrants(dir)).toEqual([...LIFECYCLE_GRANTS].sort());
    expect(new Set(grantsOfStep(template, dir).map((g) => g.action))).toEqual(
      new Set(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:PutItem', 'events:PutEvents']),
    );
  });

  test("summarize-rollout records the outcome, reads the rollout's trail back, and tags only configured groups' packages with this system's tag keys", () => {
    expect(serviceGrants('summarize-rollout')).toEqual([...SUMMARY_GRANTS].sort());
  });

  test('shift-traffic only changes weights of, and describes, the configured endpoints; reads the endpoint\'s lock', () => {
    expect(serviceGrants('shift-traffic')).toEqual(
      [
        ...expectedGrants(['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['dynamodb:GetItem'], [ROLLOUTS_TABLE]),
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });

  test('retire-blue releases auto scaling, creates only tagged endpoint configs and updates only configured endpoints (no model, no PassRole)', () => {
    expect(serviceGrants('retire-blue')).toEqual(
      [
        ...expectedGrants(['sagemaker:CreateEndpointConfig'], [ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:AddTags'], [ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
        ...autoScaling('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget'),
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });

  test('restore-blue probes blue, updates the configured endpoints, deletes one only when this system tagged it, and releases and resumes auto scaling', () => {
    expect(serviceGrants('restore-blue')).toEqual(
      [
        ...expectedGrants(
          ['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'],
          ENDPOINTS,
        ),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DeleteEndpoint'], ENDPOINTS, RESOURCE_TAGGED),
        ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS),
        ...autoScaling('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget', 'RegisterScalableTarget'),
        ...REGISTRATION_GRANTS,
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });

  test('arm-alarms creates and tags only alarms named with the prefix, describes alarms, and updates/reads items of the table (no put)', () => {
    expect(serviceGrants('arm-alarms')).toEqual(
      [
        ...expectedGrants(['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource'], [ROLLOUT_ALARMS]),
        ...expectedGrants(['cloudwatch:DescribeAlarms'], ['*']),
        ...expectedGrants(['dynamodb:UpdateItem', 'dynamodb:GetItem'], [ROLLOUTS_TABLE]),
      ].sort(),
    );
  });

  test('hold-blue-capacity describes and re-registers scalable targets (with what registration takes) and records the hold in the table', () => {
    expect(serviceGrants('hold-blue-capacity')).toEqual(
      [
        ...autoScaling('DescribeScalableTargets', 'RegisterScalableTarget'),
        ...REGISTRATION_GRANTS,
        ...expectedGrants(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], ENDPOINTS),
        ...expectedGrants(['dynamodb:UpdateItem'], [ROLLOUTS_TABLE]),
      ].sort(),
    );
  });

  test.each(['check-step', 'watch-step'])('%s describes alarms and reads/updates items of the table, nothing else', (dir) => {
    expect(serviceGrants(dir)).toEqual(
      [...expectedGrants(['cloudwatch:DescribeAlarms'], ['*']), ...expectedGrants(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ROLLOUTS_TABLE])].sort(),
    );
  });

  test('scale-green registers green as a scalable target and puts its policies (with what registration takes)', () => {
    expect(serviceGrants('scale-green')).toEqual(
      [
        ...autoScaling('DescribeScalableTargets', 'DescribeScalingPolicies', 'RegisterScalableTarget', 'PutScalingPolicy'),
        ...REGISTRATION_GRANTS,
        ...expectedGrants(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], ENDPOINTS),
      ].sort(),
    );
  });

  test('release-rollout deletes only alarms named with the prefix and deletes items of the table, and records its lifecycle event', () => {
    expect(serviceGrants('release-rollout')).toEqual(
      [
        ...expectedGrants(['cloudwatch:DeleteAlarms'], [ROLLOUT_ALARMS]),
        ...expectedGrants(['cloudwatch:DescribeAlarms'], ['*']),
        ...expectedGrants(['dynamodb:DeleteItem'], [ROLLOUTS_TABLE]),
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });

  test('on-alarm probes blue and restores weights on the configured endpoints, reads/updates the table, fails the waiting task', () => {
    expect(serviceGrants('on-alarm')).toEqual(
      [
        ...expectedGrants(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'], ENDPOINTS),
        ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS),
        ...expectedGrants(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ROLLOUTS_TABLE]),
        ...expectedGrants(['states:SendTaskFailure'], ['*']),
        // Lambda sends the function's failed invocations to the alarm dead-letter queue with this role.
        ...expectedGrants(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [ALARM_DEAD_LETTER_QUEUE]),
      ].sort(),
    );
  });

  test("reconcile-rollout has what restore-blue, delete-resources, release-rollout and summarize-rollout have, plus a Scan of each table, nothing else", () => {
    expect(serviceGrants('reconcile-rollout')).toEqual(
      [
        // restore-blue's
        ...expectedGrants(
          ['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:InvokeEndpoint'],
          ENDPOINTS,
        ),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DeleteEndpoint'], ENDPOINTS, RESOURCE_TAGGED),
        ...expectedGrants(['s3:GetObject'], PAYLOAD_OBJECTS),
        ...autoScaling('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget', 'RegisterScalableTarget'),
        ...REGISTRATION_GRANTS,
        // delete-resources' (its DescribeEndpoint and DescribeEndpointConfig are above already)
        ...expectedGrants(['sagemaker:DescribeModel'], [ANY_MODEL]),
        ...expectedGrants(['sagemaker:ListTags'], [ANY_ENDPOINT_CONFIG, ANY_MODEL]),
        ...expectedGrants(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [ANY_ENDPOINT_CONFIG, ANY_MODEL], RESOURCE_TAGGED),
        // release-rollout's, with a Scan to find the execution's lock by its ARN
        ...expectedGrants(['cloudwatch:DeleteAlarms'], [ROLLOUT_ALARMS]),
        ...expectedGrants(['cloudwatch:DescribeAlarms'], ['*']),
        ...expectedGrants(['dynamodb:Scan', 'dynamodb:DeleteItem'], [ROLLOUTS_TABLE]),
        // summarize-rollout's (the ABORTED outcome), which includes recording lifecycle events
        ...SUMMARY_GRANTS,
        // finding the rollout of an execution without a lock in the history table (stopped before its summary)
        ...expectedGrants(['dynamodb:Scan'], [HISTORY_TABLE]),
      ].sort(),
    );
  });

  test('sweep-resources lists and reads what it may sweep, deletes only what this system tagged, scans the table', () => {
    expect(serviceGrants('sweep-resources')).toEqual(
      [
        ...expectedGrants(['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'], ['*']),
        ...expectedGrants(['sagemaker:DescribeEndpoint'], [ANY_ENDPOINT]),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags'], [ANY_ENDPOINT_CONFIG, ANY_MODEL]),
        ...expectedGrants(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [ANY_ENDPOINT_CONFIG, ANY_MODEL], RESOURCE_TAGGED),
        // Removing a stray variant: a config without it (tagged as ours), then the endpoint moves to it.
        ...expectedGrants(['sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'], [ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...autoScaling('DescribeScalableTargets', 'DescribeScalingPolicies', 'DeleteScalingPolicy', 'DeregisterScalableTarget'),
        ...expectedGrants(['cloudwatch:DescribeAlarms'], ['*']),
        ...expectedGrants(['cloudwatch:ListTagsForResource', 'cloudwatch:DeleteAlarms'], [ROLLOUT_ALARMS]),
        ...expectedGrants(['dynamodb:Scan'], [ROLLOUTS_TABLE]),
        // Lambda sends the sweeper's failed runs to the sweeper dead-letter queue with this role.
        ...expectedGrants(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [SWEEPER_DEAD_LETTER_QUEUE]),
      ].sort(),
    );
  });

  test('delete-resources deletes models and endpoint configs only when this system tagged them', () => {
    expect(serviceGrants('delete-resources')).toEqual(
      [
        ...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DescribeModel'], [ANY_MODEL]),
        ...expectedGrants(['sagemaker:ListTags'], [ANY_ENDPOINT_CONFIG, ANY_MODEL]),
        ...expectedGrants(['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], [ANY_ENDPOINT_CONFIG, ANY_MODEL], RESOURCE_TAGGED),
        ...LIFECYCLE_GRANTS,
      ].sort(),
    );
  });
});

describe('policy invariants across all functions', () => {
  test('no mutating SageMaker action is granted on Resource "*" or on every resource of a service', () => {
    const offending = allStepGrants().filter(
      (g) =>
        g.action.startsWith('sagemaker:') &&
        !isReadOnly(g.action) &&
        (g.resource === '*' || (g.resource.includes(':sagemaker:') && g.resource.endsWith(':*'))),
    );
    expect(offending).toEqual([]);
  });

  test('the only "*" resources are actions that cannot be scoped: X-Ray, DescribeAlarms, Auto Scaling, SendTaskFailure, quota and SageMaker listings', () => {
    const onStar = allStepGrants().filter((g) => g.resource === '*');
    expect(new Set(onStar.map((g) => g.action))).toEqual(
      new Set([
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'cloudwatch:DescribeAlarms',
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:DescribeScalingPolicies',
        'application-autoscaling:RegisterScalableTarget',
        'application-autoscaling:PutScalingPolicy',
        'application-autoscaling:DeleteScalingPolicy',
        'application-autoscaling:DeregisterScalableTarget',
        'states:SendTaskFailure',
        'servicequotas:ListServiceQuotas',
        'sagemaker:ListEndpoints',
        'sagemaker:ListEndpointConfigs',
        'sagemaker:ListModels',
      ]),
    );
    // ...and only the functions whose handlers call them.
    const dirsOf = (action: string) => new Set(onStar.filter((g) => g.action === action).map((g) => g.dir));
    expect(dirsOf('states:SendTaskFailure')).toEqual(new Set(['on-alarm']));
    expect(dirsOf('servicequotas:ListServiceQuotas')).toEqual(new Set(['check-capacity']));
    expect(dirsOf('sagemaker:ListEndpoints')).toEqual(new Set(['check-capacity', 'sweep-resources']));
    expect(dirsOf('sagemaker:ListEndpointConfigs')).toEqual(new Set(['sweep-resources']));
    expect(dirsOf('sagemaker:ListModels')).toEqual(new Set(['sweep-resources']));
    expect(new Set(onStar.filter((g) => g.action.startsWith('application-autoscaling:')).map((g) => g.dir))).toEqual(
      new Set(['hold-blue-capacity', 'scale-green', 'retire-blue', 'restore-blue', 'reconcile-rollout', 'sweep-resources']),
    );
    // No condition narrows them: they are exactly what the acknowledged wildcard reasons cover.
    expect(onStar.filter((g) => g.condition !== '')).toEqual([]);
  });

  test('CloudWatch writes and tag reads touch only alarms named with the prefix: created by arm-alarms, deleted by the release, the reconciler and the sweeper', () => {
    const grants = allStepGrants().filter((g) => g.action.startsWith('cloudwatch:') && g.action !== 'cloudwatch:DescribeAlarms');
    expect(grants.map((g) => `${g.dir} ${g.action} ${g.resource} ${g.condition}`).sort()).toEqual(
      [
        `arm-alarms cloudwatch:PutMetricAlarm ${ROLLOUT_ALARMS} `,
        `arm-alarms cloudwatch:TagResource ${ROLLOUT_ALARMS} `,
        `release-rollout cloudwatch:DeleteAlarms ${ROLLOUT_ALARMS} `,
        `reconcile-rollout cloudwatch:DeleteAlarms ${ROLLOUT_ALARMS} `,
        `sweep-resources cloudwatch:DeleteAlarms ${ROLLOUT_ALARMS} `,
        `sweep-resources cloudwatch:ListTagsForResource ${ROLLOUT_ALARMS} `,
      ].sort(),
    );
  });

  test('DynamoDB grants on the active-rollouts table are item operations (no index, no query); only the reconciler and the sweeper scan it', () => {
    const grants = allStepGrants().filter((g) => g.action.startsWith('dynamodb:') && g.resource !== HISTORY_TABLE);
    expect(new Set(grants.map((g) => g.resource))).toEqual(new Set([ROLLOUTS_TABLE]));
    expect(new Set(grants.map((g) => g.dir))).toEqual(new Set(FUNCTIONS_WITH_ROLLOUTS_TABLE));
    expect(new Set(grants.map((g) => g.action))).toEqual(
      new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']),
    );
    expect(new Set(grants.filter((g) => g.action === 'dynamodb:Scan').map((g) => g.dir))).toEqual(new Set(FUNCTIONS_SCANNING_ROLLOUTS_TABLE));
    // Only lock-endpoint creates a lock (a conditional put): every other function changes or deletes an existing one.
    expect(new Set(grants.filter((g) => g.action === 'dynamodb:PutItem').map((g) => g.dir))).toEqual(new Set(['lock-endpoint']));
  });

  test('the history table only ever gets new items (PutItem, no update or delete), by the functions that record lifecycle events; only the summaries query it, only the reconciler scans it', () => {
    const grants = allStepGrants().filter((g) => g.resource === HISTORY_TABLE);
    expect(grants.filter((g) => g.condition !== '')).toEqual([]);
    expect(new Set(grants.map((g) => g.action))).toEqual(new Set(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan']));
    expect(new Set(grants.filter((g) => g.action === 'dynamodb:PutItem').map((g) => g.dir))).toEqual(new Set(FUNCTIONS_RECORDING_LIFECYCLE_EVENTS));
    expect(new Set(grants.filter((g) => g.action === 'dynamodb:Query').map((g) => g.dir))).toEqual(new Set(FUNCTIONS_SUMMARIZING_ROLLOUTS));
    // reconcile-rollout finds a lock-less execution's rollout by its ARN (the table is keyed by endpoint).
    expect(new Set(grants.filter((g) => g.action === 'dynamodb:Scan').map((g) => g.dir))).toEqual(new Set(['reconcile-rollout']));
    // No grant reaches its indexes or streams (a "<table ARN>/*" resource).
    expect(allStepGrants().filter((g) => g.resource.startsWith(`${HISTORY_TABLE}/`))).toEqual([]);
  });

  test('EventBridge: only PutEvents, only on the lifecycle bus, only by the functions that record lifecycle events', () => {
    const grants = allStepGrants().filter((g) => g.action.startsWith('events:'));
    expect(grants.map((g) => `${g.dir} ${g.action} ${g.resource} ${g.condition}`).sort()).toEqual(
      FUNCTIONS_RECORDING_LIFECYCLE_EVENTS.map((dir) => `${dir} events:PutEvents ${LIFECYCLE_BUS} `).sort(),
    );
  });

  test("model packages are only described by resolve-rollout and tagged by the summaries, with this system's tag keys only", () => {
    const grants = allStepGrants().filter((g) => g.resource.includes(':model-package/'));
    expect(grants.map((g) => `${g.dir} ${g.action} ${g.resource} ${g.condition}`).sort()).toEqual(
      [
        ...MODEL_PACKAGES.map((arn) => `resolve-rollout sagemaker:DescribeModelPackage ${arn} `),
        ...FUNCTIONS_SUMMARIZING_ROLLOUTS.flatMap((dir) => MODEL_PACKAGES.map((arn) => `${dir} sagemaker:AddTags ${arn} ${JSON.stringify(SYSTEM_TAG_KEYS)}`)),
      ].sort(),
    );
  });

  test('iam:CreateServiceLinkedRole only for Auto Scaling\'s SageMaker role, only by the functions that register scalable targets', () => {
    const grants = allStepGrants().filter((g) => g.action === 'iam:CreateServiceLinkedRole');
    expect(grants.map((g) => `${g.dir} ${g.resource} ${g.condition}`).sort()).toEqual(
      ['hold-blue-capacity', 'scale-green', 'restore-blue', 'reconcile-rollout']
        .map((dir) => `${dir} ${AUTO_SCALING_SERVICE_LINKED_ROLE} ${JSON.stringify(FOR_SAGEMAKER_AUTO_SCALING)}`)
        .sort(),
    );
  });

  test('every SageMaker delete requires the managed-by tag on the resource', () => {
    const deletes = allStepGrants().filter((g) => /^sagemaker:Delete/.test(g.action));
    expect(deletes.length).toBeGreaterThan(0);
    for (const grant of deletes) expect(grant.condition).toBe(JSON.stringify(RESOURCE_TAGGED));
  });

  test('every creation or tagging of a wildcard model/config requires the managed-by tag on the request', () => {
    const creations = allStepGrants().filter(
      (g) => /^sagemaker:(Create|AddTags)/.test(g.action) && (g.resource === ANY_MODEL || g.resource === ANY_ENDPOINT_CONFIG),
    );
    expect(creations.length).toBeGreaterThan(0);
    for (const grant of creations) {
      // CreateEndpoint is authorized on the config it references too: that is use of a config, not its creation.
      if (grant.action === 'sagemaker:CreateEndpoint') continue;
      expect(grant.condition).toBe(JSON.stringify(REQUEST_TAGGED));
    }
  });

  test('endpoint-level mutations touch only the configured endpoints (ARNs lowercased)', () => {
    const endpointGrants = allStepGrants().filter((g) => g.resource.includes(':endpoint/'));
    expect(new Set(endpointGrants.map((g) => g.resource))).toEqual(new Set([...ENDPOINTS, ANY_ENDPOINT]));
    const mutations = endpointGrants.filter((g) => !isReadOnly(g.action));
    expect(mutations.length).toBeGreaterThan(0);
    expect(new Set(mutations.map((g) => g.resource))).toEqual(new Set(ENDPOINTS));
  });

  test('every endpoint (endpoint/*) is only described, and only by the capacity check and the sweeper', () => {
    const onAnyEndpoint = allStepGrants().filter((g) => g.resource === ANY_ENDPOINT);
    expect(onAnyEndpoint.map((g) => `${g.dir} ${g.action} ${g.condition}`).sort()).toEqual(
      ['check-capacity sagemaker:DescribeEndpoint ', 'sweep-resources sagemaker:DescribeEndpoint '].sort(),
    );
  });

  test('S3 writes go only to validation/ of the artifacts bucket, by validate-batch and judge-validation', () => {
    const writes = allStepGrants().filter((g) => g.action.startsWith('s3:') && g.action !== 's3:GetObject');
    expect(writes.map((g) => `${g.dir} ${g.action} ${g.resource} ${g.condition}`).sort()).toEqual(
      STEPS_WITH_ARTIFACTS_BUCKET.map((dir) => `${dir} s3:PutObject ${VALIDATION_ARTIFACTS} `).sort(),
    );
  });

  test('S3 reads cover only the datasets, the sample-payload buckets and validation/ of the artifacts bucket', () => {
    const reads = allStepGrants().filter((g) => g.action === 's3:GetObject');
    expect(new Set(reads.map((g) => g.resource))).toEqual(new Set([...PAYLOAD_OBJECTS, VALIDATION_ARTIFACTS]));
    expect(reads.filter((g) => g.condition !== '')).toEqual([]);
  });

  test('iam:PassRole only in provision-green, only for the configured roles, only to SageMaker', () => {
    const passRole = allStepGrants().filter((g) => g.action === 'iam:PassRole');
    expect(passRole.map((g) => `${g.dir} ${g.action} ${g.resource} ${g.condition}`).sort()).toEqual(
      EXECUTION_ROLES.map((role) => `provision-green iam:PassRole ${role} ${JSON.stringify(PASSED_TO_SAGEMAKER)}`).sort(),
    );
  });
});

describe('the 4 KB Lambda environment limit', () => {
  const configWithBody = (body: string): RolloutConfigInput => ({
    targets: [{ ...TEST_CONFIG.targets[0], policy: { samplePayload: { body } } }],
  });
  // ASCII letters are escaped at neither JSON level, so each one adds exactly one byte.
  const sizeWithOneCharacterBody = lambdaEnvironmentSize(rolloutEnvironment(parseRolloutConfig(configWithBody('x'))));

  test('measures the JSON of the variables map, as Lambda does', () => {
    expect(lambdaEnvironmentSize({ A: 'b' })).toBe('{"A":"b"}'.length);
    expect(lambdaEnvironmentSize({ A: 'é' })).toBe(Buffer.byteLength('{"A":"é"}'));
  });

  test('targets that fill the limit exactly synthesize; one byte more fails with the limit and the size', () => {
    const fittingLength = LAMBDA_ENVIRONMENT_LIMIT_BYTES - sizeWithOneCharacterBody + 1;
    const fitting = rolloutEnvironment(parseRolloutConfig(configWithBody('x'.repeat(fittingLength))));
    expect(lambdaEnvironmentSize(fitting)).toBe(LAMBDA_ENVIRONMENT_LIMIT_BYTES);

    expect(() => rolloutEnvironment(parseRolloutConfig(configWithBody('x'.repeat(fittingLength + 1))))).toThrow(
      /limits environment variables to 4096 bytes \(4 KB\) in total, and these need 4097 bytes/,
    );
  });

  test('an artifacts bucket name known only at deployment counts as 63 bytes, the longest S3 allows', () => {
    // `,"ARTIFACTS_BUCKET":"<name>"` adds 22 bytes plus the name.
    const bodyLengthLeaving = (bytes: number) => LAMBDA_ENVIRONMENT_LIMIT_BYTES - bytes - sizeWithOneCharacterBody + 1;
    const fitting = parseRolloutConfig(configWithBody('x'.repeat(bodyLengthLeaving(22 + 63))));
    const unresolvedName = Token.asString({ Ref: 'ArtifactsBucket' });
    expect(rolloutEnvironment(fitting, { artifactsBucketName: unresolvedName })[ARTIFACTS_BUCKET_ENV]).toBe(unresolvedName);

    const oneByteMore = parseRolloutConfig(configWithBody('x'.repeat(bodyLengthLeaving(22 + 63) + 1)));
    expect(() => rolloutEnvironment(oneByteMore)).not.toThrow();
    expect(() => rolloutEnvironment(oneByteMore, { artifactsBucketName: unresolvedName })).toThrow(
      /these need 4097 bytes .*ARTIFACTS_BUCKET counted at 63 bytes/,
    );
    // A literal name counts as what it is.
    expect(() => rolloutEnvironment(oneByteMore, { artifactsBucketName: 'short-bucket' })).not.toThrow();
  });

  test('an active-rollouts table name known only at deployment counts as 255 bytes, the longest DynamoDB allows', () => {
    // `,"ROLLOUTS_TABLE":"<name>"` adds 20 bytes plus the name.
    const bodyLengthLeaving = (bytes: number) => LAMBDA_ENVIRONMENT_LIMIT_BYTES - bytes - sizeWithOneCharacterBody + 1;
    const unresolvedName = Token.asString({ Ref: 'ActiveRolloutsTable' });
    const fitting = parseRolloutConfig(configWithBody('x'.repeat(bodyLengthLeaving(20 + 255))));
    expect(lambdaEnvironmentSize({ ...rolloutEnvironment(fitting), [ROLLOUTS_TABLE_ENV]: 't'.repeat(255) })).toBe(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    expect(rolloutEnvironment(fitting, { rolloutsTableName: unresolvedName })[ROLLOUTS_TABLE_ENV]).toBe(unresolvedName);

    const oneByteMore = parseRolloutConfig(configWithBody('x'.repeat(bodyLengthLeaving(20 + 255) + 1)));
    expect(() => rolloutEnvironment(oneByteMore, { rolloutsTableName: unresolvedName })).toThrow(
      /these need 4097 bytes .*ROLLOUTS_TABLE counted at 255 bytes/,
    );
    expect(() => rolloutEnvironment(oneByteMore, { rolloutsTableName: 'active-rollouts' })).not.toThrow();
  });

  test('a history table or bus name known only at deployment counts as the longest DynamoDB (255) or EventBridge (256) allows', () => {
    const unresolvedTable = Token.asString({ Ref: 'RolloutHistoryTable' });
    const unresolvedBus = Token.asString({ Ref: 'LifecycleBus' });
    const base = rolloutEnvironment(parseRolloutConfig(configWithBody('x')));
    const longest = { ...base, [ROLLOUT_HISTORY_TABLE_ENV]: 't'.repeat(255), [LIFECYCLE_BUS_ENV]: 'b'.repeat(256) };
    // Fill the limit exactly with the longest names: fits; one byte more of body fails, naming both counts.
    const fittingLength = LAMBDA_ENVIRONMENT_LIMIT_BYTES - lambdaEnvironmentSize(longest) + 1;
    const options = { historyTableName: unresolvedTable, lifecycleBusName: unresolvedBus };
    const fitting = rolloutEnvironment(parseRolloutConfig(configWithBody('x'.repeat(fittingLength))), options);
    expect([fitting[ROLLOUT_HISTORY_TABLE_ENV], fitting[LIFECYCLE_BUS_ENV]]).toEqual([unresolvedTable, unresolvedBus]);
    expect(() => rolloutEnvironment(parseRolloutConfig(configWithBody('x'.repeat(fittingLength + 1))), options)).toThrow(
      /these need 4097 bytes .*ROLLOUT_HISTORY_TABLE counted at 255 bytes; LIFECYCLE_EVENT_BUS counted at 256 bytes/,
    );
    // Literal names count as what they are.
    expect(() =>
      rolloutEnvironment(parseRolloutConfig(configWithBody('x'.repeat(fittingLength + 1))), { historyTableName: 'history', lifecycleBusName: 'bus' }),
    ).not.toThrow();
  });

  test('synth of a stack whose targets do not fit fails with that message', () => {
    expect(() => synthStack({ config: parseRolloutConfig(configWithBody('y'.repeat(5000))) })).toThrow(
      /do not fit in the Lambda environment: Lambda limits environment variables to 4096 bytes \(4 KB\) in total, and these need \d+ bytes/,
    );
  });
});

describe('the compact ROLLOUT_TARGETS', () => {
  const target = (index: number, validation?: Record<string, unknown>) => ({
    ...TEST_CONFIG.targets[0],
    modelPackageGroupName: `group-${index}`,
    endpointName: `endpoint-${index}`,
    policy: { samplePayload: { body: '{"features": [0.31, 1.2]}' }, ...(validation ? { validation } : {}) },
  });

  test('leaves out every field at its default, including an all-default validation policy, and parses back exactly', () => {
    const config = parseRolloutConfig({ targets: [target(0), target(1, { concurrency: 4, gates: { latency: { maxP99Ms: 250 } } })] });
    const compact = compactRolloutConfig(config) as any;
    expect(parseRolloutConfig(compact)).toEqual(config);
    expect(compact.targets[0].policy).toEqual({ samplePayload: { body: '{"features": [0.31, 1.2]}' } });
    expect(compact.targets[1].policy.validation).toEqual({ concurrency: 4, gates: { latency: { maxP99Ms: 250 } } });
    expect(compact.targets[0].green).toEqual({ instanceType: 'ml.g5.xlarge', initialInstanceCount: 2 });
  });

  test('lets five targets with default validation policies fit where their full JSON would not', () => {
    const config = parseRolloutConfig({ targets: [0, 1, 2, 3, 4].map((i) => target(i)) });
    expect(Buffer.byteLength(JSON.stringify(config))).toBeGreaterThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    const environment = rolloutEnvironment(config);
    expect(lambdaEnvironmentSize(environment)).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    expect(targetsFromEnvironment(environment)).toEqual(config);
  });

  test('refuses a configuration that was not validated (it would not parse back to itself)', () => {
    const unvalidated = { targets: [{ ...target(0), policy: {} }] } as any;
    expect(() => compactRolloutConfig(unvalidated)).toThrow(/does not parse back to itself/);
  });
});

describe('S3 resources from the configuration', () => {
  const withDataset = (datasetS3Uri: string, samplePayloadBuckets: string[] = []): RolloutConfigInput => ({
    targets: [{ ...TEST_CONFIG.targets[0], policy: { validation: { datasetS3Uri, samplePayloadBuckets } } }],
  });

  test('a dataset key IAM would read as a wildcard fails synth, naming the target and the field', () => {
    expect(() => synthStack({ config: parseRolloutConfig(withDataset('s3://golden-datasets/fraud/*.jsonl')) })).toThrow(
      /targets\[0\] \(Fraud-Detector\)\.policy\.validation\.datasetS3Uri: the key fraud\/\*\.jsonl contains \*, \? or \$\{/,
    );
    expect(() => synthStack({ config: parseRolloutConfig(withDataset('s3://golden-datasets/${aws:username}.jsonl')) })).toThrow(
      /datasetS3Uri: the key \$\{aws:username\}\.jsonl contains/,
    );
  });

  test('without a dataset or sample-payload bucket, no step reads S3 and plan-validation has no permission at all', () => {
    const { template: bare } = synthStack({ config: parseRolloutConfig({ targets: [{ ...TEST_CONFIG.targets[0], policy: {} }] }) });
    const reads = ROLLOUT_STEPS.flatMap((step) => grantsOfStep(bare, step.dir).filter((g) => g.action === 's3:GetObject').map((g) => `${step.dir} ${g.resource}`));
    expect(reads).toEqual([`judge-validation \${${artifactsBucketLogicalId(bare)}.Arn}/validation/*`]);
    expect(grantsOfStep(bare, 'plan-validation').filter((g) => !/^(logs|xray):/.test(g.action))).toEqual([]);
    expect(grantsOfStep(bare, 'warm-up').filter((g) => !/^(logs|xray|dynamodb|events):/.test(g.action)).map(grantKey)).toEqual(
      expectedGrants(['sagemaker:InvokeEndpoint'], [sagemakerArn('endpoint/fraud-detector-prod')]),
    );
  });
});

describe('ASL timeouts', () => {
  test('a Task invoking a function without TimeoutSeconds fails with the state name', () => {
    const asl = JSON.stringify({
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${SmokeCheckFunctionArn}' }, End: true } },
    });
    expect(() => lambdaTaskTimeouts(asl, 'test.asl.json')).toThrow('State "Call" in test.asl.json invokes ${SmokeCheckFunctionArn} without TimeoutSeconds');
  });

  test('the tightest of several Tasks wins, including inside Parallel branches', () => {
    const task = (timeout: number) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${CheckEndpointFunctionArn}' },
      TimeoutSeconds: timeout,
      End: true,
    });
    const asl = JSON.stringify({
      StartAt: 'Both',
      States: {
        Both: { Type: 'Parallel', Branches: [{ StartAt: 'A', States: { A: task(90) } }, { StartAt: 'B', States: { B: task(45) } }], Next: 'C' },
        C: task(120),
      },
    });
    expect(lambdaTaskTimeouts(asl, 'x').get('CheckEndpointFunctionArn')).toBe(45);
  });

  const single = (state: Record<string, unknown>) =>
    JSON.stringify({ StartAt: 'Call', States: { Call: { Type: 'Task', Parameters: { FunctionName: '${RequestApprovalFunctionArn}' }, End: true, ...state } } });

  test('a waitForTaskToken Task gives its Lambda 30 s, whatever the wait for the token', () => {
    const asl = single({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSecondsPath: '$.timeout' });
    expect(lambdaTaskTimeouts(asl, 'x').get('RequestApprovalFunctionArn')).toBe(30);
    const withStatic = single({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 86400 });
    expect(lambdaTaskTimeouts(withStatic, 'x').get('RequestApprovalFunctionArn')).toBe(30);
  });

  test('a waitForTaskToken Task without any timeout fails: a lost token would hold the execution', () => {
    const asl = single({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' });
    expect(() => lambdaTaskTimeouts(asl, 'x.json')).toThrow(
      'State "Call" in x.json invokes ${RequestApprovalFunctionArn} and waits for a task token without TimeoutSeconds or TimeoutSecondsPath',
    );
  });

  test('a plain Task with only TimeoutSecondsPath fails: the function timeout must be known at deploy time', () => {
    const asl = single({ Resource: 'arn:aws:states:::lambda:invoke', TimeoutSecondsPath: '$.timeout' });
    expect(() => lambdaTaskTimeouts(asl, 'x.json')).toThrow(/without TimeoutSeconds \(TimeoutSecondsPath is only known at run time\)/);
  });

  test('a Task inside a Map ItemProcessor counts', () => {
    const asl = JSON.stringify({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Call', States: JSON.parse(single({ Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 77 })).States },
          End: true,
        },
      },
    });
    expect(lambdaTaskTimeouts(asl, 'x').get('RequestApprovalFunctionArn')).toBe(77);
  });
});

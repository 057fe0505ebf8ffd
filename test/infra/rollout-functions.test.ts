import { readFileSync } from 'node:fs';
import { parseRolloutConfig, targetsFromEnvironment, TARGETS_ENV, type RolloutConfigInput } from '../../lambdas/shared/config';
import { ROLLOUT_STEPS } from '../../lambdas/steps';
import {
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  lambdaEnvironmentSize,
  rolloutEnvironment,
} from '../../lib/rollout-functions';
import { lambdaTaskTimeouts } from '../../lib/rollout-state-machine';
import {
  ASL_PATH,
  expectedGrants,
  functionLogicalId,
  functionRoleLogicalId,
  grantKey,
  grantsOfStep,
  sagemakerArn,
  synthStack,
  TEST_CONFIG,
  type Grant,
} from './helpers';

const { stack, template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const functionProps = (dir: string) => resources[functionLogicalId(template, dir)].Properties;

const ENDPOINTS = [sagemakerArn('endpoint/fraud-detector-prod'), sagemakerArn('endpoint/churn-prod')];
const ANY_ENDPOINT_CONFIG = sagemakerArn('endpoint-config/*');
const ANY_MODEL = sagemakerArn('model/*');
const MODEL_PACKAGES = [sagemakerArn('model-package/fraud-detector/*'), sagemakerArn('model-package/churn-model/*')];
const EXECUTION_ROLES = [
  'arn:aws:iam::123456789012:role/fraud-detector-sagemaker-execution',
  'arn:aws:iam::123456789012:role/churn-sagemaker-execution',
];
const REQUEST_TAGGED = { StringEquals: { 'aws:RequestTag/bluegreen:managed-by': 'sagemaker-blue-green' } };
const RESOURCE_TAGGED = { StringEquals: { 'aws:ResourceTag/bluegreen:managed-by': 'sagemaker-blue-green' } };
const PASSED_TO_SAGEMAKER = { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } };

/** SageMaker and IAM grants of a step (logs and X-Ray are checked separately), sorted. */
const serviceGrants = (dir: string): string[] =>
  grantsOfStep(template, dir)
    .filter((g) => !g.action.startsWith('logs:') && !g.action.startsWith('xray:'))
    .map(grantKey)
    .sort();
const allStepGrants = (): Array<Grant & { dir: string }> =>
  ROLLOUT_STEPS.flatMap((step) => grantsOfStep(template, step.dir).map((g) => ({ ...g, dir: step.dir })));
const isReadOnly = (action: string) => /^sagemaker:(Describe|List)/.test(action);

describe('each rollout function', () => {
  test.each(ROLLOUT_STEPS.map((s) => s.dir))('%s runs Node 22 on arm64 with 256 MB, X-Ray and its own handler', (dir) => {
    const props = functionProps(dir);
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.MemorySize).toBe(256);
    expect(props.Handler).toBe('index.handler');
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
  });

  test.each(ROLLOUT_STEPS.map((s) => s.dir))('%s gets the validated targets, the service name and source maps', (dir) => {
    const variables = functionProps(dir).Environment.Variables as Record<string, string>;
    expect(Object.keys(variables).sort()).toEqual([TARGETS_ENV, 'NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME'].sort());
    // The handlers read it back with the same schema: defaults applied, round trip exact.
    expect(targetsFromEnvironment(variables)).toEqual(parseRolloutConfig(TEST_CONFIG));
    expect(JSON.parse(variables[TARGETS_ENV]).targets[1].policy.pollIntervalSeconds).toBe(30);
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe('sagemaker-blue-green');
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  test.each(ROLLOUT_STEPS.map((s) => s.dir))('%s logs to its own log group with a retention', (dir) => {
    const logGroupId = functionProps(dir).LoggingConfig.LogGroup.Ref as string;
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logGroupId].Properties.RetentionInDays).toBe(90);
    const logGrants = grantsOfStep(template, dir).filter((g) => g.action.startsWith('logs:'));
    expect(logGrants.map(grantKey).sort()).toEqual(
      expectedGrants(['logs:CreateLogStream', 'logs:PutLogEvents'], [`\${${logGroupId}.Arn}`]).sort(),
    );
  });

  test('log groups are not shared between functions', () => {
    const logGroups = ROLLOUT_STEPS.map((s) => functionProps(s.dir).LoggingConfig.LogGroup.Ref);
    expect(new Set(logGroups).size).toBe(ROLLOUT_STEPS.length);
  });

  test.each(ROLLOUT_STEPS)('$dir times out no later than every ASL Task that invokes it', (step) => {
    // Read the ASL independently of lib/: every Task whose FunctionName is this step's placeholder.
    const taskTimeouts: number[] = [];
    const visit = (states: Record<string, any>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task' && state.Parameters?.FunctionName === `\${${step.substitution}}`) taskTimeouts.push(state.TimeoutSeconds);
        for (const branch of state.Branches ?? []) visit(branch.States);
      }
    };
    visit(JSON.parse(readFileSync(ASL_PATH, 'utf8')).States);
    expect(taskTimeouts.length).toBeGreaterThan(0);
    const timeout = functionProps(step.dir).Timeout as number;
    for (const taskTimeout of taskTimeouts) expect(timeout).toBeLessThanOrEqual(taskTimeout);
    // ...and uses all the time the tightest Task allows.
    expect(timeout).toBe(Math.min(...taskTimeouts));
  });

  test('each role trusts only Lambda and carries no managed policy', () => {
    for (const step of ROLLOUT_STEPS) {
      const role = resources[functionRoleLogicalId(template, step.dir)].Properties;
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
    expect(new Set(ROLLOUT_STEPS.map((s) => functionRoleLogicalId(template, s.dir))).size).toBe(ROLLOUT_STEPS.length);
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
        ...expectedGrants(['sagemaker:DescribeModel'], [ANY_MODEL]),
        ...expectedGrants(['iam:PassRole'], EXECUTION_ROLES, PASSED_TO_SAGEMAKER),
      ].sort(),
    );
  });

  test('check-endpoint only describes the configured endpoints', () => {
    expect(serviceGrants('check-endpoint')).toEqual(expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS).sort());
  });

  test('smoke-check only invokes the configured endpoints', () => {
    expect(serviceGrants('smoke-check')).toEqual(expectedGrants(['sagemaker:InvokeEndpoint'], ENDPOINTS).sort());
  });

  test('shift-traffic only changes weights of, and describes, the configured endpoints', () => {
    expect(serviceGrants('shift-traffic')).toEqual(
      expectedGrants(['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DescribeEndpoint'], ENDPOINTS).sort(),
    );
  });

  test('retire-blue creates only tagged endpoint configs and updates only configured endpoints (no model, no PassRole)', () => {
    expect(serviceGrants('retire-blue')).toEqual(
      [
        ...expectedGrants(['sagemaker:CreateEndpointConfig'], [ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:AddTags'], [ANY_ENDPOINT_CONFIG], REQUEST_TAGGED),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DescribeEndpoint'], ENDPOINTS),
        ...expectedGrants(['sagemaker:DescribeEndpointConfig'], [ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DescribeModel'], [ANY_MODEL]),
      ].sort(),
    );
  });

  test('restore-blue updates the configured endpoints and deletes one only when this system tagged it', () => {
    expect(serviceGrants('restore-blue')).toEqual(
      [
        ...expectedGrants(['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'], ENDPOINTS),
        ...expectedGrants(['sagemaker:UpdateEndpoint'], [...ENDPOINTS, ANY_ENDPOINT_CONFIG]),
        ...expectedGrants(['sagemaker:DeleteEndpoint'], ENDPOINTS, RESOURCE_TAGGED),
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

  test('the only "*" resources are X-Ray actions, which support no resource-level permissions', () => {
    const onStar = allStepGrants().filter((g) => g.resource === '*');
    expect(new Set(onStar.map((g) => g.action))).toEqual(new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
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
    expect(new Set(endpointGrants.map((g) => g.resource))).toEqual(new Set(ENDPOINTS));
  });

  test('iam:PassRole only in provision-green, only for the configured roles, only to SageMaker', () => {
    const passRole = allStepGrants().filter((g) => g.action.startsWith('iam:'));
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

  test('synth of a stack whose targets do not fit fails with that message', () => {
    expect(() => synthStack({ config: parseRolloutConfig(configWithBody('y'.repeat(5000))) })).toThrow(
      /do not fit in the Lambda environment: Lambda limits environment variables to 4096 bytes \(4 KB\) in total, and these need \d+ bytes/,
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
});

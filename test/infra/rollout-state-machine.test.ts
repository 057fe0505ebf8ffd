import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { ROLLOUT_STEPS } from '../../lambdas/steps';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { aslPlaceholders, assertPolicyWaitsFitExecution, assertSubstitutionsMatch } from '../../lib/rollout-state-machine';
import { ASL_PATH, flatten, functionLogicalId, grantsOfRole, grantKey, synthStack, TEST_CONFIG } from './helpers';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const [stateMachineId, stateMachine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))[0] as [
  string,
  { Properties: Record<string, any> },
];
const aslText = readFileSync(ASL_PATH, 'utf8');

describe('the rollout state machine', () => {
  test('is a single STANDARD state machine defined from the ASL file (an S3 asset), not an inline body', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
    expect(stateMachine.Properties.DefinitionS3Location).toBeDefined();
    expect(stateMachine.Properties.DefinitionString).toBeUndefined();
  });

  test('its DefinitionSubstitutions hold every step of lambdas/steps.ts, each the ARN of that step function', () => {
    const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(ROLLOUT_STEPS.map((s) => s.substitution).sort());
    for (const step of ROLLOUT_STEPS) {
      expect(substitutions[step.substitution]).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, step.dir), 'Arn'] });
    }
  });

  test('the ASL placeholders are exactly the substitutions', () => {
    expect([...aslPlaceholders(aslText)].sort()).toEqual(Object.keys(stateMachine.Properties.DefinitionSubstitutions).sort());
  });

  test('is traced with X-Ray', () => {
    expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  test('logs ALL events with execution data to its log group', () => {
    const logging = stateMachine.Properties.LoggingConfiguration;
    expect(logging.Level).toBe('ALL');
    expect(logging.IncludeExecutionData).toBe(true);
    expect(logging.Destinations).toHaveLength(1);
    const logGroupId = logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
  });

  test('the log group is encrypted with a rotating customer-managed key and has a retention', () => {
    const logGroupId = stateMachine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    const logGroup = resources[logGroupId].Properties;
    expect(logGroup.RetentionInDays).toBe(365);
    expect(flatten(logGroup.LogGroupName)).toMatch(/^\/aws\/vendedlogs\/states\/SageMakerBlueGreen-rollout-/);
    const keyId = logGroup.KmsKeyId['Fn::GetAtt'][0];
    expect(resources[keyId].Type).toBe('AWS::KMS::Key');
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
  });

  test('the key policy lets CloudWatch Logs use the key only for this log group', () => {
    const logGroupId = stateMachine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    const logGroup = resources[logGroupId].Properties;
    const keyId = logGroup.KmsKeyId['Fn::GetAtt'][0];
    const statements = resources[keyId].Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    const forLogs = statements.filter((s) => s.Principal?.Service && flatten(s.Principal.Service) === 'logs.${AWS::Region}.amazonaws.com');
    expect(forLogs).toHaveLength(1);
    expect(forLogs[0].Action).toEqual(expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']));
    expect(flatten(forLogs[0].Condition.ArnEquals['kms:EncryptionContext:aws:logs:arn'])).toBe(
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${flatten(logGroup.LogGroupName)}`,
    );
  });

  test('its role may invoke exactly the step functions, unqualified', () => {
    const roleId = stateMachine.Properties.RoleArn['Fn::GetAtt'][0];
    const invokes = grantsOfRole(template, roleId).filter((g) => g.action.startsWith('lambda:'));
    expect(invokes.map(grantKey).sort()).toEqual(
      ROLLOUT_STEPS.map((s) => `lambda:InvokeFunction on \${${functionLogicalId(template, s.dir)}.Arn}`).sort(),
    );
  });

  test('its role has nothing else than the log-delivery and X-Ray actions CDK adds (no resource-level support)', () => {
    const roleId = stateMachine.Properties.RoleArn['Fn::GetAtt'][0];
    const others = grantsOfRole(template, roleId).filter((g) => !g.action.startsWith('lambda:'));
    expect(others.length).toBeGreaterThan(0);
    for (const grant of others) {
      expect(grant.action).toMatch(
        /^(logs:(Create|Get|Update|Delete)LogDelivery|logs:ListLogDeliveries|logs:PutResourcePolicy|logs:DescribeResourcePolicies|logs:DescribeLogGroups|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets))$/,
      );
      expect(grant.resource).toBe('*');
    }
  });

  test('is referenced by the StateMachineArn output', () => {
    template.hasOutput('StateMachineArn', { Value: { Ref: stateMachineId } });
  });
});

describe('placeholders and substitutions must match', () => {
  const substitutions = Object.fromEntries(ROLLOUT_STEPS.map((s) => [s.substitution, `arn:${s.dir}`]));

  test('the real ASL matches the steps', () => {
    expect(() => assertSubstitutionsMatch(aslText, substitutions, 'rollout.asl.json')).not.toThrow();
  });

  test('a placeholder with no substitution fails synth, naming it', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'asl-'));
    const definitionFile = path.join(directory, 'rollout.asl.json');
    const definition = JSON.parse(aslText);
    definition.States['Keep plan'].Parameters['notify.$'] = '${NotifyFunctionArn}';
    writeFileSync(definitionFile, JSON.stringify(definition));
    expect(() => synthStack({ definitionFile })).toThrow(/placeholders with no substitution: \$\{NotifyFunctionArn\}/);
  });

  test('a substitution with no placeholder fails, naming it', () => {
    expect(() => assertSubstitutionsMatch(aslText, { ...substitutions, ExtraFunctionArn: 'arn:x' }, 'f.json')).toThrow(
      'The definition substitutions do not match f.json: substitutions with no placeholder: ExtraFunctionArn',
    );
  });

  test('a step missing from the ASL fails synth, naming the step', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'asl-'));
    const definitionFile = path.join(directory, 'rollout.asl.json');
    writeFileSync(definitionFile, aslText.split('${SmokeCheckFunctionArn}').join('arn:aws:lambda:us-east-1:123456789012:function:x'));
    expect(() => synthStack({ definitionFile })).toThrow(/No Task state in .* invokes \$\{SmokeCheckFunctionArn\} \(step smoke-check\)/);
  });
});

test('the stack has one log group per function plus the encrypted execution log group', () => {
  template.resourceCountIs('AWS::Logs::LogGroup', ROLLOUT_STEPS.length + 1);
  expect(Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: Match.anyValue() } }))).toHaveLength(1);
});

describe('policy waits and the execution timeout', () => {
  const executionTimeout = JSON.parse(aslText).TimeoutSeconds as number;
  const withWaits = (approvalTimeoutSeconds: number, bakeSeconds: number) =>
    parseRolloutConfig({
      targets: [TEST_CONFIG.targets[0], { ...TEST_CONFIG.targets[1], policy: { bakeSeconds, validation: { approvalTimeoutSeconds } } }],
    });

  test('the rollout ASL has an execution timeout that the default policy fits in', () => {
    expect(executionTimeout).toBeGreaterThan(0);
    expect(() => assertPolicyWaitsFitExecution(parseRolloutConfig(TEST_CONFIG), aslText, 'rollout.asl.json')).not.toThrow();
  });

  test('the longest waits the policy schema allows (7-day approval, 1-day bake) fit the real execution timeout', () => {
    expect(executionTimeout).toBeGreaterThan(604_800 + 86_400);
    expect(() => assertPolicyWaitsFitExecution(withWaits(604_800, 86_400), aslText, 'rollout.asl.json')).not.toThrow();
    expect(() => synthStack({ config: withWaits(604_800, 86_400) })).not.toThrow();
  });

  test('a decision wait plus bake reaching the execution timeout fails, naming the target and fields', () => {
    const twoDays = JSON.stringify({ ...JSON.parse(aslText), TimeoutSeconds: 172_800 });
    expect(() => assertPolicyWaitsFitExecution(withWaits(172_800 - 601, 600), twoDays, 'short.asl.json')).not.toThrow();
    expect(() => assertPolicyWaitsFitExecution(withWaits(172_800 - 600, 600), twoDays, 'short.asl.json')).toThrow(
      `targets[1] (churn-model).policy: validation.approvalTimeoutSeconds (${172_800 - 600}) + bakeSeconds (600) = 172800 s ` +
        `is not below the state machine's TimeoutSeconds (172800 s in short.asl.json)`,
    );
  });

  test('an ASL without an execution timeout sets no bound', () => {
    const unbounded = JSON.stringify({ ...JSON.parse(aslText), TimeoutSeconds: undefined });
    expect(() => assertPolicyWaitsFitExecution(withWaits(604_800, 86_400), unbounded, 'x.json')).not.toThrow();
  });
});

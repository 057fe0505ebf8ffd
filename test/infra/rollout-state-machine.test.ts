import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { parseRolloutConfig, type RolloutConfigInput } from '../../lambdas/shared/config';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { ROLLOUT_STEPS } from '../../lambdas/steps';
import { aslPlaceholders, assertExecutionTimeoutFits, assertSubstitutionsMatch, rolloutDefinitions } from '../../lib/rollout-state-machine';
import { executionTimeoutSeconds, expandTrafficSteps, MAX_EXECUTION_SECONDS, readRolloutTemplate } from '../../state-machines/rollout-definition';
import { ALL_FUNCTION_DIRS, ASL_PATH, flatten, functionLogicalId, grantsOfRole, grantKey, synthStack, TEST_CONFIG } from './helpers';

const { stack, template } = synthStack();
const config = parseRolloutConfig(TEST_CONFIG);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const aslText = readFileSync(ASL_PATH, 'utf8');

type StateMachine = { Properties: Record<string, any> };
const reconcilerId = (stack.resolve(stack.reconciler.stateMachine.stateMachineArn) as { Ref: string }).Ref;
/** The rollout state machines (one per target): every state machine of the stack but the reconciler's (rollout-reconciler.test.ts). */
const stateMachines = (Object.entries(template.findResources('AWS::StepFunctions::StateMachine')) as Array<[string, StateMachine]>).filter(
  ([id]) => id !== reconcilerId,
);
/** The logical id and resource of a group's state machine, found through the construct (stateMachineFor). */
function stateMachineOf(group: string): [string, StateMachine] {
  const id = (stack.resolve(stack.rollout.stateMachineFor(group).stateMachineArn) as { Ref: string }).Ref;
  return [id, resources[id] as StateMachine];
}
/** A state machine's definition as deployed (placeholders for the ARNs, which CloudFormation substitutes). */
const definitionOf = (group: string) => JSON.parse(stateMachineOf(group)[1].Properties.DefinitionString) as Record<string, any>;
const logGroupIdOf = (sm: StateMachine) => sm.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];

describe('one rollout state machine per target', () => {
  test('two STANDARD state machines for two targets, each with its definition inline (a string, not an S3 asset)', () => {
    expect(stateMachines).toHaveLength(2);
    for (const [, sm] of stateMachines) {
      expect(sm.Properties.StateMachineType).toBe('STANDARD');
      expect(typeof sm.Properties.DefinitionString).toBe('string');
      expect(sm.Properties.DefinitionS3Location).toBeUndefined();
    }
    expect(stateMachineOf('Fraud-Detector')[0]).toMatch(/^RolloutStateMachine0/);
    expect(stateMachineOf('churn-model')[0]).toMatch(/^RolloutStateMachine1/);
  });

  test('each runs the template unrolled for its traffic steps, with its execution timeout and a comment naming it', () => {
    const template_ = readRolloutTemplate(ASL_PATH);
    const expected = (index: number, steps: number[]) => {
      const expanded = expandTrafficSteps(template_, steps, executionTimeoutSeconds(config.targets[index]!.policy, steps));
      return { ...expanded, Comment: expect.stringMatching(/\.$/) };
    };
    expect(definitionOf('Fraud-Detector')).toEqual(expected(0, [100]));
    expect(definitionOf('churn-model')).toEqual(expected(1, [10, 100]));
  });

  test('the CANARY target has its 10% step as named states, before the 100% step; the ALL_AT_ONCE target has none', () => {
    const canary = definitionOf('churn-model').States as Record<string, any>;
    for (const name of ['Shift traffic to 10%', 'Wait for 10% shift', 'Check 10% shift', 'Check 10% step', 'Watch 10% step', 'Shift traffic to 100%']) {
      expect(canary[name]).toBeDefined();
    }
    expect(canary["Hold blue's capacity"].Next).toBe('Shift traffic to 10%');
    const allAtOnce = definitionOf('Fraud-Detector').States as Record<string, any>;
    expect(Object.keys(allAtOnce).filter((name) => name.includes('10%'))).toEqual([]);
    expect(allAtOnce["Hold blue's capacity"].Next).toBe('Shift traffic to 100%');
    expect(Object.keys(canary).length).toBeGreaterThan(Object.keys(allAtOnce).length);
  });

  test('TimeoutSeconds is what the policy allows to wait plus a day: 199200 s (defaults), 202380 s (bake 60, 10% canary baking 120 s)', () => {
    // 10800 queue for the endpoint lock + 86400 approval + 600 bake + 600 rollback window + 4 x 3600 endpoint updates + 86400 margin
    expect(definitionOf('Fraud-Detector').TimeoutSeconds).toBe(199_200);
    // 10800 queue + 86400 approval + 120 step bake + 60 bake + 600 rollback window + 5 x 3600 endpoint updates + 86400 margin
    expect(definitionOf('churn-model').TimeoutSeconds).toBe(202_380);
  });

  test('a longer queue for the endpoint lock lengthens the execution timeout by as much', () => {
    const queued = parseRolloutConfig({ targets: [{ ...TEST_CONFIG.targets[0]!, policy: { ...TEST_CONFIG.targets[0]!.policy, queue: { maxWaitSeconds: 20_000 } } }] });
    const [definition] = rolloutDefinitions(queued, ASL_PATH);
    expect(definition!.timeoutSeconds).toBe(199_200 - 10_800 + 20_000);
    expect(definition!.definition.TimeoutSeconds).toBe(definition!.timeoutSeconds);
  });

  test('the comment names the group, the endpoint and the steps, before the template comment', () => {
    const templateComment = JSON.parse(aslText).Comment as string;
    expect(definitionOf('Fraud-Detector').Comment).toBe(
      `Rollout of model package group Fraud-Detector to endpoint Fraud-Detector-Prod (ALL_AT_ONCE: 100%). ${templateComment}`,
    );
    expect(definitionOf('churn-model').Comment).toBe(`Rollout of model package group churn-model to endpoint churn-prod (CANARY: 10% -> 100%). ${templateComment}`);
  });

  test.each(['Fraud-Detector', 'churn-model'])("%s's definition is valid ASL (schema, transitions, paths, terminal states)", (group) => {
    const result = aslValidator(definitionOf(group), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test("each one's DefinitionSubstitutions hold every step of lambdas/steps.ts (no event handler), each that step function's ARN", () => {
    for (const [, sm] of stateMachines) {
      const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
      expect(Object.keys(substitutions).sort()).toEqual(ROLLOUT_STEPS.map((s) => s.substitution).sort());
      for (const step of ROLLOUT_STEPS) {
        expect(substitutions[step.substitution]).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, step.dir), 'Arn'] });
      }
    }
  });

  test("each definition's placeholders are exactly its substitutions", () => {
    for (const [, sm] of stateMachines) {
      expect([...aslPlaceholders(sm.Properties.DefinitionString)].sort()).toEqual(Object.keys(sm.Properties.DefinitionSubstitutions).sort());
    }
  });

  test('each is traced with X-Ray and logs ALL events with execution data, all to one shared log group', () => {
    for (const [, sm] of stateMachines) {
      expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
      const logging = sm.Properties.LoggingConfiguration;
      expect(logging.Level).toBe('ALL');
      expect(logging.IncludeExecutionData).toBe(true);
      expect(logging.Destinations).toHaveLength(1);
      expect(resources[logGroupIdOf(sm)].Type).toBe('AWS::Logs::LogGroup');
    }
    expect(new Set(stateMachines.map(([, sm]) => logGroupIdOf(sm))).size).toBe(1);
  });

  test('the log group is encrypted with one rotating customer-managed key (not one per target) and has a retention', () => {
    const logGroup = resources[logGroupIdOf(stateMachines[0][1])].Properties;
    expect(logGroup.RetentionInDays).toBe(365);
    expect(flatten(logGroup.LogGroupName)).toMatch(/^\/aws\/vendedlogs\/states\/SageMakerBlueGreen-rollout-/);
    const keyId = logGroup.KmsKeyId['Fn::GetAtt'][0];
    expect(resources[keyId].Type).toBe('AWS::KMS::Key');
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
    template.resourceCountIs('AWS::KMS::Key', 1);
  });

  test('the key policy lets CloudWatch Logs use the key only for this log group', () => {
    const logGroup = resources[logGroupIdOf(stateMachines[0][1])].Properties;
    const keyId = logGroup.KmsKeyId['Fn::GetAtt'][0];
    const statements = resources[keyId].Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    const forLogs = statements.filter((s) => s.Principal?.Service && flatten(s.Principal.Service) === 'logs.${AWS::Region}.amazonaws.com');
    expect(forLogs).toHaveLength(1);
    expect(forLogs[0].Action).toEqual(expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']));
    expect(flatten(forLogs[0].Condition.ArnEquals['kms:EncryptionContext:aws:logs:arn'])).toBe(
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${flatten(logGroup.LogGroupName)}`,
    );
  });

  test("each one's role may invoke exactly the step functions, unqualified, and never an event handler or the reconciler's function", () => {
    const roles = new Set(stateMachines.map(([, sm]) => sm.Properties.RoleArn['Fn::GetAtt'][0]));
    expect(roles.size).toBe(2);
    for (const roleId of roles) {
      const invokes = grantsOfRole(template, roleId).filter((g) => g.action.startsWith('lambda:'));
      expect(invokes.map(grantKey).sort()).toEqual(
        ROLLOUT_STEPS.map((s) => `lambda:InvokeFunction on \${${functionLogicalId(template, s.dir)}.Arn}`).sort(),
      );
      for (const dir of ['on-alarm', 'sweep-resources', 'reconcile-rollout']) {
        expect(invokes.map((g) => g.resource)).not.toContain(`\${${functionLogicalId(template, dir)}.Arn}`);
      }
    }
  });

  test("each one's role has nothing else than the log-delivery and X-Ray actions CDK adds (no resource-level support)", () => {
    for (const [, sm] of stateMachines) {
      const others = grantsOfRole(template, sm.Properties.RoleArn['Fn::GetAtt'][0]).filter((g) => !g.action.startsWith('lambda:'));
      expect(others.length).toBeGreaterThan(0);
      for (const grant of others) {
        expect(grant.action).toMatch(
          /^(logs:(Create|Get|Update|Delete)LogDelivery|logs:ListLogDeliveries|logs:PutResourcePolicy|logs:DescribeResourcePolicies|logs:DescribeLogGroups|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets))$/,
        );
        expect(grant.resource).toBe('*');
      }
    }
  });

  test('the StateMachineArns output maps each group to its state machine (JSON); StateMachineArn<index> names each one', () => {
    const [fraudId] = stateMachineOf('Fraud-Detector');
    const [churnId] = stateMachineOf('churn-model');
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.parse(flatten(outputs.StateMachineArns.Value))).toEqual({ 'Fraud-Detector': `\${${fraudId}}`, 'churn-model': `\${${churnId}}` });
    template.hasOutput('StateMachineArn0', { Value: { Ref: fraudId } });
    template.hasOutput('StateMachineArn1', { Value: { Ref: churnId } });
    expect(outputs.StateMachineArn).toBeUndefined();
  });

  test('stateMachineFor rejects a group with no target', () => {
    expect(() => stack.rollout.stateMachineFor('nobody')).toThrow(/No rollout state machine for model package group "nobody"; groups are Fraud-Detector, churn-model/);
  });
});

describe('placeholders and substitutions must match', () => {
  const substitutions = Object.fromEntries(ROLLOUT_STEPS.map((s) => [s.substitution, `arn:${s.dir}`]));
  const writeDefinition = (text: string) => {
    const definitionFile = path.join(mkdtempSync(path.join(tmpdir(), 'asl-')), 'rollout.asl.json');
    writeFileSync(definitionFile, text);
    return definitionFile;
  };

  test('the real ASL matches the steps', () => {
    expect(() => assertSubstitutionsMatch(aslText, substitutions, 'rollout.asl.json')).not.toThrow();
  });

  test('a placeholder with no substitution fails synth, naming it and the target', () => {
    const definition = JSON.parse(aslText);
    definition.States['Keep plan'].Parameters['notify.$'] = '${NotifyFunctionArn}';
    const definitionFile = writeDefinition(JSON.stringify(definition));
    expect(() => synthStack({ definitionFile })).toThrow(
      /The definition substitutions do not match .*rollout\.asl\.json unrolled for targets\[0\] \(Fraud-Detector\): placeholders with no substitution: \$\{NotifyFunctionArn\}/,
    );
  });

  test('a substitution with no placeholder fails, naming it', () => {
    expect(() => assertSubstitutionsMatch(aslText, { ...substitutions, ExtraFunctionArn: 'arn:x' }, 'f.json')).toThrow(
      'The definition substitutions do not match f.json: substitutions with no placeholder: ExtraFunctionArn',
    );
  });

  test('a step missing from the ASL fails synth, naming the step', () => {
    const definitionFile = writeDefinition(aslText.split('${SmokeCheckFunctionArn}').join('arn:aws:lambda:us-east-1:123456789012:function:x'));
    expect(() => synthStack({ definitionFile })).toThrow(/No Task state in .* invokes \$\{SmokeCheckFunctionArn\} \(step smoke-check\)/);
  });

  test('a template without the 100% traffic step cannot be unrolled: synth fails naming the file and the target', () => {
    const definition = JSON.parse(aslText);
    definition.States['Shift traffic to everything'] = definition.States['Shift traffic to 100%'];
    delete definition.States['Shift traffic to 100%'];
    const definitionFile = writeDefinition(JSON.stringify(definition));
    expect(() => synthStack({ definitionFile })).toThrow(
      /Cannot unroll .*rollout\.asl\.json for targets\[0\] \(Fraud-Detector\) \(traffic steps 100%\): the template has no "Shift traffic to 100%" state/,
    );
  });
});

test('the stack has one log group per function (the reconciler\'s included) plus the one encrypted execution log group', () => {
  template.resourceCountIs('AWS::Logs::LogGroup', ALL_FUNCTION_DIRS.length + 1);
  expect(Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: Match.anyValue() } }))).toHaveLength(1);
});

describe('the execution timeout', () => {
  const withPolicy = (policy: Record<string, unknown>): RolloutConfigInput => ({
    targets: [TEST_CONFIG.targets[0]!, { ...TEST_CONFIG.targets[1]!, policy: { ...TEST_CONFIG.targets[1]!.policy, ...policy } }],
  });
  const longest = {
    bakeSeconds: 86_400,
    rollbackWindowSeconds: 86_400,
    endpointUpdateTimeoutSeconds: 14_400,
    traffic: { mode: 'LINEAR', linearStepPercent: 5, stepBakeSeconds: 86_400 },
    validation: { approvalTimeoutSeconds: 604_800 },
    queue: { maxWaitSeconds: 86_400 },
  };

  test('is computed per target from its own policy and steps (rolloutDefinitions)', () => {
    const definitions = rolloutDefinitions(config, ASL_PATH);
    expect(definitions.map((d) => [d.index, d.stepPercents, d.timeoutSeconds])).toEqual([
      [0, [100], executionTimeoutSeconds(config.targets[0]!.policy, [100])],
      [1, [10, 100], executionTimeoutSeconds(config.targets[1]!.policy, [10, 100])],
    ]);
    expect(definitions.map((d) => d.source)).toEqual([
      `${ASL_PATH} unrolled for targets[0] (Fraud-Detector)`,
      `${ASL_PATH} unrolled for targets[1] (churn-model)`,
    ]);
    expect(JSON.parse(definitions[1]!.aslText)).toEqual(definitions[1]!.definition);
  });

  test('the longest waits the policy schema allows (20 linear steps of a day, a week of approval, a day in the queue) stay below the one-year maximum', () => {
    const longestConfig = parseRolloutConfig(withPolicy(longest));
    const [, churn] = rolloutDefinitions(longestConfig, ASL_PATH);
    expect(churn!.stepPercents).toHaveLength(20);
    // 86400 queue + 604800 + 19 x 86400 + 86400 + 86400 + 23 x 14400 + 86400 margin
    expect(churn!.timeoutSeconds).toBe(2_923_200);
    expect(churn!.timeoutSeconds).toBeLessThan(MAX_EXECUTION_SECONDS);
    expect(() => synthStack({ config: longestConfig })).not.toThrow();
  });

  test('a policy whose waits reach a year is refused, naming the target and every field counted', () => {
    const policy = { bakeSeconds: 0, rollbackWindowSeconds: 0, endpointUpdateTimeoutSeconds: 0, traffic: { stepBakeSeconds: 0 }, validation: { approvalTimeoutSeconds: 0 } };
    // Exactly one second short of the maximum with the margin: accepted, and what Step Functions gets.
    const fits = { ...policy, validation: { approvalTimeoutSeconds: MAX_EXECUTION_SECONDS - 86_400 - 1 } };
    expect(assertExecutionTimeoutFits(fits, [100], 'targets[1] (churn-model)')).toBe(MAX_EXECUTION_SECONDS - 1);
    const tooLong = { ...policy, traffic: { stepBakeSeconds: 40_000_000 }, validation: { approvalTimeoutSeconds: 604_800 }, queue: { maxWaitSeconds: 10_800 } };
    let error: unknown;
    try {
      assertExecutionTimeoutFits(tooLong, [10, 100], 'targets[1] (churn-model)');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      "targets[1] (churn-model).policy: the rollout's waits plus a day of margin reach Step Functions' longest execution (31536000 s, one year): " +
        'queue.maxWaitSeconds (10800) + validation.approvalTimeoutSeconds (604800) + 1 x traffic.stepBakeSeconds (40000000) + bakeSeconds (0) + rollbackWindowSeconds (0) + ' +
        '5 x endpointUpdateTimeoutSeconds (0) + a day of margin. An execution stopped by its timeout restores nothing: shorten these waits or use fewer traffic steps.',
    );
  });
});

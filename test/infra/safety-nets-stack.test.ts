/**
 * The stack's safety nets as wired together (the constructs alone are tested in rollout-reconciler.test.ts and
 * resource-sweeper.test.ts): the reconciler watches every target's rollout state machine and runs the stack's
 * reconcile-rollout function; the sweeper's schedule and settings come from the stack's `sweeper` prop.
 */
import { Validations, type CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { parseSweeperConfig } from '../../lambdas/shared/sweeper-config';
import { RECONCILER_STEP } from '../../lambdas/steps';
import { ALL_FUNCTION_DIRS, flatten, functionLogicalId, grantKey, grantsOfRole, synthStack } from './helpers';

type Resource = { Type: string; Properties: Record<string, any> };

const { stack, template } = synthStack();
const resources = template.toJSON().Resources as Record<string, Resource>;
const outputs = template.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>;
const refOf = (token: string) => (stack.resolve(token) as { Ref: string }).Ref;
const rolloutStateMachineIds = stack.rollout.targets.map(({ stateMachine }) => refOf(stateMachine.stateMachineArn));
const reconcilerId = refOf(stack.reconciler.stateMachine.stateMachineArn);
const rules = Object.entries(template.findResources('AWS::Events::Rule')) as Array<[string, Resource]>;
const reconcilerRules = rules.filter(([, rule]) => rule.Properties.EventPattern?.source?.[0] === 'aws.states');
const scheduleRules = rules.filter(([, rule]) => rule.Properties.ScheduleExpression !== undefined);
const sweepFunctionId = functionLogicalId(template, 'sweep-resources');
const reconcileFunctionId = functionLogicalId(template, RECONCILER_STEP.dir);
const environmentOf = (template_: typeof template, dir: string) =>
  (template_.toJSON().Resources as Record<string, Resource>)[functionLogicalId(template_, dir)]!.Properties.Environment.Variables as Record<string, unknown>;

describe('the reconciler, in the stack', () => {
  test('exactly one rule starts it: FAILED, TIMED_OUT and ABORTED executions of every target\'s rollout state machine, and of no other', () => {
    expect(rolloutStateMachineIds).toHaveLength(2);
    expect(reconcilerRules).toHaveLength(1);
    const [ruleId, rule] = reconcilerRules[0]!;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: rolloutStateMachineIds.map((id) => ({ Ref: id })) },
    });
    // Not the reconciler's own executions: a failed reconciliation must not start another one.
    expect(rule.Properties.EventPattern.detail.stateMachineArn).not.toContainEqual({ Ref: reconcilerId });
    expect(rule.Properties.Targets.map((target: { Arn: unknown }) => target.Arn)).toEqual([{ Ref: reconcilerId }]);
    expect(stack.resolve(stack.reconciler.rule.ruleArn)).toEqual({ 'Fn::GetAtt': [ruleId, 'Arn'] });
  });

  test("the stack has the targets' rollout state machines and the reconciler's, and no other", () => {
    expect(Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).sort()).toEqual([...rolloutStateMachineIds, reconcilerId].sort());
  });

  test("its state machine runs the stack's reconcile-rollout function, may invoke only that one, and logs where the rollouts log", () => {
    const reconciler = resources[reconcilerId]!.Properties;
    expect(reconciler.DefinitionSubstitutions).toEqual({ [RECONCILER_STEP.substitution]: { 'Fn::GetAtt': [reconcileFunctionId, 'Arn'] } });
    const invokes = grantsOfRole(template, reconciler.RoleArn['Fn::GetAtt'][0]).filter((g) => g.action.startsWith('lambda:'));
    expect(invokes.map(grantKey)).toEqual([`lambda:InvokeFunction on \${${reconcileFunctionId}.Arn}`]);
    const logGroupOf = (properties: Record<string, any>) => properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
    for (const id of rolloutStateMachineIds) expect(logGroupOf(reconciler)).toEqual(logGroupOf(resources[id]!.Properties));
  });

  test('reconcile-rollout is invoked by the reconciler state machine only: no resource-based permission, no rule target', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')) as Resource[];
    expect(permissions.filter((p) => JSON.stringify(p.Properties.FunctionName).includes(reconcileFunctionId))).toEqual([]);
    const ruleTargets = rules.flatMap(([, rule]) => rule.Properties.Targets as Array<{ Arn: unknown }>).map((target) => JSON.stringify(target.Arn));
    expect(ruleTargets.filter((arn) => arn.includes(reconcileFunctionId))).toEqual([]);
  });

  test('the ReconcilerStateMachineArn output names it', () => {
    template.hasOutput('ReconcilerStateMachineArn', { Value: { Ref: reconcilerId } });
  });
});

describe('the sweeper, in the stack', () => {
  test('exactly one schedule rule, every 6 hours by default, runs the sweep-resources function and nothing else', () => {
    expect(scheduleRules).toHaveLength(1);
    const [ruleId, rule] = scheduleRules[0]!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(6 hours)');
    expect(rule.Properties.EventPattern).toBeUndefined();
    expect(rule.Properties.Targets.map((target: { Arn: unknown }) => target.Arn)).toEqual([{ 'Fn::GetAtt': [sweepFunctionId, 'Arn'] }]);
    expect(stack.resolve(stack.sweeper.rule.ruleName)).toEqual({ Ref: ruleId });
  });

  test('its function gets the default settings: not a dry run, only what is a day old', () => {
    const defaults = parseSweeperConfig({});
    expect([defaults.dryRun, defaults.minAgeSeconds]).toEqual([false, 86_400]);
    expect(environmentOf(template, 'sweep-resources')).toMatchObject({ SWEEPER_DRY_RUN: 'false', SWEEPER_MIN_AGE_SECONDS: '86400' });
  });

  test("its function's failed runs are retried once, then recorded in the sweeper's dead-letter queue, which the function may send to", () => {
    const queueId = refOf(stack.sweeper.deadLetterQueue.queueUrl);
    const configs = (Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')) as Resource[]).filter(
      (config) => config.Properties.FunctionName.Ref === sweepFunctionId,
    );
    expect(configs.map((config) => config.Properties)).toEqual([
      {
        FunctionName: { Ref: sweepFunctionId },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      },
    ]);
    const role = resources[sweepFunctionId]!.Properties.Role['Fn::GetAtt'][0] as string;
    const sqsGrants = grantsOfRole(template, role).filter((g) => g.action.startsWith('sqs:'));
    expect(new Set(sqsGrants.map((g) => g.resource))).toEqual(new Set([`\${${queueId}.Arn}`]));
  });

  test('the SweeperRuleName output names its rule and says how it runs', () => {
    const [ruleId] = scheduleRules[0]!;
    template.hasOutput('SweeperRuleName', { Value: { Ref: ruleId }, Description: Match.stringLikeRegexp('every 6 h: .* older than 86400 s') });
    expect(outputs.SweeperRuleName!.Description).not.toMatch(/dry run/);
  });
});

describe('the stack with its own sweeper settings', () => {
  const sweeper = parseSweeperConfig({ dryRun: true, minAgeSeconds: 7200, scheduleHours: 12 });
  const { stack: customStack, template: custom } = synthStack({ sweeper });
  const customRules = Object.values(custom.findResources('AWS::Events::Rule')) as Resource[];

  test("carries dryRun and minAgeSeconds into the sweeper function's environment (SWEEPER_DRY_RUN, SWEEPER_MIN_AGE_SECONDS)", () => {
    expect(environmentOf(custom, 'sweep-resources')).toMatchObject({ SWEEPER_DRY_RUN: 'true', SWEEPER_MIN_AGE_SECONDS: '7200' });
    // ...and into no other function's.
    for (const dir of ['reconcile-rollout', 'on-alarm', 'delete-resources']) {
      expect(Object.keys(environmentOf(custom, dir)).filter((name) => name.startsWith('SWEEPER_'))).toEqual([]);
    }
  });

  test('runs on its schedule, and its output says it is a dry run', () => {
    expect(customRules.filter((rule) => rule.Properties.ScheduleExpression !== undefined).map((rule) => rule.Properties.ScheduleExpression)).toEqual([
      'rate(12 hours)',
    ]);
    const description = (custom.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>).SweeperRuleName!.Description;
    expect(description).toMatch(/every 12 h, dry run: .* older than 7200 s/);
  });

  test('changes nothing else: the reconciler still watches both rollout state machines', () => {
    const watched = customRules.filter((rule) => rule.Properties.EventPattern?.source?.[0] === 'aws.states');
    expect(watched).toHaveLength(1);
    const rolloutArns = customStack.rollout.targets.map(({ stateMachine }) => flatten(customStack.resolve(stateMachine.stateMachineArn)));
    expect(rolloutArns).toHaveLength(2);
    expect(watched[0]!.Properties.EventPattern.detail.stateMachineArn.map(flatten)).toEqual(rolloutArns);
  });
});

describe('tracing, across the stack', () => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as Array<[string, Resource]>;

  test('every function of the stack is traced (X-Ray active) and names its service and metrics namespace for Powertools', () => {
    expect(functions.map(([id]) => id).sort()).toEqual(ALL_FUNCTION_DIRS.map((dir) => functionLogicalId(template, dir)).sort());
    for (const [id, fn] of functions) {
      expect([id, fn.Properties.TracingConfig]).toEqual([id, { Mode: 'Active' }]);
      expect([id, fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME, fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE]).toEqual([
        id,
        'sagemaker-blue-green',
        'SageMakerBlueGreen',
      ]);
    }
  });

  test('both kinds of state machine, the rollouts\' and the reconciler\'s, are traced', () => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
    expect(machines).toHaveLength(rolloutStateMachineIds.length + 1);
    for (const machine of machines) expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  test("X-Ray's Resource '*' is acknowledged exactly (that finding, on the policy holding it) and covers nothing but the X-Ray write actions", () => {
    for (const dir of ALL_FUNCTION_DIRS) {
      const defaultPolicy = stack.functions.functionFor(dir).role!.node.findChild('DefaultPolicy') as iam.Policy;
      const acknowledged = defaultPolicy.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as Record<string, unknown>));
      // Stored as an annotation acknowledgement of that one finding id.
      expect([dir, acknowledged]).toEqual([dir, ['Annotation::AwsSolutions-IAM5[Resource::*]']]);
      const policyId = stack.getLogicalId(defaultPolicy.node.defaultChild as CfnElement);
      const onStar = (resources[policyId]!.Properties.PolicyDocument.Statement as Array<Record<string, any>>).filter((s) => [s.Resource].flat().includes('*'));
      expect([dir, onStar.flatMap((s) => [s.Action].flat()).sort()]).toEqual([dir, ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']]);
    }
  });
});

import '../../rehearsal/polyfills';
import { readFileSync } from 'node:fs';
import { App, Duration, Stack, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { executionEndedEventPattern } from '../../lambdas/shared/execution-events';
import { RECONCILE_ASL_PATH, RolloutReconciler } from '../../lib/rollout-reconciler';
import { matchesPattern, type EventPattern } from '../../rehearsal/event-bus';
import { executionStatusChangeEvent } from '../lambdas/support/execution-event';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:reconcile-rollout';
const ROLLOUT_ARNS = [
  'arn:aws:states:us-east-1:123456789012:stateMachine:rollout-fraud',
  'arn:aws:states:us-east-1:123456789012:stateMachine:rollout-churn',
];

function reconcilerStack(extra: Partial<ConstructorParameters<typeof RolloutReconciler>[2]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const reconcileFunction = lambda.Function.fromFunctionAttributes(stack, 'Reconcile', { functionArn: FUNCTION_ARN, sameEnvironment: true });
  const rolloutStateMachines = ROLLOUT_ARNS.map((arn, i) => sfn.StateMachine.fromStateMachineArn(stack, `Rollout${i}`, arn));
  const logGroup = new logs.LogGroup(stack, 'ExecutionLogs');
  const reconciler = new RolloutReconciler(stack, 'Reconciler', { reconcileFunction, rolloutStateMachines, logGroup, ...extra });
  return { app, stack, reconciler, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any> };
const { template } = reconcilerStack();
const only = (type: string): [string, Resource] => {
  const found = Object.entries(template.findResources(type)) as Array<[string, Resource]>;
  expect(found).toHaveLength(1);
  return found[0]!;
};
const [ruleId, rule] = only('AWS::Events::Rule');
const [queueId, queue] = only('AWS::SQS::Queue');
const [stateMachineId, stateMachine] = only('AWS::StepFunctions::StateMachine');

describe('the reconciler rule', () => {
  test('matches FAILED, TIMED_OUT and ABORTED executions of the rollout state machines, on the default bus', () => {
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: ROLLOUT_ARNS },
    });
    expect(rule.Properties.EventPattern).toEqual(executionEndedEventPattern(ROLLOUT_ARNS));
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventBusName).toBeUndefined();
  });

  test('as deployed, lets through a stopped rollout execution, not a succeeded one nor another state machine\'s', () => {
    const pattern = rule.Properties.EventPattern as EventPattern;
    const event = (status: 'ABORTED' | 'SUCCEEDED', stateMachineArn = ROLLOUT_ARNS[1]) => executionStatusChangeEvent(status, { stateMachineArn });
    expect(matchesPattern(pattern, event('ABORTED'))).toBe(true);
    expect(matchesPattern(pattern, event('SUCCEEDED'))).toBe(false);
    expect(matchesPattern(pattern, event('ABORTED', 'arn:aws:states:us-east-1:123456789012:stateMachine:other'))).toBe(false);
  });

  test('starts the reconciler state machine with the whole event, through a role, with retries and a dead-letter queue', () => {
    expect(rule.Properties.Targets).toHaveLength(1);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: stateMachineId });
    expect(target.Input).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const statements = policies.filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: stateMachineId } }]);
  });

  test('passes its retry settings through', () => {
    const { template: other } = reconcilerStack({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    const rules = Object.values(other.findResources('AWS::Events::Rule')) as Resource[];
    expect(rules[0]!.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
  });

  test('needs at least one rollout state machine', () => {
    const stack = new Stack(new App(), 'Empty');
    const reconcileFunction = lambda.Function.fromFunctionArn(stack, 'F', FUNCTION_ARN);
    expect(() => new RolloutReconciler(stack, 'R', { reconcileFunction, rolloutStateMachines: [], logGroup: new logs.LogGroup(stack, 'L') })).toThrow(
      /at least one rollout state machine/,
    );
  });
});

describe('its dead-letter queue', () => {
  test('is encrypted, keeps events 14 days, refuses plain HTTP and accepts messages from this rule only', () => {
    expect(queue.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const [, policy] = only('AWS::SQS::QueuePolicy');
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      }),
    ]);
  });
});

describe('the reconciler state machine', () => {
  test('is STANDARD, traced, and logs every event with its data to the given log group', () => {
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0]!;
    expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
    expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(stateMachine.Properties.LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      IncludeExecutionData: true,
      Level: 'ALL',
    });
  });

  test('runs the ASL file inline, its function substituted by CloudFormation', () => {
    expect(JSON.parse(stateMachine.Properties.DefinitionString)).toEqual(JSON.parse(readFileSync(RECONCILE_ASL_PATH, 'utf8')));
    expect(stateMachine.Properties.DefinitionSubstitutions).toEqual({ ReconcileRolloutFunctionArn: FUNCTION_ARN });
  });

  test('may invoke the reconcile function (unqualified) and nothing else but logging and tracing', () => {
    const roleId = stateMachine.Properties.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const statements = policies.filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: FUNCTION_ARN });
    const other = statements.filter((s: { Action: string | string[] }) => [s.Action].flat().some((a) => !/^(xray|logs):/.test(a)));
    expect(other).toEqual([{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: FUNCTION_ARN }]);
  });

  test('AwsSolutionsChecks reports no unacknowledged finding', () => {
    const { app } = reconcilerStack();
    const checks = new AwsSolutionsChecks(app);
    Validations.of(app).addPlugins(checks);
    const describe = (violations: PolicyViolation[]) => violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(describe(checks.validateScope(app).violations)).toEqual([]);
    // It acknowledges exactly two findings: the logging/tracing wildcards CDK adds, and the DLQ having no DLQ.
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.keys(m.data as object)));
    expect(acknowledged.sort()).toEqual(['Annotation::AwsSolutions-IAM5[Resource::*]', 'Annotation::AwsSolutions-SQS3']);
  });
});

// ---- The ASL itself: valid, and run on the local engine the rehearsal uses.

const loadAsl = (): Record<string, any> => JSON.parse(readFileSync(RECONCILE_ASL_PATH, 'utf8'));

test('the ASL is valid (schema, transitions, paths, ARNs), written in JSONPath, avoiding the local engine\'s gaps', () => {
  const result = aslValidator(loadAsl(), { checkPaths: true, checkArn: true });
  expect(result.errorsText('\n')).toBe('');
  const text = readFileSync(RECONCILE_ASL_PATH, 'utf8');
  expect(text).not.toMatch(/"QueryLanguage"|"Arguments"|"Assign"|"Output"|"ResultPath":\s*"\$"/);
  expect(text).not.toMatch(/ItemReader|ItemBatcher|ResultWriter|HeartbeatSeconds|TimeoutSecondsPath/);
});

type Answer = { action: string; waitSeconds?: number; since?: string; passes?: number; message?: string };

/** Runs the ASL with `answers` as reconcile-rollout's successive results (an Error is thrown). */
async function runAsl(answers: Array<Answer | Error>, input: unknown = executionStatusChangeEvent('ABORTED')) {
  const definition = JSON.parse(readFileSync(RECONCILE_ASL_PATH, 'utf8').replace('${ReconcileRolloutFunctionArn}', FUNCTION_ARN));
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
  const payloads: Array<Record<string, any>> = [];
  const run = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        'Reconcile endpoint': async (parameters: { FunctionName: string; Payload: Record<string, any> }) => {
          expect(parameters.FunctionName).toBe(FUNCTION_ARN);
          payloads.push(structuredClone(parameters.Payload));
          const next = answers.shift();
          if (!next) throw new Error('more calls than answers');
          if (next instanceof Error) throw next;
          const passes = payloads.length;
          return { Payload: { waitSeconds: 30, since: '2025-03-01T12:00:00.000Z', passes, message: `pass ${passes}`, endpointName: 'e', ...next } };
        },
      } as never,
      waitTimeOverrides: { 'Wait before next pass': 0 },
      retryIntervalOverrides: { 'Reconcile endpoint': 0 },
    },
  });
  const states: string[] = [];
  const events = (async () => {
    for await (const log of run.eventLogs) if (log.type === 'StateEntered') states.push(log.state.name);
  })();
  const outcome = await run.result.then(
    (output: unknown) => ({ status: 'SUCCEEDED', output, error: undefined as string | undefined, cause: undefined as string | undefined }),
    (error: Error & { cause?: { name?: string } }) => ({ status: 'FAILED', output: undefined, error: error.cause?.name, cause: error.message }),
  );
  await events;
  return { ...outcome, states, payloads, finalState: states[states.length - 1] };
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('the ASL on the local engine', () => {
  test('keeps only what the function reads of the event, passes the previous answer back, and waits until DONE', async () => {
    const run = await runAsl([{ action: 'WAIT', waitSeconds: 7 }, { action: 'WAIT' }, { action: 'DONE' }], executionStatusChangeEvent('TIMED_OUT'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.finalState).toBe('Reconciled');
    expect(run.states.filter((s) => s === 'Wait before next pass')).toHaveLength(2);
    expect(run.payloads[0]).toEqual({
      event: {
        detail: {
          executionArn: expect.stringMatching(/:execution:/),
          stateMachineArn: expect.stringMatching(/:stateMachine:/),
          status: 'TIMED_OUT',
          error: 'States.Timeout',
          cause: 'The execution has exceeded its TimeoutSeconds.',
        },
      },
      previous: {},
    });
    // The next pass gets the previous answer's fields, and nothing of the execution's input.
    expect(run.payloads[1]!.previous).toEqual({ action: 'WAIT', waitSeconds: 7, since: '2025-03-01T12:00:00.000Z', passes: 1, message: 'pass 1' });
    expect(JSON.stringify(run.payloads)).not.toMatch(/ModelPackageVersion/);
  });

  test('an event without error and cause is kept without them', async () => {
    const event = executionStatusChangeEvent('ABORTED') as { detail: Record<string, unknown> };
    delete event.detail.error;
    delete event.detail.cause;
    const run = await runAsl([{ action: 'NOTHING_TO_DO' }], event);
    expect(run.states.slice(0, 2)).toEqual(['Cause given?', 'Keep event (no cause)']);
    expect(Object.keys(run.payloads[0]!.event.detail).sort()).toEqual(['executionArn', 'stateMachineArn', 'status']);
    expect(run.finalState).toBe('Nothing to reconcile');
  });

  test('KEPT_GREEN ends reconciled', async () => {
    await expect(runAsl([{ action: 'KEPT_GREEN' }])).resolves.toMatchObject({ status: 'SUCCEEDED', finalState: 'Reconciled' });
  });

  test('BLUE_UNHEALTHY fails the execution with BlueUnhealthy and the function\'s message', async () => {
    const run = await runAsl([{ action: 'BLUE_UNHEALTHY', message: 'Blue cannot take the traffic back: probe failed.' }]);
    expect(run).toMatchObject({ status: 'FAILED', finalState: 'Blue unhealthy: green left serving', error: 'BlueUnhealthy' });
    expect(run.cause).toMatch(/Blue cannot take the traffic back: probe failed\./);
  });

  test('transient errors are retried; any other error fails the execution with that error', async () => {
    const run = await runAsl([named('EndpointBusy', 'busy'), named('ThrottlingException', 'slow down'), { action: 'WAIT' }, named('RollbackFailed', 'changed outside this rollout')]);
    expect(run.payloads).toHaveLength(4);
    expect(run).toMatchObject({ status: 'FAILED', finalState: 'Reconcile failed', error: 'RollbackFailed' });
    expect(run.cause).toMatch(/changed outside this rollout/);
  });

  test('an unexpected answer is not taken for success', async () => {
    await expect(runAsl([{ action: 'RESTORING_WEIGHTS' }])).resolves.toMatchObject({ status: 'FAILED', error: 'States.NoChoiceMatched' });
  });
});

test('the function is invoked through the state machine\'s role: no resource-based permission is added to it', () => {
  expect(template.findResources('AWS::Lambda::Permission')).toEqual({});
});

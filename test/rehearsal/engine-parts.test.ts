import { readFileSync } from 'node:fs';
import { approvalEventPattern } from '../../lambdas/shared/events';
import { ROLLOUT_STEPS } from '../../lambdas/steps';
import { VirtualClock } from '../../rehearsal/clock';
import { applySubstitutions, loadRolloutDefinition, ROLLOUT_ASL_PATH, taskStates } from '../../rehearsal/definition';
import { matchesPattern, type EventPattern } from '../../rehearsal/event-bus';
import { LambdaFunctionError, localTaskHandlers } from '../../rehearsal/local-lambda';
import { approvalEvent } from '../../rehearsal/runner';
import { builtInScenario, builtInScenarioNames, parseScenario } from '../../rehearsal/scenario';

const pattern = approvalEventPattern(['fraud-detector']) as unknown as EventPattern;
const event = (status: string, group = 'fraud-detector') =>
  approvalEvent({ id: 'e', timeMs: 0, groupName: group, version: 7, arn: 'arn:aws:sagemaker:us-east-1:1:model-package/x/7', approvalStatus: status });

describe('event bus', () => {
  it('matches approvals of configured groups only', () => {
    expect(matchesPattern(pattern, event('Approved'))).toBe(true);
    expect(matchesPattern(pattern, event('Rejected'))).toBe(false);
    expect(matchesPattern(pattern, event('PendingManualApproval'))).toBe(false);
    expect(matchesPattern(pattern, event('Approved', 'churn-predictor'))).toBe(false);
    expect(matchesPattern(pattern, { ...event('Approved'), source: 'my.app' })).toBe(false);
    expect(matchesPattern(pattern, null)).toBe(false);
  });

  it('supports prefix, anything-but and exists filters, and event arrays', () => {
    const p = { detail: { a: [{ prefix: 'ab' }], b: [{ 'anything-but': ['x'] }], c: [{ exists: false }], d: ['k'] } } as EventPattern;
    expect(matchesPattern(p, { detail: { a: 'abc', b: 'y', d: ['j', 'k'] } })).toBe(true);
    expect(matchesPattern(p, { detail: { a: 'abc', b: 'x', d: 'k' } })).toBe(false);
    expect(matchesPattern(p, { detail: { a: 'abc', b: 'y', c: 1, d: 'k' } })).toBe(false);
  });
});

describe('definition', () => {
  it('substitutes every placeholder and dispatches each Task to a known step', () => {
    const { definition, stepsByFunctionArn } = loadRolloutDefinition('us-east-1', '123456789012');
    expect(JSON.stringify(definition)).not.toMatch(/\$\{/);
    const functionNames = [...taskStates(definition.States).values()].map((s) => (s.Parameters as { FunctionName: string }).FunctionName);
    expect(functionNames.length).toBeGreaterThan(0);
    for (const name of functionNames) expect(stepsByFunctionArn.has(name)).toBe(true);
    // Every step is used by at least one state.
    expect(new Set(functionNames).size).toBe(ROLLOUT_STEPS.length);
  });

  it('avoids what aws-local-stepfunctions 3 runs differently from AWS, so the rehearsal stays faithful', () => {
    const text = readFileSync(ROLLOUT_ASL_PATH, 'utf8');
    // JSONata is ignored silently by the local engine; an explicit ResultPath "$" nests the result under a "$" key.
    expect(text).not.toMatch(/"QueryLanguage"|"Arguments"|"Assign"|"Output"/);
    expect(text).not.toMatch(/"ResultPath":\s*"\$"/);
    expect(text).not.toMatch(/ItemReader|ItemBatcher|ResultWriter|HeartbeatSeconds/);
    // AWS reads TimeoutSecondsPath from the raw state input, the local engine from the resolved Parameters:
    // only a path under $.Payload (set by a Pass state, and passed in the Payload) resolves in both.
    for (const [name, state] of taskStates(JSON.parse(text).States)) {
      if (state.TimeoutSecondsPath === undefined) continue;
      const field = String(state.TimeoutSecondsPath).replace(/^\$\.Payload\./, '');
      expect({ name, path: state.TimeoutSecondsPath }).toEqual({ name, path: `$.Payload.${field}` });
      expect((state.Parameters as { Payload: Record<string, unknown> }).Payload[`${field}.$`]).toBe(state.TimeoutSecondsPath);
    }
  });

  it('rejects a placeholder that has no substitution, as CloudFormation does', () => {
    expect(() => applySubstitutions('{"a":"${Missing}"}', {})).toThrow(/\$\{Missing\}/);
    expect(readFileSync(ROLLOUT_ASL_PATH, 'utf8')).toMatch(/\$\{ResolveRolloutFunctionArn\}/);
  });
});

describe('local Lambda', () => {
  const { stepsByFunctionArn } = loadRolloutDefinition('us-east-1', '1');
  const [arn, step] = [...stepsByFunctionArn.entries()][0];
  const states = new Map([['S', { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke' }]]);

  it('reports a thrown error the way Lambda does: errorType as the name, the error document as the cause', async () => {
    class SmokeCheckFailed extends Error {
      name = 'SmokeCheckFailed';
    }
    const handlers = localTaskHandlers({ taskStates: states, stepsByFunctionArn, handlerFor: () => async () => { throw new SmokeCheckFailed('green answered 500'); } });
    const error = await handlers.S({ FunctionName: arn, Payload: {} }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(LambdaFunctionError);
    expect((error as Error).name).toBe('SmokeCheckFailed');
    expect(JSON.parse((error as Error).message)).toMatchObject({ errorType: 'SmokeCheckFailed', errorMessage: 'green answered 500' });
  });

  it('passes the payload through a JSON boundary and wraps the result as lambda:invoke does', async () => {
    const seen: unknown[] = [];
    const handlers = localTaskHandlers({ taskStates: states, stepsByFunctionArn, handlerFor: (s) => async (e) => { seen.push(e); return { step: s.dir, at: new Date(0) }; } });
    const result = await handlers.S({ FunctionName: arn, Payload: { n: 1, skip: undefined } });
    expect(seen).toEqual([{ n: 1 }]);
    expect(result).toEqual({ ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { step: step.dir, at: '1970-01-01T00:00:00.000Z' } });
  });

  it('fails an unknown function like Lambda does', async () => {
    const handlers = localTaskHandlers({ taskStates: states, stepsByFunctionArn, handlerFor: () => async () => null });
    await expect(handlers.S({ FunctionName: 'arn:aws:lambda:us-east-1:1:function:nope', Payload: {} })).rejects.toMatchObject({ name: 'Lambda.ResourceNotFoundException' });
  });
});

describe('virtual clock', () => {
  it('runs an hour of timers instantly and reports virtual time', async () => {
    const elapsed = await VirtualClock.run(async (clock) => {
      const start = clock.now();
      await clock.drive(new Promise((resolve) => setTimeout(resolve, 3_600_000)));
      return clock.now() - start;
    });
    expect(elapsed).toBe(3_600_000);
  });

  it('detects a deadlock instead of hanging', async () => {
    await expect(VirtualClock.run((clock) => clock.drive(new Promise(() => undefined)))).rejects.toThrow(/deadlock/);
  });
});

describe('scenarios', () => {
  it('every built-in scenario parses and states its expected outcome', () => {
    const names = builtInScenarioNames();
    for (const required of ['happy-path', 'first-deployment', 'update-rolled-back', 'smoke-check-fails', 'not-approved', 'unknown-group']) {
      expect(names).toContain(required);
    }
    for (const name of names) expect(builtInScenario(name).expect?.outcome).toBeDefined();
  });

  it('names the field that is wrong in a scenario file', () => {
    expect(() => parseScenario({ name: 'x', description: 'd', modelPackages: [{ version: 0 }], endpoint: null }, 'f.json')).toThrow(/f\.json[\s\S]*modelPackages\.0\.version/);
    expect(() => parseScenario({ name: 'x', description: 'd', modelPackages: [{ version: 1 }], endpoint: null, faults: [{ kind: 'meteor' }] }, 'f.json')).toThrow(/faults\.0\.kind/);
  });
});

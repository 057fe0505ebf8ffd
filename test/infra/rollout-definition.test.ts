import aslValidator from 'asl-validator';
import { parseRolloutConfig } from '../../lambdas/shared/config';
import { trafficStepPercents } from '../../lambdas/shared/traffic';
import {
  assertStepPercents,
  BEFORE_TRAFFIC_STATE,
  EXECUTION_TIMEOUT_MARGIN_SECONDS,
  executionTimeoutSeconds,
  expandTrafficSteps,
  MAX_EXECUTION_SECONDS,
  readRolloutTemplate,
  ROLLOUT_ASL_PATH,
  trafficStepStateNames,
  type AslDefinition,
  type ExecutionTimePolicy,
} from '../../state-machines/rollout-definition';
import { ASL_PATH, TEST_CONFIG } from './helpers';

const template = readRolloutTemplate();
/** The template's traffic-step group, as written (for the 100% step). */
const GROUP = [
  'Shift traffic to 100%',
  'Wait for 100% shift',
  'Check 100% shift',
  '100% shift applied?',
  'Check 100% step',
  '100% step baked?',
  'Prepare 100% watch',
  'Watch 100% step',
];
const groupFor = (percent: number) => GROUP.map((name) => name.replace('100%', `${percent}%`));
type States = Record<string, Record<string, any>>;
const statesOf = (definition: AslDefinition) => definition.States as States;
const expand = (steps: number[], timeoutSeconds?: number) => expandTrafficSteps(readRolloutTemplate(), steps, timeoutSeconds);

/** The state names a step's group leaves to, other than its own states and the failure path. */
function exitsOf(states: States, percent: number): string[] {
  const own = new Set(groupFor(percent));
  const targets = groupFor(percent).flatMap((name) => {
    const state = states[name]!;
    return [state.Next, state.Default, ...(state.Choices ?? []).map((c: { Next: string }) => c.Next), ...(state.Catch ?? []).map((c: { Next: string }) => c.Next)];
  });
  return [...new Set(targets.filter((next): next is string => typeof next === 'string' && !own.has(next) && next !== 'Prepare rollback'))];
}

test('the template path is the repository file, and its traffic-step group is the 100% states', () => {
  expect(ROLLOUT_ASL_PATH).toBe(ASL_PATH);
  expect(trafficStepStateNames(template)).toEqual(GROUP);
});

describe('ALL_AT_ONCE: [100]', () => {
  test('is the template itself (the template is the ALL_AT_ONCE rollout)', () => {
    expect(expand([100])).toEqual(template);
  });

  test('with a timeout, only TimeoutSeconds changes', () => {
    const expanded = expand([100], 200_000);
    expect(expanded.TimeoutSeconds).toBe(200_000);
    expect({ ...expanded, TimeoutSeconds: template.TimeoutSeconds }).toEqual(template);
  });
});

describe('CANARY: [10, 100]', () => {
  const expanded = expand([10, 100]);
  const states = statesOf(expanded);

  test('adds the 10% copy of each state of the group, and nothing else', () => {
    expect(Object.keys(states).sort()).toEqual([...Object.keys(template.States), ...groupFor(10)].sort());
  });

  test("chains Hold blue's capacity -> the 10% step -> the 100% step -> promotion", () => {
    expect(states[BEFORE_TRAFFIC_STATE]!.Next).toBe('Shift traffic to 10%');
    expect(exitsOf(states, 10)).toEqual(['Shift traffic to 100%']);
    expect(exitsOf(states, 100)).toEqual(["Give green blue's auto scaling"]);
  });

  test('the 10% copy shifts green to 0.1, bakes for stepBakeSeconds, and labels its checks and watches 10%', () => {
    expect(states['Shift traffic to 10%']!.Parameters.Payload.greenShare).toBe(0.1);
    expect(states['Check 10% step']!.Parameters.Payload.step).toEqual({ label: '10%', greenShare: 0.1, 'bakeSeconds.$': '$.plan.policy.stepBakeSeconds' });
    expect(states['Watch 10% step']!.Parameters.Payload.step).toEqual({ label: '10%' });
    // The 100% step is as written: all traffic, the policy's bake.
    expect(states['Shift traffic to 100%']!.Parameters.Payload.greenShare).toBe(1);
    expect(states['Check 100% step']!.Parameters.Payload.step).toEqual({ label: '100%', greenShare: 1, 'bakeSeconds.$': '$.plan.policy.bakeSeconds' });
  });

  test("the 10% copy's transitions stay inside its own group, its failures go to the rollback, and its comments say 10%", () => {
    expect(states['Wait for 10% shift']!.Next).toBe('Check 10% shift');
    expect(states['10% shift applied?']!.Default).toBe('Wait for 10% shift');
    expect(states['Watch 10% step']!.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.watchWindow', Next: 'Check 10% step' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Prepare rollback' },
    ]);
    const comments = groupFor(10).map((name) => states[name]!.Comment).filter((comment): comment is string => typeof comment === 'string');
    expect(comments.length).toBeGreaterThan(0);
    for (const comment of comments) expect(comment).not.toContain('100%');
  });

  test('the copies come right before the template group, in step order (the console lists states in this order)', () => {
    const names = Object.keys(states);
    expect(names.slice(names.indexOf('Shift traffic to 10%'), names.indexOf('Shift traffic to 10%') + GROUP.length * 2)).toEqual([
      ...groupFor(10),
      ...GROUP,
    ]);
  });

  test('does not change the template it was given', () => {
    const given = readRolloutTemplate();
    expandTrafficSteps(given, [10, 100], 1000);
    expect(given).toEqual(template);
  });
});

describe('LINEAR: [25, 50, 75, 100]', () => {
  const states = statesOf(expand([25, 50, 75, 100]));

  test('has one group per step, chained in order, each with its share', () => {
    expect(Object.keys(states)).toHaveLength(Object.keys(template.States).length + 3 * GROUP.length);
    expect(states[BEFORE_TRAFFIC_STATE]!.Next).toBe('Shift traffic to 25%');
    expect(exitsOf(states, 25)).toEqual(['Shift traffic to 50%']);
    expect(exitsOf(states, 50)).toEqual(['Shift traffic to 75%']);
    expect(exitsOf(states, 75)).toEqual(['Shift traffic to 100%']);
    expect([25, 50, 75, 100].map((p) => states[`Shift traffic to ${p}%`]!.Parameters.Payload.greenShare)).toEqual([0.25, 0.5, 0.75, 1]);
  });
});

describe('every expansion is valid ASL', () => {
  const policies = {
    ALL_AT_ONCE: { mode: 'ALL_AT_ONCE' },
    CANARY: { mode: 'CANARY', canaryPercent: 10 },
    'CANARY at 50%': { mode: 'CANARY', canaryPercent: 50 },
    LINEAR: { mode: 'LINEAR', linearStepPercent: 25 },
    'LINEAR by 30%': { mode: 'LINEAR', linearStepPercent: 30 },
    'LINEAR by 5%': { mode: 'LINEAR', linearStepPercent: 5 },
  } as const;

  test.each(Object.entries(policies))('%s (schema, transitions, paths, terminal states)', (_, traffic) => {
    const target = parseRolloutConfig({ targets: [{ ...TEST_CONFIG.targets[0]!, policy: { traffic } }] }).targets[0]!;
    const steps = trafficStepPercents(target.policy.traffic);
    const definition = expand(steps, executionTimeoutSeconds(target.policy, steps));
    const result = aslValidator(JSON.parse(JSON.stringify(definition)), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
    expect(Object.keys(definition.States)).toHaveLength(Object.keys(template.States).length + (steps.length - 1) * GROUP.length);
  });

  test('(control) the validator rejects an expansion whose chain was broken', () => {
    const definition = expand([10, 100]);
    statesOf(definition)['10% step baked?']!.Choices[0].Next = 'Shift traffic to 20%';
    const result = aslValidator(JSON.parse(JSON.stringify(definition)), { checkPaths: true, checkArn: true });
    expect(result.isValid).toBe(false);
    expect(result.errorsText('\n')).toContain('Shift traffic to 20%');
  });
});

describe('step lists that cannot be expanded', () => {
  test.each([
    [[], /stepPercents must not be empty/],
    [[10, 50], /stepPercents must end at 100, got 10, 50/],
    [[50, 10, 100], /stepPercents must increase, got 50, 10, 100/],
    [[10, 10, 100], /stepPercents must increase/],
    [[0, 100], /stepPercents\[0\] must be a whole percent in 1-100, got 0/],
    [[12.5, 100], /stepPercents\[0\] must be a whole percent in 1-100, got 12.5/],
    [[10, 101], /stepPercents\[1\] must be a whole percent in 1-100, got 101/],
  ])('%j is refused', (steps, message) => {
    expect(() => assertStepPercents(steps)).toThrow(RangeError);
    expect(() => expand(steps)).toThrow(message);
  });

  test('a template without the 100% shift, or without the state before the traffic, is refused, naming the state', () => {
    const withoutShift = readRolloutTemplate();
    delete withoutShift.States['Shift traffic to 100%'];
    expect(() => expandTrafficSteps(withoutShift, [10, 100])).toThrow('the template has no "Shift traffic to 100%" state');
    const withoutHold = readRolloutTemplate();
    delete withoutHold.States[BEFORE_TRAFFIC_STATE];
    expect(() => expandTrafficSteps(withoutHold, [100])).toThrow(`the template has no "${BEFORE_TRAFFIC_STATE}" state`);
  });
});

describe('executionTimeoutSeconds', () => {
  const policy: ExecutionTimePolicy = {
    bakeSeconds: 600,
    rollbackWindowSeconds: 900,
    endpointUpdateTimeoutSeconds: 3600,
    traffic: { stepBakeSeconds: 300 },
    validation: { approvalTimeoutSeconds: 86_400 },
  };

  test('counts the approval, each step bake below 100%, the bake, the rollback window, one update per fleet and weight change, and a day', () => {
    // 1 step: 86400 + 0 + 600 + 900 + 4 x 3600 + 86400
    expect(executionTimeoutSeconds(policy, [100])).toBe(188_700);
    // 4 steps: 86400 + 3 x 300 + 600 + 900 + 7 x 3600 + 86400
    expect(executionTimeoutSeconds(policy, [25, 50, 75, 100])).toBe(200_400);
    expect(EXECUTION_TIMEOUT_MARGIN_SECONDS).toBe(86_400);
  });

  test("is capped at Step Functions' one-year maximum", () => {
    expect(MAX_EXECUTION_SECONDS).toBe(365 * 86_400);
    expect(executionTimeoutSeconds({ ...policy, traffic: { stepBakeSeconds: MAX_EXECUTION_SECONDS } }, [10, 100])).toBe(MAX_EXECUTION_SECONDS);
  });
});

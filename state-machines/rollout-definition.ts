/**
 * The rollout definition for one target. state-machines/rollout.asl.json holds the traffic part as a single
 * group of states for the 100% step ("Shift traffic to 100%" ... "Watch 100% step"), which is the whole
 * ALL_AT_ONCE rollout. A target with CANARY or LINEAR steps gets that group unrolled once per step, so each
 * step is its own named state in the console ("Shift traffic to 10%", "Watch 10% step", ...). The stack and the
 * local rehearsal both build definitions here, so they run the same states.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The ASL template, resolved from the repository root so it is found from any working directory. */
export const ROLLOUT_ASL_PATH = join(__dirname, 'rollout.asl.json');

/** The label of the group written in the template. */
const TEMPLATE_PERCENT = 100;
const TEMPLATE_LABEL = `${TEMPLATE_PERCENT}%`;
/** The state that leads into the first traffic step. */
export const BEFORE_TRAFFIC_STATE = "Hold blue's capacity";
/** Where the bake of a step below 100% is read from (the 100% step reads `bakeSeconds`). */
const STEP_BAKE_PATH = '$.plan.policy.stepBakeSeconds';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, Record<string, Json>>;
  [key: string]: Json | undefined;
}

export function readRolloutTemplate(path = ROLLOUT_ASL_PATH): AslDefinition {
  return JSON.parse(readFileSync(path, 'utf8')) as AslDefinition;
}

/** The template's traffic-step group: every state whose name carries "100%". */
export function trafficStepStateNames(template: AslDefinition): string[] {
  return Object.keys(template.States).filter((name) => name.includes(TEMPLATE_LABEL));
}

/**
 * Checks the step list a definition is built for: whole percents, strictly increasing, ending at 100.
 * @throws RangeError naming what is wrong
 */
export function assertStepPercents(stepPercents: readonly number[]): void {
  if (stepPercents.length === 0) throw new RangeError('stepPercents must not be empty');
  stepPercents.forEach((percent, index) => {
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) throw new RangeError(`stepPercents[${index}] must be a whole percent in 1-100, got ${percent}`);
    if (index > 0 && percent <= stepPercents[index - 1]!) throw new RangeError(`stepPercents must increase, got ${stepPercents.join(', ')}`);
  });
  if (stepPercents[stepPercents.length - 1] !== 100) throw new RangeError(`stepPercents must end at 100, got ${stepPercents.join(', ')}`);
}

/**
 * The definition with one traffic-step group per entry of `stepPercents` (e.g. [10, 100]): each copy below 100%
 * shifts to its share, bakes for `stepBakeSeconds` and leads to the next step's shift; the template's 100% group
 * stays last. `timeoutSeconds`, when given, replaces the template's TimeoutSeconds.
 */
export function expandTrafficSteps(template: AslDefinition, stepPercents: readonly number[], timeoutSeconds?: number): AslDefinition {
  assertStepPercents(stepPercents);
  const groupNames = trafficStepStateNames(template);
  if (!groupNames.includes(`Shift traffic to ${TEMPLATE_LABEL}`)) throw new Error(`the template has no "Shift traffic to ${TEMPLATE_LABEL}" state`);
  const renamed = (name: string, percent: number) => name.split(TEMPLATE_LABEL).join(`${percent}%`);

  const states: Record<string, Record<string, Json>> = {};
  for (const [name, state] of Object.entries(template.States)) {
    if (name === groupNames[0]) {
      // The copies for the steps below 100% go right before the template's group, in order.
      stepPercents.slice(0, -1).forEach((percent, index) => {
        const nextShift = `Shift traffic to ${stepPercents[index + 1]}%`;
        for (const groupName of groupNames) {
          states[renamed(groupName, percent)] = copyForStep(template.States[groupName]!, groupNames, percent, nextShift);
        }
      });
    }
    states[name] = clone(state);
  }
  const before = states[BEFORE_TRAFFIC_STATE];
  if (!before) throw new Error(`the template has no "${BEFORE_TRAFFIC_STATE}" state`);
  before.Next = `Shift traffic to ${stepPercents[0]}%`;
  return { ...clone(template as unknown as Json) as unknown as AslDefinition, States: states, ...(timeoutSeconds !== undefined ? { TimeoutSeconds: timeoutSeconds } : {}) };
}

/** One state of the 100% group rewritten for `percent`: names, label, green's share, bake, and the way out. */
function copyForStep(state: Record<string, Json>, groupNames: readonly string[], percent: number, nextShift: string): Record<string, Json> {
  const groupSet = new Set(groupNames);
  const share = percent / 100;
  const rewrite = (value: Json, key: string | undefined): Json => {
    if (typeof value === 'string') {
      if (groupSet.has(value)) return value.split(TEMPLATE_LABEL).join(`${percent}%`);
      if (key === 'label' && value === TEMPLATE_LABEL) return `${percent}%`;
      if (key === 'bakeSeconds.$') return STEP_BAKE_PATH;
      if (key === 'Next' && !groupSet.has(value) && value !== 'Prepare rollback') return nextShift;
      return value;
    }
    if (typeof value === 'number' && key === 'greenShare') return share;
    if (Array.isArray(value)) return value.map((item) => rewrite(item, undefined));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    return value;
  };
  const copy = rewrite(state, undefined) as Record<string, Json>;
  if (typeof copy.Comment === 'string') copy.Comment = copy.Comment.split(TEMPLATE_LABEL).join(`${percent}%`);
  return copy;
}

function clone<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// Moved to lambdas/shared/execution-time.ts (the lock step needs them at run time); re-exported for the stack,
// the rehearsal and their tests.
export {
  EXECUTION_TIMEOUT_MARGIN_SECONDS,
  executionTimeoutSeconds,
  MAX_EXECUTION_SECONDS,
  type ExecutionTimePolicy,
} from '../lambdas/shared/execution-time';

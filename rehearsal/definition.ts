/**
 * The state machine definition as Step Functions receives it: the ASL template from state-machines/ unrolled for
 * the target's traffic steps (state-machines/rollout-definition.ts, as the stack does), with the definition
 * substitutions applied textually, as CloudFormation's DefinitionSubstitutions does.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { RECONCILER_STEP, ROLLOUT_STEPS, type RolloutStep } from '../lambdas/steps';
import { expandTrafficSteps, readRolloutTemplate, ROLLOUT_ASL_PATH } from '../state-machines/rollout-definition';

export { ROLLOUT_ASL_PATH };

/** The function name each step has in the rehearsal's pretend account (mirrors the deployed names' shape). */
export function rehearsalFunctionArn(step: RolloutStep, region: string, accountId: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:sagemaker-blue-green-${step.dir}`;
}

/** Replaces every `${Name}` in `text`; a placeholder without a value is an error, as in CloudFormation. */
export function applySubstitutions(text: string, substitutions: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`state machine definition uses \${${key}}, which has no substitution`);
    return value;
  });
}

export interface LoadedDefinition {
  /** The parsed definition, substitutions applied. */
  readonly definition: Record<string, unknown> & { States: Record<string, Record<string, unknown>> };
  /** Function ARN -> step, to dispatch Task states to handlers. */
  readonly stepsByFunctionArn: ReadonlyMap<string, RolloutStep>;
}

/** What the definition is built for: the target's traffic steps and the execution timeout the stack gives it. */
export interface DefinitionShape {
  /** Green's share after each step, in percent, ending at 100. @default [100] (the template: ALL_AT_ONCE) */
  readonly stepPercents?: readonly number[];
  /** @default the template's */
  readonly timeoutSeconds?: number;
}

export function loadRolloutDefinition(region: string, accountId: string, shape: DefinitionShape = {}, path = ROLLOUT_ASL_PATH): LoadedDefinition {
  const substitutions: Record<string, string> = {};
  const stepsByFunctionArn = new Map<string, RolloutStep>();
  for (const step of ROLLOUT_STEPS) {
    const arn = rehearsalFunctionArn(step, region, accountId);
    substitutions[step.substitution] = arn;
    stepsByFunctionArn.set(arn, step);
  }
  const expanded = expandTrafficSteps(readRolloutTemplate(path), shape.stepPercents ?? [100], shape.timeoutSeconds);
  const definition = JSON.parse(applySubstitutions(JSON.stringify(expanded), substitutions));
  return { definition, stepsByFunctionArn };
}

/** The reconciler's ASL (state-machines/reconcile.asl.json), as the stack deploys it. */
export const RECONCILE_ASL_PATH = join(__dirname, '..', 'state-machines', 'reconcile.asl.json');

/** The reconciler state machine's definition, its one function substituted as the stack does. */
export function loadReconcilerDefinition(region: string, accountId: string, path = RECONCILE_ASL_PATH): LoadedDefinition {
  const arn = rehearsalFunctionArn(RECONCILER_STEP, region, accountId);
  const text = applySubstitutions(readFileSync(path, 'utf8'), { [RECONCILER_STEP.substitution]: arn });
  return { definition: JSON.parse(text), stepsByFunctionArn: new Map([[arn, RECONCILER_STEP]]) };
}

/** Every Task state, including those nested in Map and Parallel states, by name. */
export function taskStates(states: Record<string, Record<string, unknown>>): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  const visit = (group: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(group)) {
      if (state.Type === 'Task') found.set(name, state);
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Record<string, unknown>> } | undefined;
      if (processor?.States) visit(processor.States);
      for (const branch of (state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []) visit(branch.States);
    }
  };
  visit(states);
  return found;
}

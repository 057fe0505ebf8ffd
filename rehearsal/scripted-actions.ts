/**
 * Things a scenario makes happen during the run (alarm states, raw events, operator commands), each at a virtual
 * second or a number of seconds after an execution first enters a named state.
 */
import type { ScenarioWhen } from './scenario';
import { REHEARSAL_EPOCH_MS } from './clock';

export interface ScriptedAction<A> {
  readonly when: ScenarioWhen;
  readonly action: A;
  /** Where the action comes from in the scenario, for errors and the timeline (`alarms[0]`). */
  readonly source: string;
}

export class ScriptedActions<A> {
  private readonly byState = new Map<string, ScriptedAction<A>[]>();
  private readonly enteredStates = new Set<string>();

  constructor(
    private readonly actions: readonly ScriptedAction<A>[],
    private readonly run: (action: ScriptedAction<A>) => void,
  ) {
    for (const scripted of actions) {
      const { atSecond, atState } = scripted.when;
      if ((atSecond === undefined) === (atState === undefined)) {
        throw new Error(`scenario ${scripted.source}: give exactly one of atSecond and atState`);
      }
      if (atState !== undefined) this.byState.set(atState, [...(this.byState.get(atState) ?? []), scripted]);
    }
  }

  /** Schedules the actions that happen at a fixed virtual second (call once, when the rehearsal starts). */
  start(): void {
    for (const scripted of this.actions) {
      if (scripted.when.atSecond === undefined) continue;
      const delayMs = REHEARSAL_EPOCH_MS + (scripted.when.atSecond + scripted.when.afterSeconds) * 1000 - Date.now();
      setTimeout(() => this.run(scripted), Math.max(0, delayMs));
    }
  }

  /** An execution entered `stateName`: the actions waiting for its first entry are scheduled. */
  stateEntered(stateName: string): void {
    if (this.enteredStates.has(stateName)) return;
    this.enteredStates.add(stateName);
    for (const scripted of this.byState.get(stateName) ?? []) {
      setTimeout(() => this.run(scripted), scripted.when.afterSeconds * 1000);
    }
  }
}

/** Whether `name` matches `pattern`, where `*` stands for any characters. */
export function matchesWildcard(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(name);
}

/**
 * The rehearsal's figures for issue 4: state transitions against a polling loop, double-capacity instance-seconds
 * against SageMaker's native blue/green, computed from what the run recorded.
 */

/** A state entry with its virtual time (ms). */
export interface StateEntry {
  readonly name: string;
  readonly atMs: number;
}

/** The states of a watched step: the check, its choice, the prepare and the waiting task. */
const WATCH_STATE = /^(Check (.+) step|(.+) step baked\?|Prepare (.+) watch|Watch (.+) step|Check rollback window|Rollback window over\?|Prepare rollback window watch|Watch rollback window|Check green bake|Green bake over\?|Prepare green bake watch|Watch green bake)$/;

export const POLLING_INTERVAL_SECONDS = 30;
/** A polling loop's states per interval: Wait, the check Task, the Choice. */
export const POLLING_STATES_PER_INTERVAL = 3;

export interface TransitionFigures {
  /** State transitions of the execution as it ran. */
  readonly actual: number;
  /** The same execution if every watched step were a 30 s Wait + check + Choice loop. */
  readonly pollingEquivalent: number;
  /** Seconds spent in watched steps. */
  readonly watchedSeconds: number;
  /** Transitions the watched steps took. */
  readonly watchTransitions: number;
}

export function transitionFigures(entries: readonly StateEntry[], endMs: number): TransitionFigures {
  let watchedMs = 0;
  let watchTransitions = 0;
  entries.forEach((entry, index) => {
    if (!WATCH_STATE.test(entry.name)) return;
    watchTransitions += 1;
    const next = entries[index + 1]?.atMs ?? endMs;
    watchedMs += next - entry.atMs;
  });
  const watchedSeconds = Math.round(watchedMs / 1000);
  const pollingWatch = watchedSeconds > 0 ? POLLING_STATES_PER_INTERVAL * Math.ceil(watchedSeconds / POLLING_INTERVAL_SECONDS) : 0;
  return { actual: entries.length, pollingEquivalent: entries.length - watchTransitions + pollingWatch, watchedSeconds, watchTransitions };
}

/** One stretch of one fleet at one instance count (rehearsal/sim SageMakerSimulation.instanceSegments). */
export interface InstanceSegment {
  readonly endpointName: string;
  readonly variantName: string;
  readonly instanceCount: number;
  readonly fromMs: number;
  readonly toMs?: number;
}

export interface CapacityFigures {
  /** Seconds during which instances of blue's and green's variants were provisioned at once. */
  readonly doubleCapacitySeconds: number;
  /** Instance-seconds of every provisioned fleet of the endpoint during those seconds. */
  readonly doubleCapacityInstanceSeconds: number;
}

/**
 * Time with both blue's and green's variants provisioned on `endpointName`, and the instance-seconds spent then
 * (every fleet counted: during an UpdateEndpoint the old and the new fleet both run).
 */
export function capacityFigures(segments: readonly InstanceSegment[], endpointName: string, blueVariant: string, greenVariant: string, endMs: number): CapacityFigures {
  const relevant = segments.filter((s) => s.endpointName === endpointName);
  const times = [...new Set(relevant.flatMap((s) => [s.fromMs, s.toMs ?? endMs]))].sort((a, b) => a - b);
  let seconds = 0;
  let instanceSeconds = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const [from, to] = [times[i]!, times[i + 1]!];
    const live = relevant.filter((s) => s.fromMs <= from && (s.toMs ?? endMs) >= to);
    const hasBlue = live.some((s) => s.variantName === blueVariant);
    const hasGreen = live.some((s) => s.variantName === greenVariant);
    if (!hasBlue || !hasGreen) continue;
    const span = (to - from) / 1000;
    seconds += span;
    instanceSeconds += span * live.reduce((sum, s) => sum + s.instanceCount, 0);
  }
  return { doubleCapacitySeconds: Math.round(seconds), doubleCapacityInstanceSeconds: Math.round(instanceSeconds) };
}

export interface NativeBlueGreenInput {
  /** How long SageMaker takes to provision the new fleet (the simulation's UpdateEndpoint duration). */
  readonly provisionSeconds: number;
  /** Blue's instance count: native blue/green provisions a full copy. */
  readonly blueInstanceCount: number;
  /** WaitIntervalInSeconds per traffic step (native caps it at 3600). */
  readonly stepBakeSeconds: readonly number[];
  /** TerminationWaitInSeconds (native caps it at 3600). */
  readonly terminationWaitSeconds: number;
  /** For a rollback: seconds from the first traffic shift to the rollback (replaces the bakes and the wait). */
  readonly rolledBackAfterSeconds?: number;
}

/**
 * What SageMaker's own blue/green (UpdateEndpoint with a DeploymentConfig) spends for the same policy: a full new
 * fleet from provisioning to the end of the termination wait (or to the rollback), with old and new fleet both up.
 */
export function nativeBlueGreenCapacity(input: NativeBlueGreenInput): CapacityFigures & { readonly assumptions: string } {
  const cap = (s: number) => Math.min(3600, s);
  const watched =
    input.rolledBackAfterSeconds ?? input.stepBakeSeconds.reduce((sum, s) => sum + cap(s), 0) + cap(input.terminationWaitSeconds);
  const seconds = input.provisionSeconds + watched;
  return {
    doubleCapacitySeconds: Math.round(seconds),
    doubleCapacityInstanceSeconds: Math.round(seconds * 2 * input.blueInstanceCount),
    assumptions:
      'native blue/green provisions a full copy of blue, bakes each step (WaitIntervalInSeconds, at most 3600 s) and keeps blue for ' +
      'TerminationWaitInSeconds (at most 3600 s); it has no warm-up or validation phase and needs the same variant name',
  };
}

/**
 * The invariants a rollout must hold whatever happens to it (faults, alarms, stops, duplicates), checked at
 * every simulated instant of a rehearsal and once more when it ends:
 * - serving: the endpoint that served before the approval always has a variant with instances and weight > 0,
 *   and never fails or disappears;
 * - blue kept: the variant that served before the approval leaves the endpoint only after green carried all
 *   traffic for the whole bake;
 * - one rollout: the spans of two executions' endpoint changes never overlap;
 * - clean end: nothing of this system is orphaned (models, configs, alarms, lock records, scalable targets), no
 *   execution or reconciler is left running.
 */
import type { RehearsalReport } from './runner';
import type { SimulatedAws } from './sim/world';

export interface InvariantViolation {
  /** Virtual seconds since the rehearsal began. */
  readonly atSecond: number;
  readonly invariant: 'serving' | 'blue-kept' | 'one-rollout' | 'clean-end';
  readonly detail: string;
}

export interface InvariantMonitorOptions {
  readonly endpointName: string;
  /** The variant that served before the approval (absent on a first deployment: nothing to keep serving). */
  readonly blueVariantName?: string;
  /** How long green must carry all traffic before blue may leave. */
  readonly bakeSeconds: number;
  /** Virtual time the rehearsal began at. */
  readonly startMs: number;
}

export class InvariantMonitor {
  readonly violations: InvariantViolation[] = [];
  private readonly options: InvariantMonitorOptions;
  /** Since when (virtual ms) blue has had weight 0 while another variant carried everything. */
  private greenAloneSinceMs: number | undefined;
  private blueGone = false;
  /** One report per invariant and cause: a broken state lasting an hour is one violation, not thousands. */
  private readonly reported = new Set<string>();

  constructor(options: InvariantMonitorOptions) {
    this.options = options;
  }

  /** Checks the endpoint as it is at `nowMs` (call after every timer). */
  observe(sim: SimulatedAws, nowMs: number): void {
    const { endpointName, blueVariantName } = this.options;
    if (!blueVariantName) return;
    const endpoint = sim.sagemaker.endpointSnapshot(endpointName);
    if (!endpoint) {
      this.violate(nowMs, 'serving', `endpoint ${endpointName} no longer exists`);
      return;
    }
    if (endpoint.status === 'Failed') this.violate(nowMs, 'serving', `endpoint ${endpointName} is Failed: ${endpoint.failureReason ?? ''}`);
    const serving = endpoint.variants.filter((v) => v.weight > 0 && v.instanceCount > 0);
    if (serving.length === 0) {
      const state = endpoint.variants.map((v) => `${v.variantName}=${v.weight} (${v.instanceCount} instances)`).join(', ');
      this.violate(nowMs, 'serving', `no variant with instances and weight > 0 on ${endpointName} (${endpoint.status}: ${state || 'no variants'})`);
    }
    const blue = endpoint.variants.find((v) => v.variantName === blueVariantName);
    if (blue) {
      const othersCarryAll = blue.weight === 0 && serving.length > 0;
      if (!othersCarryAll) this.greenAloneSinceMs = undefined;
      else this.greenAloneSinceMs ??= nowMs;
      return;
    }
    if (this.blueGone) return;
    this.blueGone = true;
    const aloneSeconds = this.greenAloneSinceMs === undefined ? 0 : (nowMs - this.greenAloneSinceMs) / 1000;
    if (aloneSeconds < this.options.bakeSeconds) {
      this.violate(
        nowMs,
        'blue-kept',
        `blue ${blueVariantName} left the endpoint after green carried all traffic for ${Math.round(aloneSeconds)} s, less than the ${this.options.bakeSeconds} s bake`,
      );
    }
  }

  /** The end-of-run checks, on the rehearsal's report. */
  finish(report: RehearsalReport, endMs: number): void {
    const spans = report.executions.filter((e) => e.mutationSeconds).map((e) => ({ name: e.name, span: e.mutationSeconds! }));
    for (const [i, a] of spans.entries()) {
      for (const b of spans.slice(i + 1)) {
        if (a.span[0] <= b.span[1] && b.span[0] <= a.span[1]) {
          this.violate(endMs, 'one-rollout', `executions ${a.name} (${a.span.join('-')} s) and ${b.name} (${b.span.join('-')} s) changed the endpoint at the same time`);
        }
      }
    }
    const orphaned = Object.entries(report.orphans).flatMap(([kind, names]) => (names as readonly string[]).map((name) => `${kind}: ${name}`));
    if (orphaned.length > 0) this.violate(endMs, 'clean-end', `orphaned: ${orphaned.join(', ')}`);
    const unfinished = report.reconciliations.filter((r) => r.status === 'RUNNING');
    if (unfinished.length > 0) this.violate(endMs, 'clean-end', `${unfinished.length} reconciler run(s) did not finish`);
    const failed = report.reconciliations.filter((r) => r.status !== 'SUCCEEDED');
    if (failed.length > 0) {
      this.violate(endMs, 'clean-end', `reconciler failed: ${failed.map((r) => `${r.execution}: ${r.error}: ${r.cause}`).join('; ')}`);
    }
  }

  private violate(nowMs: number, invariant: InvariantViolation['invariant'], detail: string): void {
    const key = `${invariant}:${detail.replace(/\d+/g, '#')}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push({ atSecond: Math.round((nowMs - this.options.startMs) / 100) / 10, invariant, detail });
  }
}

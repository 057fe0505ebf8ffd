/**
 * The rehearsal's compressed clock. `setTimeout` and `Date` are replaced by fake timers, so every Wait state,
 * Task timeout, retry back-off, SDK retry delay and simulated AWS duration takes virtual time only, and a
 * rollout with a one-hour bake finishes in milliseconds of wall time. Nothing else runs on the event loop
 * (no sockets, no files), so the same scenario gives the same timeline on every run.
 */
import FakeTimers from '@sinonjs/fake-timers';

type InstalledClock = ReturnType<typeof FakeTimers.install>;

/** Virtual time at which every rehearsal starts, so timelines are comparable between runs. */
export const REHEARSAL_EPOCH_MS = Date.UTC(2026, 0, 1, 9, 0, 0);

// Captured before any fake clock is installed: wall-clock figures (alarm-to-rollback, run time) use it.
const realPerformanceNow = performance.now.bind(performance);

export function wallNow(): number {
  return realPerformanceNow();
}

export class VirtualClock {
  private readonly clock: InstalledClock;

  private constructor(clock: InstalledClock) {
    this.clock = clock;
  }

  /** Installs the fake clock; `uninstall` must follow (use `VirtualClock.run`). */
  static install(startMs: number = REHEARSAL_EPOCH_MS): VirtualClock {
    return new VirtualClock(
      FakeTimers.install({
        now: startMs,
        toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
        loopLimit: 10_000_000,
      }),
    );
  }

  /** Runs `body` with the fake clock installed, and always removes it afterwards. */
  static async run<T>(body: (clock: VirtualClock) => Promise<T>, startMs?: number): Promise<T> {
    const clock = VirtualClock.install(startMs);
    try {
      return await body(clock);
    } finally {
      clock.uninstall();
    }
  }

  /** Virtual milliseconds since the epoch. */
  now(): number {
    return this.clock.now;
  }

  /**
   * Settles `work` by firing timers one at a time, each after the microtasks before it have run, until the
   * promise settles. Throws if nothing is left to fire and the promise still hangs (a deadlock: it would
   * hang in AWS too, or the rehearsal forgot to answer a task). `onInstant` runs after each timer: an
   * observer that checks invariants at every simulated instant.
   */
  async drive<T>(work: Promise<T>, maxVirtualMs = 30 * 24 * 3600 * 1000, onInstant?: () => void): Promise<T> {
    let settled = false;
    const observed = work.finally(() => {
      settled = true;
    });
    const deadline = this.clock.now + maxVirtualMs;
    while (!settled) {
      // Let pending promise chains run first: the work may be done, and then no further timer may fire.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) break;
      if (this.clock.countTimers() === 0) throw new Error('rehearsal deadlock: the execution waits for something that will never happen');
      await this.clock.nextAsync();
      onInstant?.();
      if (this.clock.now > deadline) throw new Error(`rehearsal exceeded ${maxVirtualMs / 1000} virtual seconds`);
    }
    return observed;
  }

  uninstall(): void {
    this.clock.uninstall();
  }
}

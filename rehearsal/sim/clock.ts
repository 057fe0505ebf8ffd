/**
 * Time in the simulation. It reads the global `Date.now()` and `setTimeout` at each call (never captures
 * them), so when the rehearsal installs fake timers the simulation runs on the virtual clock.
 */

/** The current (virtual) time in epoch milliseconds. */
export function nowMs(): number {
  return Date.now();
}

/** The minimal AbortSignal shape the SDK passes in its handler options. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener?(type: 'abort', listener: () => void): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** The error an aborted SDK request rejects with (the SDK's own handlers use the same name). */
export function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}

/** Resolves after `ms` (virtual) milliseconds; rejects with an AbortError if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener?.('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener?.('abort', onAbort);
  });
}

/**
 * Runs `callback` at (virtual) time `atMs` without keeping a real process alive for it. Used only to
 * announce state transitions on time; the state itself is always computed from `Date.now()`.
 */
export function scheduleAt(atMs: number, callback: () => void): void {
  const timer = setTimeout(callback, Math.max(0, atMs - nowMs()));
  (timer as { unref?: () => void }).unref?.();
}

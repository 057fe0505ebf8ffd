/**
 * Time as the handlers see it. Everything reads the global clock (`Date.now()`, `setTimeout`) so the local
 * rehearsal's fake timers control it; nothing here keeps its own clock.
 */

/** The current time as an ISO 8601 string (what the state machine carries as `requestedAt` / `since`). */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Milliseconds elapsed since `iso` (negative if `iso` is in the future). */
export function millisecondsSince(iso: string): number {
  return Date.now() - Date.parse(iso);
}

/** Resolves after `ms` milliseconds, through the global `setTimeout` (faked in the rehearsal and in tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The failure a Catch hands to the failure path (`{ Error, Cause }`), made readable. When a Lambda task
 * fails, Step Functions' Cause is Lambda's JSON error document (`{"errorType","errorMessage","trace"}`);
 * people want the message, on one line, not the document.
 */

/** What a Step Functions Catch puts at its ResultPath. */
export interface CaughtFailure {
  readonly Error: string;
  readonly Cause?: string;
}

/** Whitespace (newlines included) collapsed to single spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The failure's message: `errorMessage` when Cause is Lambda's JSON error document, else Cause as it is;
 * always one line, never empty.
 */
export function failureMessage(cause: string | undefined): string {
  const text = (cause ?? '').trim();
  let message = text;
  if (text.startsWith('{')) {
    try {
      const document = JSON.parse(text) as { errorMessage?: unknown };
      if (typeof document?.errorMessage === 'string') message = document.errorMessage;
    } catch {
      // Not JSON after all (a Cause written by hand or by another service): keep it as it is.
    }
  }
  return oneLine(message) || '(no cause given)';
}

/** Two statements as one line of sentences: `Smoke check failed. Blue restored: ...`. */
export function joinSentences(first: string, second: string): string {
  const head = first.trim();
  return `${/[.!?]$/.test(head) ? head : `${head}.`} ${second.trim()}`;
}

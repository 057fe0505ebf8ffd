/** Human-readable rehearsal output: the timeline as it happens, then a summary of where the endpoint ended. */
import type { RehearsalReport, TimelineEntry } from './runner';

function clockOf(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

/**
 * Returns a printer that skips the noise of polling loops: Choice, Pass and repeated Wait/Check states are
 * shown once, and an endpoint status is shown again only when it changes.
 */
export function timelinePrinter(write: (line: string) => void): (entry: TimelineEntry) => void {
  // States shown since the last step that was not part of a polling loop: a loop's states are shown once.
  const shownInLoop = new Set<string>();
  let lastTaskLine = '';
  return (entry) => {
    let line: string | undefined;
    if (entry.kind === 'state') {
      const state = entry.state ?? '';
      const inLoop = state.endsWith('?') || state.startsWith('Wait for') || state.startsWith('Check ') || state === 'Restore blue';
      if (entry.message.startsWith('Retrying')) line = `  ${entry.message}`;
      else if (state.endsWith('?') || state === 'Keep plan') line = undefined;
      else if (!inLoop || !shownInLoop.has(state)) line = `▶ ${state}`;
      if (inLoop) shownInLoop.add(state);
      else shownInLoop.clear();
    } else if (entry.kind === 'task') {
      const text = `  ${entry.message}`;
      if (text !== lastTaskLine) line = text;
      lastTaskLine = text;
    } else if (entry.kind === 'endpoint') {
      line = `  ⚙ ${entry.message}`;
    } else {
      line = `${entry.kind === 'event' ? '✉' : '◆'} ${entry.message}`;
    }
    if (line) write(`[${clockOf(entry.t)}] ${line}`);
  };
}

export function summaryLines(report: RehearsalReport): string[] {
  const lines = ['', `Outcome: ${report.outcome}  (scenario ${report.scenario})`];
  if (report.execution) {
    const { status, stateTransitions, error, cause, output } = report.execution;
    const summaryText = typeof (output as { text?: unknown } | null)?.text === 'string' ? (output as { text: string }).text : undefined;
    // A failed rollout's cause is its summary (several lines): shown as a block, like a succeeded one's output.
    const causeBlock = cause !== null && cause.includes('\n') ? cause : undefined;
    lines.push(`Execution: ${status}, ${stateTransitions} state transitions${error ? `, ${error}${causeBlock || cause === null ? '' : `: ${cause}`}` : ''}`);
    const block = summaryText ?? causeBlock;
    if (block) {
      lines.push(summaryText ? "Summary (the execution's output):" : "Summary (the execution's cause):");
      for (const line of block.split('\n')) lines.push(`  ${line}`);
    }
  }
  if (report.notifications.length > 0) {
    lines.push(`Notifications (SNS): ${report.notifications.length}`);
    for (const notification of report.notifications) lines.push(`  ${clockOf(notification.atSecond)}  ${notification.message}`);
  }
  const latest = report.history[0];
  lines.push(
    `Audit trail: ${report.history.length} rollout${report.history.length === 1 ? '' : 's'} recorded` +
      (latest ? ` (latest: ${latest.outcome?.outcome ?? 'no outcome'}, ${latest.events} events)` : ''),
  );
  if (report.endpoint) {
    lines.push(`Endpoint ${report.target.endpointName}: ${report.endpoint.status} on ${report.endpoint.endpointConfigName}`);
    for (const v of report.endpoint.variants) {
      lines.push(`  variant ${v.variantName}: model ${v.modelName}, weight ${v.weight}, ${v.instanceCount} x ${v.instanceType}`);
    }
  } else {
    lines.push(`Endpoint ${report.target.endpointName}: does not exist`);
  }
  const orphans = [...report.orphans.models, ...report.orphans.endpointConfigs];
  lines.push(`Left behind by this system: ${orphans.length ? orphans.join(', ') : 'nothing'}`);
  lines.push(`AWS calls: ${report.awsCalls.total} (${report.awsCalls.mutating} mutating); ${clockOf(report.metrics.virtualSeconds)} of AWS time in ${report.metrics.wallMs} ms`);
  return lines;
}

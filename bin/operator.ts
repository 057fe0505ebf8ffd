#!/usr/bin/env node
/**
 * `npm run operator -- <command> [options]` (`--help` lists the commands): approve, reject, roll back, abort,
 * deploy by hand, trace an execution.
 * Wiring only: the commands are in cli/.
 */
import { defaultCliContext } from '../cli/context';
import { runCli } from '../cli/runner';

// The SDK warns on every run under Node 20 about its releases after January 2027; in an operator's terminal
// that is ten lines of noise before each decision. The project's tooling runs on Node 20 (README).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(process.argv.slice(2), defaultCliContext()).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`operator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

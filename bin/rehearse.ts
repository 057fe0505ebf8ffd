#!/usr/bin/env node
/**
 * `npm run rehearse -- [--scenario NAME | --scenario-file FILE] [--event FILE] [--config FILE] [--json]
 *  [--record-calls FILE] [--verbose] [--list]`: a blue/green rollout on the local rehearsal, the same as
 * `npx sagemaker-blue-green rehearse`. Wiring only: the options and output are in cli/commands/rehearse.ts, the
 * rehearsal in rehearsal/.
 */
import { rehearseScriptCommand } from '../cli/commands/rehearse';
import { defaultCliContext } from '../cli/context';
import { runCommand } from '../cli/runner';

runCommand(rehearseScriptCommand, process.argv.slice(2), defaultCliContext(), 'rehearse').then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`rehearse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

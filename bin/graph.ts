#!/usr/bin/env node
/**
 * `npm run graph [-- --check]`: draws the rollout and reconciler state machines from their ASL into README.md's
 * marked Mermaid blocks. Wiring only: the drawing is in tools/state-machine-graph.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GRAPH_COMMAND, README_GRAPH_BLOCKS, README_PATH, staleReadmeGraphs, stateMachineGraph, updateReadmeGraphs } from '../tools/state-machine-graph';

const USAGE = `Usage: ${GRAPH_COMMAND} [-- --check]

Draws state-machines/rollout.asl.json and reconcile.asl.json as Mermaid flowcharts into README.md, between the
<!-- state-machine-graph:start/end --> and <!-- reconciler-graph:start/end --> markers.

Options:
  --check   change nothing; exit 1 if README.md's graphs are not what the ASL draws
  --help    this text`;

function fail(message: string, exitCode = 2): never {
  process.stderr.write(`graph: ${message}\n`);
  process.exit(exitCode);
}

function main(): void {
  let args;
  try {
    args = parseArgs({ options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } }, strict: true }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    const graphs = README_GRAPH_BLOCKS.map(({ name, aslPath }) => ({ name, graph: stateMachineGraph(JSON.parse(readFileSync(aslPath, 'utf8'))) }));
    const readme = readFileSync(README_PATH, 'utf8');
    if (args.check) {
      const stale = staleReadmeGraphs(readme, graphs);
      if (stale.length > 0) fail(stale.join('\ngraph: '), 1);
      process.stdout.write('README.md: the state machine graphs are up to date\n');
      return;
    }
    const updated = updateReadmeGraphs(readme, graphs);
    if (updated === readme) {
      process.stdout.write('README.md: the state machine graphs were already up to date\n');
      return;
    }
    writeFileSync(README_PATH, updated);
    process.stdout.write(`README.md: redrew ${graphs.map(({ name }) => name).join(', ')}\n`);
  } catch (e) {
    fail((e as Error).message);
  }
}

main();

#!/usr/bin/env node
/**
 * `npm run rehearse -- [--scenario NAME | --scenario-file FILE] [--event FILE] [--config FILE] [--json]
 *  [--record-calls FILE] [--verbose] [--list]`: a blue/green rollout on the local rehearsal. Wiring only:
 * the logic is in rehearsal/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run rehearse -- [options]

Runs a blue/green rollout locally: the real state machine and handlers against a simulated AWS, on a
compressed clock.

Options:
  --scenario NAME        a built-in scenario (default: happy-path); --list shows them
  --scenario-file FILE   a scenario of your own (JSON; format in README.md, "Scenario files")
  --event FILE           start from this raw EventBridge event instead of the scenario's approval
  --config FILE          deployment targets (JSON, as cdk.json's "blueGreen"); default: cdk.json
  --json                 print one JSON report on stdout (logs go to stderr)
  --record-calls FILE    write every AWS API call as JSON Lines {"service","operation","input"}
  --verbose              show the handlers' logs (stderr)
  --list                 list the built-in scenarios
  --help                 this text`;

function fail(message: string): never {
  process.stderr.write(`rehearse: ${message}\n`);
  process.exit(2);
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        scenario: { type: 'string' },
        'scenario-file': { type: 'string' },
        event: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        'record-calls': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.scenario && args['scenario-file']) fail('give either --scenario or --scenario-file, not both');

  // Handlers create their loggers when first loaded: set the level before anything loads them.
  process.env.POWERTOOLS_LOG_LEVEL = args.verbose ? 'INFO' : 'ERROR';
  process.env.POWERTOOLS_SERVICE_NAME ??= 'sagemaker-blue-green';
  const json = args.json;
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  // Everything but the report goes to stderr in --json mode, including the handlers' log lines.
  if (json || !args.verbose) {
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
      (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  }
  const out = (line: string) => stdoutWrite(`${line}\n`);

  const { builtInScenario, builtInScenarioNames, readScenarioFile } = await import('../rehearsal/scenario');
  if (args.list) {
    for (const name of builtInScenarioNames()) out(`${name.padEnd(22)} ${builtInScenario(name).description}`);
    return;
  }
  const { runRehearsal } = await import('../rehearsal/runner');
  const { summaryLines, timelinePrinter } = await import('../rehearsal/print');

  let scenario;
  try {
    scenario = args['scenario-file'] ? readScenarioFile(args['scenario-file']) : builtInScenario(args.scenario ?? 'happy-path');
  } catch (e) {
    fail((e as Error).message);
  }
  const config = args.config
    ? readJson(args.config, 'config file')
    : (readJson(join(__dirname, '..', 'cdk.json'), 'cdk.json') as { context?: { blueGreen?: unknown } }).context?.blueGreen;
  const rawEvent = args.event ? readJson(args.event, 'event file') : undefined;

  if (!json) out(`Rehearsal "${scenario.name}": ${scenario.description}\n`);
  const printer = timelinePrinter((line) => (json ? process.stderr.write(`${line}\n`) : out(line)));
  const report = await runRehearsal({
    scenario,
    config: config as never,
    rawEvent,
    onTimeline: printer,
    onAwsCalls: args['record-calls']
      ? (calls) => writeFileSync(args['record-calls']!, calls.map((c) => JSON.stringify(c)).join('\n') + (calls.length ? '\n' : ''))
      : undefined,
  });
  if (json) out(JSON.stringify(report, null, 2));
  else for (const line of summaryLines(report)) out(line);
}

main().catch((error: unknown) => {
  process.stderr.write(`rehearse: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

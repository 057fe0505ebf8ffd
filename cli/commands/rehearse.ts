/**
 * `npx sagemaker-blue-green rehearse` (also `npm run rehearse`, bin/rehearse.ts): a blue/green rollout on the
 * local rehearsal, the real state machine and handlers against the simulated AWS on a compressed clock. No AWS
 * account is involved. The rehearsal itself is in rehearsal/; this module reads the options and prints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { OperationError, UsageError, type Command, type OptionsConfig } from '../command';
import type { CliContext } from '../context';
import type { RolloutConfigInput } from '../../lambdas/shared/config';

/** The built-in scenario rehearsed when neither --scenario nor --scenario-file is given. */
export const DEFAULT_SCENARIO = 'happy-path';

/** The deployment targets rehearsed without --config: the `blueGreen` context of the CDK app. */
const CDK_JSON = join(__dirname, '..', '..', 'cdk.json');

const REHEARSE_OPTIONS = {
  scenario: { type: 'string' },
  'scenario-file': { type: 'string' },
  event: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  'record-calls': { type: 'string' },
  verbose: { type: 'boolean' },
  list: { type: 'boolean' },
} as const satisfies OptionsConfig;

/** An option naming a file: parseArgs accepts `--event ""`, which names none. */
function fileField(what: string) {
  return z.string().min(1, `must not be empty: the path of ${what}`).optional();
}

const RehearseOptionsSchema = z
  .object({
    scenario: z.string().min(1, 'must not be empty: a built-in scenario name (--list shows them)').optional(),
    'scenario-file': fileField('a scenario file (JSON)'),
    event: fileField('an EventBridge event (JSON)'),
    config: fileField('the deployment targets (JSON)'),
    json: z.boolean().default(false),
    'record-calls': fileField('the file the AWS calls are written to'),
    verbose: z.boolean().default(false),
    list: z.boolean().default(false),
  })
  .refine((options) => options.scenario === undefined || options['scenario-file'] === undefined, {
    path: ['scenario-file'],
    message: 'give either --scenario or --scenario-file, not both',
  });

export type RehearseOptions = z.infer<typeof RehearseOptionsSchema>;

/** The usage text under its first line(s): `synopsis` says how the rehearsal is invoked. */
export function rehearseUsage(synopsis: string): string {
  return `${synopsis}

Runs a blue/green rollout locally: the real state machine and handlers against a simulated AWS, on a
compressed clock.

Options:
  --scenario NAME        a built-in scenario (default: ${DEFAULT_SCENARIO}); --list shows them
  --scenario-file FILE   a scenario of your own (JSON; format in README.md, "Scenario files")
  --event FILE           start from this raw EventBridge event instead of the scenario's approval
  --config FILE          deployment targets (JSON, as cdk.json's "blueGreen"); default: cdk.json
  --json                 print one JSON report on stdout (logs go to stderr)
  --record-calls FILE    write every AWS API call as JSON Lines {"service","operation","input"}
  --verbose              show the handlers' logs (stderr)
  --list                 list the built-in scenarios
  --help                 this text`;
}

export const rehearseCommand: Command<RehearseOptions> = {
  name: 'rehearse',
  summary: 'a rollout on this machine: the real state machine and handlers against a simulated AWS',
  usage: rehearseUsage(`Usage: npx sagemaker-blue-green rehearse [options]
   or: npm run rehearse -- [options]`),
  options: REHEARSE_OPTIONS,
  schema: RehearseOptionsSchema,
  run: (options, context) => rehearse(options, context),
};

/**
 * The same command as `npm run rehearse` runs it (bin/rehearse.ts): the README's first command, with the usage
 * it has always had.
 */
export const rehearseScriptCommand: Command<RehearseOptions> = {
  ...rehearseCommand,
  usage: rehearseUsage('Usage: npm run rehearse -- [options]'),
};

/**
 * Diverts everything written to process.stdout to stderr, except what goes through `passThrough`: the handlers'
 * loggers write to stdout, and in --json mode stdout must hold the report alone.
 */
function divertStdout(): { readonly passThrough: (write: () => void) => void; readonly restore: () => void } {
  const originalWrite = process.stdout.write;
  let passing = false;
  process.stdout.write = ((...args: unknown[]) =>
    passing
      ? (originalWrite as (...a: unknown[]) => boolean).apply(process.stdout, args)
      : (process.stderr.write as (...a: unknown[]) => boolean).apply(process.stderr, args)) as typeof process.stdout.write;
  return {
    passThrough(write) {
      passing = true;
      try {
        write();
      } finally {
        passing = false;
      }
    },
    restore() {
      process.stdout.write = originalWrite;
    },
  };
}

async function rehearse(options: RehearseOptions, context: CliContext): Promise<void> {
  // Handlers create their loggers when first loaded: set the level before anything loads them (the rehearsal
  // modules are imported below, not at the top, for that reason and so other commands do not load them).
  process.env.POWERTOOLS_LOG_LEVEL = options.verbose ? 'INFO' : 'ERROR';
  process.env.POWERTOOLS_SERVICE_NAME ??= 'sagemaker-blue-green';
  const diversion = options.json || !options.verbose ? divertStdout() : undefined;
  const out = (line: string) => (diversion ? diversion.passThrough(() => context.out(line)) : context.out(line));
  try {
    await rehearseWith(options, context, out);
  } finally {
    diversion?.restore();
  }
}

async function rehearseWith(options: RehearseOptions, context: CliContext, out: (line: string) => void): Promise<void> {
  const { builtInScenario, builtInScenarioNames, readScenarioFile } = await import('../../rehearsal/scenario');
  if (options.list) {
    for (const name of builtInScenarioNames()) out(`${name.padEnd(22)} ${builtInScenario(name).description}`);
    return;
  }
  const { rehearsalConfig, runRehearsal } = await import('../../rehearsal/runner');
  const { summaryLines, timelinePrinter } = await import('../../rehearsal/print');

  let scenario;
  try {
    scenario = options['scenario-file'] ? readScenarioFile(options['scenario-file']) : builtInScenario(options.scenario ?? DEFAULT_SCENARIO);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = options.config
    ? readJson(options.config, 'config file')
    : (readJson(CDK_JSON, 'cdk.json') as { context?: { blueGreen?: unknown } }).context?.blueGreen;
  try {
    // The rehearsal validates the targets too, but only once it runs: a bad --config is the command line's fault.
    rehearsalConfig(config as RolloutConfigInput, scenario);
  } catch (error) {
    throw new UsageError(`${options.config ? `--config ${options.config}` : `the "blueGreen" context of ${CDK_JSON}`}: ${(error as Error).message}`);
  }
  const rawEvent = options.event ? readJson(options.event, 'event file') : undefined;
  const recordCallsTo = options['record-calls'];
  // The calls are written when the rehearsal ends: a path that cannot be written should fail before it starts.
  if (recordCallsTo) writeCalls(recordCallsTo, [], (message) => new UsageError(message));

  if (!options.json) out(`Rehearsal "${scenario.name}": ${scenario.description}\n`);
  const printer = timelinePrinter((line) => (options.json ? context.err(line) : out(line)));
  const report = await runRehearsal({
    scenario,
    config: config as RolloutConfigInput,
    rawEvent,
    onTimeline: printer,
    onAwsCalls: recordCallsTo ? (calls) => writeCalls(recordCallsTo, calls) : undefined,
  });
  if (options.json) out(JSON.stringify(report, null, 2));
  else for (const line of summaryLines(report)) out(line);
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** `--record-calls`: one JSON object a line. */
function writeCalls(
  path: string,
  calls: ReadonlyArray<{ readonly service: string; readonly operation: string; readonly input: unknown }>,
  failure: (message: string) => Error = (message) => new OperationError(message),
): void {
  try {
    writeFileSync(path, calls.map((call) => JSON.stringify(call)).join('\n') + (calls.length ? '\n' : ''));
  } catch (error) {
    throw failure(`--record-calls: cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * `npx sagemaker-blue-green <command> [options]` (or `npm run operator -- <command> [options]`): finds the
 * command, parses its options (node:util parseArgs, strict), validates them with the command's schema, runs it,
 * and turns the outcome into an exit code: 0 done, 1 the operation failed or was refused, 2 the command line was
 * wrong (with the usage text).
 */
import { parseArgs } from 'node:util';
import { ExitCode, OperationError, UsageError, type Command } from './command';
import { COMMANDS } from './commands';
import type { CliContext } from './context';
import { usageErrorFrom } from './options';

const PROGRAM = 'operator';
const HELP_FLAGS = new Set(['--help', '-h']);

/** The text of `operator --help`: the commands with their one-line summaries. */
export function programUsage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 3;
  return `Usage: npx sagemaker-blue-green <command> [options]
   or: npm run operator -- <command> [options]

Acts on blue/green rollouts (executions of the rollout state machine) in AWS, or rehearses one locally.

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`).join('\n')}

\`npx sagemaker-blue-green <command> --help\` shows a command's options.
AWS access uses the default credential chain and region (AWS_PROFILE, AWS_REGION, SSO, ...);
--region overrides the region.
Exit codes: 0 done, 1 the operation failed or was refused, 2 wrong usage.`;
}

/** Runs one command line (without `node` and the script) and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], context: CliContext, commands: readonly Command[] = COMMANDS): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined) return usageFailure(context, `${PROGRAM}: give a command`, programUsage(commands));
  if (HELP_FLAGS.has(name)) {
    context.out(programUsage(commands));
    return ExitCode.ok;
  }
  if (name.startsWith('-')) return usageFailure(context, `${PROGRAM}: the command comes first, then its options`, programUsage(commands));
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) return usageFailure(context, `${PROGRAM}: unknown command "${name}"`, programUsage(commands));

  return runCommand(command, args, context);
}

/**
 * Runs one command with its arguments (after the command name) and returns the exit code; never throws.
 * `prefix` starts every error line: `operator approve` by default; a script that is one command (bin/rehearse.ts)
 * passes its own name.
 */
export async function runCommand(
  command: Command,
  args: readonly string[],
  context: CliContext,
  prefix = `${PROGRAM} ${command.name}`,
): Promise<ExitCode> {
  try {
    const parsed = parseOptions(command, args);
    if (parsed.help) {
      context.out(command.usage);
      return ExitCode.ok;
    }
    await command.run(parsed.options, context);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(context, prefixLines(prefix, error.message), command.usage);
    if (error instanceof OperationError) {
      context.err(prefixLines(prefix, error.message));
      return ExitCode.failed;
    }
    context.err(`${prefix}: unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return ExitCode.failed;
  }
}

type ParsedOptions = { readonly help: true } | { readonly help: false; readonly options: unknown };

/** The command's validated options, unless --help/-h was given. */
function parseOptions(command: Command, args: readonly string[]): ParsedOptions {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...args],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // parseArgs throws TypeErrors (ERR_PARSE_ARGS_*) that describe the offending argument.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { help, ...options } = values;
  if (help) return { help: true };
  const parsed = command.schema.safeParse(options);
  if (!parsed.success) throw usageErrorFrom(parsed.error);
  return { help: false, options: parsed.data };
}

function usageFailure(context: CliContext, message: string, usage: string): ExitCode {
  context.err(message);
  context.err('');
  context.err(usage);
  return ExitCode.usage;
}

function prefixLines(prefix: string, message: string): string {
  return message
    .split('\n')
    .map((line) => `${prefix}: ${line}`)
    .join('\n');
}

/**
 * What every operator command is: a name, its usage text, the options node:util parseArgs accepts and one zod
 * schema that validates them. The runner (runner.ts) parses, validates and maps outcomes to exit codes, so a
 * new command (status, history, rollback, ...) is one module in commands/ plus one line in the registry.
 */
import type { ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import type { CliContext } from './context';

/** The option definitions node:util parseArgs takes. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface Command<Options = unknown> {
  /** The word after `operator`, e.g. `approve`. */
  readonly name: string;
  /** One line for the command list of `operator --help`. */
  readonly summary: string;
  /** Full usage text: `operator <name> --help` prints it, and every usage error repeats it. */
  readonly usage: string;
  /** The options parseArgs accepts (strict, no positionals). `--help`/`-h` is added to every command. */
  readonly options: OptionsConfig;
  /** Validates the parsed options. Issue paths are option names, so errors read `--execution: required`. */
  readonly schema: z.ZodType<Options>;
  /**
   * Does the work and writes through `context`. Throws UsageError for bad arguments (exit 2, with usage) and
   * OperationError when the operation is refused or fails (exit 1).
   */
  run(options: Options, context: CliContext): Promise<void>;
}

/** Exit codes of `npm run operator`. */
export const ExitCode = {
  /** The command did what was asked (or printed help). */
  ok: 0,
  /** AWS refused or failed the operation, or there was nothing to act on. */
  failed: 1,
  /** The command line itself was wrong; the usage text was printed. */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line is wrong: the runner prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The operation was refused or failed; the message is written for a person. The runner exits 1. */
export class OperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

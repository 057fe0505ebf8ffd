/**
 * `npx sagemaker-blue-green <command>`: npm exec runs the package's `bin`, bin/sagemaker-blue-green.cjs, with plain
 * Node. These tests start it the same way, as a child process from the repository root.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMMANDS } from '../../cli/commands';
import type { RehearsalReport } from '../../rehearsal/runner';

const REPO_ROOT = join(__dirname, '..', '..');
const LAUNCHER = join('bin', 'sagemaker-blue-green.cjs');
const run = promisify(execFile);

interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/sagemaker-blue-green.cjs ...args`: its exit code and output, whatever the code. */
async function launch(...args: string[]): Promise<Finished> {
  try {
    const { stdout, stderr } = await run(process.execPath, [LAUNCHER, ...args], { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    // execFile rejects on a non-zero exit with the code as a number; anything else (a spawn failure) is a bug here.
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npx sagemaker-blue-green', () => {
  test('the launcher is a Node script npm can run directly', () => {
    const launcher = join(REPO_ROOT, LAUNCHER);
    expect(readFileSync(launcher, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(() => accessSync(launcher, constants.X_OK)).not.toThrow();
  });

  test('--help: the program usage with every command, exit 0', async () => {
    const { code, stdout, stderr } = await launch('--help');

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')[0]).toBe('Usage: npx sagemaker-blue-green <command> [options]');
    expect(stdout).toContain('or: npm run operator -- <command> [options]');
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`\\n {2}${command.name} +${command.summary}\\n`));
  });

  test('trace --help: the command usage, exit 0', async () => {
    const { code, stdout, stderr } = await launch('trace', '--help');

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')[0]).toBe('Usage: npx sagemaker-blue-green trace --execution ARN [--region REGION] [--json]');
    expect(stdout).toContain('--execution ARN');
  });

  test('an unknown command: exit 2, names it, the usage on stderr, nothing on stdout', async () => {
    const { code, stdout, stderr } = await launch('promote', '--execution', 'x');

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe('operator: unknown command "promote"');
    expect(stderr).toContain('Usage: npx sagemaker-blue-green <command> [options]');
  });

  test('rehearse --json: the rehearsal modules it imports on demand load too; stdout is the report alone', async () => {
    const { code, stdout, stderr } = await launch('rehearse', '--scenario', 'not-approved', '--json');

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RehearsalReport;
    expect(report).toMatchObject({ scenario: 'not-approved', outcome: 'IGNORED', execution: null });
    expect(report.endpoint?.variants.map((variant) => [variant.variantName, variant.weight])).toEqual([['v6-00000000', 1]]);
    expect(stderr).toContain('does not match the rollout rule');
  });
});

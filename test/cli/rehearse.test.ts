import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rehearseCommand, rehearseScriptCommand } from '../../cli/commands/rehearse';
import { runCli, runCommand } from '../../cli/runner';
import type { RehearsalReport } from '../../rehearsal/runner';
import { builtInScenario, builtInScenarioNames } from '../../rehearsal/scenario';
import { capturedContext } from './support';

const REHEARSE_USAGE = 'Usage: npx sagemaker-blue-green rehearse [options]';

let workDir: string;
let stdoutWrite: jest.SpyInstance;
let stderrWrite: jest.SpyInstance;
const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(() => (workDir = mkdtempSync(join(tmpdir(), 'rehearse-command-'))));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
// The command sends the handlers' log lines to the process's stderr: caught here, so they are neither lost nor noise.
beforeEach(() => {
  stdoutWrite = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderrWrite = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
});

function written(spy: jest.SpyInstance): string {
  return spy.mock.calls.map(([chunk]) => String(chunk)).join('');
}

describe('operator rehearse: the local rehearsal through the CLI', () => {
  test('--json: the report alone on stdout, the endpoint promoted to v7; timeline and logs on stderr; every AWS call recorded', async () => {
    const { context, out, err } = capturedContext();
    const callsFile = join(workDir, 'calls.jsonl');
    const writeBefore = process.stdout.write;

    // --verbose loads the handlers' loggers at INFO (the first rehearsal in this file), so there are log lines to route.
    const code = await runCli(['rehearse', '--scenario', 'happy-path', '--json', '--verbose', '--record-calls', callsFile], context);

    expect(code).toBe(0);
    const report = JSON.parse(out.join('\n')) as RehearsalReport;
    expect(report.scenario).toBe('happy-path');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.execution).toMatchObject({ status: 'SUCCEEDED', error: null, finalState: 'Promoted' });
    // Green (v7) replaced blue (v6): one variant left, with all the traffic.
    expect(report.endpoint?.status).toBe('InService');
    expect(report.endpoint?.variants).toEqual([expect.objectContaining({ variantName: expect.stringMatching(/^v7-/), modelName: expect.stringMatching(/^fraud-detector-v7-/), weight: 1 })]);
    expect(Object.values(report.orphans).flat()).toEqual([]);

    // The timeline went to the command's diagnostics, not into the report's stream.
    expect(err).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\] ◆ Execution \S+ succeeded in "Promoted"$/));
    expect(err.some((line) => line.startsWith('operator rehearse:'))).toBe(false);
    // The handlers' log lines (written to stdout by their loggers) were sent to stderr; stdout got nothing.
    expect(written(stdoutWrite)).toBe('');
    expect(written(stderrWrite)).toMatch(/"level":"INFO"/);
    expect(process.stdout.write).toBe(writeBefore);

    const calls = readFileSync(callsFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { service: string; operation: string });
    expect(calls).toHaveLength(report.awsCalls.total);
    expect(calls).toContainEqual(expect.objectContaining({ service: 'sagemaker', operation: 'UpdateEndpoint' }));
  });

  test('text: the scenario, its timeline and where the endpoint ended, all on stdout', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(['rehearse', '--scenario', 'smoke-check-fails'], context)).toBe(0);

    expect(err).toEqual([]);
    expect(out[0]).toBe(`Rehearsal "smoke-check-fails": ${builtInScenario('smoke-check-fails').description}`);
    expect(out).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\] ▶ Smoke check green$/));
    expect(out).toContain('Outcome: ROLLED_BACK  (scenario smoke-check-fails)');
    // Blue (v6) serves alone again.
    expect(out).toContain('Endpoint fraud-detector-prod: InService on fraud-detector-prod-v6-00000000');
    expect(out).toContain('  variant v6-00000000: model fraud-detector-v6-00000000, weight 1, 2 x ml.g5.xlarge');
    expect(out).toContainEqual(expect.stringMatching(/^Left behind by this system: nothing$/));
  });

  test('--list: one line per built-in scenario with its description', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(['rehearse', '--list'], context)).toBe(0);

    expect(err).toEqual([]);
    const names = builtInScenarioNames();
    expect(out).toHaveLength(names.length);
    expect(out).toContain(`${'happy-path'.padEnd(22)} ${builtInScenario('happy-path').description}`);
  });

  test('--help: the usage, npx form first, every option; exit 0, nothing rehearsed', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(['rehearse', '--help'], context)).toBe(0);

    expect(err).toEqual([]);
    expect(out[0]).toBe(REHEARSE_USAGE);
    expect(out[1]).toBe('   or: npm run rehearse -- [options]');
    const usage = out.join('\n');
    for (const option of Object.keys(rehearseCommand.options)) expect(usage).toContain(`--${option}`);
    expect(usage).toContain('default: happy-path');
  });
});

describe('operator rehearse: wrong usage (exit 2, the usage on stderr)', () => {
  test('an unknown scenario names it and lists the built-in ones', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(['rehearse', '--scenario', 'happy-pth'], context)).toBe(2);

    expect(out).toEqual([]);
    expect(err[0]).toBe(`operator rehearse: Unknown scenario "happy-pth". Built-in scenarios: ${builtInScenarioNames().join(', ')}`);
    expect(err).toContain(REHEARSE_USAGE);
  });

  test.each([
    ['--scenario and --scenario-file together', ['--scenario', 'happy-path', '--scenario-file', 'x.json'], /^operator rehearse: --scenario-file: give either --scenario or --scenario-file, not both$/],
    ['an empty --scenario', ['--scenario', ''], /^operator rehearse: --scenario: must not be empty: a built-in scenario name \(--list shows them\)$/],
    // parseArgs's own message (under jest it carries the error code too).
    ['an unknown option', ['--scenarios', 'happy-path'], /^operator rehearse: .*Unknown option '--scenarios'/],
  ])('%s', async (_, args, message) => {
    const { context, err } = capturedContext();

    expect(await runCli(['rehearse', ...args], context)).toBe(2);

    expect(err[0]).toMatch(message);
    expect(err).toContain(REHEARSE_USAGE);
  });

  test('a scenario file that does not exist, a config that is not JSON, a config without targets', async () => {
    const notJson = join(workDir, 'not.json');
    writeFileSync(notJson, 'targets: []');
    const noTargets = join(workDir, 'no-targets.json');
    writeFileSync(noTargets, JSON.stringify({ targets: [] }));
    const missing = join(workDir, 'missing.json');

    const cases: Array<[string[], RegExp]> = [
      [['--scenario-file', missing], new RegExp(`^operator rehearse: Cannot read scenario file ${missing}: ENOENT`)],
      [['--config', notJson], new RegExp(`^operator rehearse: cannot read config file ${notJson}: .*JSON`)],
      [['--config', noTargets], new RegExp(`^operator rehearse: --config ${noTargets}: The configuration has no targets to rehearse$`)],
      [['--record-calls', join(workDir, 'no-such-dir', 'calls.jsonl')], /^operator rehearse: --record-calls: cannot write .*calls\.jsonl: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const { context, out, err } = capturedContext();
      expect({ args, code: await runCli(['rehearse', ...args], context) }).toEqual({ args, code: 2 });
      expect(err[0]).toMatch(message);
      expect(out).toEqual([]);
    }
  });
});

describe('npm run rehearse (bin/rehearse.ts): the same command under its own name', () => {
  test('--help prints the usage the README shows', async () => {
    const { context, out } = capturedContext();

    expect(await runCommand(rehearseScriptCommand, ['--help'], context, 'rehearse')).toBe(0);

    expect(out[0]).toBe('Usage: npm run rehearse -- [options]');
    expect(out.join('\n')).toBe(rehearseScriptCommand.usage);
  });

  test('errors carry the script name and exit 2', async () => {
    const { context, err } = capturedContext();

    expect(await runCommand(rehearseScriptCommand, ['--scenario', 'nope'], context, 'rehearse')).toBe(2);

    expect(err[0]).toMatch(/^rehearse: Unknown scenario "nope"\. Built-in scenarios: /);
    expect(err).toContain('Usage: npm run rehearse -- [options]');
  });
});

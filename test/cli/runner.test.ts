import 'aws-sdk-client-mock-jest';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { z } from 'zod';
import { OperationError, type Command } from '../../cli/command';
import { COMMANDS } from '../../cli/commands';
import { programUsage, runCli } from '../../cli/runner';
import { capturedContext, EXECUTION_ARN } from './support';

const sfn = mockClient(SFNClient);
const APPROVE_USAGE = 'Usage: npx sagemaker-blue-green approve --execution ARN [--by NAME] [--reason TEXT] [--region REGION]';

beforeEach(() => sfn.reset());

describe('operator --help', () => {
  test.each([['--help'], ['-h']])('%s lists every registered command with its summary, on stdout, exit 0', async (flag) => {
    const { context, out, err } = capturedContext();

    expect(await runCli([flag], context)).toBe(0);

    expect(err).toEqual([]);
    expect(out[0]).toBe('Usage: npx sagemaker-blue-green <command> [options]');
    expect(out[1]).toBe('   or: npm run operator -- <command> [options]');
    for (const command of COMMANDS) expect(out).toContainEqual(expect.stringMatching(new RegExp(`^  ${command.name} +${command.summary}$`)));
    expect(out.join('\n')).toContain('Exit codes: 0 done, 1 the operation failed or was refused, 2 wrong usage.');
  });

  test.each(COMMANDS.map((command) => [command.name]))('%s --help prints the command usage with every option, exit 0', async (name) => {
    const { context, out, err } = capturedContext();

    expect(await runCli([name, '--help'], context)).toBe(0);

    expect(err).toEqual([]);
    const usage = out.join('\n');
    expect(usage).toMatch(new RegExp(`^Usage: npx sagemaker-blue-green ${name} `));
    const command = COMMANDS.find((c) => c.name === name)!;
    for (const option of [...Object.keys(command.options).map((o) => `--${o}`), '--help']) expect(usage).toContain(option);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('usage errors: exit 2 with the usage text on stderr', () => {
  test('no command: the program usage', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli([], context)).toBe(2);

    expect(out).toEqual([]);
    expect(err[0]).toBe('operator: give a command');
    expect(err).toContain('Usage: npx sagemaker-blue-green <command> [options]');
  });

  test('unknown command: names it, shows the program usage', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['promote', '--execution', EXECUTION_ARN], context)).toBe(2);

    expect(err[0]).toBe('operator: unknown command "promote"');
    expect(err).toContain('Usage: npx sagemaker-blue-green <command> [options]');
  });

  test('missing --execution', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['approve'], context)).toBe(2);

    expect(err[0]).toBe('operator approve: --execution: required: the ARN of the rollout execution');
    expect(err).toContain(APPROVE_USAGE);
    expect(sfn.calls()).toHaveLength(0);
  });

  test.each([
    ['not an ARN', 'churn-v7-3f9c2a1b'],
    ['a state machine ARN', 'arn:aws:states:eu-west-1:123456789012:stateMachine:BlueGreenRollout'],
  ])('--execution that is %s', async (_, value) => {
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', value], context)).toBe(2);

    expect(err[0]).toBe('operator approve: --execution: expected an execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME');
  });

  test('every invalid option is named, one line each', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['approve', '--execution', 'nope', '--region', 'Europe', '--by', ' '], context)).toBe(2);

    expect(err.slice(0, 3)).toEqual([
      'operator approve: --execution: expected an execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME',
      'operator approve: --by: must not be empty',
      'operator approve: --region: expected an AWS region such as eu-west-1',
    ]);
  });

  test.each([
    ['an unknown option', ['--execution', EXECUTION_ARN, '--yes'], /--yes/],
    ['a positional argument', [EXECUTION_ARN], /positional/],
    ['an option without its value', ['--execution'], /--execution/],
  ])('%s (strict parsing)', async (_, args, mentions) => {
    const { context, err } = capturedContext();

    expect(await runCli(['approve', ...args], context)).toBe(2);

    expect(err[0]).toMatch(/^operator approve: /);
    expect(err[0]).toMatch(mentions);
    expect(err).toContain(APPROVE_USAGE);
  });
});

describe('the command registry', () => {
  // A stand-in for a later command (status, history, ...): registered the same way, validated by its schema.
  const seen: unknown[] = [];
  const statusCommand: Command<{ execution: string; limit: number }> = {
    name: 'status',
    summary: 'shows where a rollout is',
    usage: 'Usage: npx sagemaker-blue-green status --execution ARN [--limit N]',
    options: { execution: { type: 'string' }, limit: { type: 'string', default: '5' } },
    schema: z.object({ execution: z.string(), limit: z.coerce.number().int().min(1, 'at least 1') }),
    async run(options, context) {
      seen.push(options);
      if (options.limit > 100) throw new OperationError('too many events asked for');
      context.out(`status of ${options.execution}`);
    },
  };
  const crashingCommand: Command = {
    name: 'crash',
    summary: 'fails unexpectedly',
    usage: 'Usage: npx sagemaker-blue-green crash',
    options: {},
    schema: z.object({}),
    run: async () => {
      throw new RangeError('index out of range');
    },
  };
  const registry = [statusCommand, crashingCommand];

  beforeEach(() => (seen.length = 0));

  test('a registered command receives its validated options and lands in --help', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['status', '--execution', 'x', '--limit', '12'], context, registry)).toBe(0);
    expect(seen).toEqual([{ execution: 'x', limit: 12 }]);
    expect(out).toEqual(['status of x']);

    expect(programUsage(registry)).toMatch(/\n {2}status {3}shows where a rollout is\n {2}crash {4}fails unexpectedly\n/);
  });

  test('its schema errors are usage errors (2); its OperationErrors and unexpected errors exit 1', async () => {
    const invalid = capturedContext();
    expect(await runCli(['status', '--execution', 'x', '--limit', '0'], invalid.context, registry)).toBe(2);
    expect(invalid.err[0]).toBe('operator status: --limit: at least 1');
    expect(seen).toEqual([]);

    const refused = capturedContext();
    expect(await runCli(['status', '--execution', 'x', '--limit', '500'], refused.context, registry)).toBe(1);
    expect(refused.err).toEqual(['operator status: too many events asked for']);

    const crashed = capturedContext();
    expect(await runCli(['crash'], crashed.context, registry)).toBe(1);
    expect(crashed.err).toEqual(['operator crash: unexpected error: RangeError: index out of range']);
  });
});

test('options before the command: exit 2, says the command comes first', async () => {
  const { context, err } = capturedContext();

  expect(await runCli(['--region', 'eu-west-1', 'approve'], context)).toBe(2);

  expect(err[0]).toBe('operator: the command comes first, then its options');
  expect(sfn.calls()).toHaveLength(0);
});

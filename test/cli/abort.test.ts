import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, DynamoDBServiceException, GetItemCommand, ResourceNotFoundException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StopExecutionCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ABORT_ERROR, abortCause, DEFAULT_ABORT_REASON } from '../../cli/commands/abort';
import { MAX_CAUSE_CHARS } from '../../cli/decision';
import { runCli } from '../../cli/runner';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { ROLLOUTS_TABLE } from '../lambdas/support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makePlan, PACKAGE_ARN } from '../lambdas/support/fixtures';
import { serveRolloutsTable, type RolloutsTable } from '../lambdas/support/rollouts-table';
import { capturedContext, NOW, serviceError } from './support';

const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const LOCKED_AT = '2025-03-04T11:20:00.000Z';
const STARTED_AT = new Date('2025-03-04T11:19:58.000Z');
const STOPPED_AT = new Date('2025-03-04T12:00:01.000Z');
const EXPIRES_AT = Date.parse('2025-03-06T12:00:00.000Z') / 1000;
const ABORT_USAGE = 'Usage: npx sagemaker-blue-green abort --endpoint NAME [--reason TEXT] [--by NAME] [--table TABLE] [--region REGION]';

/** The endpoint's lock as "Lock endpoint" writes it (lambdas/shared/rollout-record.ts). */
function lockItem(overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    endpointName: { S: ENDPOINT },
    deploymentId: { S: DEPLOYMENT_ID },
    executionArn: { S: EXECUTION_ARN },
    modelPackageArn: { S: PACKAGE_ARN },
    lockedAt: { S: LOCKED_AT },
    expiresAt: { N: String(EXPIRES_AT) },
    plan: { S: JSON.stringify(makePlan()) },
    ...overrides,
  };
}

let table: RolloutsTable;
const savedTableEnv = process.env[ROLLOUTS_TABLE_ENV];

const args = (...extra: string[]) => ['abort', '--endpoint', ENDPOINT, '--table', ROLLOUTS_TABLE, ...extra];

function execution(status: ExecutionStatus, stopDate?: Date) {
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, stateMachineArn: 'arn:sm', status, startDate: STARTED_AT, ...(stopDate ? { stopDate } : {}) });
}

beforeEach(() => {
  dynamo.reset();
  sfn.reset();
  delete process.env[ROLLOUTS_TABLE_ENV];
  table = new Map([[ENDPOINT, lockItem()]]);
  serveRolloutsTable(dynamo, table);
  execution('RUNNING');
  sfn.on(StopExecutionCommand).resolves({ stopDate: STOPPED_AT });
});

afterEach(() => {
  if (savedTableEnv === undefined) delete process.env[ROLLOUTS_TABLE_ENV];
  else process.env[ROLLOUTS_TABLE_ENV] = savedTableEnv;
});

describe('operator abort', () => {
  test("stops the lock's execution with OperatorAbort, naming who and why, and says what happens next", async () => {
    const { context, out, err } = capturedContext();

    const code = await runCli(args('--by', 'dave', '--reason', 'wrong model package approved'), context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: ROLLOUTS_TABLE, Key: { endpointName: { S: ENDPOINT } }, ConsistentRead: true });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: EXECUTION_ARN,
      error: 'OperatorAbort',
      cause: `Aborted by dave at ${NOW.toISOString()}: wrong model package approved`,
    });
    expect(out).toEqual([
      `Stopped the rollout on endpoint ${ENDPOINT}:`,
      `  execution        ${EXECUTION_ARN}`,
      `  model package    version 7 (${PACKAGE_ARN})`,
      `  running since    ${STARTED_AT.toISOString()}`,
      `  endpoint locked  ${LOCKED_AT}`,
      `  stopped at       ${STOPPED_AT.toISOString()} by dave`,
      '',
      "Next: the execution ends ABORTED and the reconciler takes over: it gives blue its weight back once blue answers a probe, removes green, deletes the rollout's alarms and releases the endpoint's lock.",
      `Follow it: npx sagemaker-blue-green trace --execution ${EXECUTION_ARN}`,
    ]);
  });

  test('defaults: --by is the OS user, the reason says none was given, the table comes from ROLLOUTS_TABLE, --region reaches DynamoDB', async () => {
    process.env[ROLLOUTS_TABLE_ENV] = 'from-the-environment';
    const { context, requestedRegions } = capturedContext({ userName: 'erin' });

    expect(await runCli(['abort', '--endpoint', ENDPOINT, '--region', 'us-east-1'], context)).toBe(0);

    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'from-the-environment' });
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { cause: `Aborted by erin at ${NOW.toISOString()}: ${DEFAULT_ABORT_REASON}` });
    expect(requestedRegions).toEqual(['us-east-1']);
    const dynamoClient = dynamo.commandCalls(GetItemCommand)[0]!.thisValue as DynamoDBClient;
    await expect(dynamoClient.config.region()).resolves.toBe('us-east-1');
  });

  test('abortCause: cut to the StopExecution limit', () => {
    const cause = abortCause('dave', 'x'.repeat(40_000), NOW);

    expect(Array.from(cause)).toHaveLength(MAX_CAUSE_CHARS);
    expect(cause.endsWith('x…')).toBe(true);
    expect(ABORT_ERROR).toBe('OperatorAbort');
  });
});

describe('operator abort: nothing to stop (exit 1)', () => {
  test('no lock on the endpoint', async () => {
    table.clear();
    const { context, out, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(out).toEqual([]);
    expect(err[0]).toBe(
      `operator abort: no rollout in progress on endpoint ${ENDPOINT} (table ${ROLLOUTS_TABLE} holds no lock for it): nothing to abort ` +
        '(check --endpoint, --table and --region if you expected one)',
    );
    expect(sfn.calls()).toHaveLength(0);
  });

  test('the execution already ended: says so and who cleans up, stops nothing', async () => {
    execution('FAILED', new Date('2025-03-04T11:50:00.000Z'));
    const { context, out, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(out).toEqual([]);
    expect(err[0]).toBe(
      `operator abort: execution ${EXECUTION_ARN} holding endpoint ${ENDPOINT} already ended: it is FAILED since 2025-03-04T11:50:00.000Z: nothing to stop. ` +
        'The reconciler cleans up after an execution that failed, timed out or was stopped, and releases the lock; ' +
        'otherwise the lock expires at 2025-03-06T12:00:00.000Z.',
    );
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  test('the execution ended between DescribeExecution and StopExecution (ExecutionDoesNotExist)', async () => {
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: `Execution Does Not Exist: '${EXECUTION_ARN}'` }));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(new RegExp(`^operator abort: execution .* holding endpoint ${ENDPOINT} no longer exists .*: nothing to stop\\. The reconciler cleans up`));
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
  });

  test('a record that is not a lock: its own explanation', async () => {
    table.set(ENDPOINT, { endpointName: { S: ENDPOINT }, deploymentId: { S: DEPLOYMENT_ID }, executionArn: { S: EXECUTION_ARN } });
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(new RegExp(`^operator abort: The record of endpoint ${ENDPOINT} in table ${ROLLOUTS_TABLE} .* is not a lock`));
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('operator abort: AWS failures in plain words (exit 1)', () => {
  test('DynamoDB AccessDenied names what an abort needs', async () => {
    dynamo.on(GetItemCommand).rejects(
      new DynamoDBServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized to perform: dynamodb:GetItem', $metadata: {} }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toBe(
      `operator abort: permission missing (AWS said: not authorized to perform: dynamodb:GetItem). An abort needs dynamodb:GetItem on the active-rollouts table ${ROLLOUTS_TABLE}, ` +
        'and states:DescribeExecution and states:StopExecution on the rollout executions',
    );
  });

  test('a table that does not exist: check --table and --region', async () => {
    dynamo.on(GetItemCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'Requested resource not found' }));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toBe('operator abort: the active-rollouts table was not found (Requested resource not found): check --table (the stack output ActiveRolloutsTableName) and --region');
  });

  test('StopExecution denied: names the action', async () => {
    sfn.on(StopExecutionCommand).rejects(serviceError('AccessDeniedException', 'not authorized to perform: states:StopExecution'));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toBe(
      'operator abort: permission missing: your AWS identity may not call states:StopExecution (AWS said: not authorized to perform: states:StopExecution). ' +
        'Ask for states:StopExecution on the rollout state machine and its executions',
    );
  });

  test('expired credentials on DescribeExecution', async () => {
    sfn.on(DescribeExecutionCommand).rejects(serviceError('ExpiredTokenException', 'The security token included in the request is expired'));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(/^operator abort: your AWS credentials have expired .*aws sso login/);
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });
});

describe('operator abort: usage (exit 2, no AWS call)', () => {
  test('no table: says where to find its name', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['abort', '--endpoint', ENDPOINT], context)).toBe(2);

    expect(err[0]).toMatch(/^operator abort: --table: required \(or set ROLLOUTS_TABLE\): the stack output ActiveRolloutsTableName names the table/);
    expect(err).toContain(ABORT_USAGE);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test.each([
    ['missing --endpoint', ['abort', '--table', ROLLOUTS_TABLE], 'operator abort: --endpoint: required: the name of the endpoint whose rollout is aborted'],
    ['an endpoint name SageMaker refuses', ['abort', '--endpoint', 'fraud_prod', '--table', ROLLOUTS_TABLE], 'operator abort: --endpoint: expected a SageMaker endpoint name (letters, digits, hyphens)'],
    ['a bad table name', ['abort', '--endpoint', ENDPOINT, '--table', 'a b'], 'operator abort: --table: expected a DynamoDB table name or ARN'],
    ['a blank --reason', args('--reason', '  '), 'operator abort: --reason: must not be empty'],
    ['a bad region', args('--region', 'Europe'), 'operator abort: --region: expected an AWS region such as eu-west-1'],
  ])('%s', async (_, argv, message) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(err[0]).toBe(message);
    expect(dynamo.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('no --by and no OS user name', async () => {
    const { context, err } = capturedContext({ userName: undefined });

    expect(await runCli(args(), context)).toBe(2);

    expect(err[0]).toBe('operator abort: --by: your OS user name is not available here: give --by NAME');
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('--help: the usage with every option, on stdout', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['abort', '--help'], context)).toBe(0);

    expect(out[0]).toBe(ABORT_USAGE);
    for (const option of ['--endpoint NAME', '--reason TEXT', '--by NAME', '--table TABLE', '--region REGION', '--help', 'OperatorAbort', 'reconciler']) {
      expect(out.join('\n')).toContain(option);
    }
  });
});

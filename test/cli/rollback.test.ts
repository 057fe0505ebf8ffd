import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, DynamoDBServiceException, GetItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_ROLLBACK_REASON } from '../../cli/commands/rollback';
import { clientsBeside } from '../../cli/context';
import { runCli } from '../../cli/runner';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { activeRecord, OWN_ALARMS, recordItem, ROLLOUTS_TABLE } from '../lambdas/support/alarm-steps';
import { BLUE, describedEndpoint, ENDPOINT, errors, EXECUTION_ARN, NAMES } from '../lambdas/support/fixtures';
import { recordedRequest, serveRolloutsTable, type RolloutsTable } from '../lambdas/support/rollouts-table';
import { capturedContext } from './support';

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const WATCH = { taskToken: 'AQB8AAAAKgAAAAMAAAAAAAAAAbWF0Y2gtMTAw-bake', step: '100%', since: '2025-03-01T10:40:00.000Z' };
const ROLLBACK_USAGE = 'Usage: npx sagemaker-blue-green rollback --endpoint NAME [--reason TEXT] [--by NAME] [--table TABLE] [--region REGION]';
const HEADLINE = `Blue's weights are restored on ${ENDPOINT}; execution ${EXECUTION_ARN} is rolling back and will remove green.`;

let table: RolloutsTable;
let endpoint: DescribeEndpointOutput;
const savedTableEnv = process.env[ROLLOUTS_TABLE_ENV];

const args = (...extra: string[]) => ['rollback', '--endpoint', ENDPOINT, '--table', ROLLOUTS_TABLE, ...extra];

beforeEach(() => {
  for (const mock of [sageMaker, runtime, dynamo, sfn]) mock.reset();
  delete process.env[ROLLOUTS_TABLE_ENV];
  table = new Map([[ENDPOINT, recordItem(activeRecord({ watch: WATCH }))]]);
  serveRolloutsTable(dynamo, table);
  // The 100% bake: green has all the traffic, blue is still provisioned.
  endpoint = describedEndpoint({
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: 0, currentInstanceCount: 3 },
      { name: NAMES.greenVariantName, currentWeight: 1, currentInstanceCount: 2 },
    ],
  });
  sageMaker.on(DescribeEndpointCommand).callsFake(() => endpoint);
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: endpoint.EndpointArn });
  runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{"fraud_probability": 0.02}') as InvokeEndpointCommandOutput['Body'] });
  sfn.on(SendTaskFailureCommand).resolves({});
});

afterEach(() => {
  jest.useRealTimers();
  if (savedTableEnv === undefined) delete process.env[ROLLOUTS_TABLE_ENV];
  else process.env[ROLLOUTS_TABLE_ENV] = savedTableEnv;
});

describe('operator rollback', () => {
  test('restores blue, fails the waiting step with RollbackRequested and says so in plain words', async () => {
    const { context, out, err } = capturedContext();

    const code = await runCli(args('--by', 'dave', '--reason', 'p99 drift on the fraud dashboard'), context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out[0]).toBe(HEADLINE);
    expect(out[1]).toMatch(/^ {2}Blue's weights were requested back at \S+, \d+ ms after the operator's request: /);
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: ROLLOUTS_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    expect(sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input.DesiredWeightsAndCapacities).toEqual([
      { VariantName: BLUE.variantName, DesiredWeight: 1 },
      { VariantName: NAMES.greenVariantName, DesiredWeight: 0 },
    ]);
    const failure = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(failure).toMatchObject({ taskToken: WATCH.taskToken, error: 'RollbackRequested' });
    expect(failure.cause).toMatch(/^dave asked for a rollback at \S+: p99 drift on the fraud dashboard\. Blue's weights were requested back at /);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ kind: 'OPERATOR', by: 'dave', outcome: 'ROLLED_BACK' });
  });

  test('defaults: --by is the OS user, the reason says none was given, the table comes from ROLLOUTS_TABLE, --region reaches every client', async () => {
    process.env[ROLLOUTS_TABLE_ENV] = 'from-the-environment';
    table = new Map([[ENDPOINT, recordItem(activeRecord({ watch: WATCH }))]]);
    serveRolloutsTable(dynamo, table);
    const { context, requestedRegions } = capturedContext({ userName: 'erin' });

    expect(await runCli(['rollback', '--endpoint', ENDPOINT, '--region', 'eu-west-1'], context)).toBe(0);

    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ by: 'erin', reason: DEFAULT_ROLLBACK_REASON });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'from-the-environment' });
    expect(requestedRegions).toEqual(['eu-west-1']);
    const dynamoClient = dynamo.commandCalls(GetItemCommand)[0]!.thisValue as DynamoDBClient;
    const sageMakerClient = sageMaker.commandCalls(DescribeEndpointCommand)[0]!.thisValue as SageMakerClient;
    await expect(dynamoClient.config.region()).resolves.toBe('eu-west-1');
    await expect(sageMakerClient.config.region()).resolves.toBe('eu-west-1');
  });

  test('no step waits right now: the weights are back and the rollout rolls back at its next check', async () => {
    table.set(ENDPOINT, recordItem(activeRecord()));
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out[0]).toBe(`Blue's weights are restored on ${ENDPOINT}; execution ${EXECUTION_ARN} rolls back and removes green at its next check.`);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('after an alarm already asked: exit 0, says so, the alarm stays the recorded cause', async () => {
    const requestedAt = '2025-03-01T10:41:00.000Z';
    table.set(
      ENDPOINT,
      recordItem(activeRecord({ watch: WATCH, rollbackRequest: { kind: 'ALARM', by: OWN_ALARMS[0]!, reason: 'Threshold Crossed', requestedAt, eventTime: requestedAt } })),
    );
    const { context, out } = capturedContext();

    expect(await runCli(args('--reason', 'me too'), context)).toBe(0);

    expect(out[0]).toBe(HEADLINE);
    expect(out[1]).toContain(`A rollback was already requested (by alarm ${OWN_ALARMS[0]} at ${requestedAt}).`);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ kind: 'ALARM', by: OWN_ALARMS[0] });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'AlarmTriggered' });
  });
});

describe('operator rollback: nothing rolled back (exit 1)', () => {
  test('no active rollout on the endpoint', async () => {
    table.clear();
    const { context, out, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(out).toEqual([]);
    expect(err.join(' ')).toMatch(
      new RegExp(`^operator rollback: No rollout is active on endpoint ${ENDPOINT} \\(table ${ROLLOUTS_TABLE} has no record of one\\): nothing to roll back\\. A rollout is registered from its first traffic shift`),
    );
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('blue cannot serve: the weights are left alone and the operator is told why', async () => {
    runtime.on(InvokeEndpointCommand).rejects(new ModelError({ $metadata: {}, message: 'Received server error (500) from primary' }));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(new RegExp(`^operator rollback: blue cannot take the traffic back on ${ENDPOINT}, so the weights were not touched\\. Blue ${BLUE.variantName} cannot take the traffic back: blue's probe request failed: ModelError`));
    expect(err[0]).toContain('was told (BlueUnhealthy).');
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('nothing to restore: blue was already removed', async () => {
    endpoint = describedEndpoint({ configName: NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName }] });
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(new RegExp(`^operator rollback: nothing to restore on ${ENDPOINT}\\. Blue ${BLUE.variantName} is no longer on endpoint ${ENDPOINT}: .*Too late for a weight-only rollback\\.`));
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('the endpoint stays busy for a minute: EndpointBusy in plain words, run again', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    endpoint = { ...endpoint, EndpointStatus: 'Updating' };
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(errors.endpointBusy());
    const { context, out, err } = capturedContext();

    const running = runCli(args(), context);
    await jest.advanceTimersByTimeAsync(61_000);

    expect(await running).toBe(1);
    expect(out[0]).toMatch(/^Note: Endpoint busy \(a weight change or scaling in flight\): waiting for InService, then trying again$/);
    expect(err[0]).toMatch(/^operator rollback: Blue's weights could not be requested back on endpoint .* Run the command again in a minute\.$/);
    expect(sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)).toHaveLength(2);
  });
});

describe('operator rollback: AWS failures in plain words (exit 1)', () => {
  test('AccessDenied names what a rollback needs', async () => {
    dynamo.on(GetItemCommand).rejects(
      new DynamoDBServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'User: arn:aws:sts::123456789012:assumed-role/ops/dave is not authorized to perform: dynamodb:GetItem',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(/^operator rollback: permission missing \(AWS said: User: .* is not authorized to perform: dynamodb:GetItem\)\. A rollback needs dynamodb:GetItem and dynamodb:UpdateItem/);
    expect(err[0]).toContain('states:SendTaskFailure');
  });

  test('a table that does not exist: check --table and --region', async () => {
    dynamo.on(GetItemCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'Requested resource not found' }));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toBe(
      'operator rollback: the active-rollouts table was not found (Requested resource not found): check --table (the stack output ActiveRolloutsTableName) and --region',
    );
  });

  test('expired credentials', async () => {
    dynamo.on(GetItemCommand).rejects(
      new DynamoDBServiceException({ name: 'ExpiredTokenException', $fault: 'client', message: 'The security token included in the request is expired', $metadata: {} }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(err[0]).toMatch(/^operator rollback: your AWS credentials have expired .*aws sso login/);
  });
});

describe('operator rollback: usage (exit 2, no AWS call)', () => {
  test('no table: says where to find its name', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['rollback', '--endpoint', ENDPOINT], context)).toBe(2);

    expect(err[0]).toMatch(/^operator rollback: --table: required \(or set ROLLOUTS_TABLE\): the stack output ActiveRolloutsTableName names the table/);
    expect(err).toContain(ROLLBACK_USAGE);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test.each([
    ['missing --endpoint', ['rollback', '--table', ROLLOUTS_TABLE], 'operator rollback: --endpoint: required: the name of the endpoint whose rollout rolls back'],
    ['an endpoint name SageMaker refuses', ['rollback', '--endpoint', 'fraud_prod', '--table', ROLLOUTS_TABLE], 'operator rollback: --endpoint: expected a SageMaker endpoint name (letters, digits, hyphens)'],
    ['a bad table name', [...args().slice(0, 3), '--table', 'a b'], 'operator rollback: --table: expected a DynamoDB table name or ARN'],
    ['a blank --reason', args('--reason', '  '), 'operator rollback: --reason: must not be empty'],
  ])('%s', async (_, argv, message) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(err[0]).toBe(message);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('no --by and no OS user name', async () => {
    const { context, err } = capturedContext({ userName: undefined });

    expect(await runCli(args(), context)).toBe(2);

    expect(err[0]).toBe('operator rollback: --by: your OS user name is not available here: give --by NAME');
  });

  test('--help: the usage with every option, on stdout', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['rollback', '--help'], context)).toBe(0);

    expect(out[0]).toBe(ROLLBACK_USAGE);
    for (const option of ['--endpoint NAME', '--reason TEXT', '--by NAME', '--table TABLE', '--region REGION', '--help', 'ActiveRolloutsTableName']) {
      expect(out.join('\n')).toContain(option);
    }
  });
});

describe('clientsBeside', () => {
  test("shares the Step Functions client's region and credentials", async () => {
    const stepFunctions = new SFNClient({ region: 'ap-southeast-2', credentials: { accessKeyId: 'AKIDSHARED', secretAccessKey: 'secret' } });

    const clients = clientsBeside(stepFunctions);

    for (const client of [clients.sageMaker, clients.sageMakerRuntime, clients.s3, clients.dynamoDb]) {
      await expect(client.config.region()).resolves.toBe('ap-southeast-2');
      await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDSHARED' });
    }
    expect(clients.s3).toBeInstanceOf(S3Client);
  });
});

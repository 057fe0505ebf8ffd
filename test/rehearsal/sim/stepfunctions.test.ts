/**
 * Step Functions task tokens through the real SFN client over the simulated transport: completing a waiting task,
 * failing it, and the errors for tokens that were never issued or whose task has ended.
 */
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SimulatedAws } from '../../../rehearsal/sim/world';
import { drive, driveError, installClock, type FakeClock } from './helpers';

let clock: FakeClock;
let aws: SimulatedAws;
let sfn: SFNClient;
let outcomes: string[];

beforeEach(() => {
  clock = installClock();
  aws = new SimulatedAws();
  sfn = new SFNClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
  outcomes = [];
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);

function waitFor(token: string): void {
  aws.stepfunctions.registerTaskToken(token, {
    succeed: (output) => outcomes.push(`${token} succeeded with ${JSON.stringify(output)}`),
    fail: (error, cause) => outcomes.push(`${token} failed with ${error}: ${cause}`),
  });
}

test('SendTaskSuccess completes the waiting task with the parsed output, once', async () => {
  waitFor('token-1');
  await send(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"rolledBack":true}' })));
  expect(outcomes).toEqual(['token-1 succeeded with {"rolledBack":true}']);
  expect(aws.stepfunctions.taskTokenState('token-1')).toMatchObject({ status: 'succeeded', output: { rolledBack: true } });
  expect(aws.calls.map((call) => [call.service, call.operation])).toEqual([['sfn', 'SendTaskSuccess']]);

  const again = await sendError(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{}' })));
  expect([again.name, again.message, again.$metadata.httpStatusCode]).toEqual(['TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'", 400]);
  expect(outcomes).toHaveLength(1);
});

test('SendTaskFailure fails the waiting task with its error and cause; later calls see it gone', async () => {
  waitFor('token-2');
  await send(sfn.send(new SendTaskFailureCommand({ taskToken: 'token-2', error: 'AlarmTriggered', cause: 'green 5xx rate 4% > 1%' })));
  expect(outcomes).toEqual(['token-2 failed with AlarmTriggered: green 5xx rate 4% > 1%']);
  const late = await sendError(sfn.send(new SendTaskFailureCommand({ taskToken: 'token-2', error: 'AlarmTriggered' })));
  expect(late.name).toBe('TaskTimedOut');
});

test('a task that ended for another reason (settleTaskToken) is gone too; heartbeats count while it waits', async () => {
  waitFor('token-3');
  await send(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-3' })));
  expect(aws.stepfunctions.heartbeats('token-3')).toBe(1);
  aws.stepfunctions.settleTaskToken('token-3');
  const error = await sendError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-3' })));
  expect(error.name).toBe('TaskTimedOut');
  expect(aws.stepfunctions.taskTokenState('token-3')).toMatchObject({ status: 'settled' });
  expect(outcomes).toEqual([]);
});

test('a token never issued is InvalidToken', async () => {
  const error = await sendError(sfn.send(new SendTaskSuccessCommand({ taskToken: 'forged', output: '{}' })));
  expect([error.name, error.message]).toEqual(['InvalidToken', "Invalid Token: 'Invalid token'"]);
  expect(aws.calls[0]?.error).toBe('InvalidToken');
});

test('output that is not JSON is InvalidOutput and leaves the task waiting', async () => {
  waitFor('token-4');
  const error = await sendError(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-4', output: 'not json' })));
  expect(error.name).toBe('InvalidOutput');
  expect(aws.stepfunctions.taskTokenState('token-4')).toEqual({ status: 'waiting' });
});

test('lengths are validated as the API model says (error <= 256, taskToken <= 2048)', async () => {
  waitFor('token-5');
  const longError = await sendError(sfn.send(new SendTaskFailureCommand({ taskToken: 'token-5', error: 'E'.repeat(257) })));
  expect([longError.name, longError.message]).toEqual([
    'ValidationException',
    expect.stringMatching(/at 'error' failed to satisfy constraint: Member must have length less than or equal to 256$/),
  ]);
  const longToken = await sendError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 't'.repeat(2049) })));
  expect(longToken.message).toMatch(/at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to 2048/);
  expect(aws.stepfunctions.taskTokenState('token-5')).toEqual({ status: 'waiting' });
});

test('api-error faults apply to Step Functions calls', async () => {
  aws = new SimulatedAws({ faults: [{ kind: 'api-error', service: 'sfn', operation: 'SendTaskFailure', error: 'ThrottlingException' }] });
  sfn = new SFNClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler, maxAttempts: 1 });
  waitFor('token-6');
  const error = await sendError(sfn.send(new SendTaskFailureCommand({ taskToken: 'token-6', error: 'X' })));
  expect([error.name, error.message]).toEqual(['ThrottlingException', 'Rate exceeded']);
  expect(outcomes).toEqual([]);
});

test('registering a token twice is a bug in the rehearsal', () => {
  waitFor('token-7');
  expect(() => waitFor('token-7')).toThrow(/already registered/);
});

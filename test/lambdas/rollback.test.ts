import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type EndpointStatus,
  type UpdateEndpointWeightsAndCapacitiesCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { InvalidToken, KmsThrottlingException, SendTaskFailureCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { EndpointBusy } from '../../lambdas/shared/errors';
import { createLogger } from '../../lambdas/shared/logger';
import { rolloutAlarmNames } from '../../lambdas/shared/names';
import {
  BUSY_WAIT_MS,
  MAX_TASK_FAILURE_CAUSE_CHARS,
  rollBackNow,
  taskFailureCause,
  type RollBackNowDependencies,
  type RollbackTrigger,
} from '../../lambdas/shared/rollback';
import type { ActiveRolloutRecord, RollbackRequest } from '../../lambdas/shared/rollout-record';
import { activeRecord, OWN_ALARMS, recordItem, ROLLOUTS_TABLE } from './support/alarm-steps';
import { BLUE, DATASET_PAYLOADS, DATASET_URI, describedEndpoint, ENDPOINT, errors, EXECUTION_ARN, NAMES, SAMPLE_BODY, serveObjects } from './support/fixtures';
import { recordedRequest, registerWatch, serveRolloutsTable, type RolloutsTable } from './support/rollouts-table';

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAbWF0Y2gtMTA-watch-10pct';
const WATCH = { taskToken: TOKEN, step: '10%', since: '2025-03-01T10:20:00.000Z' };
const ERROR_RATE_ALARM = OWN_ALARMS[0]!;
const ALARM_REASON = 'Threshold Crossed: 2 out of the last 3 datapoints [0.08, 0.05] were greater than the threshold (0.01).';
const EXISTING_ALARM = 'fraud-detector-prod-composite-health';

let table: RolloutsTable;
let endpoint: DescribeEndpointOutput;
const sleep = jest.fn(async (_ms: number) => undefined);

const deps = (): RollBackNowDependencies => ({
  sageMaker: new SageMakerClient({}),
  runtime: new SageMakerRuntimeClient({}),
  s3: new S3Client({}),
  dynamo: new DynamoDBClient({}),
  sfn: new SFNClient({}),
  logger: createLogger('test'),
  table: ROLLOUTS_TABLE,
  sleep,
});

/** The alarm event as on-alarm passes it: the state change happened 420 ms ago. */
const alarmTrigger = (overrides: Partial<RollbackTrigger> = {}): RollbackTrigger => ({
  kind: 'ALARM',
  by: ERROR_RATE_ALARM,
  reason: ALARM_REASON,
  eventTime: new Date(Date.now() - 420).toISOString(),
  ...overrides,
});
const operatorTrigger: RollbackTrigger = { kind: 'OPERATOR', by: 'alice', reason: 'p99 drift on the fraud dashboard' };

/** The endpoint on the transition config with these weights (desired = current unless given). */
const onTransition = (blueWeight: number, greenWeight: number, options: { status?: EndpointStatus; blueInstances?: number } = {}) =>
  describedEndpoint({
    status: options.status ?? 'InService',
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: blueWeight, currentInstanceCount: options.blueInstances ?? 3 },
      { name: NAMES.greenVariantName, currentWeight: greenWeight, currentInstanceCount: 2 },
    ],
  });

/** What UpdateEndpointWeightsAndCapacities does to `endpoint`: the desired weights change. */
const applyWeights = (input: UpdateEndpointWeightsAndCapacitiesCommandInput) => {
  endpoint = {
    ...endpoint,
    EndpointStatus: 'Updating',
    ProductionVariants: endpoint.ProductionVariants?.map((variant) => {
      const desired = input.DesiredWeightsAndCapacities?.find((d) => d.VariantName === variant.VariantName);
      return desired?.DesiredWeight === undefined ? variant : { ...variant, DesiredWeight: desired.DesiredWeight };
    }),
  };
  return { EndpointArn: endpoint.EndpointArn };
};

const useRecord = (record: ActiveRolloutRecord) => table.set(ENDPOINT, recordItem(record));
const weightCalls = () => sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand).map((call) => call.args[0].input);
const failures = () => sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input);
const body = (text: string) => new TextEncoder().encode(text) as InvokeEndpointCommandOutput['Body'];

beforeEach(() => {
  for (const mock of [sageMaker, runtime, s3, dynamo, sfn]) mock.reset();
  sleep.mockClear();
  table = new Map();
  useRecord(activeRecord({ watch: WATCH }));
  serveRolloutsTable(dynamo, table);
  endpoint = onTransition(9, 1);
  sageMaker.on(DescribeEndpointCommand).callsFake(() => endpoint);
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake(applyWeights);
  runtime.on(InvokeEndpointCommand).resolves({ Body: body('{"fraud_probability": 0.02}'), InvokedProductionVariant: BLUE.variantName });
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe('rollBackNow: the fast path', () => {
  test('an alarm of the rollout: probes blue, restores blue 1 / green 0 (weights only), records it, fails the waiting task', async () => {
    const trigger = alarmTrigger();

    const result = await rollBackNow(ENDPOINT, trigger, deps());

    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', endpointName: ENDPOINT, executionArn: EXECUTION_ARN, notified: true });
    expect(weightCalls()).toEqual([
      {
        EndpointName: ENDPOINT,
        DesiredWeightsAndCapacities: [
          { VariantName: BLUE.variantName, DesiredWeight: 1 },
          { VariantName: NAMES.greenVariantName, DesiredWeight: 0 },
        ],
      },
    ]);
    const probe = runtime.commandCalls(InvokeEndpointCommand);
    expect(probe).toHaveLength(1);
    expect(probe[0]!.args[0].input).toMatchObject({ EndpointName: ENDPOINT, TargetVariant: BLUE.variantName });
    expect(new TextDecoder().decode(probe[0]!.args[0].input.Body as Uint8Array)).toBe(SAMPLE_BODY);
    // The request is recorded before anything changes, the probe comes before the weights.
    const recordFirst = dynamo.commandCalls(UpdateItemCommand)[0]!;
    expect(recordFirst.args[0].input.ConditionExpression).toContain('attribute_not_exists');
    expect(recordFirst.calledBefore(sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!)).toBe(true);
    expect(probe[0]!.calledBefore(sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!)).toBe(true);

    expect(recordedRequest(table, ENDPOINT)).toEqual<RollbackRequest>({
      kind: 'ALARM',
      by: ERROR_RATE_ALARM,
      reason: ALARM_REASON,
      requestedAt: expect.any(String),
      eventTime: trigger.eventTime,
      weightsRestoredAt: result.weightsRequestedAt,
      outcome: 'ROLLED_BACK',
      message: expect.stringContaining("Blue's weights were requested back"),
    });

    expect(failures()).toHaveLength(1);
    const { taskToken, error, cause } = failures()[0]!;
    expect({ taskToken, error }).toEqual({ taskToken: TOKEN, error: 'AlarmTriggered' });
    const latency = /^Alarm (\S+) went to ALARM at (\S+): Threshold Crossed: .+\(0\.01\)\. Blue's weights were requested back at (\S+), (\d+) ms after the alarm event: blue (\S+) weight 1, green (\S+) weight 0 on endpoint (\S+)\.$/.exec(
      cause!,
    );
    expect(latency).not.toBeNull();
    expect(latency!.slice(1, 4)).toEqual([ERROR_RATE_ALARM, trigger.eventTime, result.weightsRequestedAt]);
    expect(Number(latency![4])).toBeGreaterThanOrEqual(420);
    expect(Number(latency![4])).toBe(Date.parse(result.weightsRequestedAt!) - Date.parse(trigger.eventTime!));
    expect(latency!.slice(5)).toEqual([BLUE.variantName, NAMES.greenVariantName, ENDPOINT]);
    expect(result.message).toContain(`Execution ${EXECUTION_ARN} was told (AlarmTriggered): it rolls back and removes green.`);
  });

  test('in the rollback window (green 100%, blue 0) the same single weight change brings blue back', async () => {
    endpoint = onTransition(0, 1);

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).resolves.toMatchObject({ outcome: 'ROLLED_BACK', notified: true });

    expect(weightCalls()[0]!.DesiredWeightsAndCapacities).toEqual([
      { VariantName: BLUE.variantName, DesiredWeight: 1 },
      { VariantName: NAMES.greenVariantName, DesiredWeight: 0 },
    ]);
  });

  test("blue gets the weight it had before the rollout; a recorded weight of 0 becomes 1 (never an unserved endpoint)", async () => {
    useRecord(activeRecord({ watch: WATCH, blueWeight: 3 }));
    await rollBackNow(ENDPOINT, alarmTrigger(), deps());
    useRecord(activeRecord({ watch: WATCH, blueWeight: 0 }));
    endpoint = onTransition(9, 1);
    await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(weightCalls().map((input) => input.DesiredWeightsAndCapacities![0])).toEqual([
      { VariantName: BLUE.variantName, DesiredWeight: 3 },
      { VariantName: BLUE.variantName, DesiredWeight: 1 },
    ]);
    // Weights only: no capacity is ever part of the request.
    for (const input of weightCalls()) for (const entry of input.DesiredWeightsAndCapacities!) expect(entry).not.toHaveProperty('DesiredInstanceCount');
  });

  test('an existing alarm named in the policy rolls back like the rollout\'s own', async () => {
    useRecord(activeRecord({ watch: WATCH, alarmNames: [...OWN_ALARMS, EXISTING_ALARM] }));

    await expect(rollBackNow(ENDPOINT, alarmTrigger({ by: EXISTING_ALARM }), deps())).resolves.toMatchObject({ outcome: 'ROLLED_BACK' });

    expect(failures()[0]!.cause).toMatch(new RegExp(`^Alarm ${EXISTING_ALARM} went to ALARM at `));
  });

  test('an operator: error RollbackRequested, the cause says who, why and when', async () => {
    const result = await rollBackNow(ENDPOINT, operatorTrigger, deps());

    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    const { error, cause } = failures()[0]!;
    expect(error).toBe('RollbackRequested');
    const request = recordedRequest(table, ENDPOINT)!;
    expect(request).toMatchObject({ kind: 'OPERATOR', by: 'alice', reason: operatorTrigger.reason, outcome: 'ROLLED_BACK' });
    expect(request).not.toHaveProperty('eventTime');
    expect(cause).toMatch(
      new RegExp(
        `^alice asked for a rollback at ${request.requestedAt}: p99 drift on the fraud dashboard\\. Blue's weights were requested back at ` +
          `${result.weightsRequestedAt}, \\d+ ms after the operator's request: `,
      ),
    );
  });

  test('an alarm without an event time: the latency counts from when the alarm was handled', async () => {
    await rollBackNow(ENDPOINT, alarmTrigger({ eventTime: undefined }), deps());

    const request = recordedRequest(table, ENDPOINT)!;
    expect(failures()[0]!.cause).toMatch(new RegExp(`^Alarm ${ERROR_RATE_ALARM} went to ALARM at ${request.requestedAt}: .* ms after the alarm was handled: `));
  });

  test('with a dataset, blue is probed with its first line', async () => {
    useRecord(activeRecord({ watch: WATCH, payloads: DATASET_PAYLOADS }));
    serveObjects(s3, new Map([[DATASET_URI, '{"input": {"features": [0.9, 3.1]}, "expected": 1}\n{"input": {"features": [0.1, 0.2]}}\n']]));

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).resolves.toMatchObject({ outcome: 'ROLLED_BACK' });

    const sent = runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(new TextDecoder().decode(sent.Body as Uint8Array)).toBe('{"features":[0.9,3.1]}');
    expect(sent.ContentType).toBe('application/json');
  });
});

describe('rollBackNow: nothing to act on', () => {
  test('no active rollout: NO_ACTIVE_ROLLOUT, nothing recorded, nothing touched', async () => {
    table.clear();

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toEqual({ outcome: 'NO_ACTIVE_ROLLOUT', endpointName: ENDPOINT, message: expect.stringContaining(ROLLOUTS_TABLE), notified: false });
    expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input).toMatchObject({ TableName: ROLLOUTS_TABLE, Key: { endpointName: { S: ENDPOINT } }, ConsistentRead: true });
    expect(dynamo).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test("an alarm of another rollout (an earlier one's, on the same endpoint) is ignored", async () => {
    const earlier = rolloutAlarmNames(ENDPOINT, 'deadbeef').errorRate;

    const result = await rollBackNow(ENDPOINT, alarmTrigger({ by: earlier }), deps());

    expect(result).toMatchObject({ outcome: 'NOT_WATCHED_ALARM', notified: false, deploymentId: activeRecord().deploymentId });
    expect(result.message).toContain(earlier);
    expect(dynamo).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(runtime.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('first deployment: no blue to give back, the execution is still told (it deletes what it created)', async () => {
    useRecord(activeRecord({ watch: WATCH, blueVariantName: undefined, blueWeight: undefined, blueInstanceCount: undefined }));

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'NOTHING_TO_RESTORE', notified: true });
    expect(result.message).toContain('first deployment');
    expect(result).not.toHaveProperty('weightsRequestedAt');
    expect(sageMaker.calls()).toHaveLength(0);
    expect(failures()[0]).toMatchObject({ taskToken: TOKEN, error: 'AlarmTriggered' });
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ outcome: 'NOTHING_TO_RESTORE' });
  });

  test.each<[string, () => DescribeEndpointOutput, RegExp]>([
    [
      'blue already removed (the endpoint runs green alone)',
      () => describedEndpoint({ configName: NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName }] }),
      new RegExp(`^Blue ${BLUE.variantName} is no longer on endpoint ${ENDPOINT}: .*Too late for a weight-only rollback\\.`),
    ],
    [
      'blue being removed (UpdateEndpoint to the final config in flight)',
      () => ({
        ...onTransition(0, 1, { status: 'Updating' }),
        PendingDeploymentSummary: {
          EndpointConfigName: NAMES.finalEndpointConfigName,
          ProductionVariants: [{ VariantName: NAMES.greenVariantName }],
        },
      }),
      new RegExp(`^Blue ${BLUE.variantName} is no longer on endpoint ${ENDPOINT} \\(it is moving to config ${NAMES.finalEndpointConfigName}, without it\\)`),
    ],
    [
      'green already gone (restore-blue returned to blue\'s config)',
      () => describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName }] }),
      new RegExp(`^Green ${NAMES.greenVariantName} is not on endpoint ${ENDPOINT}: .*Blue serves alone`),
    ],
  ])('%s: NOTHING_TO_RESTORE, weights untouched, the execution told', async (_, described, message) => {
    endpoint = described();

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'NOTHING_TO_RESTORE', notified: true });
    expect(result.message).toMatch(message);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(runtime.calls()).toHaveLength(0);
    expect(failures()[0]!.error).toBe('AlarmTriggered');
  });

  test('the endpoint no longer exists: NOTHING_TO_RESTORE', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).resolves.toMatchObject({
      outcome: 'NOTHING_TO_RESTORE',
      message: expect.stringContaining(`Endpoint ${ENDPOINT} does not exist any more`),
    });
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('weights already back (green desired 0, blue > 0): no probe, no second request, the execution told', async () => {
    endpoint = onTransition(1, 0);

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    expect(result).not.toHaveProperty('weightsRequestedAt');
    expect(result.message).toContain(`Blue's weights are already back on endpoint ${ENDPOINT}: blue ${BLUE.variantName} weight 1`);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(runtime.calls()).toHaveLength(0);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ outcome: 'ROLLED_BACK' });
    expect(recordedRequest(table, ENDPOINT)).not.toHaveProperty('weightsRestoredAt');
  });
});

describe('rollBackNow: blue unhealthy', () => {
  test.each<[string, () => void, RegExp]>([
    [
      "blue's probe fails",
      () => runtime.on(InvokeEndpointCommand).rejects(new ModelError({ $metadata: {}, message: 'Received server error (500) from primary', OriginalStatusCode: 500 })),
      /blue's probe request failed: ModelError: Received server error \(500\)/,
    ],
    ['blue has no instances', () => (endpoint = onTransition(9, 1, { blueInstances: 0 })), new RegExp(`blue variant ${BLUE.variantName} has no instances`)],
    ['the endpoint is Failed', () => (endpoint = onTransition(9, 1, { status: 'Failed' })), new RegExp(`endpoint ${ENDPOINT} is Failed`)],
  ])('%s: the weights are not touched, BLUE_UNHEALTHY recorded, the execution told with BlueUnhealthy', async (_, arrange, reason) => {
    arrange();

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'BLUE_UNHEALTHY', notified: true });
    expect(result.message).toMatch(reason);
    expect(result.message).toContain(`(blue ${BLUE.variantName} weight 9, green ${NAMES.greenVariantName} weight 1) so traffic stays where it is served`);
    expect(result.message).toContain(`was told (BlueUnhealthy).`);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ kind: 'ALARM', outcome: 'BLUE_UNHEALTHY' });
    expect(recordedRequest(table, ENDPOINT)).not.toHaveProperty('weightsRestoredAt');
    const { error, cause } = failures()[0]!;
    expect(error).toBe('BlueUnhealthy');
    expect(cause).toMatch(new RegExp(`^Alarm ${ERROR_RATE_ALARM} went to ALARM at .*Blue ${BLUE.variantName} cannot take the traffic back: `));
  });
});

describe('rollBackNow: a busy endpoint', () => {
  test('busy once: waits (DescribeEndpoint every second) until InService, then requests the weights again', async () => {
    let updates = 0;
    let updatingPolls = 0;
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input: UpdateEndpointWeightsAndCapacitiesCommandInput) => {
      updates++;
      if (updates === 1) {
        updatingPolls = 2; // a scaling activity that ends after two more polls
        throw errors.endpointBusy();
      }
      return applyWeights(input);
    });
    sageMaker.on(DescribeEndpointCommand).callsFake(() => {
      if (updatingPolls > 0) {
        updatingPolls--;
        return { ...endpoint, EndpointStatus: 'Updating' };
      }
      return endpoint;
    });

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    expect(weightCalls()).toHaveLength(2);
    expect(sleep.mock.calls).toEqual([[1000], [1000], [1000]]);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ outcome: 'ROLLED_BACK', weightsRestoredAt: result.weightsRequestedAt });
  });

  test('still busy after a minute: EndpointBusy (EventBridge retries); the request stays recorded, nobody told yet', async () => {
    endpoint = onTransition(9, 1, { status: 'Updating' });
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(errors.endpointBusy());

    const failure = rollBackNow(ENDPOINT, alarmTrigger(), deps());

    await expect(failure).rejects.toThrow(EndpointBusy);
    await expect(failure).rejects.toThrow(new RegExp(`^Blue's weights could not be requested back on endpoint ${ENDPOINT}: .* after 60 s of waiting`));
    expect(sleep).toHaveBeenCalledTimes(BUSY_WAIT_MS / 1000);
    expect(weightCalls()).toHaveLength(2);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ kind: 'ALARM', by: ERROR_RATE_ALARM });
    expect(recordedRequest(table, ENDPOINT)).not.toHaveProperty('outcome');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('another SageMaker error propagates at once', async () => {
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(errors.endpointNotFound());

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).rejects.toThrow(/Could not find endpoint/);
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('rollBackNow: telling the execution', () => {
  test.each([
    ['TaskTimedOut', () => new TaskTimedOut({ $metadata: {}, message: 'Task Timed Out' })],
    ['InvalidToken', () => new InvalidToken({ $metadata: {}, message: 'Invalid token' })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ $metadata: {}, message: 'Task does not exist anymore' })],
  ])('%s: the watch is over, notified false (the next check sees the request); the weights are still back', async (_, error) => {
    sfn.on(SendTaskFailureCommand).rejects(error());

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', notified: false });
    expect(result.message).toContain(`No step of execution ${EXECUTION_ARN} was waiting to be told`);
    expect(weightCalls()).toHaveLength(1);
  });

  test('no step registered a watch: no SendTaskFailure, notified false', async () => {
    useRecord(activeRecord());

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).resolves.toMatchObject({ outcome: 'ROLLED_BACK', notified: false });
    expect(sfn.calls()).toHaveLength(0);
  });

  test('another Step Functions error propagates (the invocation fails and is retried)', async () => {
    sfn.on(SendTaskFailureCommand).rejects(new KmsThrottlingException({ $metadata: {}, message: 'Rate exceeded' }));

    await expect(rollBackNow(ENDPOINT, alarmTrigger(), deps())).rejects.toThrow('Rate exceeded');
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ outcome: 'ROLLED_BACK' });
  });

  test('the watch moved to another step while the weights were restored: the new token is failed', async () => {
    const nextWatch = { taskToken: 'AQB8AAAAKgAAAAMAAAAAAAAAAbWF0Y2gtMTAw-watch-100pct', step: '100%', since: new Date().toISOString() };
    sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input: UpdateEndpointWeightsAndCapacitiesCommandInput) => {
      registerWatch(table, ENDPOINT, nextWatch);
      return applyWeights(input);
    });

    await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(failures().map((input) => input.taskToken)).toEqual([nextWatch.taskToken]);
  });
});

describe('rollBackNow: delivered twice, or asked twice', () => {
  test('the same alarm event twice: one weight change, the first request kept, ALREADY_REQUESTED the second time', async () => {
    sfn.on(SendTaskFailureCommand).resolvesOnce({}).rejects(new TaskTimedOut({ $metadata: {}, message: 'Task Timed Out' }));
    const trigger = alarmTrigger();

    const first = await rollBackNow(ENDPOINT, trigger, deps());
    const recorded = recordedRequest(table, ENDPOINT);
    const second = await rollBackNow(ENDPOINT, trigger, deps());

    expect(first).toMatchObject({ outcome: 'ROLLED_BACK', notified: true });
    expect(second).toMatchObject({ outcome: 'ALREADY_REQUESTED', notified: false, weightsRequestedAt: first.weightsRequestedAt });
    expect(second.message).toMatch(new RegExp(`^A rollback was already requested \\(by alarm ${ERROR_RATE_ALARM} at ${trigger.eventTime}\\)\\. Blue's weights are already back`));
    expect(weightCalls()).toHaveLength(1);
    expect(runtime.calls()).toHaveLength(1);
    expect(recordedRequest(table, ENDPOINT)).toEqual(recorded);
  });

  test('a first call that stopped after recording: the next one restores the weights and tells the execution about the first request', async () => {
    const eventTime = new Date(Date.now() - 30_000).toISOString();
    useRecord(
      activeRecord({
        watch: WATCH,
        rollbackRequest: { kind: 'ALARM', by: ERROR_RATE_ALARM, reason: ALARM_REASON, requestedAt: new Date(Date.now() - 29_000).toISOString(), eventTime },
      }),
    );

    const result = await rollBackNow(ENDPOINT, operatorTrigger, deps());

    expect(result).toMatchObject({ outcome: 'ALREADY_REQUESTED', notified: true });
    expect(weightCalls()).toHaveLength(1);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({
      kind: 'ALARM',
      by: ERROR_RATE_ALARM,
      eventTime,
      outcome: 'ROLLED_BACK',
      weightsRestoredAt: result.weightsRequestedAt,
    });
    const { error, cause } = failures()[0]!;
    expect(error).toBe('AlarmTriggered');
    expect(cause).toMatch(new RegExp(`^Alarm ${ERROR_RATE_ALARM} went to ALARM at ${eventTime}: .* ms after the alarm event: `));
  });

  test('the record changed hands between the read and the write: starts over and judges by the new rollout', async () => {
    const newer = activeRecord({ deploymentId: 'deadbeef', alarmNames: Object.values(rolloutAlarmNames(ENDPOINT, 'deadbeef')) });
    const older = recordItem(activeRecord({ watch: WATCH }));
    useRecord(newer);
    dynamo.on(GetItemCommand).resolvesOnce({ Item: older }).callsFake(() => ({ Item: table.get(ENDPOINT) }));

    const result = await rollBackNow(ENDPOINT, alarmTrigger(), deps());

    expect(result).toMatchObject({ outcome: 'NOT_WATCHED_ALARM', deploymentId: 'deadbeef' });
    expect(recordedRequest(table, ENDPOINT)).toBeUndefined();
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('taskFailureCause', () => {
  test("stays within SendTaskFailure's 32768 characters, counted in code points", () => {
    const request: RollbackRequest = { kind: 'OPERATOR', by: 'alice', reason: '🚨'.repeat(40_000), requestedAt: '2025-03-01T10:30:00.000Z' };

    const cause = taskFailureCause(request, 'Blue is back.');

    expect(Array.from(cause)).toHaveLength(MAX_TASK_FAILURE_CAUSE_CHARS);
    expect(cause.endsWith('…')).toBe(true);
    expect(taskFailureCause({ ...request, reason: 'short' }, 'Blue is back.')).toBe('alice asked for a rollback at 2025-03-01T10:30:00.000Z: short. Blue is back.');
  });
});

import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/on-alarm';
import { endpointsConcernedBy, onAlarm, type OnAlarmDependencies } from '../../lambdas/on-alarm/on-alarm';
import { parseRolloutConfig, type RolloutConfigInput } from '../../lambdas/shared/config';
import { InputValidationError } from '../../lambdas/shared/errors';
import { configureMetricsSink, METRICS_NAMESPACE, ROLLOUT_METRIC_NAMES } from '../../lambdas/shared/metrics';
import type { StepLogger } from '../../lambdas/shared/logger';
import { deploymentIdFor, rolloutAlarmNames } from '../../lambdas/shared/names';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { activeRecord, recordItem, ROLLOUTS_TABLE } from './support/alarm-steps';
import { ACCOUNT, BLUE, describedEndpoint, ENDPOINT, EXECUTION_ARN, NAMES, REGION, TARGET_CONFIG, useTargets } from './support/fixtures';
import { recordedRequest, serveRolloutsTable, type RolloutsTable } from './support/rollouts-table';

const sageMaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

/** A second endpoint whose name starts with the first one's: alarm names must not be confused. */
const EU_ENDPOINT = `${ENDPOINT}-eu`;
const EU_EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:sagemaker-blue-green-rollout:9a8b7c6d-approval-3`;
const EU_DEPLOYMENT_ID = deploymentIdFor(EU_EXECUTION_ARN);
/** A composite alarm both targets' policies list. */
const SHARED_ALARM = 'fraud-platform-health';
/** An existing alarm only the EU target's policy lists. */
const EU_ALARM = 'fraud-detector-prod-eu-p99';

const target = TARGET_CONFIG.targets[0]!;
const CONFIG: RolloutConfigInput = {
  targets: [
    { ...target, policy: { ...target.policy, alarms: { existingAlarmNames: [SHARED_ALARM] } } },
    {
      ...target,
      modelPackageGroupName: 'fraud-detector-eu',
      endpointName: EU_ENDPOINT,
      policy: { ...target.policy, alarms: { existingAlarmNames: [SHARED_ALARM, EU_ALARM] } },
    },
  ],
};
const TARGETS = parseRolloutConfig(CONFIG);

const OWN = rolloutAlarmNames(ENDPOINT, activeRecord().deploymentId);
const EU_OWN = rolloutAlarmNames(EU_ENDPOINT, EU_DEPLOYMENT_ID);

/** The "CloudWatch Alarm State Change" event EventBridge delivers. */
function alarmEvent(alarmName: string, state = 'ALARM', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: new Date(Date.now() - 420).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: state,
        reason: 'Threshold Crossed: 2 out of the last 3 datapoints [0.08, 0.05] were greater than the threshold (0.01).',
        reasonData: '{"version":"1.0","queryDate":"2025-03-01T10:31:02.113+0000"}',
        timestamp: new Date(Date.now() - 300).toISOString().replace('Z', '+0000'),
      },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2025-03-01T10:20:00.000+0000' },
      configuration: { metrics: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/SageMaker', name: 'Invocation5XXErrors' } } }] },
    },
    ...overrides,
  };
}

let table: RolloutsTable;
const endpoints = new Map<string, DescribeEndpointOutput>();

const transition = (name: string, green: string) =>
  describedEndpoint({
    name,
    configName: `${name}-transition`,
    variants: [
      { name: BLUE.variantName, currentWeight: 9, currentInstanceCount: 3 },
      { name: green, currentWeight: 1, currentInstanceCount: 2 },
    ],
  });

beforeEach(() => {
  for (const mock of [sageMaker, runtime, s3, dynamo, sfn]) mock.reset();
  useTargets(CONFIG);
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
  table = new Map([
    [ENDPOINT, recordItem(activeRecord({ alarmNames: [...Object.values(OWN), SHARED_ALARM], watch: { taskToken: 'token-prod', step: '10%', since: '2025-03-01T10:20:00.000Z' } }))],
    [
      EU_ENDPOINT,
      recordItem(
        activeRecord({
          endpointName: EU_ENDPOINT,
          deploymentId: EU_DEPLOYMENT_ID,
          executionArn: EU_EXECUTION_ARN,
          greenVariantName: 'v3-eu',
          alarmNames: [...Object.values(EU_OWN), SHARED_ALARM, EU_ALARM],
          watch: { taskToken: 'token-eu', step: '10%', since: '2025-03-01T10:20:00.000Z' },
        }),
      ),
    ],
  ]);
  serveRolloutsTable(dynamo, table);
  endpoints.set(ENDPOINT, transition(ENDPOINT, NAMES.greenVariantName));
  endpoints.set(EU_ENDPOINT, transition(EU_ENDPOINT, 'v3-eu'));
  sageMaker.on(DescribeEndpointCommand).callsFake((input: { EndpointName: string }) => endpoints.get(input.EndpointName));
  sageMaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
  runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{"fraud_probability": 0.02}') as InvokeEndpointCommandOutput['Body'] });
  sfn.on(SendTaskFailureCommand).resolves({});
});

const weightsRequestedOn = () => sageMaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand).map((call) => call.args[0].input.EndpointName).sort();

describe('endpointsConcernedBy', () => {
  test.each([
    ["an own alarm of the endpoint whose name is the other's prefix", OWN.errorRate, [ENDPOINT]],
    ['an own alarm of the endpoint with the longer (hyphenated) name', EU_OWN.latencyP99, [EU_ENDPOINT]],
    ["an own alarm of an earlier rollout (another deployment id): still the endpoint's", rolloutAlarmNames(ENDPOINT, 'deadbeef').modelErrorRate, [ENDPOINT]],
    ['an existing alarm one policy lists', EU_ALARM, [EU_ENDPOINT]],
    ['an existing alarm both policies list', SHARED_ALARM, [ENDPOINT, EU_ENDPOINT]],
    ['our prefix but an unconfigured endpoint', rolloutAlarmNames('churn-prod', '0a1b2c3d').errorRate, []],
    ['our prefix and endpoint name, but not the shape of a rollout alarm', `sagemaker-blue-green-${ENDPOINT}-manual`, []],
    ['an alarm nobody lists', 'billing-estimated-charges', []],
  ])('%s', (_, alarmName, expected) => {
    expect(endpointsConcernedBy(alarmName, TARGETS)).toEqual(expected);
  });
});

describe('on-alarm handler', () => {
  test("ALARM of an own alarm: rolls back that endpoint's rollout only, with the event's time and the state's reason", async () => {
    const event = alarmEvent(OWN.errorRate);

    const result = await handler(event);

    expect(result.alarmName).toBe(OWN.errorRate);
    expect(result.state).toBe('ALARM');
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({ outcome: 'ROLLED_BACK', endpointName: ENDPOINT, executionArn: EXECUTION_ARN, notified: true });
    expect(weightsRequestedOn()).toEqual([ENDPOINT]);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({
      kind: 'ALARM',
      by: OWN.errorRate,
      reason: expect.stringMatching(/^Threshold Crossed: 2 out of the last 3/),
      eventTime: event.time,
    });
    expect(recordedRequest(table, EU_ENDPOINT)).toBeUndefined();
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'token-prod', error: 'AlarmTriggered' });
  });

  test('an existing alarm both policies list rolls both endpoints back', async () => {
    const result = await handler(alarmEvent(SHARED_ALARM));

    expect(result.results.map((r) => [r.endpointName, r.outcome])).toEqual([
      [ENDPOINT, 'ROLLED_BACK'],
      [EU_ENDPOINT, 'ROLLED_BACK'],
    ]);
    expect(weightsRequestedOn()).toEqual([ENDPOINT, EU_ENDPOINT]);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input.taskToken).sort()).toEqual(['token-eu', 'token-prod']);
  });

  test("an earlier rollout's alarm reaches the handler but the active record does not watch it: ignored", async () => {
    const result = await handler(alarmEvent(rolloutAlarmNames(ENDPOINT, 'deadbeef').errorRate));

    expect(result.results.map((r) => r.outcome)).toEqual(['NOT_WATCHED_ALARM']);
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('no event time: the state timestamp is the alarm time', async () => {
    const event = alarmEvent(EU_ALARM);
    delete event.time;

    await handler(event);

    const detail = event.detail as { state: { timestamp: string } };
    expect(recordedRequest(table, EU_ENDPOINT)).toMatchObject({ eventTime: detail.state.timestamp });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.cause).toMatch(/, \d+ ms after the alarm event: /);
  });

  test.each(['OK', 'INSUFFICIENT_DATA'])('%s: nothing to do, no AWS call', async (state) => {
    await expect(handler(alarmEvent(OWN.errorRate, state))).resolves.toEqual({ alarmName: OWN.errorRate, state, results: [] });

    expect(dynamo.calls()).toHaveLength(0);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('an alarm no configured target concerns: no AWS call', async () => {
    await expect(handler(alarmEvent('billing-estimated-charges'))).resolves.toMatchObject({ results: [] });
    expect(dynamo.calls()).toHaveLength(0);
  });

  test.each<[string, (event: Record<string, unknown>) => void, string]>([
    ['no alarm name', (event) => delete (event.detail as Record<string, unknown>).alarmName, 'detail.alarmName: must be a string'],
    ['an unknown state', (event) => ((event.detail as { state: { value: string } }).state.value = 'MUTED'), 'detail.state.value: must be OK, ALARM or INSUFFICIENT_DATA'],
    ['another detail-type', (event) => (event['detail-type'] = 'SageMaker Endpoint State Change'), 'detail-type: must be "CloudWatch Alarm State Change"'],
  ])('%s: InputValidationError naming the field', async (_, spoil, message) => {
    const event = alarmEvent(OWN.errorRate);
    spoil(event);

    const failure = handler(event);

    await expect(failure).rejects.toThrow(InputValidationError);
    await expect(failure).rejects.toThrow(`on-alarm: invalid input: ${message}`);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test('one endpoint fails: the other is still rolled back, then the invocation fails (EventBridge retries)', async () => {
    dynamo.on(GetItemCommand, { Key: { endpointName: { S: EU_ENDPOINT } } }).rejects(new Error('ProvisionedThroughputExceededException (simulated)'));

    await expect(handler(alarmEvent(SHARED_ALARM))).rejects.toThrow('ProvisionedThroughputExceededException (simulated)');

    expect(weightsRequestedOn()).toEqual([ENDPOINT]);
    expect(recordedRequest(table, ENDPOINT)).toMatchObject({ outcome: 'ROLLED_BACK' });
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, { Key: { endpointName: { S: ENDPOINT } } });
  });
});

describe('onAlarm', () => {
  test('logs the alarm-to-rollback latency: event time to the weight request, in ms', async () => {
    const info = jest.fn();
    const logger = { debug: jest.fn(), info, warn: jest.fn() } as unknown as StepLogger;
    const deps: OnAlarmDependencies = {
      targets: TARGETS,
      table: ROLLOUTS_TABLE,
      sageMaker: new SageMakerClient({}),
      runtime: new SageMakerRuntimeClient({}),
      s3: new S3Client({}),
      dynamo: new DynamoDBClient({}),
      sfn: new SFNClient({}),
      logger,
    };
    const eventTime = new Date(Date.now() - 420).toISOString();
    const event = { ...alarmEvent(OWN.errorRate), time: eventTime } as Parameters<typeof onAlarm>[0];

    const result = await onAlarm(event, deps);

    const expected = Date.parse(result.results[0]!.weightsRequestedAt!) - Date.parse(eventTime);
    expect(expected).toBeGreaterThanOrEqual(420);
    expect(info).toHaveBeenCalledWith(`Alarm to rollback: ${expected} ms`, { alarmName: OWN.errorRate, endpointName: ENDPOINT, alarmToRollbackMs: expected });
  });
});

describe('on-alarm: the AlarmToRollbackSeconds metric', () => {
  let documents: Record<string, unknown>[];
  beforeEach(() => {
    documents = [];
    configureMetricsSink((document) => void documents.push(document));
  });
  afterEach(() => configureMetricsSink(undefined));

  /** The metric as published: its endpoint, value and unit, and the namespace and dimensions it is filed under. */
  const published = () =>
    documents
      .filter((document) => ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds in document)
      .map((document) => {
        const [directive] = (document._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics;
        return {
          endpointName: document.EndpointName,
          seconds: document[ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds] as number,
          namespace: directive!.Namespace,
          dimensions: directive!.Dimensions,
          unit: directive!.Metrics.find((metric) => metric.Name === ROLLOUT_METRIC_NAMES.alarmToRollbackSeconds)?.Unit,
        };
      });

  test('each endpoint rolled back: the alarm event to its weight request, in seconds, under its EndpointName', async () => {
    const event = alarmEvent(SHARED_ALARM);
    const result = await handler(event);

    const expected = result.results.map((r) => ({
      endpointName: r.endpointName,
      seconds: (Date.parse(r.weightsRequestedAt!) - Date.parse(event.time as string)) / 1000,
      namespace: METRICS_NAMESPACE,
      dimensions: [['service', 'EndpointName']],
      unit: 'Seconds',
    }));
    expect(published().sort((a, b) => String(a.endpointName).localeCompare(String(b.endpointName)))).toEqual(expected);
    // The event's time is 420 ms ago cut to whole seconds: the weights came at least 0.42 s after it.
    for (const metric of published()) expect(metric.seconds).toBeGreaterThanOrEqual(0.42);
  });

  test('a duplicate event (the rollback already requested): the first call was timed, the duplicate is not', async () => {
    await handler(alarmEvent(OWN.errorRate));
    expect(published()).toHaveLength(1);
    const duplicate = await handler(alarmEvent(OWN.errorRate));
    expect(duplicate.results.map((r) => r.outcome)).toEqual(['ALREADY_REQUESTED']);
    expect(published()).toHaveLength(1);
  });

  test("blue's weights already back (nothing requested by this call): no metric", async () => {
    endpoints.set(
      ENDPOINT,
      describedEndpoint({
        name: ENDPOINT,
        configName: `${ENDPOINT}-transition`,
        variants: [
          { name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 },
          { name: NAMES.greenVariantName, currentWeight: 0, currentInstanceCount: 2 },
        ],
      }),
    );
    const result = await handler(alarmEvent(OWN.errorRate));
    expect(result.results.map((r) => [r.outcome, r.weightsRequestedAt])).toEqual([['ROLLED_BACK', undefined]]);
    expect(published()).toEqual([]);
  });

  test.each([
    ['an alarm the active rollout does not watch', () => alarmEvent(rolloutAlarmNames(ENDPOINT, 'deadbeef').errorRate)],
    ['an alarm back to OK', () => alarmEvent(OWN.errorRate, 'OK')],
  ])('%s: no rollback, no metric', async (_case, event) => {
    await handler(event());
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(published()).toEqual([]);
  });
});

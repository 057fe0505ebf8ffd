/**
 * `status` against the rehearsal's DynamoDB simulation (the active-rollouts table and the rollout history table,
 * written by the project's own record functions), with Step Functions and SageMaker mocked.
 */
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  SageMakerServiceException,
  type DescribeEndpointCommandInput,
  type DescribeEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { StatusReport } from '../../cli/commands/status';
import { runCli } from '../../cli/runner';
import { ROLLOUT_HISTORY_TABLE_ENV } from '../../lambdas/shared/audit-trail';
import { recordLifecycleEvent, rolloutRef, type LifecycleEvent, type LifecycleSink } from '../../lambdas/shared/lifecycle-events';
import { deploymentIdFor, rolloutNames } from '../../lambdas/shared/names';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import {
  acquireEndpointLock,
  putActiveRollout,
  recordRollbackRequest,
  ROLLOUTS_TABLE_ENV,
  setWatch,
} from '../../lambdas/shared/rollout-record';
import { weightsForGreenShare } from '../../lambdas/shared/traffic';
import { activeRecord } from '../lambdas/support/alarm-steps';
import {
  BLUE,
  BLUE_CONFIG_VARIANT,
  DEPLOYMENT_ID,
  describedEndpoint,
  describedEndpointConfig,
  ENDPOINT,
  EXECUTION_ARN,
  makePlan,
  NAMES,
  PACKAGE_ARN,
} from '../lambdas/support/fixtures';
import { SIMULATED_TABLE, type SimulatedRolloutsTable } from '../lambdas/support/simulated-rollouts-table';
import { capturedContext, dynamoAccessDenied, HISTORY_TABLE, HistoryBuilder, NOW, serveHistory, simulateRolloutTables } from './support';

const sageMaker = mockClient(SageMakerClient);
const sfn = mockClient(SFNClient);
const STATUS_USAGE = 'Usage: npx sagemaker-blue-green status [--endpoint NAME] [--table TABLE] [--history-table TABLE] [--region REGION] [--json]';

const LOCKED_AT = '2025-03-04T11:20:00.000Z';
const STARTED_AT = new Date('2025-03-04T11:19:58.000Z');
const EXPIRES_AT = Date.parse('2025-03-06T12:00:00.000Z') / 1000;
const WATCH = { taskToken: 'AQB8AAAAKgAAAAMAAAAAAAAAAbWF0Y2gtMTAw-10', step: '10%', since: '2025-03-04T11:45:10.000Z' };
/** Green's weight beside blue's 1 for 10% of the traffic, as SageMaker keeps it (a 32-bit float). */
const GREEN_WEIGHT = Math.fround(weightsForGreenShare(BLUE.weight, 0.1).greenWeight);

const dynamo = new DynamoDBClient({});
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };
let tables: SimulatedRolloutsTable;
let history: HistoryEvent[];
const savedEnv = { [ROLLOUTS_TABLE_ENV]: process.env[ROLLOUTS_TABLE_ENV], [ROLLOUT_HISTORY_TABLE_ENV]: process.env[ROLLOUT_HISTORY_TABLE_ENV] };

const args = (...extra: string[]) => ['status', '--table', SIMULATED_TABLE, ...extra];
/** A message without the runner's `<program> status: ` prefix. */
const message = (line: string | undefined) => line?.replace(/^\S+ status: /, '');

/** The endpoint at the 10% step: blue keeps weight 1, green has a tenth of the traffic and is baking. */
function endpointAtTenPercent(): DescribeEndpointOutput {
  const endpoint = describedEndpoint({
    configName: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 },
      { name: NAMES.greenVariantName, currentWeight: GREEN_WEIGHT, currentInstanceCount: 2 },
    ],
  });
  endpoint.ProductionVariants![1]!.VariantStatus = [{ Status: 'Baking', StartTime: new Date(WATCH.since) }];
  return endpoint;
}

/** Takes the endpoint's lock for `plan` and, unless `armed` is false, registers it as armed and watching the 10% step. */
async function lockEndpoint(plan: RolloutPlan, armed = true): Promise<void> {
  const lock = { endpointName: plan.endpointName, deploymentId: plan.deploymentId, executionArn: plan.executionArn, modelPackageArn: plan.modelPackage.arn };
  await acquireEndpointLock(dynamo, SIMULATED_TABLE, { ...lock, lockedAt: LOCKED_AT, expiresAt: EXPIRES_AT, plan }, NOW.getTime() / 1000);
  if (!armed) return;
  await putActiveRollout(dynamo, SIMULATED_TABLE, activeRecord({ ...lock, greenVariantName: plan.green.variantName }));
  await setWatch(dynamo, SIMULATED_TABLE, plan.endpointName, plan.deploymentId, WATCH);
}

/** Records lifecycle events of makePlan()'s rollout in the history table, as the steps do. */
async function recordEvents(events: ReadonlyArray<readonly [string, LifecycleEvent]>): Promise<void> {
  const sink: LifecycleSink = { dynamo, auditTable: HISTORY_TABLE, logger: silent };
  for (const [at, event] of events) await recordLifecycleEvent(sink, rolloutRef(makePlan()), event, { at });
}

const TEN_PERCENT_EVENTS: ReadonlyArray<readonly [string, LifecycleEvent]> = [
  [
    '2025-03-04T11:20:01.000Z',
    {
      type: 'RolloutStarted',
      trigger: { kind: 'MODEL_REGISTRY_APPROVAL', by: 'alice' },
      trafficMode: 'CANARY',
      stepPercents: [10, 100],
      blueVariantName: BLUE.variantName,
      greenVariantName: NAMES.greenVariantName,
      instanceType: 'ml.g5.xlarge',
      configHash: '0123456789abcdef',
    },
  ],
  ['2025-03-04T11:20:05.000Z', { type: 'GreenProvisioned', greenVariantName: NAMES.greenVariantName, instanceType: 'ml.g5.xlarge', instanceCount: 2, resourcesCreated: [] }],
  [
    '2025-03-04T11:31:00.000Z',
    { type: 'WarmUpCompleted', variants: [{ variantName: NAMES.greenVariantName, role: 'green', requests: 200, seconds: 60, lastWindowP99Ms: 41 }] },
  ],
  [
    '2025-03-04T11:40:00.000Z',
    {
      type: 'ValidationVerdict',
      verdict: 'INCONCLUSIVE',
      gates: [
        { gate: 'health', verdict: 'PASS', samples: 250 },
        { gate: 'latency', verdict: 'INCONCLUSIVE', reason: '120 paired samples, 200 needed' },
      ],
    },
  ],
  ['2025-03-04T11:40:02.000Z', { type: 'ApprovalRequested', timeoutSeconds: 86_400 }],
  ['2025-03-04T11:44:00.000Z', { type: 'ApprovalDecided', decision: 'APPROVED', by: 'dave', reason: 'latency is fine on the dashboard' }],
  ['2025-03-04T11:45:00.000Z', { type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }],
];

beforeEach(async () => {
  sageMaker.reset();
  sfn.reset();
  delete process.env[ROLLOUTS_TABLE_ENV];
  delete process.env[ROLLOUT_HISTORY_TABLE_ENV];
  tables = simulateRolloutTables();

  await lockEndpoint(makePlan());
  await recordEvents(TEN_PERCENT_EVENTS);
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, stateMachineArn: 'arn:sm', status: 'RUNNING', startDate: STARTED_AT });
  history = new HistoryBuilder().lambdaState('Arm alarms').lambdaState('Shift traffic to 10%').enter('Watch 10% step', 'TaskStateEntered').build();
  serveHistory(sfn, history);
  sageMaker.on(DescribeEndpointCommand).resolves(endpointAtTenPercent());
  sageMaker
    .on(DescribeEndpointConfigCommand)
    .resolves(
      describedEndpointConfig(NAMES.transitionEndpointConfigName, [
        BLUE_CONFIG_VARIANT,
        { ...BLUE_CONFIG_VARIANT, VariantName: NAMES.greenVariantName, ModelName: NAMES.greenModelName, InitialVariantWeight: 0 },
      ]),
    );
});

afterEach(() => {
  tables.mock.restore();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('status: a rollout in progress', () => {
  test('at 10%: the state it is in, both variants with weights and traffic, the verdicts, the last events', async () => {
    const { context, out, err } = capturedContext();

    const code = await runCli(args('--history-table', HISTORY_TABLE), context);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    // "Watch 10% step" was entered 3588 s before NOW (HistoryBuilder: one event a second from an hour before).
    expect(NOW.getTime() - history.at(-1)!.timestamp!.getTime()).toBe(3_588_000);
    expect(out.slice(0, 8)).toEqual([
      `Rollout on endpoint ${ENDPOINT} (deployment ${DEPLOYMENT_ID}):`,
      `  model package  fraud-detector v7 (${PACKAGE_ARN})`,
      `  execution      ${EXECUTION_ARN}`,
      `  status         RUNNING since 2025-03-04T11:19:58Z, in state "Watch 10% step" for 59m 48s`,
      '  endpoint lock  taken 2025-03-04T11:20:00Z, expires 2025-03-06T12:00:00Z',
      '  alarms         armed; watching step 10% since 2025-03-04T11:45:10Z',
      '  rollback       none requested',
      `Endpoint ${ENDPOINT}: InService on config ${NAMES.transitionEndpointConfigName}`,
    ]);
    expect(out[8]).toMatch(/^ {2}VARIANT\s+ROLE\s+WEIGHT\s+DESIRED\s+TRAFFIC\s+INSTANCES\s+TYPE\s+STATUS$/);
    expect(out[9]).toMatch(new RegExp(`^ {2}${BLUE.variantName}\\s+blue\\s+1\\s+1\\s+90%\\s+3\\s+ml\\.g5\\.xlarge\\s+-$`));
    expect(out[10]).toMatch(new RegExp(`^ {2}${NAMES.greenVariantName}\\s+green\\s+0\\.1111\\s+0\\.1111\\s+10%\\s+2\\s+ml\\.g5\\.xlarge\\s+Baking$`));
    expect(out.slice(11)).toEqual([
      'Verdicts:',
      '  2025-03-04T11:40:00Z  validation INCONCLUSIVE (health PASS, latency INCONCLUSIVE)',
      '  2025-03-04T11:44:00Z  approval APPROVED by dave: latency is fine on the dashboard',
      'Last events (5 of 7):',
      `  2025-03-04T11:31:00Z  Warm-up of fraud-detector v7 on fraud-detector-prod done: green ${NAMES.greenVariantName} 200 requests in 60 s, p99 41 ms`,
      '  2025-03-04T11:40:00Z  Validation of fraud-detector v7 on fraud-detector-prod: INCONCLUSIVE (health PASS, latency INCONCLUSIVE)',
      expect.stringMatching(/^ {2}2025-03-04T11:40:02Z {2}Rollout of fraud-detector v7 on fraud-detector-prod waits for an operator's decision/),
      '  2025-03-04T11:44:00Z  Rollout of fraud-detector v7 on fraud-detector-prod approved by dave: latency is fine on the dashboard',
      `  2025-03-04T11:45:00Z  Traffic of ${ENDPOINT}: green (fraud-detector v7) 10%, blue 90%`,
    ]);
    // The state is read from the newest events, one page, without inputs and outputs.
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, reverseOrder: true, includeExecutionData: false });
    expect(tables.mock).toHaveReceivedCommandWith(GetItemCommand, { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    expect(tables.mock).toHaveReceivedCommandWith(QueryCommand, { TableName: HISTORY_TABLE });
    expect(sageMaker).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.transitionEndpointConfigName });
  });

  test('--json: one document with the weights, the traffic shares, the state, the verdicts and the lock', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', ENDPOINT, '--history-table', HISTORY_TABLE, '--json'), context)).toBe(0);

    const report = JSON.parse(out.join('\n')) as StatusReport;
    expect(report).toMatchObject({ table: SIMULATED_TABLE, historyTable: HISTORY_TABLE });
    expect(report.auditHint).toBeUndefined();
    expect(report.rollouts).toHaveLength(1);
    const [rollout] = report.rollouts;
    expect(rollout).toMatchObject({
      endpointName: ENDPOINT,
      deploymentId: DEPLOYMENT_ID,
      executionArn: EXECUTION_ARN,
      modelPackageGroupName: 'fraud-detector',
      modelPackageVersion: 7,
      lockExpiresAt: '2025-03-06T12:00:00.000Z',
      lockExpired: false,
      alarmsArmed: true,
      execution: { status: 'RUNNING', startedAt: STARTED_AT.toISOString(), state: 'Watch 10% step' },
      watch: { step: '10%', since: WATCH.since },
    });
    expect(rollout!.rollbackRequest).toBeUndefined();
    expect(rollout!.endpoint.variants).toEqual([
      { variantName: BLUE.variantName, role: 'blue', currentWeight: 1, desiredWeight: 1, trafficPercent: 90, currentInstanceCount: 3, desiredInstanceCount: 3, instanceType: 'ml.g5.xlarge', statuses: [] },
      {
        variantName: NAMES.greenVariantName,
        role: 'green',
        currentWeight: GREEN_WEIGHT,
        desiredWeight: GREEN_WEIGHT,
        trafficPercent: 10,
        currentInstanceCount: 2,
        desiredInstanceCount: 2,
        instanceType: 'ml.g5.xlarge',
        statuses: ['Baking'],
      },
    ]);
    expect(rollout!.audit!.verdicts.map((v) => [v.kind, v.verdict])).toEqual([
      ['validation', 'INCONCLUSIVE'],
      ['approval', 'APPROVED'],
    ]);
    expect(rollout!.audit!.verdicts[0]!.gates).toEqual([
      { gate: 'health', verdict: 'PASS' },
      { gate: 'latency', verdict: 'INCONCLUSIVE', reason: '120 paired samples, 200 needed' },
    ]);
    expect(rollout!.audit!.eventCount).toBe(7);
    expect(rollout!.audit!.lastEvents.map((e) => e.type)).toEqual(['WarmUpCompleted', 'ValidationVerdict', 'ApprovalRequested', 'ApprovalDecided', 'TrafficShifted']);
  });

  test('a rollback request an alarm made, not yet done: shown as pending', async () => {
    const request = { kind: 'ALARM' as const, by: 'fraud-detector-prod-green-5xx', reason: 'green 5xx rate 4% > 1%', requestedAt: '2025-03-04T11:59:30.000Z' };
    await recordRollbackRequest(dynamo, SIMULATED_TABLE, ENDPOINT, DEPLOYMENT_ID, request);
    const { context, out } = capturedContext();

    expect(await runCli(args('--history-table', HISTORY_TABLE), context)).toBe(0);

    expect(out).toContain('  rollback       requested by alarm fraud-detector-prod-green-5xx at 2025-03-04T11:59:30Z (green 5xx rate 4% > 1%): pending');
  });

  test('before the alarms are armed: no watch, and the green variant still being added (an update in progress)', async () => {
    tables.simulation.execute('DeleteItem', { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
    await lockEndpoint(makePlan(), false);
    const endpoint = describedEndpoint({ status: 'Updating', configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3 }] });
    endpoint.PendingDeploymentSummary = {
      EndpointConfigName: NAMES.transitionEndpointConfigName,
      ProductionVariants: [
        { VariantName: BLUE.variantName, DesiredWeight: 1, DesiredInstanceCount: 3, InstanceType: 'ml.g5.xlarge' },
        { VariantName: NAMES.greenVariantName, DesiredWeight: 0, DesiredInstanceCount: 2, InstanceType: 'ml.g5.2xlarge', VariantStatus: [{ Status: 'Creating' }] },
      ],
    };
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint);
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out).toContain('  alarms         not armed yet (no traffic shifted to green)');
    expect(out).toContain('  rollback       none requested');
    expect(out).toContain(`Endpoint ${ENDPOINT}: Updating on config ${BLUE.endpointConfigName}`);
    expect(out).toContain(`  update in progress to config ${NAMES.transitionEndpointConfigName} (Creating):`);
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^ {4}${NAMES.greenVariantName}\\s+green\\s+-\\s+0\\s+-\\s+→ 2\\s+ml\\.g5\\.2xlarge\\s+Creating$`)));
  });

  test('every endpoint (a Scan of the locks): one section each, in endpoint order', async () => {
    const otherEndpoint = 'credit-scoring-prod';
    const otherArn = EXECUTION_ARN.replace('0f1e2d3c-approval-7', 'credit-approval-12');
    const otherNames = rolloutNames({ modelPackageGroupName: 'credit-scoring', modelPackageVersion: 12, endpointName: otherEndpoint, deploymentId: deploymentIdFor(otherArn) });
    const base = makePlan();
    const otherPlan = makePlan({
      endpointName: otherEndpoint,
      executionArn: otherArn,
      deploymentId: deploymentIdFor(otherArn),
      modelPackage: { ...base.modelPackage, arn: PACKAGE_ARN.replace('fraud-detector/7', 'credit-scoring/12'), groupName: 'credit-scoring', version: 12 },
      firstDeployment: true,
      blue: undefined,
      green: { ...base.green, variantName: otherNames.greenVariantName },
    });
    await lockEndpoint(otherPlan, false);
    sageMaker.on(DescribeEndpointCommand).callsFake((input: DescribeEndpointCommandInput) => {
      if (input.EndpointName === ENDPOINT) return endpointAtTenPercent();
      throw new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: `Could not find endpoint "${input.EndpointName}".` });
    });
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(tables.mock).toHaveReceivedCommandWith(ScanCommand, { TableName: SIMULATED_TABLE, ConsistentRead: true });
    expect(out[0]).toBe('2 rollouts in progress:');
    const headings = out.filter((line) => line.startsWith('Rollout on endpoint'));
    expect(headings).toEqual([
      `Rollout on endpoint ${otherEndpoint} (deployment ${deploymentIdFor(otherArn)}):`,
      `Rollout on endpoint ${ENDPOINT} (deployment ${DEPLOYMENT_ID}):`,
    ]);
    expect(out).toContain(`Endpoint ${otherEndpoint}: not created yet (SageMaker has no such endpoint)`);
    expect(out).toContain('  model package  credit-scoring v12 (' + otherPlan.modelPackage.arn + ')');
  });

  test('an execution that has ended while its lock remains: says so, reads no history', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, stateMachineArn: 'arn:sm', status: 'FAILED', startDate: STARTED_AT, stopDate: new Date('2025-03-04T11:58:00.000Z') });
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out).toContain(
      '  status         FAILED at 2025-03-04T11:58:00Z: the rollout has ended; the reconciler releases its lock (or the lock expires at 2025-03-06T12:00:00Z)',
    );
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  test('an execution Step Functions does not know: the lock is called stale, the rest is still shown', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: `Execution Does Not Exist: '${EXECUTION_ARN}'` }));
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out).toContain('  status         Step Functions does not know the execution (ended and expired, or in another region): the lock is stale');
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^ {2}${NAMES.greenVariantName}\\s+green\\s+0\\.1111`)));
  });

  test('an endpoint config that cannot be read: instance types from the plan, with a note', async () => {
    sageMaker.on(DescribeEndpointConfigCommand).rejects(
      new SageMakerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not authorized to perform: sagemaker:DescribeEndpointConfig' }),
    );
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^ {2}${NAMES.greenVariantName}\\s+green\\s+.*\\s+ml\\.g5\\.xlarge\\s+Baking$`)));
    expect(out).toContain(
      `  Note: instance types are the rollout plan's: endpoint config ${NAMES.transitionEndpointConfigName} could not be read ` +
        '(AccessDeniedException: not authorized to perform: sagemaker:DescribeEndpointConfig)',
    );
  });
});

describe('status: nothing in progress', () => {
  beforeEach(() => {
    tables.simulation.execute('DeleteItem', { TableName: SIMULATED_TABLE, Key: { endpointName: { S: ENDPOINT } } });
  });

  test('no lock in the table: says so, asks nothing of Step Functions or SageMaker', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(args('--history-table', HISTORY_TABLE), context)).toBe(0);

    expect({ out, err }).toEqual({ out: [`No rollout in progress: the active-rollouts table ${SIMULATED_TABLE} holds no endpoint lock.`], err: [] });
    expect(sfn.calls()).toHaveLength(0);
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test("--endpoint: says so and shows the endpoint's variants as they are", async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ configName: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, currentWeight: 1, currentInstanceCount: 3, desiredInstanceCount: 4 }] }),
    );
    sageMaker.on(DescribeEndpointConfigCommand).resolves(describedEndpointConfig(BLUE.endpointConfigName, [BLUE_CONFIG_VARIANT]));
    const { context, out } = capturedContext();

    expect(await runCli(args('--endpoint', ENDPOINT), context)).toBe(0);

    expect(out[0]).toBe(`No rollout in progress on endpoint ${ENDPOINT}.`);
    expect(out[1]).toBe(`Endpoint ${ENDPOINT}: InService on config ${BLUE.endpointConfigName}`);
    // No rollout, so no ROLE column.
    expect(out[2]).toMatch(/^ {2}VARIANT\s+WEIGHT\s+DESIRED\s+TRAFFIC\s+INSTANCES\s+TYPE\s+STATUS$/);
    expect(out[3]).toMatch(new RegExp(`^ {2}${BLUE.variantName}\\s+1\\s+1\\s+100%\\s+3 → 4\\s+ml\\.g5\\.xlarge\\s+-$`));
    expect(out).toHaveLength(4);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('--endpoint of an endpoint that does not exist: exit 1, check --endpoint and --region', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(
      new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: 'Could not find endpoint "fraud-detector-prd".' }),
    );
    const { context, out, err } = capturedContext();

    expect(await runCli(args('--endpoint', 'fraud-detector-prd', '--region', 'us-east-1'), context)).toBe(1);

    expect(out).toEqual([]);
    expect(message(err[0])).toBe(
      'no rollout in progress on endpoint fraud-detector-prd, and SageMaker has no endpoint fraud-detector-prd in us-east-1 (check --endpoint and --region)',
    );
  });
});

describe('status: without the audit trail', () => {
  test('no history table: the rest is shown, and how to add verdicts and events', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(args(), context)).toBe(0);

    expect(out).toContain('  alarms         armed; watching step 10% since 2025-03-04T11:45:10Z');
    expect(out.filter((line) => line.startsWith('Verdicts:') || line.startsWith('Last events'))).toEqual([]);
    expect(out.at(-1)).toMatch(
      /^Verdicts and events are not shown: pass --history-table \(or set ROLLOUT_HISTORY_TABLE\): the stack output RolloutHistoryTableName names the table, e\.g\. aws cloudformation describe-stacks /,
    );
    expect(tables.mock).not.toHaveReceivedCommand(QueryCommand);
  });

  test('ROLLOUT_HISTORY_TABLE and ROLLOUTS_TABLE name the tables when the options do not', async () => {
    process.env[ROLLOUTS_TABLE_ENV] = SIMULATED_TABLE;
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY_TABLE;
    const { context, out } = capturedContext();

    expect(await runCli(['status'], context)).toBe(0);

    expect(out).toContain('Last events (5 of 7):');
    expect(tables.mock).toHaveReceivedCommandWith(QueryCommand, { TableName: HISTORY_TABLE });
  });
});

describe('status: AWS failures in plain words (exit 1)', () => {
  test('a history table that does not exist: which option, variable and stack output name it', async () => {
    const { context, out, err } = capturedContext();

    expect(await runCli(args('--history-table', 'rollout-histroy'), context)).toBe(1);

    expect(out).toEqual([]);
    expect(message(err[0])).toBe(
      'the rollout history table rollout-histroy was not found in eu-west-1 (AWS said: Requested resource not found): ' +
        'check --history-table (or ROLLOUT_HISTORY_TABLE; the stack output RolloutHistoryTableName names the table) and --region',
    );
  });

  test('an active-rollouts table that does not exist', async () => {
    const { context, err } = capturedContext();

    expect(await runCli(['status', '--table', 'active-rollout'], context)).toBe(1);

    expect(message(err[0])).toBe(
      'the active-rollouts table active-rollout was not found in eu-west-1 (AWS said: Requested resource not found): ' +
        'check --table (or ROLLOUTS_TABLE; the stack output ActiveRolloutsTableName names the table) and --region',
    );
  });

  test('DynamoDB AccessDenied on the Scan names the action and the table', async () => {
    tables.mock.on(ScanCommand).rejects(dynamoAccessDenied('Scan'));
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(message(err[0])).toBe(
      `permission missing: your AWS identity may not call dynamodb:Scan on the active-rollouts table ${SIMULATED_TABLE} ` +
        '(AWS said: not authorized to perform: dynamodb:Scan). Ask for dynamodb:Scan on that table',
    );
  });

  test('SageMaker AccessDenied names sagemaker:DescribeEndpoint and the endpoint', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(
      new SageMakerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not authorized to perform: sagemaker:DescribeEndpoint' }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(message(err[0])).toBe(
      `permission missing: your AWS identity may not call sagemaker:DescribeEndpoint on endpoint ${ENDPOINT} ` +
        '(AWS said: not authorized to perform: sagemaker:DescribeEndpoint). Ask for sagemaker:DescribeEndpoint on it',
    );
  });

  test('Step Functions AccessDenied on GetExecutionHistory names the action', async () => {
    sfn.on(GetExecutionHistoryCommand).rejects(
      Object.assign(new Error('not authorized to perform: states:GetExecutionHistory'), { name: 'AccessDeniedException' }),
    );
    const { context, err } = capturedContext();

    expect(await runCli(args(), context)).toBe(1);

    expect(message(err[0])).toMatch(/^permission missing: your AWS identity may not call states:GetExecutionHistory .*Ask for states:GetExecutionHistory/);
  });
});

describe('status: usage (exit 2, no AWS call)', () => {
  test.each([
    ['no table', ['status'], /^--table: required \(or set ROLLOUTS_TABLE\): the stack output ActiveRolloutsTableName names the table/],
    ['a bad history table name', args('--history-table', 'a b'), /^--history-table: expected a DynamoDB table name or ARN$/],
    ['a bad endpoint name', args('--endpoint', 'fraud_prod'), /^--endpoint: expected a SageMaker endpoint name/],
    ['an unknown option', args('--deployment', 'abc'), /Unknown option '--deployment'/],
  ])('%s', async (_, argv, expected) => {
    const { context, err } = capturedContext();

    expect(await runCli(argv, context)).toBe(2);

    expect(message(err[0])).toMatch(expected);
    expect(err).toContain(STATUS_USAGE);
    expect(sfn.calls()).toHaveLength(0);
    expect(sageMaker.calls()).toHaveLength(0);
  });

  test('--help: every option, on stdout', async () => {
    const { context, out } = capturedContext();

    expect(await runCli(['status', '--help'], context)).toBe(0);

    expect(out[0]).toBe(STATUS_USAGE);
    for (const text of ['--endpoint NAME', '--table TABLE', '--history-table TABLE', 'RolloutHistoryTableName', '--region REGION', '--json', '--help']) {
      expect(out.join('\n')).toContain(text);
    }
  });
});

import 'aws-sdk-client-mock-jest';
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { DynamoDBClient, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/hold-blue-capacity';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { ROLLOUTS_TABLE } from './support/alarm-steps';
import { autoScalingError, fakeAutoScaling, invocationsPolicy, variantScalableTarget } from './support/autoscaling';
import { BLUE, DEPLOYMENT_ID, ENDPOINT, EXECUTION_ARN, makeFirstDeploymentPlan, makePlan } from './support/fixtures';
import { serveRolloutsTable, type RolloutsTable } from './support/rollouts-table';

const aas = mockClient(ApplicationAutoScalingClient);
const dynamo = mockClient(DynamoDBClient);
const BLUE_ID = `endpoint/${ENDPOINT}/variant/${BLUE.variantName}`;

/** The endpoint's lock, held by `deploymentId` (only the attributes the condition reads matter here). */
const lockItem = (deploymentId = DEPLOYMENT_ID): Record<string, AttributeValue> => ({
  endpointName: { S: ENDPOINT },
  deploymentId: { S: deploymentId },
  executionArn: { S: EXECUTION_ARN },
});
let table: RolloutsTable;
/** What the lock records of blue's capacity. */
const recordedHold = () => {
  const text = table.get(ENDPOINT)?.blueCapacity?.S;
  return text ? (JSON.parse(text) as unknown) : undefined;
};

beforeEach(() => {
  aas.reset();
  dynamo.reset();
  table = new Map([[ENDPOINT, lockItem()]]);
  serveRolloutsTable(dynamo, table);
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
});
afterEach(() => {
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('hold-blue-capacity', () => {
  test('an autoscaled blue: scale-in suspended, held true, the rest of the target unchanged', async () => {
    const store = fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    const result = await handler({ plan: makePlan() });
    expect(result).toEqual({
      held: true,
      previouslySuspended: false,
      recorded: true,
      message: expect.stringMatching(new RegExp(`Suspended dynamic scale-in of blue ${BLUE.variantName}`)),
    });
    // Recorded on the endpoint's lock, for a reconciler should the execution stop before its own restore.
    expect(recordedHold()).toEqual({ held: true, previouslySuspended: false });
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, { TableName: ROLLOUTS_TABLE, ConditionExpression: 'deploymentId = :deploymentId' });
    expect(store.targets.get(BLUE_ID)).toEqual(variantScalableTarget(BLUE.variantName, {
      SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
    }));
    expect(store.policies.get(BLUE_ID)).toEqual([invocationsPolicy()]);
  });

  test('scale-in already suspended before the rollout: not held (a rollback must not resume it)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget(BLUE.variantName, { SuspendedState: { DynamicScalingInSuspended: true } })] });
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ held: false, previouslySuspended: true, message: expect.stringMatching(/already suspended/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(recordedHold()).toEqual({ held: false, previouslySuspended: true });
  });

  test('blue not autoscaled: nothing to hold', async () => {
    fakeAutoScaling(aas);
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ held: false, previouslySuspended: false, message: expect.stringMatching(/not autoscaled/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('a first deployment: held false without calling Application Auto Scaling', async () => {
    await expect(handler({ plan: makeFirstDeploymentPlan() })).resolves.toMatchObject({ held: false, previouslySuspended: false, recorded: false });
    expect(aas.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
  });

  test("the lock is another rollout's: blue is still held (the execution's own restore reads the result), recorded false, that lock untouched", async () => {
    table.set(ENDPOINT, lockItem('99999999'));
    fakeAutoScaling(aas, { targets: [variantScalableTarget()], policies: [invocationsPolicy()] });
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ held: true, previouslySuspended: false, recorded: false });
    expect(table.get(ENDPOINT)).toEqual(lockItem('99999999'));
  });

  test('no table configured: ConfigurationError before blue is touched', async () => {
    delete process.env[ROLLOUTS_TABLE_ENV];
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/ROLLOUTS_TABLE is not set/) });
    expect(aas).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  test('an Application Auto Scaling failure propagates (the state machine retries or rolls back)', async () => {
    fakeAutoScaling(aas, { targets: [variantScalableTarget()] });
    aas.on(RegisterScalableTargetCommand).rejects(autoScalingError('ConcurrentUpdateException'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'ConcurrentUpdateException' });
    expect(recordedHold()).toBeUndefined();
  });

  test('rejects an input without a plan, naming the field', async () => {
    await expect(handler({})).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(/^hold-blue-capacity: invalid input: plan: /) });
    expect(aas.calls()).toHaveLength(0);
  });
});

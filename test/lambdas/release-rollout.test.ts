import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, type DeleteAlarmsCommandInput } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/release-rollout';
import { rolloutRef } from '../../lambdas/shared/lifecycle-events';
import { AlarmPolicySchema } from '../../lambdas/shared/config';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import { alarmsIn, cloudWatchError, conditionFailed, OWN_ALARMS, ROLLOUTS_TABLE, serveAlarms, type FakeAlarm } from './support/alarm-steps';
import { DEPLOYMENT_ID, ENDPOINT, makePlan } from './support/fixtures';
import { HISTORY_TABLE, LIFECYCLE_BUS, mockLifecycleByEnvironment } from './support/lifecycle';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);
let alarms: Map<string, FakeAlarm>;

/** DeleteAlarms as CloudWatch does it: one unknown name fails the call (ResourceNotFound) and deletes nothing. */
function serveDeletes(): void {
  cloudWatch.on(DeleteAlarmsCommand).callsFake((input: DeleteAlarmsCommandInput) => {
    const unknown = (input.AlarmNames ?? []).filter((name) => !alarms.has(name));
    if (unknown.length > 0) throw cloudWatchError('ResourceNotFound', `alarm ${unknown[0]} does not exist`);
    for (const name of input.AlarmNames ?? []) alarms.delete(name);
    return {};
  });
}

const deletedNames = () => cloudWatch.commandCalls(DeleteAlarmsCommand).map((call) => call.args[0].input.AlarmNames);

beforeEach(() => {
  cloudWatch.reset();
  dynamo.reset();
  alarms = alarmsIn('OK');
  serveAlarms(cloudWatch, alarms);
  serveDeletes();
  dynamo.on(DeleteItemCommand).resolves({});
  process.env[ROLLOUTS_TABLE_ENV] = ROLLOUTS_TABLE;
});

afterEach(() => {
  delete process.env[ROLLOUTS_TABLE_ENV];
});

describe('release-rollout', () => {
  test('deletes the three alarms and this rollout\'s record', async () => {
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ deletedAlarms: OWN_ALARMS, recordDeleted: true });
    expect(deletedNames()).toEqual([OWN_ALARMS]);
    expect(alarms.size).toBe(0);
    expect(dynamo).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: ROLLOUTS_TABLE,
      Key: { endpointName: { S: ENDPOINT } },
      ConditionExpression: 'attribute_not_exists(endpointName) OR deploymentId = :deploymentId',
      ExpressionAttributeValues: { ':deploymentId': { S: DEPLOYMENT_ID } },
    });
  });

  test('idempotent: a second release finds nothing and succeeds without DeleteAlarms', async () => {
    await handler({ plan: makePlan() });
    cloudWatch.resetHistory();
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ deletedAlarms: [], recordDeleted: true });
    expect(cloudWatch).not.toHaveReceivedCommand(DeleteAlarmsCommand);
  });

  test('an alarm already gone: only the existing ones are named (one unknown name would delete nothing)', async () => {
    alarms.delete(OWN_ALARMS[1]!);
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ deletedAlarms: [OWN_ALARMS[0], OWN_ALARMS[2]] });
    expect(deletedNames()).toEqual([[OWN_ALARMS[0], OWN_ALARMS[2]]]);
    expect(alarms.size).toBe(0);
  });

  test('the policy\'s existing alarms are never described nor deleted', async () => {
    alarms.set('fraud-prod-p50', { state: 'ALARM' });
    const plan = makePlan({ alarms: AlarmPolicySchema.parse({ existingAlarmNames: ['fraud-prod-p50'] }) });
    await handler({ plan });
    expect(alarms.has('fraud-prod-p50')).toBe(true);
    const described = cloudWatch.commandCalls(DescribeAlarmsCommand).flatMap((call) => call.args[0].input.AlarmNames ?? []);
    expect(described).not.toContain('fraud-prod-p50');
    expect(deletedNames().flat()).not.toContain('fraud-prod-p50');
  });

  test('an alarm deleted by someone else between describe and delete: described again, the rest deleted', async () => {
    let first = true;
    cloudWatch.on(DeleteAlarmsCommand).callsFake((input: DeleteAlarmsCommandInput) => {
      if (first) {
        first = false;
        alarms.delete(OWN_ALARMS[0]!); // the concurrent deletion
        throw cloudWatchError('ResourceNotFound', `alarm ${OWN_ALARMS[0]} does not exist`);
      }
      for (const name of input.AlarmNames ?? []) alarms.delete(name);
      return {};
    });
    await expect(handler({ plan: makePlan() })).resolves.toMatchObject({ deletedAlarms: [OWN_ALARMS[1], OWN_ALARMS[2]] });
    expect(cloudWatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 2);
    expect(alarms.size).toBe(0);
  });

  test('the record belongs to another rollout: left alone, recordDeleted false', async () => {
    dynamo.on(DeleteItemCommand).rejects(conditionFailed());
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ deletedAlarms: OWN_ALARMS, recordDeleted: false });
  });

  test('deleting the alarms fails: the record is still deleted, then the error surfaces', async () => {
    cloudWatch.on(DeleteAlarmsCommand).rejects(cloudWatchError('AccessDenied', 'not authorized to perform cloudwatch:DeleteAlarms'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(dynamo).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
  });

  test('bad input names the field', async () => {
    await expect(handler({ plan: { ...makePlan(), endpointName: 7 } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/^release-rollout: invalid input: plan\.endpointName/),
    });
    expect(cloudWatch.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
  });
});

describe('release-rollout: the CleanupCompleted lifecycle event (alarms)', () => {
  const { eventBridge, auditPuts, publishedEntries } = mockLifecycleByEnvironment({ dynamo });

  test('the alarms it deleted, recorded (key "alarms") in the history table then published', async () => {
    const plan = makePlan();
    alarms.delete(OWN_ALARMS[1]!);
    await handler({ plan });
    const [put, ...others] = auditPuts();
    expect(others).toEqual([]);
    expect(put!.TableName).toBe(HISTORY_TABLE);
    expect(put!.Item!.recordKey!.S).toBe(`EVENT#${plan.deploymentId}#CleanupCompleted#alarms`);
    const expected = {
      type: 'CleanupCompleted',
      rollout: rolloutRef(plan),
      resourcesRemoved: [OWN_ALARMS[0], OWN_ALARMS[2]].map((name) => ({ kind: 'alarm', name })),
    };
    expect(JSON.parse(put!.Item!.data!.S!)).toMatchObject(expected);
    expect(publishedEntries()).toEqual([expect.objectContaining({ EventBusName: LIFECYCLE_BUS, DetailType: 'Cleanup Completed', Detail: put!.Item!.data!.S })]);
  });

  test('no alarm left to delete (a second release): nothing recorded', async () => {
    alarms.clear();
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ deletedAlarms: [], recordDeleted: true });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('deleting the alarms failed: the step fails as before, nothing recorded', async () => {
    cloudWatch.on(DeleteAlarmsCommand).rejects(cloudWatchError('AccessDenied', 'not authorized to perform cloudwatch:DeleteAlarms'));
    await expect(handler({ plan: makePlan() })).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit trail and the bus failing do not fail the release', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler({ plan: makePlan() })).resolves.toEqual({ deletedAlarms: OWN_ALARMS, recordDeleted: true });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });
});

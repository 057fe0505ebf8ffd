/**
 * "Record approval decision": the operator's approval (who, why, when) in the audit trail and on the lifecycle
 * bus, through the plain function (mocked DynamoDB and EventBridge) and the handler (input checks).
 */
import 'aws-sdk-client-mock-jest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { handler } from '../../lambdas/record-approval';
import { recordApproval, RecordApprovalInputSchema } from '../../lambdas/record-approval/record';
import { ROLLOUT_HISTORY_TABLE_ENV, rolloutEventKey } from '../../lambdas/shared/audit-trail';
import { LIFECYCLE_EVENT_SOURCE } from '../../lambdas/shared/lifecycle-events';
import { DEPLOYMENT_ID, ENDPOINT, GROUP, makePlan, PACKAGE_ARN, VERSION } from './support/fixtures';
import { HISTORY_TABLE, mockLifecycleSink, SINK_AUDIT_TABLE, SINK_BUS } from './support/lifecycle';

const { dynamo, eventBridge: events, logger, sink: lifecycle } = mockLifecycleSink();

const DECIDED_AT = '2026-01-02T10:15:00.000Z';
const APPROVAL = { decision: 'APPROVED' as const, by: 'dave', reason: 'latency INCONCLUSIVE on a quiet night: the p99 is fine', decidedAt: DECIDED_AT };
const record = (approval: Record<string, unknown> = APPROVAL) =>
  recordApproval(RecordApprovalInputSchema.parse({ plan: makePlan(), approval }), { logger, lifecycle: lifecycle() });

afterEach(() => delete process.env[ROLLOUT_HISTORY_TABLE_ENV]);

describe('record-approval', () => {
  test('Approval Decided at the time of the decision: who and why, in the audit trail and on the bus', async () => {
    await expect(record()).resolves.toEqual({ decision: 'APPROVED', by: 'dave' });

    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    const put = dynamo.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ TableName: SINK_AUDIT_TABLE, ConditionExpression: 'attribute_not_exists(recordKey)' });
    expect(put.Item).toMatchObject({ endpointName: { S: ENDPOINT }, recordKey: { S: rolloutEventKey(DEPLOYMENT_ID, 'ApprovalDecided') }, at: { S: DECIDED_AT } });
    expect(JSON.parse(put.Item!.data!.S!)).toMatchObject({ type: 'ApprovalDecided', decision: 'APPROVED', by: 'dave', reason: APPROVAL.reason, at: DECIDED_AT });

    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ EventBusName: SINK_BUS, Source: LIFECYCLE_EVENT_SOURCE, DetailType: 'Approval Decided', Resources: [PACKAGE_ARN] });
    const detail = JSON.parse(entry.Detail!);
    expect(detail).toMatchObject({ decision: 'APPROVED', by: 'dave', at: DECIDED_AT, rollout: { deploymentId: DEPLOYMENT_ID, modelPackageVersion: VERSION } });
    expect(detail.message).toBe(`Rollout of ${GROUP} v${VERSION} on ${ENDPOINT} approved by dave: ${APPROVAL.reason}`);
  });

  test('no reason (null): the event has none', async () => {
    await record({ ...APPROVAL, reason: null });
    const detail = JSON.parse(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!);
    expect(detail).not.toHaveProperty('reason');
    expect(detail.message).toBe(`Rollout of ${GROUP} v${VERSION} on ${ENDPOINT} approved by dave`);
  });

  test('the audit table and the bus failing do not fail the step: both logged with the event', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'later' }] });
    await expect(record()).resolves.toEqual({ decision: 'APPROVED', by: 'dave' });
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect(logger.error.mock.calls[0]![1]).toMatchObject({ error: 'AccessDeniedException: denied', lifecycleEvent: expect.objectContaining({ by: 'dave' }) });
  });

  test('the handler records in the history table of its environment', async () => {
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY_TABLE;
    await expect(handler({ plan: makePlan(), approval: APPROVAL })).resolves.toEqual({ decision: 'APPROVED', by: 'dave' });
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, { TableName: HISTORY_TABLE });
  });

  test.each([
    [{ ...APPROVAL, decision: 'REJECTED' }, /approval\.decision: must be "APPROVED"/],
    [{ ...APPROVAL, by: '' }, /approval\.by: must not be empty/],
    [{ ...APPROVAL, by: 'x'.repeat(129) }, /approval\.by: must be at most 128 characters/],
    [{ ...APPROVAL, reason: undefined }, /approval\.reason: /],
    [{ ...APPROVAL, decidedAt: 'yesterday' }, /approval\.decidedAt: must be an ISO 8601 date-time/],
  ])('bad input %#: refused naming the field, nothing recorded', async (approval, message) => {
    process.env[ROLLOUT_HISTORY_TABLE_ENV] = HISTORY_TABLE;
    await expect(handler({ plan: makePlan(), approval })).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

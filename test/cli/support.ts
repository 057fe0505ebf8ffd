/**
 * Test doubles for the operator CLI: a context that captures output and builds real SFN clients (mocked with
 * aws-sdk-client-mock), a builder for execution histories shaped like the rollout state machine's, and the
 * rollout tables (active rollouts, history) served by the rehearsal's DynamoDB simulation.
 */
import { DynamoDBServiceException, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, SFNClient, SFNServiceException, type GetExecutionHistoryCommandInput, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { CliContext } from '../../cli/context';
import { serveFromSimulation, simulateRolloutsTable, type SimulatedRolloutsTable } from '../lambdas/support/simulated-rollouts-table';

export const REGION = 'eu-west-1';
export const EXECUTION_ARN = `arn:aws:states:${REGION}:123456789012:execution:BlueGreenRollout:churn-v7-3f9c2a1b`;
export const ENDPOINT = 'churn-prod';
export const PACKAGE_ARN = `arn:aws:sagemaker:${REGION}:123456789012:model-package/churn/7`;
export const NOW = new Date('2025-03-04T12:00:00.000Z');
export const SUMMARY = 'health PASS: 0 of 250 green requests failed\nlatency INCONCLUSIVE: 120 paired samples, 200 needed';
export const REPORT_URI = 's3://rollout-reports/churn-prod/3f9c2a1b/validation.json';

export type SfnMock = AwsClientStub<SFNClient>;

export interface CapturedContext {
  readonly context: CliContext;
  /** Everything written to stdout, one entry a line. */
  readonly out: string[];
  readonly err: string[];
  /** The region argument of every client the command asked for. */
  readonly requestedRegions: Array<string | undefined>;
}

/** A context whose clients default to the execution's region, as if AWS_REGION were set to it. */
export function capturedContext(options: { userName?: string | undefined; defaultRegion?: string } = {}): CapturedContext {
  const out: string[] = [];
  const err: string[] = [];
  const requestedRegions: Array<string | undefined> = [];
  const userName = 'userName' in options ? options.userName : 'alice';
  const context: CliContext = {
    out: (line) => out.push(...line.split('\n')),
    err: (line) => err.push(...line.split('\n')),
    aws: {
      stepFunctions(region) {
        requestedRegions.push(region);
        return new SFNClient({
          region: region ?? options.defaultRegion ?? REGION,
          credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
        });
      },
    },
    now: () => NOW,
    userName: () => userName,
  };
  return { context, out, err, requestedRegions };
}

export function serviceError(name: string, message = `${name} (simulated)`): SFNServiceException {
  return new SFNServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

/** The Parameters "Wait for approval" resolves to (state-machines/rollout.asl.json), as history shows them. */
export function approvalParameters(taskToken: string, overrides: { plan?: object; validation?: object } = {}): string {
  return JSON.stringify({
    FunctionName: `arn:aws:lambda:${REGION}:123456789012:function:BlueGreen-request-approval`,
    Payload: {
      taskToken,
      executionArn: EXECUTION_ARN,
      plan: {
        deploymentId: '3f9c2a1b',
        executionArn: EXECUTION_ARN,
        endpointName: ENDPOINT,
        modelPackage: { arn: PACKAGE_ARN, groupName: 'churn', version: 7, containers: [{ image: 'example.com/churn:7' }] },
        firstDeployment: false,
        ...overrides.plan,
      },
      validation: { verdict: 'INCONCLUSIVE', summary: SUMMARY, reportUri: REPORT_URI, gates: [], ...overrides.validation },
    },
  });
}

const WAIT_RESOURCE = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } as const;
const INVOKE_RESOURCE = { resourceType: 'lambda', resource: 'invoke' } as const;

/** Builds a history in chronological order, one event a second from the execution's start. */
export class HistoryBuilder {
  private readonly events: HistoryEvent[] = [];
  private readonly start = new Date(NOW.getTime() - 3_600_000);

  constructor() {
    this.add({ type: 'ExecutionStarted' });
  }

  /** A Lambda Task state that ran and succeeded. */
  lambdaState(name: string): this {
    this.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name } });
    this.add({ type: 'TaskScheduled', taskScheduledEventDetails: { ...INVOKE_RESOURCE, region: REGION, parameters: '{"Payload":{}}' } });
    this.add({ type: 'TaskStarted', taskStartedEventDetails: INVOKE_RESOURCE });
    this.add({ type: 'TaskSucceeded', taskSucceededEventDetails: { ...INVOKE_RESOURCE, output: '{"Payload":{}}' } });
    this.add({ type: 'TaskStateExited', stateExitedEventDetails: { name } });
    return this;
  }

  /** A state entered and not left (a Wait, or a Task still running). */
  enter(name: string, type: HistoryEvent['type'] = 'WaitStateEntered'): this {
    this.add({ type, stateEnteredEventDetails: { name } });
    return this;
  }

  exit(name: string, type: HistoryEvent['type'] = 'TaskStateExited'): this {
    this.add({ type, stateExitedEventDetails: { name } });
    return this;
  }

  /** "Wait for approval" scheduling its task: the request-approval Lambda is invoked with the token. */
  approvalScheduled(taskToken: string, parameters = approvalParameters(taskToken), timeoutInSeconds = 86_400): this {
    this.add({ type: 'TaskScheduled', taskScheduledEventDetails: { ...WAIT_RESOURCE, region: REGION, parameters, timeoutInSeconds } });
    this.add({ type: 'TaskStarted', taskStartedEventDetails: WAIT_RESOURCE });
    this.add({ type: 'TaskSubmitted', taskSubmittedEventDetails: { ...WAIT_RESOURCE, output: '{"StatusCode":200}' } });
    return this;
  }

  approvalSucceeded(): this {
    this.add({ type: 'TaskSucceeded', taskSucceededEventDetails: { ...WAIT_RESOURCE, output: '{"decision":"APPROVED"}' } });
    return this;
  }

  approvalFailed(error: string): this {
    this.add({ type: 'TaskFailed', taskFailedEventDetails: { ...WAIT_RESOURCE, error, cause: 'simulated' } });
    return this;
  }

  approvalTimedOut(): this {
    this.add({ type: 'TaskTimedOut', taskTimedOutEventDetails: { ...WAIT_RESOURCE, error: 'States.Timeout' } });
    return this;
  }

  /** Padding: `count` Wait loops (the endpoint polls that make real histories long). */
  pollLoops(count: number): this {
    for (let loop = 0; loop < count; loop++) {
      this.enter('Wait for green InService');
      this.exit('Wait for green InService', 'WaitStateExited');
    }
    return this;
  }

  /** The rollout up to the moment "Wait for approval" asks for a decision. */
  static untilApproval(taskToken: string): HistoryBuilder {
    return new HistoryBuilder()
      .lambdaState('Resolve rollout')
      .lambdaState('Provision green variant')
      .pollLoops(3)
      .lambdaState('Judge green')
      .enter('Wait for approval', 'TaskStateEntered')
      .approvalScheduled(taskToken);
  }

  build(): HistoryEvent[] {
    return this.events.map((event) => ({ ...event }));
  }

  private add(event: Omit<HistoryEvent, 'id' | 'timestamp' | 'previousEventId'>): void {
    const id = this.events.length + 1;
    this.events.push({ ...event, id, previousEventId: id - 1, timestamp: new Date(this.start.getTime() + id * 1000) } as HistoryEvent);
  }
}

/** When the latest approval task was scheduled in `events`. */
export function approvalScheduledAt(events: readonly HistoryEvent[]): Date {
  const scheduled = events.filter((event) => event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resource === WAIT_RESOURCE.resource);
  const timestamp = scheduled.at(-1)?.timestamp;
  if (!timestamp) throw new Error('no approval task in this history');
  return timestamp;
}

/**
 * Serves `events` the way GetExecutionHistory does: `maxResults`-sized pages (the service default, 100, unless
 * `pageSize` says otherwise), newest first when reverseOrder is set, and a nextToken while more remain.
 */
export function serveHistory(sfn: SfnMock, events: HistoryEvent[], pageSize = 100): void {
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const ordered = input.reverseOrder ? [...events].reverse() : events;
    const start = input.nextToken ? Number(input.nextToken.replace('page-from-', '')) : 0;
    const end = start + pageSize;
    return { events: ordered.slice(start, end), nextToken: end < ordered.length ? `page-from-${end}` : undefined };
  });
}

/** The rollout history table of simulateRolloutTables. */
export const HISTORY_TABLE = 'rollout-history';

/**
 * The active-rollouts table (simulateRolloutsTable, named SIMULATED_TABLE) and beside it the rollout history table
 * (HISTORY_TABLE: partition key endpointName, sort key recordKey, as lib/rollout-history-table.ts defines it), read
 * with Query as `status` and `history` read it. Call `mock.restore()` when done.
 */
export function simulateRolloutTables(): SimulatedRolloutsTable {
  const tables = simulateRolloutsTable();
  tables.simulation.createTable(HISTORY_TABLE, { partitionKey: 'endpointName', sortKey: 'recordKey' });
  serveFromSimulation(tables.mock, tables.simulation, QueryCommand, 'Query');
  return tables;
}

/** DynamoDB's answer to a caller whose identity may not call `dynamodb:<action>`. */
export function dynamoAccessDenied(action: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: `not authorized to perform: dynamodb:${action}` });
}

/**
 * The active-rollouts table for aws-sdk-client-mock, served by the rehearsal's DynamoDB simulation
 * (rehearsal/sim/dynamodb.ts): condition, update and filter expressions are evaluated as DynamoDB does, so a test
 * checks the item the table ends with. Only the simulation's DynamoDB is used (no SimulatedAws world, no
 * transport): the SDK's serialization is not exercised here (test/rehearsal/sim/dynamodb.test.ts does that).
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbSimulation } from '../../../rehearsal/sim/dynamodb';
import { AwsServiceError } from '../../../rehearsal/sim/errors';
import { ACCOUNT, REGION } from './fixtures';
import type { DynamoMock } from './rollouts-table';

export const SIMULATED_TABLE = 'active-rollouts';

export interface SimulatedRolloutsTable {
  /** The mock (every DynamoDBClient's send goes to it): call `restore()` when done. */
  readonly mock: DynamoMock;
  readonly simulation: DynamoDbSimulation;
  /** The item of `endpointName`, if any (a copy). */
  item(endpointName: string): Record<string, AttributeValue> | undefined;
  /** Every item (copies). */
  items(): Record<string, AttributeValue>[];
}

const OPERATIONS = [
  [GetItemCommand, 'GetItem'],
  [PutItemCommand, 'PutItem'],
  [UpdateItemCommand, 'UpdateItem'],
  [DeleteItemCommand, 'DeleteItem'],
  [ScanCommand, 'Scan'],
] as const;

/** Serves `command` on `mock` by the simulation's `operation` of the same name (e.g. QueryCommand by 'Query'). */
export function serveFromSimulation(mock: DynamoMock, simulation: DynamoDbSimulation, command: new (input: never) => object, operation: string): void {
  // The commands' input types differ; the simulation checks each input as DynamoDB does.
  mock.on(command as typeof GetItemCommand).callsFake((input: unknown) => {
    try {
      return simulation.execute(operation, structuredClone(input));
    } catch (error) {
      // What the SDK makes of the error response: an exception named after the error, with the body's members (Item).
      if (error instanceof AwsServiceError) throw Object.assign(new Error(error.message), { name: error.code, ...error.details });
      throw error;
    }
  });
}

/** Mocks DynamoDBClient with a fresh simulated table named SIMULATED_TABLE (partition key endpointName). */
export function simulateRolloutsTable(): SimulatedRolloutsTable {
  const simulation = new DynamoDbSimulation({ region: REGION, accountId: ACCOUNT });
  simulation.createTable(SIMULATED_TABLE, { partitionKey: 'endpointName' });
  const mock = mockClient(DynamoDBClient);
  for (const [command, operation] of OPERATIONS) serveFromSimulation(mock, simulation, command, operation);
  const items = () => simulation.items(SIMULATED_TABLE) as Record<string, AttributeValue>[];
  return { mock, simulation, items, item: (endpointName) => items().find((item) => item.endpointName?.S === endpointName) };
}

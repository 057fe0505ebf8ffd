/**
 * DynamoDB, in memory: tables seeded with `createTable` (there is no CreateTable API), and GetItem, PutItem,
 * UpdateItem, DeleteItem, Query and Scan with DynamoDB's expression languages (dynamodb-expressions.ts),
 * ReturnValues, ReturnValuesOnConditionCheckFailure, pagination, the 400 KB item limit, and DynamoDB's error
 * names and messages (ConditionalCheckFailedException "The conditional request failed", ResourceNotFoundException
 * "Requested resource not found", ValidationException for unused expression attributes, key mismatches...).
 *
 * Reads are always strongly consistent here (ConsistentRead is accepted and changes only the capacity
 * reported). Legacy parameters (Expected, AttributeUpdates, KeyConditions, ...) are refused rather than ignored.
 */
import { z } from 'zod';
import { AwsServiceError } from './errors';
import {
  applyUpdate,
  ATTRIBUTE_TYPES,
  attributeType,
  canonicalNumber,
  compareScalars,
  dynamoValidation,
  evaluateCondition,
  ExpressionAttributes,
  itemSize,
  parseCondition,
  parseKeyCondition,
  parseProjection,
  parseUpdate,
  project,
  type AttributeType,
  type AttributeValue,
  type Condition,
  type DocumentPath,
  type Item,
  type Operand,
} from './dynamodb-expressions';
import { parseAwsInput } from './validation';

export type { AttributeValue, Item } from './dynamodb-expressions';

/** Key attribute types a table can declare. */
export type KeyAttributeType = 'S' | 'N' | 'B';

/** A table's key schema, for `createTable`. */
export interface TableKeySchema {
  /** The partition (hash) key attribute. */
  readonly partitionKey: string;
  /** @default 'S' */
  readonly partitionKeyType?: KeyAttributeType;
  /** The sort (range) key attribute. @default none */
  readonly sortKey?: string;
  /** @default 'S' */
  readonly sortKeyType?: KeyAttributeType;
}

export interface DynamoDbSimulationOptions {
  readonly region: string;
  readonly accountId: string;
}

interface Table {
  readonly name: string;
  readonly arn: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly types: Readonly<Record<string, AttributeType>>;
  /** Items by their canonical key. */
  readonly items: Map<string, Item>;
}

/** DynamoDB's limit on one item. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** A Query or Scan page stops once it has read this much. */
const MAX_PAGE_BYTES = 1024 * 1024;
const TABLE_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

const attributeMap = z.record(z.string(), z.unknown());
const expressionAttributeNames = z.record(z.string(), z.string());
const returnConsumedCapacity = z.enum(['INDEXES', 'TOTAL', 'NONE']);
const returnValues = z.enum(['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
const returnValuesOnConditionCheckFailure = z.enum(['ALL_OLD', 'NONE']);
const legacy = z.unknown().optional();

const getItemInput = z.object({
  TableName: z.string().min(1).max(1024),
  Key: attributeMap,
  AttributesToGet: legacy,
  ConsistentRead: z.boolean().optional(),
  ReturnConsumedCapacity: returnConsumedCapacity.optional(),
  ProjectionExpression: z.string().optional(),
  ExpressionAttributeNames: expressionAttributeNames.optional(),
});

const writeMembers = {
  TableName: z.string().min(1).max(1024),
  Expected: legacy,
  ConditionalOperator: legacy,
  ReturnValues: returnValues.optional(),
  ReturnConsumedCapacity: returnConsumedCapacity.optional(),
  ReturnItemCollectionMetrics: z.enum(['SIZE', 'NONE']).optional(),
  ConditionExpression: z.string().optional(),
  ExpressionAttributeNames: expressionAttributeNames.optional(),
  ExpressionAttributeValues: attributeMap.optional(),
  ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure.optional(),
};

const putItemInput = z.object({ ...writeMembers, Item: attributeMap });
const updateItemInput = z.object({ ...writeMembers, Key: attributeMap, AttributeUpdates: legacy, UpdateExpression: z.string().optional() });
const deleteItemInput = z.object({ ...writeMembers, Key: attributeMap });

const readManyMembers = {
  TableName: z.string().min(1).max(1024),
  IndexName: z.string().min(3).max(255).regex(TABLE_NAME_PATTERN).optional(),
  Select: z.enum(['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT']).optional(),
  AttributesToGet: legacy,
  Limit: z.number().int().min(1).optional(),
  ConsistentRead: z.boolean().optional(),
  ConditionalOperator: legacy,
  ExclusiveStartKey: attributeMap.optional(),
  ReturnConsumedCapacity: returnConsumedCapacity.optional(),
  ProjectionExpression: z.string().optional(),
  FilterExpression: z.string().optional(),
  ExpressionAttributeNames: expressionAttributeNames.optional(),
  ExpressionAttributeValues: attributeMap.optional(),
};

const queryInput = z.object({
  ...readManyMembers,
  KeyConditions: legacy,
  QueryFilter: legacy,
  ScanIndexForward: z.boolean().optional(),
  KeyConditionExpression: z.string().optional(),
});

const scanInput = z.object({
  ...readManyMembers,
  ScanFilter: legacy,
  TotalSegments: z.number().int().min(1).max(1_000_000).optional(),
  Segment: z.number().int().min(0).max(999_999).optional(),
});

function conditionalCheckFailed(item: Item | undefined): AwsServiceError {
  return new AwsServiceError('ConditionalCheckFailedException', 'The conditional request failed', {
    service: 'dynamodb',
    ...(item !== undefined ? { details: { Item: item } } : {}),
  });
}

function resourceNotFound(): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', 'Requested resource not found', { service: 'dynamodb' });
}

function serializationError(message: string): AwsServiceError {
  return new AwsServiceError('SerializationException', message, { service: 'dynamodb' });
}

/** AWS accepts these members; the simulation refuses them rather than ignoring what they would change. */
function notSimulated(member: string): AwsServiceError {
  return dynamoValidation(`${member} is a legacy parameter the DynamoDB simulation does not support: use expressions.`);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'structure' : typeof value;
}

const SET_WORDS: Readonly<Record<'SS' | 'NS' | 'BS', string>> = { SS: 'string', NS: 'number', BS: 'binary' };

/** Validates one AttributeValue from the wire and returns it in canonical form (numbers normalized). */
export function toAttributeValue(raw: unknown): AttributeValue {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw serializationError(`Start of ${jsonKind(raw)} found where an AttributeValue structure was expected.`);
  }
  const members = Object.entries(raw as Record<string, unknown>).filter(
    ([name, value]) => value !== null && value !== undefined && (ATTRIBUTE_TYPES as readonly string[]).includes(name),
  );
  if (members.length === 0) throw dynamoValidation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  if (members.length > 1) throw dynamoValidation('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
  const [type, value] = members[0] as [AttributeType, unknown];
  const expectString = (member: unknown): string => {
    if (typeof member !== 'string') throw serializationError(`Expected a string for an AttributeValue of type ${type} but found ${jsonKind(member)}.`);
    return member;
  };
  switch (type) {
    case 'S':
      return { S: expectString(value) };
    case 'N':
      return { N: canonicalNumber(expectString(value)) };
    case 'B':
      return { B: expectString(value) };
    case 'BOOL':
      if (typeof value !== 'boolean') throw serializationError(`Expected a boolean for an AttributeValue of type BOOL but found ${jsonKind(value)}.`);
      return { BOOL: value };
    case 'NULL':
      if (value !== true) throw dynamoValidation('One or more parameter values were invalid: Null attribute value types must have the value of true');
      return { NULL: true };
    case 'M':
      if (typeof value !== 'object' || Array.isArray(value)) throw serializationError(`Expected a map for an AttributeValue of type M but found ${jsonKind(value)}.`);
      return { M: toItem(value as Record<string, unknown>) };
    case 'L':
      if (!Array.isArray(value)) throw serializationError(`Expected a list for an AttributeValue of type L but found ${jsonKind(value)}.`);
      return { L: value.map(toAttributeValue) };
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(value)) throw serializationError(`Expected a list for an AttributeValue of type ${type} but found ${jsonKind(value)}.`);
      const members = value.map((member) => (type === 'NS' ? canonicalNumber(expectString(member)) : expectString(member)));
      if (members.length === 0) throw dynamoValidation(`One or more parameter values were invalid: An ${SET_WORDS[type]} set  may not be empty`);
      const canonical = type === 'BS' ? members.map((member) => Buffer.from(member, 'base64').toString('base64')) : members;
      if (new Set(canonical).size !== canonical.length) {
        throw dynamoValidation(`One or more parameter values were invalid: Input collection [${value.join(', ')}] contains duplicates.`);
      }
      return type === 'SS' ? { SS: members } : type === 'NS' ? { NS: members } : { BS: members };
    }
  }
}

function toItem(raw: Record<string, unknown>): Item {
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, toAttributeValue(value)]));
}

/** The value of a key attribute, as a string that sorts and compares like the value. */
function keyPart(value: AttributeValue): string {
  if ('B' in value) return `B:${Buffer.from(value.B, 'base64').toString('base64')}`;
  if ('N' in value) return `N:${value.N}`;
  if ('S' in value) return `S:${value.S}`;
  return JSON.stringify(value);
}

function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

export class DynamoDbSimulation {
  private readonly tables = new Map<string, Table>();
  private readonly region: string;
  private readonly accountId: string;

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    GetItem: (input) => this.getItem(input),
    PutItem: (input) => this.putItem(input),
    UpdateItem: (input) => this.updateItem(input),
    DeleteItem: (input) => this.deleteItem(input),
    Query: (input) => this.query(input),
    Scan: (input) => this.scan(input),
  };

  constructor(options: DynamoDbSimulationOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
  }

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /** Executes one API operation on its decoded JSON input; throws AwsServiceError as DynamoDB would answer. */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) {
      throw new AwsServiceError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`, { service: 'dynamodb' });
    }
    return run(input);
  }

  // ---------------------------------------------------------------- seeding and inspection

  /** Creates an empty table (ACTIVE at once). */
  createTable(name: string, schema: TableKeySchema): void {
    if (name.length < 3 || name.length > 255 || !TABLE_NAME_PATTERN.test(name)) throw new Error(`invalid DynamoDB table name "${name}"`);
    if (this.tables.has(name)) throw new Error(`table ${name} already exists`);
    if (schema.sortKey === schema.partitionKey) throw new Error(`table ${name}: the sort key must differ from the partition key`);
    this.tables.set(name, {
      name,
      arn: `arn:aws:dynamodb:${this.region}:${this.accountId}:table/${name}`,
      partitionKey: schema.partitionKey,
      ...(schema.sortKey !== undefined ? { sortKey: schema.sortKey } : {}),
      types: {
        [schema.partitionKey]: schema.partitionKeyType ?? 'S',
        ...(schema.sortKey !== undefined ? { [schema.sortKey]: schema.sortKeyType ?? 'S' } : {}),
      },
      items: new Map(),
    });
  }

  /** The table's items (copies), in key order. Throws if the table does not exist. */
  items(tableName: string): Item[] {
    const table = this.tables.get(tableName);
    if (!table) throw new Error(`no DynamoDB table ${tableName}`);
    return this.ordered(table, [...table.items.values()]).map((item) => structuredClone(item));
  }

  // ---------------------------------------------------------------- helpers

  /** A table by name or ARN. */
  private requireTable(nameOrArn: string): Table {
    const arn = /^arn:aws[a-z-]*:dynamodb:([^:]*):(\d{12}):table\/(.+)$/.exec(nameOrArn);
    if (arn) {
      const [, region, account, name] = arn;
      const table = region === this.region && account === this.accountId ? this.tables.get(name!) : undefined;
      if (!table) throw resourceNotFound();
      return table;
    }
    if (nameOrArn.length < 3 || nameOrArn.length > 255 || !TABLE_NAME_PATTERN.test(nameOrArn)) {
      throw dynamoValidation(
        `1 validation error detected: Value '${nameOrArn}' at 'tableName' failed to satisfy constraint: ${
          nameOrArn.length < 3
            ? 'Member must have length greater than or equal to 3'
            : nameOrArn.length > 255
              ? 'Member must have length less than or equal to 255'
              : `Member must satisfy regular expression pattern: ${TABLE_NAME_PATTERN.source}`
        }`,
      );
    }
    const table = this.tables.get(nameOrArn);
    if (!table) throw resourceNotFound();
    return table;
  }

  private keyAttributes(table: Table): string[] {
    return table.sortKey !== undefined ? [table.partitionKey, table.sortKey] : [table.partitionKey];
  }

  /** Validates a Key (exactly the key attributes, of the declared types, non-empty); returns its canonical string. */
  private keyOf(table: Table, rawKey: Record<string, unknown>, what = 'key element'): { key: Item; id: string } {
    const key = toItem(rawKey);
    const names = this.keyAttributes(table);
    const matches =
      Object.keys(key).length === names.length && names.every((name) => key[name] !== undefined && attributeType(key[name]!) === table.types[name]);
    if (!matches) throw dynamoValidation(`The provided ${what} does not match the schema`);
    for (const name of names) this.checkNotEmpty(key[name]!, name);
    return { key, id: this.idOf(table, key) };
  }

  private checkNotEmpty(value: AttributeValue, name: string): void {
    const empty = ('S' in value && value.S === '') || ('B' in value && value.B === '');
    if (empty) {
      throw dynamoValidation(
        `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${'S' in value ? 'string' : 'binary'} value. Key: ${name}`,
      );
    }
  }

  private idOf(table: Table, item: Item): string {
    return JSON.stringify(this.keyAttributes(table).map((name) => keyPart(item[name]!)));
  }

  private keyProjection(table: Table, item: Item): Item {
    return Object.fromEntries(this.keyAttributes(table).map((name) => [name, item[name]!]));
  }

  /** Orders items by partition key, then sort key (DynamoDB's byte/number order). */
  private ordered(table: Table, items: Item[]): Item[] {
    return items.sort((a, b) => this.compareKeys(table, a, b));
  }

  private compareKeys(table: Table, a: Item, b: Item): number {
    for (const name of this.keyAttributes(table)) {
      const order = compareScalars(a[name]!, b[name]!) ?? 0;
      if (order !== 0) return order;
    }
    return 0;
  }

  /** ExpressionAttributeNames/Values after DynamoDB's own checks on them. */
  private expressionAttributes(
    input: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> },
    expressions: readonly (string | undefined)[],
  ): ExpressionAttributes {
    const names = input.ExpressionAttributeNames;
    const rawValues = input.ExpressionAttributeValues;
    const usesExpressions = expressions.some((expression) => expression !== undefined);
    if (names !== undefined) {
      if (!usesExpressions) throw dynamoValidation('ExpressionAttributeNames can only be specified when using expressions');
      if (Object.keys(names).length === 0) throw dynamoValidation('ExpressionAttributeNames must not be empty');
      for (const placeholder of Object.keys(names)) {
        if (!/^#[A-Za-z0-9_]+$/.test(placeholder)) throw dynamoValidation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${placeholder}"`);
      }
    }
    let values: Record<string, AttributeValue> | undefined;
    if (rawValues !== undefined) {
      if (!usesExpressions) throw dynamoValidation('ExpressionAttributeValues can only be specified when using expressions');
      if (Object.keys(rawValues).length === 0) throw dynamoValidation('ExpressionAttributeValues must not be empty');
      values = {};
      for (const [placeholder, raw] of Object.entries(rawValues)) {
        if (!/^:[A-Za-z0-9_]+$/.test(placeholder)) throw dynamoValidation(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${placeholder}"`);
        try {
          values[placeholder] = toAttributeValue(raw);
        } catch (error) {
          if (error instanceof AwsServiceError && error.code === 'ValidationException') {
            throw dynamoValidation(`ExpressionAttributeValues contains invalid value: ${error.message} for key ${placeholder}`);
          }
          throw error;
        }
      }
    }
    return new ExpressionAttributes(names, values);
  }

  private rejectLegacy(input: Record<string, unknown>, members: readonly string[]): void {
    for (const member of members) if (input[member] !== undefined) throw notSimulated(member);
  }

  private consumed(table: Table, mode: string | undefined, units: number): object {
    if (mode === undefined || mode === 'NONE') return {};
    return {
      ConsumedCapacity: {
        TableName: table.name,
        CapacityUnits: units,
        ...(mode === 'INDEXES' ? { Table: { CapacityUnits: units } } : {}),
      },
    };
  }

  /** The condition check of a write: throws ConditionalCheckFailedException (with the item when asked). */
  private checkCondition(condition: Condition | undefined, existing: Item | undefined, returnOnFailure: string | undefined): void {
    if (condition === undefined || evaluateCondition(condition, existing ?? {})) return;
    throw conditionalCheckFailed(returnOnFailure === 'ALL_OLD' ? existing : undefined);
  }

  private checkSize(item: Item, message: string): void {
    if (itemSize(item) > MAX_ITEM_BYTES) throw dynamoValidation(message);
  }

  // ---------------------------------------------------------------- operations

  private getItem(rawInput: unknown): object {
    const input = parseAwsInput(getItemInput, rawInput);
    this.rejectLegacy(input, ['AttributesToGet']);
    const table = this.requireTable(input.TableName);
    const attributes = this.expressionAttributes(input, [input.ProjectionExpression]);
    const projection = input.ProjectionExpression !== undefined ? parseProjection(input.ProjectionExpression, attributes) : undefined;
    attributes.checkAllUsed();
    const { id } = this.keyOf(table, input.Key);
    const item = table.items.get(id);
    const consumed = this.consumed(table, input.ReturnConsumedCapacity, readUnits(item ? itemSize(item) : 0, input.ConsistentRead === true));
    if (!item) return consumed;
    return { Item: projection ? project(item, projection) : structuredClone(item), ...consumed };
  }

  private putItem(rawInput: unknown): object {
    const input = parseAwsInput(putItemInput, rawInput);
    this.rejectLegacy(input, ['Expected', 'ConditionalOperator']);
    const table = this.requireTable(input.TableName);
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE' && input.ReturnValues !== 'ALL_OLD') {
      throw dynamoValidation('Return values set to invalid value');
    }
    const attributes = this.expressionAttributes(input, [input.ConditionExpression]);
    const condition = input.ConditionExpression !== undefined ? parseCondition(input.ConditionExpression, 'ConditionExpression', attributes) : undefined;
    attributes.checkAllUsed();
    const item = toItem(input.Item);
    for (const name of this.keyAttributes(table)) {
      const value = item[name];
      if (value === undefined) throw dynamoValidation(`One or more parameter values were invalid: Missing the key ${name} in the item`);
      if (attributeType(value) !== table.types[name]) {
        throw dynamoValidation(`One or more parameter values were invalid: Type mismatch for key ${name} expected: ${table.types[name]} actual: ${attributeType(value)}`);
      }
      this.checkNotEmpty(value, name);
    }
    this.checkSize(item, 'Item size has exceeded the maximum allowed size');
    const id = this.idOf(table, item);
    const existing = table.items.get(id);
    this.checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    table.items.set(id, item);
    return {
      ...(input.ReturnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {}),
      ...this.consumed(table, input.ReturnConsumedCapacity, writeUnits(Math.max(itemSize(item), existing ? itemSize(existing) : 0))),
    };
  }

  private updateItem(rawInput: unknown): object {
    const input = parseAwsInput(updateItemInput, rawInput);
    this.rejectLegacy(input, ['Expected', 'ConditionalOperator', 'AttributeUpdates']);
    const table = this.requireTable(input.TableName);
    const attributes = this.expressionAttributes(input, [input.UpdateExpression, input.ConditionExpression]);
    const update = input.UpdateExpression !== undefined ? parseUpdate(input.UpdateExpression, attributes) : undefined;
    const condition = input.ConditionExpression !== undefined ? parseCondition(input.ConditionExpression, 'ConditionExpression', attributes) : undefined;
    attributes.checkAllUsed();
    const { key, id } = this.keyOf(table, input.Key);
    for (const action of update?.actions ?? []) {
      const top = action.path[0]!;
      if (top.kind === 'attribute' && this.keyAttributes(table).includes(top.name)) {
        throw dynamoValidation(`One or more parameter values were invalid: Cannot update attribute ${top.name}. This attribute is part of the key`);
      }
    }
    const existing = table.items.get(id);
    this.checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    const before: Item = existing ?? key;
    const result = update ? applyUpdate(update, before) : { item: before, updatedPaths: [] as DocumentPath[] };
    const item: Item = { ...result.item, ...key };
    this.checkSize(item, 'Item size to update has exceeded the maximum allowed size');
    table.items.set(id, item);
    const returned = this.returnedAttributes(input.ReturnValues, existing, item, result.updatedPaths);
    return {
      ...(returned !== undefined ? { Attributes: returned } : {}),
      ...this.consumed(table, input.ReturnConsumedCapacity, writeUnits(Math.max(itemSize(item), existing ? itemSize(existing) : 0))),
    };
  }

  private returnedAttributes(mode: string | undefined, old: Item | undefined, updated: Item, paths: readonly DocumentPath[]): Item | undefined {
    let attributes: Item | undefined;
    switch (mode) {
      case 'ALL_OLD':
        attributes = old;
        break;
      case 'ALL_NEW':
        attributes = updated;
        break;
      case 'UPDATED_OLD':
        attributes = old ? project(old, paths) : undefined;
        break;
      case 'UPDATED_NEW':
        attributes = project(updated, paths);
        break;
      default:
        attributes = undefined;
    }
    return attributes !== undefined && Object.keys(attributes).length > 0 ? structuredClone(attributes) : undefined;
  }

  private deleteItem(rawInput: unknown): object {
    const input = parseAwsInput(deleteItemInput, rawInput);
    this.rejectLegacy(input, ['Expected', 'ConditionalOperator']);
    const table = this.requireTable(input.TableName);
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE' && input.ReturnValues !== 'ALL_OLD') {
      throw dynamoValidation('Return values set to invalid value');
    }
    const attributes = this.expressionAttributes(input, [input.ConditionExpression]);
    const condition = input.ConditionExpression !== undefined ? parseCondition(input.ConditionExpression, 'ConditionExpression', attributes) : undefined;
    attributes.checkAllUsed();
    const { id } = this.keyOf(table, input.Key);
    const existing = table.items.get(id);
    this.checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    table.items.delete(id);
    return {
      ...(input.ReturnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {}),
      ...this.consumed(table, input.ReturnConsumedCapacity, writeUnits(existing ? itemSize(existing) : 0)),
    };
  }

  private query(rawInput: unknown): object {
    const input = parseAwsInput(queryInput, rawInput);
    this.rejectLegacy(input, ['AttributesToGet', 'ConditionalOperator', 'KeyConditions', 'QueryFilter']);
    const table = this.requireTable(input.TableName);
    if (input.IndexName !== undefined) throw dynamoValidation(`The table does not have the specified index: ${input.IndexName}`);
    if (input.KeyConditionExpression === undefined) {
      throw dynamoValidation('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
    }
    const attributes = this.expressionAttributes(input, [input.KeyConditionExpression, input.FilterExpression, input.ProjectionExpression]);
    const keyCondition = parseKeyCondition(input.KeyConditionExpression, attributes, {
      partitionKey: table.partitionKey,
      ...(table.sortKey !== undefined ? { sortKey: table.sortKey } : {}),
      types: table.types,
    });
    const filter = input.FilterExpression !== undefined ? parseCondition(input.FilterExpression, 'FilterExpression', attributes) : undefined;
    const projection = this.projectionFor(input, attributes);
    attributes.checkAllUsed();
    if (filter) this.checkFilterUsesNoKey(table, filter);
    const startKey = input.ExclusiveStartKey !== undefined ? this.keyOf(table, input.ExclusiveStartKey, 'starting key').key : undefined;

    const partition = this.ordered(
      table,
      [...table.items.values()].filter((item) => compareScalars(item[table.partitionKey]!, keyCondition.partitionValue) === 0),
    ).filter((item) => keyCondition.sortKey === undefined || evaluateCondition(keyCondition.sortKey, item));
    const direction = input.ScanIndexForward === false ? -1 : 1;
    if (direction < 0) partition.reverse();
    return this.page(table, partition, startKey, direction, input, filter, projection);
  }

  private scan(rawInput: unknown): object {
    const input = parseAwsInput(scanInput, rawInput);
    this.rejectLegacy(input, ['AttributesToGet', 'ConditionalOperator', 'ScanFilter']);
    const table = this.requireTable(input.TableName);
    if (input.IndexName !== undefined) throw dynamoValidation(`The table does not have the specified index: ${input.IndexName}`);
    if ((input.Segment === undefined) !== (input.TotalSegments === undefined)) {
      throw dynamoValidation(
        input.Segment === undefined
          ? 'The Segment parameter is required but was not present in the request when parameter TotalSegments is present'
          : 'The TotalSegments parameter is required but was not present in the request when Segment parameter is present',
      );
    }
    if (input.Segment !== undefined && input.TotalSegments !== undefined && input.Segment >= input.TotalSegments) {
      throw dynamoValidation(`The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${input.Segment} is not less than TotalSegments: ${input.TotalSegments}`);
    }
    const attributes = this.expressionAttributes(input, [input.FilterExpression, input.ProjectionExpression]);
    const filter = input.FilterExpression !== undefined ? parseCondition(input.FilterExpression, 'FilterExpression', attributes) : undefined;
    const projection = this.projectionFor(input, attributes);
    attributes.checkAllUsed();
    const startKey = input.ExclusiveStartKey !== undefined ? this.keyOf(table, input.ExclusiveStartKey, 'starting key').key : undefined;
    let items = this.ordered(table, [...table.items.values()]);
    if (input.TotalSegments !== undefined) {
      items = items.filter((item) => segmentOf(this.idOf(table, item), input.TotalSegments!) === input.Segment);
    }
    return this.page(table, items, startKey, 1, input, filter, projection);
  }

  private projectionFor(input: z.output<typeof scanInput> | z.output<typeof queryInput>, attributes: ExpressionAttributes): DocumentPath[] | undefined {
    if (input.Select === 'ALL_PROJECTED_ATTRIBUTES') throw dynamoValidation('ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName');
    if (input.ProjectionExpression !== undefined && input.Select !== undefined && input.Select !== 'SPECIFIC_ATTRIBUTES') {
      throw dynamoValidation(`Cannot specify the ProjectionExpression when choosing to get ${input.Select}`);
    }
    if (input.Select === 'SPECIFIC_ATTRIBUTES' && input.ProjectionExpression === undefined) {
      throw dynamoValidation('SPECIFIC_ATTRIBUTES requires a ProjectionExpression (AttributesToGet is not supported by the simulation)');
    }
    return input.ProjectionExpression !== undefined ? parseProjection(input.ProjectionExpression, attributes) : undefined;
  }

  /** DynamoDB refuses filters on key attributes in a Query (they belong in the key condition). */
  private checkFilterUsesNoKey(table: Table, filter: Condition): void {
    const keys = this.keyAttributes(table);
    const operandsOf = (node: Condition): Operand[] => {
      switch (node.kind) {
        case 'and':
        case 'or':
          return [...operandsOf(node.left), ...operandsOf(node.right)];
        case 'not':
          return operandsOf(node.condition);
        case 'compare':
          return [node.left, node.right];
        case 'between':
          return [node.operand, node.low, node.high];
        case 'in':
          return [node.operand, ...node.candidates];
        case 'function':
          return [...node.args];
      }
    };
    const visit = (node: Condition): void => {
      for (const operand of operandsOf(node)) {
        if (operand.kind !== 'value' && operand.path.length >= 1 && operand.path[0]!.kind === 'attribute' && keys.includes(operand.path[0]!.name)) {
          throw dynamoValidation(`Filter Expression can only contain non-primary key attributes: Primary key attribute: ${operand.path[0]!.name}`);
        }
      }
    };
    visit(filter);
  }

  /**
   * One page of a Query or Scan over `candidates` (already in key order, or reverse order when `direction` is -1):
   * starts after ExclusiveStartKey (even if that item is gone), stops after
   * Limit evaluated items or 1 MB read, filters, projects. LastEvaluatedKey is set whenever the page stopped early,
   * as DynamoDB does, even if no item remains.
   */
  private page(
    table: Table,
    candidates: Item[],
    startKey: Item | undefined,
    direction: 1 | -1,
    input: z.output<typeof scanInput> | z.output<typeof queryInput>,
    filter: Condition | undefined,
    projection: DocumentPath[] | undefined,
  ): object {
    let start = 0;
    if (startKey !== undefined) {
      start = candidates.findIndex((item) => this.compareKeys(table, item, startKey) * direction > 0);
      if (start < 0) start = candidates.length;
    }
    const evaluated: Item[] = [];
    let bytes = 0;
    let stoppedEarly = false;
    for (let index = start; index < candidates.length; index++) {
      const item = candidates[index]!;
      evaluated.push(item);
      bytes += itemSize(item);
      if ((input.Limit !== undefined && evaluated.length >= input.Limit) || bytes >= MAX_PAGE_BYTES) {
        stoppedEarly = true;
        break;
      }
    }
    const matching = filter ? evaluated.filter((item) => evaluateCondition(filter, item)) : evaluated;
    const last = evaluated[evaluated.length - 1];
    return {
      ...(input.Select === 'COUNT' ? {} : { Items: matching.map((item) => (projection ? project(item, projection) : structuredClone(item))) }),
      Count: matching.length,
      ScannedCount: evaluated.length,
      ...(stoppedEarly && last ? { LastEvaluatedKey: this.keyProjection(table, last) } : {}),
      ...this.consumed(table, input.ReturnConsumedCapacity, readUnits(bytes, input.ConsistentRead === true)),
    };
  }
}

/** A stable segment for parallel scans (FNV-1a of the item's key). */
function segmentOf(id: string, totalSegments: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % totalSegments;
}

/**
 * DynamoDB's expression languages and values, directly: the condition grammar (comparisons, BETWEEN, IN, AND/OR/NOT,
 * functions, document paths), key conditions, update and projection expressions, and DynamoDB's error messages.
 */
import {
  addNumbers,
  applyUpdate,
  canonicalNumber,
  evaluateCondition,
  ExpressionAttributes,
  itemSize,
  parseCondition,
  parseKeyCondition,
  parseProjection,
  parseUpdate,
  project,
  valuesEqual,
  type AttributeValue,
  type Item,
} from '../../../rehearsal/sim/dynamodb-expressions';
import { AwsServiceError } from '../../../rehearsal/sim/errors';

const ITEM: Item = {
  pk: { S: 'fraud-prod' },
  count: { N: '3' },
  name: { S: 'blue-v1' },
  tags: { SS: ['gpu', 'prod'] },
  weights: { NS: ['1', '0.5'] },
  active: { BOOL: true },
  nothing: { NULL: true },
  info: { M: { team: { S: 'ml' }, history: { L: [{ S: 'v1' }, { S: 'v2' }, { N: '7' }] } } },
  payload: { B: Buffer.from('hello').toString('base64') },
};

function attrs(values: Record<string, AttributeValue> = {}, names?: Record<string, string>): ExpressionAttributes {
  return new ExpressionAttributes(names, Object.keys(values).length > 0 ? values : undefined);
}

/** Evaluates a ConditionExpression on ITEM (or `item`). */
function holds(expression: string, values: Record<string, AttributeValue> = {}, names?: Record<string, string>, item: Item = ITEM): boolean {
  return evaluateCondition(parseCondition(expression, 'ConditionExpression', attrs(values, names)), item);
}

function validationMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AwsServiceError);
    expect((error as AwsServiceError).code).toBe('ValidationException');
    return (error as Error).message;
  }
  throw new Error('expected a ValidationException');
}

describe('numbers', () => {
  test('are stored in canonical form and compared by value', () => {
    expect(canonicalNumber('01.50')).toBe('1.5');
    expect(canonicalNumber('1E2')).toBe('100');
    expect(canonicalNumber('-0.00')).toBe('0');
    expect(canonicalNumber('2.5e-3')).toBe('0.0025');
    expect(valuesEqual({ N: '1.0' }, { N: '1' })).toBe(true);
    expect(addNumbers('0.1', '0.2')).toBe('0.3');
    expect(addNumbers('5', '7.25', true)).toBe('-2.25');
  });

  test('outside 38 digits or the 1E-130..1E126 range, or not numbers, are refused', () => {
    expect(validationMessage(() => canonicalNumber('1234567890123456789012345678901234567890'))).toBe(
      'Attempting to store more than 38 significant digits in a Number',
    );
    expect(validationMessage(() => canonicalNumber('1E126'))).toMatch(/^Number overflow/);
    expect(validationMessage(() => canonicalNumber('1E-131'))).toMatch(/^Number underflow/);
    expect(validationMessage(() => canonicalNumber('abc'))).toBe('The parameter cannot be converted to a numeric value: abc');
  });
});

describe('conditions', () => {
  test('comparisons order strings by bytes, numbers by value, and fail across types', () => {
    expect(holds('#c > :two', { ':two': { N: '2' } }, { '#c': 'count' })).toBe(true);
    expect(holds('#c <= :two', { ':two': { N: '2.9' } }, { '#c': 'count' })).toBe(false);
    expect(holds('#n < :s', { ':s': { S: 'blue-v2' } }, { '#n': 'name' })).toBe(true);
    expect(holds('#c < :s', { ':s': { S: 'z' } }, { '#c': 'count' })).toBe(false);
    expect(holds('pk = :pk', { ':pk': { S: 'fraud-prod' } })).toBe(true);
  });

  test('<> holds for an absent attribute; =, <, BETWEEN and IN do not', () => {
    const values = { ':v': { S: 'x' } };
    expect(holds('absent <> :v', values)).toBe(true);
    expect(holds('absent = :v', values)).toBe(false);
    expect(holds('absent < :v', values)).toBe(false);
    expect(holds('absent BETWEEN :v AND :v', values)).toBe(false);
    expect(holds('absent IN (:v)', values)).toBe(false);
  });

  test('BETWEEN is inclusive, IN compares by value, sets compare regardless of order', () => {
    expect(holds('#c BETWEEN :a AND :b', { ':a': { N: '3' }, ':b': { N: '10' } }, { '#c': 'count' })).toBe(true);
    expect(holds('#c BETWEEN :a AND :b', { ':a': { N: '4' }, ':b': { N: '10' } }, { '#c': 'count' })).toBe(false);
    expect(holds('#c IN (:a, :b)', { ':a': { N: '1' }, ':b': { N: '3.0' } }, { '#c': 'count' })).toBe(true);
    expect(holds('tags = :t', { ':t': { SS: ['prod', 'gpu'] } })).toBe(true);
  });

  test('AND binds tighter than OR, NOT tighter than AND, parentheses override', () => {
    const values = { ':t': { BOOL: true }, ':f': { BOOL: false } };
    expect(holds('active = :f AND active = :t OR active = :t', values)).toBe(true);
    expect(holds('active = :f AND (active = :t OR active = :t)', values)).toBe(false);
    expect(holds('NOT active = :f AND active = :t', values)).toBe(true);
    expect(holds('not (active = :t or active = :f)', values)).toBe(false);
  });

  test('functions: attribute_exists/not_exists, attribute_type, begins_with, contains, size', () => {
    expect(holds('attribute_exists(info.team) AND attribute_not_exists(info.absent)')).toBe(true);
    expect(holds('attribute_exists(info.history[1])')).toBe(true);
    expect(holds('attribute_exists(info.history[5])')).toBe(false);
    expect(holds('attribute_type(weights, :ns)', { ':ns': { S: 'NS' } })).toBe(true);
    expect(holds('attribute_type(#n, :ns)', { ':ns': { S: 'N' } }, { '#n': 'name' })).toBe(false);
    expect(holds('begins_with(#n, :p)', { ':p': { S: 'blue-' } }, { '#n': 'name' })).toBe(true);
    expect(holds('begins_with(payload, :p)', { ':p': { B: Buffer.from('he').toString('base64') } })).toBe(true);
    expect(holds('contains(tags, :t)', { ':t': { S: 'gpu' } })).toBe(true);
    expect(holds('contains(weights, :w)', { ':w': { N: '0.50' } })).toBe(true);
    expect(holds('contains(info.history, :h)', { ':h': { N: '7' } })).toBe(true);
    expect(holds('contains(#n, :s)', { ':s': { S: 'e-v' } }, { '#n': 'name' })).toBe(true);
    expect(holds('size(info.history) = :three AND size(tags) < :three', { ':three': { N: '3' } })).toBe(true);
    expect(holds('size(absent) >= :zero', { ':zero': { N: '0' } })).toBe(false);
  });

  test('a condition on a missing item sees no attribute', () => {
    expect(holds('attribute_not_exists(pk)', {}, undefined, {})).toBe(true);
    expect(holds('deploymentId = :d', { ':d': { S: 'a' } }, undefined, {})).toBe(false);
  });

  test('syntax errors name the token and where it is', () => {
    expect(validationMessage(() => holds('pk = '))).toBe('Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "');
    expect(validationMessage(() => holds('pk == :v', { ':v': { S: 'x' } }))).toBe('Invalid ConditionExpression: Syntax error; token: "=", near: "=="');
    expect(validationMessage(() => holds('pk = :v ;', { ':v': { S: 'x' } }))).toMatch(/Syntax error; token: ";"/);
    expect(validationMessage(() => holds(''))).toBe('Invalid ConditionExpression: The expression can not be empty;');
  });

  test('reserved words must be aliased; undefined placeholders are named', () => {
    expect(validationMessage(() => holds('status = :s', { ':s': { S: 'x' } }))).toBe(
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status',
    );
    expect(holds('#s = :s', { ':s': { S: 'x' } }, { '#s': 'status' })).toBe(false);
    expect(validationMessage(() => holds('#missing = :s', { ':s': { S: 'x' } }))).toBe(
      'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing',
    );
    expect(validationMessage(() => holds('pk = :nope'))).toBe(
      'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope',
    );
  });

  test('functions are checked: names, operand counts, document paths, types, usage', () => {
    expect(validationMessage(() => holds('exists(pk)'))).toBe('Invalid ConditionExpression: Invalid function name; function: exists');
    expect(validationMessage(() => holds('begins_with(pk)'))).toMatch(/Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1/);
    expect(validationMessage(() => holds('attribute_exists(:v)', { ':v': { S: 'x' } }))).toMatch(/requires a document path; operator or function: attribute_exists/);
    expect(validationMessage(() => holds('attribute_type(pk, :t)', { ':t': { S: 'STRING' } }))).toMatch(/Invalid attribute type name found; type: STRING/);
    expect(validationMessage(() => holds('begins_with(pk, :n)', { ':n': { N: '1' } }))).toMatch(/operator or function: begins_with, operand type: N/);
    expect(validationMessage(() => holds('attribute_exists(pk) = :v', { ':v': { S: 'x' } }))).toMatch(/The function is not allowed to be used this way/);
  });

  test('unused expression attributes are reported with their keys', () => {
    const attributes = attrs({ ':used': { S: 'a' }, ':extra': { S: 'b' } }, { '#n': 'name', '#unused': 'x' });
    parseCondition('#n = :used', 'ConditionExpression', attributes);
    expect(validationMessage(() => attributes.checkAllUsed())).toBe('Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}');
    const names = attrs({ ':v': { S: 'a' } }, { '#n': 'name', '#unused': 'x' });
    parseCondition('#n = :v', 'ConditionExpression', names);
    expect(validationMessage(() => names.checkAllUsed())).toBe('Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}');
  });
});

describe('key conditions', () => {
  const schema = { partitionKey: 'pk', sortKey: 'sk', types: { pk: 'S', sk: 'N' } } as const;

  test('equality on the partition key, one condition on the sort key', () => {
    const parsed = parseKeyCondition('pk = :p AND sk BETWEEN :a AND :b', attrs({ ':p': { S: 'x' }, ':a': { N: '1' }, ':b': { N: '5' } }), schema);
    expect(parsed.partitionValue).toEqual({ S: 'x' });
    expect(evaluateCondition(parsed.sortKey!, { pk: { S: 'x' }, sk: { N: '5' } })).toBe(true);
    expect(evaluateCondition(parsed.sortKey!, { pk: { S: 'x' }, sk: { N: '6' } })).toBe(false);
  });

  test('anything else is refused with DynamoDB messages', () => {
    const values = { ':p': { S: 'x' }, ':n': { N: '1' } };
    expect(validationMessage(() => parseKeyCondition('sk = :n', attrs({ ':n': { N: '1' } }), schema))).toBe('Query condition missed key schema element: pk');
    expect(validationMessage(() => parseKeyCondition('pk = :p OR sk = :n', attrs(values), schema))).toBe('Invalid operator used in KeyConditionExpression: OR');
    expect(validationMessage(() => parseKeyCondition('pk > :p', attrs({ ':p': { S: 'x' } }), schema))).toBe('Query key condition not supported');
    expect(validationMessage(() => parseKeyCondition('pk = :n', attrs({ ':n': { N: '1' } }), schema))).toBe(
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    );
    expect(validationMessage(() => parseKeyCondition('pk = :p AND extra = :n', attrs(values), schema))).toBe('Query condition missed key schema element: pk');
  });
});

describe('update expressions', () => {
  function update(expression: string, values: Record<string, AttributeValue> = {}, names?: Record<string, string>, item: Item = ITEM): Item {
    return applyUpdate(parseUpdate(expression, attrs(values, names)), item).item;
  }

  test('SET with arithmetic, if_not_exists, list_append and nested paths', () => {
    const result = update('SET #c = #c + :one, info.team = :o, created = if_not_exists(created, :now), info.history = list_append(info.history, :more)', {
      ':one': { N: '1' },
      ':o': { S: 'platform' },
      ':now': { S: '2026-01-01' },
      ':more': { L: [{ S: 'v3' }] },
    }, { '#c': 'count' });
    expect(result.count).toEqual({ N: '4' });
    expect(result.created).toEqual({ S: '2026-01-01' });
    expect((result.info as { M: Item }).M.team).toEqual({ S: 'platform' });
    expect(((result.info as { M: Item }).M.history as { L: AttributeValue[] }).L).toHaveLength(4);
    // The input item is not modified.
    expect(ITEM.count).toEqual({ N: '3' });
  });

  test('right-hand sides see the item as it was before the update', () => {
    const result = update('SET a = #c, #c = :ten', { ':ten': { N: '10' } }, { '#c': 'count' });
    expect([result.a, result.count]).toEqual([{ N: '3' }, { N: '10' }]);
  });

  test('REMOVE attributes and list elements (indices refer to the list before removal)', () => {
    const result = update('REMOVE #n, info.history[0], info.history[2], absent', {}, { '#n': 'name' });
    expect(result.name).toBeUndefined();
    expect(((result.info as { M: Item }).M.history as { L: AttributeValue[] }).L).toEqual([{ S: 'v2' }]);
  });

  test('ADD to numbers and sets, DELETE from sets (an emptied set disappears)', () => {
    const result = update('ADD #c :five, tags :more, fresh :one DELETE weights :all', {
      ':five': { N: '5' },
      ':more': { SS: ['prod', 'canary'] },
      ':one': { N: '1' },
      ':all': { NS: ['1', '0.5'] },
    }, { '#c': 'count' });
    expect(result.count).toEqual({ N: '8' });
    expect(result.tags).toEqual({ SS: ['gpu', 'prod', 'canary'] });
    expect(result.fresh).toEqual({ N: '1' });
    expect(result.weights).toBeUndefined();
  });

  test('UPDATED paths are reported for UPDATED_OLD / UPDATED_NEW', () => {
    const { updatedPaths, item } = applyUpdate(parseUpdate('SET info.team = :o REMOVE active', attrs({ ':o': { S: 'x' } })), ITEM);
    expect(project(item, updatedPaths)).toEqual({ info: { M: { team: { S: 'x' } } } });
    expect(project(ITEM, updatedPaths)).toEqual({ info: { M: { team: { S: 'ml' } } }, active: { BOOL: true } });
  });

  test('errors: sections used twice, overlapping paths, wrong operand types, missing attributes, invalid paths', () => {
    expect(validationMessage(() => update('SET a = :v SET b = :v', { ':v': { S: 'x' } }))).toBe(
      'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
    );
    expect(validationMessage(() => update('SET info = :v REMOVE info.team', { ':v': { S: 'x' } }))).toBe(
      'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [info], path two: [info, team]',
    );
    expect(validationMessage(() => update('SET #n = #n + :one', { ':one': { N: '1' } }, { '#n': 'name' }))).toBe(
      'An operand in the update expression has an incorrect data type',
    );
    expect(validationMessage(() => update('SET a = nothere'))).toBe('The provided expression refers to an attribute that does not exist in the item');
    expect(validationMessage(() => update('SET nothere.child = :v', { ':v': { S: 'x' } }))).toBe(
      'The document path provided in the update expression is invalid for update',
    );
    expect(validationMessage(() => update('ADD #n :s', { ':s': { S: 'x' } }, { '#n': 'name' }))).toMatch(/operator: ADD, operand type: STRING/);
  });
});

describe('projections', () => {
  test('select nested attributes and list elements, keeping the structure', () => {
    const paths = parseProjection('pk, info.history[2], info.history[0], #c', attrs({}, { '#c': 'count' }));
    expect(project(ITEM, paths)).toEqual({
      pk: { S: 'fraud-prod' },
      count: { N: '3' },
      info: { M: { history: { L: [{ S: 'v1' }, { N: '7' }] } } },
    });
  });

  test('overlapping paths are refused', () => {
    expect(validationMessage(() => parseProjection('info, info.team', attrs()))).toMatch(/Invalid ProjectionExpression: Two document paths overlap/);
  });
});

test('item size counts names and values', () => {
  expect(itemSize({ a: { S: 'xyz' } })).toBe(4);
  expect(itemSize({ flag: { BOOL: true }, list: { L: [{ S: 'ab' }] } })).toBe(4 + 1 + 4 + 3 + 1 + 2);
});

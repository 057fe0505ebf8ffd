/**
 * DynamoDB's attribute values and expression languages, for the DynamoDB simulation (dynamodb.ts):
 * - values: the ten AttributeValue types on the wire (`{S}`, `{N}` as a decimal string, `{B}` as base64, `{BOOL}`,
 *   `{NULL}`, `{M}`, `{L}`, `{SS}`, `{NS}`, `{BS}`), with DynamoDB's ordering, equality, number canonicalization and
 *   38-digit / 1E-130..1E126 number limits, and its item size accounting;
 * - condition expressions (ConditionExpression, FilterExpression, KeyConditionExpression): = <> < <= > >=,
 *   BETWEEN, IN, AND, OR, NOT, parentheses, attribute_exists, attribute_not_exists, attribute_type, begins_with,
 *   contains and size, over document paths (`a.b[0]`, `#name`) and `:value` placeholders;
 * - update expressions: SET (with `+`, `-`, if_not_exists, list_append), REMOVE, ADD and DELETE;
 * - projection expressions.
 * Errors are the ValidationExceptions DynamoDB answers ("Invalid UpdateExpression: Syntax error; token: ...",
 * "Attribute name is a reserved keyword", "An expression attribute value used in expression is not defined", ...).
 */
import { AwsServiceError } from './errors';

// ---------------------------------------------------------------- values

/** A DynamoDB attribute value as it travels on the wire (numbers are decimal strings, binaries base64). */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Item }
  | { readonly L: readonly AttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] };

/** An item, or the contents of a map value: attribute name -> value. */
export type Item = { readonly [name: string]: AttributeValue };

export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** The type of a (validated) value. */
export function attributeType(value: AttributeValue): AttributeType {
  return Object.keys(value)[0] as AttributeType;
}

/** DynamoDB's client error. */
export function dynamoValidation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message, { service: 'dynamodb' });
}

/** A decimal number: coefficient x 10^-scale. */
interface Decimal {
  readonly coefficient: bigint;
  readonly scale: number;
}

const NUMBER_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const MAX_SIGNIFICANT_DIGITS = 38;

function parseDecimal(text: string): Decimal | undefined {
  const match = NUMBER_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, sign, integer = '', fraction = '', exponent] = match;
  if (integer === '' && fraction === '') return undefined;
  const digits = `${integer}${fraction}`.replace(/^0+(?=\d)/, '');
  const coefficient = BigInt(digits === '' ? '0' : digits) * (sign === '-' ? -1n : 1n);
  return { coefficient, scale: fraction.length - Number(exponent ?? 0) };
}

/** Removes trailing zeros of the coefficient (1.50 -> 1.5, 100 -> 1 x 10^2). */
function normalized(decimal: Decimal): Decimal {
  let { coefficient, scale } = decimal;
  if (coefficient === 0n) return { coefficient: 0n, scale: 0 };
  while (coefficient % 10n === 0n) {
    coefficient /= 10n;
    scale -= 1;
  }
  return { coefficient, scale };
}

function formatDecimal(decimal: Decimal): string {
  const { coefficient, scale } = normalized(decimal);
  const negative = coefficient < 0n;
  const digits = (negative ? -coefficient : coefficient).toString();
  let text: string;
  if (scale <= 0) text = digits + '0'.repeat(-scale);
  else if (scale >= digits.length) text = `0.${'0'.repeat(scale - digits.length)}${digits}`;
  else text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

function checkedDecimal(decimal: Decimal): Decimal {
  const { coefficient, scale } = normalized(decimal);
  if (coefficient === 0n) return { coefficient, scale };
  const digits = (coefficient < 0n ? -coefficient : coefficient).toString().length;
  if (digits > MAX_SIGNIFICANT_DIGITS) throw dynamoValidation('Attempting to store more than 38 significant digits in a Number');
  // The leading digit's power of ten: numbers span 1E-130 to 9.9999999999999999999999999999999999999E+125.
  const magnitude = digits - 1 - scale;
  if (magnitude > 125) throw dynamoValidation('Number overflow. Attempting to store a number with magnitude larger than supported range');
  if (magnitude < -130) throw dynamoValidation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  return { coefficient, scale };
}

/** The canonical form DynamoDB stores and returns a number in ("01.50" -> "1.5"); throws if it is not a valid number. */
export function canonicalNumber(text: string): string {
  const decimal = parseDecimal(text);
  if (!decimal) throw dynamoValidation(`The parameter cannot be converted to a numeric value: ${text}`);
  return formatDecimal(checkedDecimal(decimal));
}

function alignedCoefficients(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.coefficient * 10n ** BigInt(scale - a.scale), b.coefficient * 10n ** BigInt(scale - b.scale), scale];
}

function decimalOf(text: string): Decimal {
  const decimal = parseDecimal(text);
  if (!decimal) throw dynamoValidation(`The parameter cannot be converted to a numeric value: ${text}`);
  return decimal;
}

export function compareNumbers(a: string, b: string): number {
  const [x, y] = alignedCoefficients(decimalOf(a), decimalOf(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** a + b (or a - b), exactly, within DynamoDB's number limits. */
export function addNumbers(a: string, b: string, subtract = false): string {
  const [x, y, scale] = alignedCoefficients(decimalOf(a), decimalOf(b));
  return formatDecimal(checkedDecimal({ coefficient: subtract ? x - y : x + y, scale }));
}

function bytesOf(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

/** Strings compare by their UTF-8 bytes, as DynamoDB orders them. */
function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Order of two scalars of the same type (S, N or B); undefined if they are not comparable. */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if ('S' in a && 'S' in b) return compareStrings(a.S, b.S);
  if ('N' in a && 'N' in b) return compareNumbers(a.N, b.N);
  if ('B' in a && 'B' in b) return Buffer.compare(bytesOf(a.B), bytesOf(b.B));
  return undefined;
}

function setMembersEqual(a: readonly string[], b: readonly string[], same: (x: string, y: string) => boolean): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => same(x, y)));
}

/** Deep equality with DynamoDB's semantics: numbers by value, sets regardless of order. */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const type = attributeType(a);
  if (type !== attributeType(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  switch (type) {
    case 'S':
    case 'BOOL':
    case 'NULL':
      return x[type] === y[type];
    case 'N':
      return compareNumbers(x.N as string, y.N as string) === 0;
    case 'B':
      return bytesOf(x.B as string).equals(bytesOf(y.B as string));
    case 'SS':
      return setMembersEqual(x.SS as string[], y.SS as string[], (p, q) => p === q);
    case 'NS':
      return setMembersEqual(x.NS as string[], y.NS as string[], (p, q) => compareNumbers(p, q) === 0);
    case 'BS':
      return setMembersEqual(x.BS as string[], y.BS as string[], (p, q) => bytesOf(p).equals(bytesOf(q)));
    case 'L': {
      const left = x.L as AttributeValue[];
      const right = y.L as AttributeValue[];
      return left.length === right.length && left.every((element, index) => valuesEqual(element, right[index]!));
    }
    case 'M': {
      const left = x.M as Item;
      const right = y.M as Item;
      const keys = Object.keys(left);
      return keys.length === Object.keys(right).length && keys.every((k) => right[k] !== undefined && valuesEqual(left[k]!, right[k]!));
    }
  }
}

/** Bytes a value counts for in the item size limit (DynamoDB's documented accounting, approximated for numbers). */
function valueSize(value: AttributeValue): number {
  if ('S' in value) return Buffer.byteLength(value.S, 'utf8');
  if ('N' in value) return Math.ceil(normalized(decimalOf(value.N)).coefficient.toString().replace('-', '').length / 2) + 1;
  if ('B' in value) return bytesOf(value.B).length;
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('SS' in value) return value.SS.reduce((sum, member) => sum + Buffer.byteLength(member, 'utf8'), 0);
  if ('NS' in value) return value.NS.reduce((sum, member) => sum + valueSize({ N: member }), 0);
  if ('BS' in value) return value.BS.reduce((sum, member) => sum + bytesOf(member).length, 0);
  if ('L' in value) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name, 'utf8') + valueSize(element), 0);
}

/** An item's size in bytes: attribute names plus values. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueSize(value), 0);
}

/** `size()` of a value: characters of a string, bytes of a binary, members of a set, list or map. */
function sizeOf(value: AttributeValue): number | undefined {
  if ('S' in value) return [...value.S].length;
  if ('B' in value) return bytesOf(value.B).length;
  if ('SS' in value) return value.SS.length;
  if ('NS' in value) return value.NS.length;
  if ('BS' in value) return value.BS.length;
  if ('L' in value) return value.L.length;
  if ('M' in value) return Object.keys(value.M).length;
  return undefined;
}

// ---------------------------------------------------------------- reserved words

/** DynamoDB's reserved words (Amazon DynamoDB Developer Guide, "Reserved words in DynamoDB"): not usable as bare attribute names. */
const RESERVED_WORDS: ReadonlySet<string> = new Set(
  `ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE ARRAY AS ASC
ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION AUTHORIZE AUTO AVG BACK
BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE
CALL CALLED CALLING CAPACITY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER
CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT
COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY CONSISTENT CONSTRAINT CONSTRAINTS
CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE
DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED
DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS DIRECTORIES
DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT ELSE ELSEIF
EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE
EXEC EXECUTE EXISTS EXIT EXPLAIN EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH
FIELDS FILE FILTER FILTERING FINAL FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND
FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT GREATER GROUP GROUPING
HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT IN INCLUDING
INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT
INPUT INSENSITIVE INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE
JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL LIKE LIMIT LIMITED
LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS LOG LOGED LONG LOOP LOWER MAP MATCH
MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE
MONTH MULTI MULTISET NAME NAMES NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC
OBJECT OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT
OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS PARTIAL PARTITION PARTITIONED
PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE
PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY PROVISIONING PUBLIC
PUT QUERY QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE REF REFERENCE
REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE REMAINDER RENAME REPEAT REPLACE REQUEST RESET
RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES
ROLLBACK ROLLUP ROUTINE ROW ROWS RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH
SECOND SECTION SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS
SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE
SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION SQLSTATE SQLWARNING START STATE STATIC STATUS
STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM SUPER
SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP
TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER TRIM
TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL
UPDATE UPPER URL USAGE USE USER USERS USING UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT
VARYING VIEW VIEWS VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE
YEAR ZONE`.split(/\s+/),
);

// ---------------------------------------------------------------- expression attributes

/** The request's ExpressionAttributeNames/Values, and which of them the request's expressions used. */
export class ExpressionAttributes {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();

  constructor(
    readonly names: Readonly<Record<string, string>> | undefined,
    readonly values: Readonly<Record<string, AttributeValue>> | undefined,
  ) {}

  name(placeholder: string): string | undefined {
    const name = this.names?.[placeholder];
    if (name !== undefined) this.usedNames.add(placeholder);
    return name;
  }

  value(placeholder: string): AttributeValue | undefined {
    const value = this.values?.[placeholder];
    if (value !== undefined) this.usedValues.add(placeholder);
    return value;
  }

  /** Throws DynamoDB's error for names or values no expression of the request used. */
  checkAllUsed(): void {
    const unusedValues = Object.keys(this.values ?? {}).filter((placeholder) => !this.usedValues.has(placeholder));
    if (unusedValues.length > 0) {
      throw dynamoValidation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
    }
    const unusedNames = Object.keys(this.names ?? {}).filter((placeholder) => !this.usedNames.has(placeholder));
    if (unusedNames.length > 0) {
      throw dynamoValidation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
    }
  }
}

export type ExpressionKind = 'ConditionExpression' | 'FilterExpression' | 'KeyConditionExpression' | 'UpdateExpression' | 'ProjectionExpression';

// ---------------------------------------------------------------- tokens

type TokenKind = 'identifier' | 'name' | 'value' | 'integer' | 'symbol' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const TOKEN_PATTERNS: readonly [TokenKind, RegExp][] = [
  ['identifier', /[A-Za-z_][A-Za-z0-9_]*/y],
  ['name', /#[A-Za-z0-9_]+/y],
  ['value', /:[A-Za-z0-9_]+/y],
  ['integer', /[0-9]+/y],
  ['symbol', /<>|<=|>=|[=<>()[\],.+-]/y],
];

/** Expressions longer than this are refused (DynamoDB's 4 KB limit). */
const MAX_EXPRESSION_BYTES = 4096;

function tokenize(source: string, kind: ExpressionKind): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < source.length) {
    const whitespace = /\s+/y;
    whitespace.lastIndex = position;
    if (whitespace.exec(source)) {
      position = whitespace.lastIndex;
      continue;
    }
    let matched: Token | undefined;
    for (const [tokenKind, pattern] of TOKEN_PATTERNS) {
      pattern.lastIndex = position;
      const match = pattern.exec(source);
      if (match) {
        matched = { kind: tokenKind, text: match[0], start: position, end: position + match[0].length };
        break;
      }
    }
    if (!matched) {
      const previous = tokens[tokens.length - 1];
      throw syntaxError(kind, source, source[position]!, previous?.start ?? position, position + 1);
    }
    tokens.push(matched);
    position = matched.end;
  }
  tokens.push({ kind: 'eof', text: '<EOF>', start: source.length, end: source.length });
  return tokens;
}

function syntaxError(kind: ExpressionKind, source: string, token: string, nearStart: number, nearEnd: number): AwsServiceError {
  return dynamoValidation(`Invalid ${kind}: Syntax error; token: "${token}", near: "${source.slice(nearStart, nearEnd)}"`);
}

// ---------------------------------------------------------------- document paths and operands

export type PathElement = { readonly kind: 'attribute'; readonly name: string } | { readonly kind: 'index'; readonly index: number };
/** A resolved document path: `a.#b[2]` -> [attribute a, attribute <#b's name>, index 2]. */
export type DocumentPath = readonly PathElement[];

/** An operand of a condition: a document path, a `:value`, or `size(path)`. */
export type Operand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttributeValue }
  | { readonly kind: 'size'; readonly path: DocumentPath };

type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
const COMPARATORS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

type ConditionFunction = 'attribute_exists' | 'attribute_not_exists' | 'attribute_type' | 'begins_with' | 'contains';
const CONDITION_FUNCTIONS: Readonly<Record<ConditionFunction, number>> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
};

/** A parsed condition (ConditionExpression, FilterExpression or KeyConditionExpression). */
export type Condition =
  | { readonly kind: 'compare'; readonly comparator: Comparator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly operand: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly operand: Operand; readonly candidates: readonly Operand[] }
  | { readonly kind: 'function'; readonly name: ConditionFunction; readonly args: readonly Operand[] }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly condition: Condition };

/** `[a, b, [0]]`, as DynamoDB prints paths in its messages. */
export function describePath(path: DocumentPath): string {
  return `[${path.map((element) => (element.kind === 'index' ? `[${element.index}]` : element.name)).join(', ')}]`;
}

/** Recursive-descent parser shared by the expression languages. */
class Parser {
  private position = 0;
  private readonly tokens: Token[];
  /** Problems found while parsing that DynamoDB reports only if the syntax is valid. */
  private deferred: AwsServiceError | undefined;

  constructor(
    private readonly source: string,
    private readonly kind: ExpressionKind,
    private readonly attributes: ExpressionAttributes,
  ) {
    if (source.trim() === '') throw dynamoValidation(`Invalid ${kind}: The expression can not be empty;`);
    const bytes = Buffer.byteLength(source, 'utf8');
    if (bytes > MAX_EXPRESSION_BYTES) {
      throw dynamoValidation(`Invalid ${kind}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`);
    }
    this.tokens = tokenize(source, kind);
  }

  get current(): Token {
    return this.tokens[this.position]!;
  }

  peek(offset = 1): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)]!;
  }

  advance(): Token {
    const token = this.current;
    if (token.kind !== 'eof') this.position += 1;
    return token;
  }

  isSymbol(text: string): boolean {
    return this.current.kind === 'symbol' && this.current.text === text;
  }

  isKeyword(word: string): boolean {
    return this.current.kind === 'identifier' && this.current.text.toUpperCase() === word;
  }

  expectSymbol(text: string): void {
    if (!this.isSymbol(text)) throw this.unexpected();
    this.advance();
  }

  unexpected(token: Token = this.current): AwsServiceError {
    const index = this.tokens.indexOf(token);
    const previous = index > 0 ? this.tokens[index - 1]! : token;
    return syntaxError(this.kind, this.source, token.text, previous.start, token.end);
  }

  /** Throws the first deferred problem (a reserved word, an undefined placeholder), if any. */
  finish(): void {
    if (this.current.kind !== 'eof') throw this.unexpected();
    if (this.deferred) throw this.deferred;
  }

  private defer(error: AwsServiceError): void {
    this.deferred ??= error;
  }

  /** A document path: name or #name, then `.name`, `.#name` or `[n]` elements. */
  parsePath(): DocumentPath {
    const elements: PathElement[] = [this.pathName()];
    for (;;) {
      if (this.isSymbol('.')) {
        this.advance();
        elements.push(this.pathName());
      } else if (this.isSymbol('[')) {
        this.advance();
        const index = this.current;
        if (index.kind !== 'integer') throw this.unexpected();
        this.advance();
        this.expectSymbol(']');
        elements.push({ kind: 'index', index: Number(index.text) });
      } else {
        return elements;
      }
    }
  }

  private pathName(): PathElement {
    const token = this.current;
    if (token.kind === 'name') {
      this.advance();
      const name = this.attributes.name(token.text);
      if (name === undefined) {
        this.defer(dynamoValidation(`Invalid ${this.kind}: An expression attribute name used in the document path is not defined; attribute name: ${token.text}`));
        return { kind: 'attribute', name: token.text };
      }
      return { kind: 'attribute', name };
    }
    if (token.kind !== 'identifier') throw this.unexpected();
    this.advance();
    if (RESERVED_WORDS.has(token.text.toUpperCase())) {
      this.defer(dynamoValidation(`Invalid ${this.kind}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`));
    }
    return { kind: 'attribute', name: token.text };
  }

  /** A `:value` placeholder. */
  parseValue(): AttributeValue {
    const token = this.current;
    if (token.kind !== 'value') throw this.unexpected();
    this.advance();
    const value = this.attributes.value(token.text);
    if (value === undefined) {
      this.defer(dynamoValidation(`Invalid ${this.kind}: An expression attribute value used in expression is not defined; attribute value: ${token.text}`));
      return { NULL: true };
    }
    return value;
  }

  // -------------------------------------------------- conditions

  parseCondition(): Condition {
    let left = this.parseAnd();
    while (this.isKeyword('OR')) {
      this.advance();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Condition {
    let left = this.parseNot();
    while (this.isKeyword('AND')) {
      this.advance();
      left = { kind: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Condition {
    if (this.isKeyword('NOT')) {
      this.advance();
      return { kind: 'not', condition: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Condition {
    if (this.isSymbol('(')) {
      this.advance();
      const inner = this.parseCondition();
      this.expectSymbol(')');
      return inner;
    }
    const token = this.current;
    if (token.kind === 'identifier' && this.peek().kind === 'symbol' && this.peek().text === '(' && token.text !== 'size') {
      return this.parseConditionFunction();
    }
    const operand = this.parseConditionOperand();
    if (this.current.kind === 'symbol' && COMPARATORS.has(this.current.text)) {
      const comparator = this.advance().text as Comparator;
      return { kind: 'compare', comparator, left: operand, right: this.parseConditionOperand() };
    }
    if (this.isKeyword('BETWEEN')) {
      this.advance();
      const low = this.parseConditionOperand();
      if (!this.isKeyword('AND')) throw this.unexpected();
      this.advance();
      return { kind: 'between', operand, low, high: this.parseConditionOperand() };
    }
    if (this.isKeyword('IN')) {
      this.advance();
      this.expectSymbol('(');
      const candidates = [this.parseConditionOperand()];
      while (this.isSymbol(',')) {
        this.advance();
        candidates.push(this.parseConditionOperand());
      }
      this.expectSymbol(')');
      if (candidates.length > 100) {
        throw dynamoValidation(`Invalid ${this.kind}: The IN operator is provided with too many operands; number of operands: ${candidates.length}`);
      }
      return { kind: 'in', operand, candidates };
    }
    throw this.unexpected();
  }

  private parseConditionFunction(): Condition {
    const nameToken = this.advance();
    const name = nameToken.text;
    if (!Object.prototype.hasOwnProperty.call(CONDITION_FUNCTIONS, name)) {
      throw dynamoValidation(`Invalid ${this.kind}: Invalid function name; function: ${name}`);
    }
    const args = this.parseArguments(() => this.parseConditionOperand());
    const fn = name as ConditionFunction;
    if (args.length !== CONDITION_FUNCTIONS[fn]) {
      throw dynamoValidation(`Invalid ${this.kind}: Incorrect number of operands for operator or function; operator or function: ${fn}, number of operands: ${args.length}`);
    }
    if (args[0]!.kind !== 'path') {
      throw dynamoValidation(`Invalid ${this.kind}: Operator or function requires a document path; operator or function: ${fn}`);
    }
    const second = args[1];
    if (fn === 'attribute_type' && second?.kind === 'value') {
      const typeName = 'S' in second.value ? second.value.S : undefined;
      if (typeName === undefined || !(ATTRIBUTE_TYPES as readonly string[]).includes(typeName)) {
        throw dynamoValidation(
          `Invalid ${this.kind}: Invalid attribute type name found; type: ${typeName ?? attributeType(second.value)}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`,
        );
      }
    }
    if (fn === 'begins_with' && second?.kind === 'value' && !('S' in second.value || 'B' in second.value)) {
      throw dynamoValidation(`Invalid ${this.kind}: Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${attributeType(second.value)}`);
    }
    if (this.current.kind === 'symbol' && COMPARATORS.has(this.current.text)) {
      throw dynamoValidation(`Invalid ${this.kind}: The function is not allowed to be used this way in an expression; function: ${fn}`);
    }
    return { kind: 'function', name: fn, args };
  }

  private parseArguments<T>(parseArgument: () => T): T[] {
    this.expectSymbol('(');
    const args = [parseArgument()];
    while (this.isSymbol(',')) {
      this.advance();
      args.push(parseArgument());
    }
    this.expectSymbol(')');
    return args;
  }

  private parseConditionOperand(): Operand {
    const token = this.current;
    if (token.kind === 'value') return { kind: 'value', value: this.parseValue() };
    if (token.kind === 'identifier' && this.peek().kind === 'symbol' && this.peek().text === '(') {
      this.advance();
      if (token.text !== 'size') {
        if (Object.prototype.hasOwnProperty.call(CONDITION_FUNCTIONS, token.text)) {
          throw dynamoValidation(`Invalid ${this.kind}: The function is not allowed to be used this way in an expression; function: ${token.text}`);
        }
        throw dynamoValidation(`Invalid ${this.kind}: Invalid function name; function: ${token.text}`);
      }
      const args = this.parseArguments(() => this.parseConditionOperand());
      if (args.length !== 1) {
        throw dynamoValidation(`Invalid ${this.kind}: Incorrect number of operands for operator or function; operator or function: size, number of operands: ${args.length}`);
      }
      const [argument] = args;
      if (argument!.kind !== 'path') {
        throw dynamoValidation(`Invalid ${this.kind}: Operator or function requires a document path; operator or function: size`);
      }
      return { kind: 'size', path: argument.path };
    }
    return { kind: 'path', path: this.parsePath() };
  }

  // -------------------------------------------------- updates

  parseUpdate(): UpdateExpression {
    const actions: UpdateAction[] = [];
    const seenClauses = new Set<string>();
    while (this.current.kind !== 'eof') {
      const clause = this.current.kind === 'identifier' ? this.current.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(clause)) throw this.unexpected();
      if (seenClauses.has(clause)) {
        throw dynamoValidation(`Invalid UpdateExpression: The "${clause}" section can only be used once in an update expression;`);
      }
      seenClauses.add(clause);
      this.advance();
      actions.push(this.parseUpdateAction(clause as UpdateAction['kind']));
      while (this.isSymbol(',')) {
        this.advance();
        actions.push(this.parseUpdateAction(clause as UpdateAction['kind']));
      }
    }
    return { actions };
  }

  private parseUpdateAction(kind: UpdateAction['kind']): UpdateAction {
    const path = this.parsePath();
    switch (kind) {
      case 'SET': {
        this.expectSymbol('=');
        const first = this.parseSetOperand();
        if (this.isSymbol('+') || this.isSymbol('-')) {
          const operator = this.advance().text as '+' | '-';
          return { kind, path, value: { kind: 'arithmetic', operator, left: first, right: this.parseSetOperand() } };
        }
        return { kind, path, value: first };
      }
      case 'REMOVE':
        return { kind, path };
      case 'ADD':
      case 'DELETE':
        return { kind, path, value: this.parseValue() };
    }
  }

  private parseSetOperand(): SetOperand {
    const token = this.current;
    if (token.kind === 'value') return { kind: 'value', value: this.parseValue() };
    if (token.kind === 'identifier' && this.peek().kind === 'symbol' && this.peek().text === '(') {
      this.advance();
      if (token.text !== 'if_not_exists' && token.text !== 'list_append') {
        throw dynamoValidation(`Invalid UpdateExpression: Invalid function name; function: ${token.text}`);
      }
      const args = this.parseArguments(() => this.parseSetOperand());
      if (args.length !== 2) {
        throw dynamoValidation(`Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: ${token.text}, number of operands: ${args.length}`);
      }
      if (token.text === 'if_not_exists') {
        const [path, fallback] = args;
        if (path!.kind !== 'path') {
          throw dynamoValidation('Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists');
        }
        return { kind: 'if_not_exists', path: path.path, fallback: fallback! };
      }
      return { kind: 'list_append', left: args[0]!, right: args[1]! };
    }
    return { kind: 'path', path: this.parsePath() };
  }

  // -------------------------------------------------- projections

  parseProjection(): DocumentPath[] {
    const paths = [this.parsePath()];
    while (this.isSymbol(',')) {
      this.advance();
      paths.push(this.parsePath());
    }
    return paths;
  }
}

// ---------------------------------------------------------------- conditions: parse and evaluate

/** Parses a condition, recording the placeholders it uses in `attributes`. */
export function parseCondition(source: string, kind: 'ConditionExpression' | 'FilterExpression' | 'KeyConditionExpression', attributes: ExpressionAttributes): Condition {
  const parser = new Parser(source, kind, attributes);
  const condition = parser.parseCondition();
  parser.finish();
  return condition;
}

/** The value at `path` in `item`, or undefined if any element along it is missing or of another type. */
export function valueAt(item: Item, path: DocumentPath): AttributeValue | undefined {
  let current: AttributeValue | undefined = { M: item };
  for (const element of path) {
    if (current === undefined) return undefined;
    if (element.kind === 'attribute') current = 'M' in current ? current.M[element.name] : undefined;
    else current = 'L' in current ? current.L[element.index] : undefined;
  }
  return current;
}

function operandValue(operand: Operand, item: Item): AttributeValue | undefined {
  switch (operand.kind) {
    case 'value':
      return operand.value;
    case 'path':
      return valueAt(item, operand.path);
    case 'size': {
      const value = valueAt(item, operand.path);
      const size = value === undefined ? undefined : sizeOf(value);
      return size === undefined ? undefined : { N: String(size) };
    }
  }
}

function contains(container: AttributeValue, member: AttributeValue): boolean {
  if ('S' in container) return 'S' in member && container.S.includes(member.S);
  if ('B' in container) return 'B' in member && bytesOf(container.B).includes(bytesOf(member.B));
  if ('SS' in container) return 'S' in member && container.SS.includes(member.S);
  if ('NS' in container) return 'N' in member && container.NS.some((n) => compareNumbers(n, member.N) === 0);
  if ('BS' in container) return 'B' in member && container.BS.some((b) => bytesOf(b).equals(bytesOf(member.B)));
  if ('L' in container) return container.L.some((element) => valuesEqual(element, member));
  return false;
}

/** Whether `item` (`{}` for a missing item) satisfies `condition`. */
export function evaluateCondition(condition: Condition, item: Item): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluateCondition(condition.left, item) && evaluateCondition(condition.right, item);
    case 'or':
      return evaluateCondition(condition.left, item) || evaluateCondition(condition.right, item);
    case 'not':
      return !evaluateCondition(condition.condition, item);
    case 'compare': {
      const left = operandValue(condition.left, item);
      const right = operandValue(condition.right, item);
      // A missing operand satisfies only <>.
      if (left === undefined || right === undefined) return condition.comparator === '<>';
      if (condition.comparator === '=') return valuesEqual(left, right);
      if (condition.comparator === '<>') return !valuesEqual(left, right);
      const order = compareScalars(left, right);
      if (order === undefined) return false;
      return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[condition.comparator];
    }
    case 'between': {
      const value = operandValue(condition.operand, item);
      const low = operandValue(condition.low, item);
      const high = operandValue(condition.high, item);
      if (value === undefined || low === undefined || high === undefined) return false;
      const fromLow = compareScalars(value, low);
      const toHigh = compareScalars(value, high);
      return fromLow !== undefined && toHigh !== undefined && fromLow >= 0 && toHigh <= 0;
    }
    case 'in': {
      const value = operandValue(condition.operand, item);
      if (value === undefined) return false;
      return condition.candidates.some((candidate) => {
        const other = operandValue(candidate, item);
        return other !== undefined && valuesEqual(value, other);
      });
    }
    case 'function': {
      const [first, second] = condition.args;
      const target = operandValue(first!, item);
      switch (condition.name) {
        case 'attribute_exists':
          return target !== undefined;
        case 'attribute_not_exists':
          return target === undefined;
        case 'attribute_type': {
          const wanted = operandValue(second!, item);
          return target !== undefined && wanted !== undefined && 'S' in wanted && attributeType(target) === wanted.S;
        }
        case 'begins_with': {
          const prefix = operandValue(second!, item);
          if (target === undefined || prefix === undefined) return false;
          if ('S' in target && 'S' in prefix) return target.S.startsWith(prefix.S);
          if ('B' in target && 'B' in prefix) {
            const bytes = bytesOf(target.B);
            const start = bytesOf(prefix.B);
            return bytes.subarray(0, start.length).equals(start);
          }
          return false;
        }
        case 'contains': {
          const member = operandValue(second!, item);
          return target !== undefined && member !== undefined && contains(target, member);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- key conditions

/** A Query's key condition: equality on the partition key and at most one condition on the sort key. */
export interface KeyCondition {
  readonly partitionValue: AttributeValue;
  /** Applies to the sort key's value. */
  readonly sortKey?: Condition;
}

/**
 * Parses a KeyConditionExpression against the table's key schema: `pk = :v`, optionally `AND` one of
 * `sk = | < | <= | > | >= :v`, `sk BETWEEN :a AND :b` or `begins_with(sk, :v)`.
 */
export function parseKeyCondition(
  source: string,
  attributes: ExpressionAttributes,
  schema: { readonly partitionKey: string; readonly sortKey?: string; readonly types: Readonly<Record<string, AttributeType>> },
): KeyCondition {
  const condition = parseCondition(source, 'KeyConditionExpression', attributes);
  const parts: Condition[] = [];
  const flatten = (node: Condition): void => {
    if (node.kind === 'and') {
      flatten(node.left);
      flatten(node.right);
    } else if (node.kind === 'or' || node.kind === 'not') {
      throw dynamoValidation(`Invalid operator used in KeyConditionExpression: ${node.kind.toUpperCase()}`);
    } else {
      parts.push(node);
    }
  };
  flatten(condition);
  if (parts.length > 2) throw dynamoValidation('Conditions can be of length 1 or 2 only');

  let partitionValue: AttributeValue | undefined;
  let sortKey: Condition | undefined;
  for (const part of parts) {
    const keyName = keyAttributeOf(part);
    if (keyName === undefined) throw dynamoValidation('Query key condition not supported');
    if (keyName === schema.partitionKey) {
      if (part.kind !== 'compare' || part.comparator !== '=' || part.right.kind !== 'value') {
        throw dynamoValidation('Query key condition not supported');
      }
      if (partitionValue !== undefined) throw dynamoValidation('Query key condition not supported');
      partitionValue = part.right.value;
    } else if (keyName === schema.sortKey) {
      if (sortKey !== undefined) throw dynamoValidation('Query key condition not supported');
      if (part.kind === 'compare' && part.comparator === '<>') throw dynamoValidation('Unsupported operator on KeyConditionExpression: operator: <>');
      if (part.kind === 'in') throw dynamoValidation('Invalid operator used in KeyConditionExpression: IN');
      if (part.kind === 'function' && part.name !== 'begins_with') {
        throw dynamoValidation(`Invalid operator used in KeyConditionExpression: ${part.name}`);
      }
      sortKey = part;
    } else {
      throw dynamoValidation(`Query condition missed key schema element: ${schema.partitionKey}`);
    }
    for (const value of literalValuesOf(part)) {
      if (attributeType(value) !== schema.types[keyName]) {
        throw dynamoValidation('One or more parameter values were invalid: Condition parameter type does not match schema type');
      }
    }
  }
  if (partitionValue === undefined) throw dynamoValidation(`Query condition missed key schema element: ${schema.partitionKey}`);
  return { partitionValue, ...(sortKey !== undefined ? { sortKey } : {}) };
}

/** The top-level attribute a key-condition part constrains (its left operand or first argument). */
function keyAttributeOf(part: Condition): string | undefined {
  const operand = part.kind === 'compare' ? part.left : part.kind === 'between' || part.kind === 'in' ? part.operand : part.kind === 'function' ? part.args[0] : undefined;
  if (operand?.kind !== 'path' || operand.path.length !== 1 || operand.path[0]!.kind !== 'attribute') return undefined;
  if (part.kind === 'compare' && part.right.kind !== 'value') return undefined;
  return operand.path[0]!.name;
}

function literalValuesOf(part: Condition): AttributeValue[] {
  const operands = part.kind === 'compare' ? [part.right] : part.kind === 'between' ? [part.low, part.high] : part.kind === 'function' ? part.args.slice(1) : [];
  return operands.flatMap((operand) => (operand.kind === 'value' ? [operand.value] : []));
}

// ---------------------------------------------------------------- updates

type SetOperand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttributeValue }
  | { readonly kind: 'if_not_exists'; readonly path: DocumentPath; readonly fallback: SetOperand }
  | { readonly kind: 'list_append'; readonly left: SetOperand; readonly right: SetOperand };

type SetValue = SetOperand | { readonly kind: 'arithmetic'; readonly operator: '+' | '-'; readonly left: SetOperand; readonly right: SetOperand };

type UpdateAction =
  | { readonly kind: 'SET'; readonly path: DocumentPath; readonly value: SetValue }
  | { readonly kind: 'REMOVE'; readonly path: DocumentPath }
  | { readonly kind: 'ADD' | 'DELETE'; readonly path: DocumentPath; readonly value: AttributeValue };

export interface UpdateExpression {
  readonly actions: readonly UpdateAction[];
}

function pathsOverlap(a: DocumentPath, b: DocumentPath): boolean {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a[index]!;
    const y = b[index]!;
    if (x.kind !== y.kind) return false;
    if (x.kind === 'attribute' ? x.name !== (y as typeof x).name : x.index !== (y as typeof x).index) return false;
  }
  return true;
}

/** Rejects two projection or update paths where one is a prefix of (or equal to) the other. */
function checkNoOverlap(kind: ExpressionKind, paths: readonly DocumentPath[]): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      if (pathsOverlap(paths[i]!, paths[j]!)) {
        throw dynamoValidation(
          `Invalid ${kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${describePath(paths[i]!)}, path two: ${describePath(paths[j]!)}`,
        );
      }
    }
  }
}

/** Parses an UpdateExpression, recording the placeholders it uses in `attributes`. */
export function parseUpdate(source: string, attributes: ExpressionAttributes): UpdateExpression {
  const parser = new Parser(source, 'UpdateExpression', attributes);
  const update = parser.parseUpdate();
  parser.finish();
  checkNoOverlap('UpdateExpression', update.actions.map((action) => action.path));
  for (const action of update.actions) {
    if (action.kind === 'ADD' && !['N', 'SS', 'NS', 'BS'].includes(attributeType(action.value))) {
      throw dynamoValidation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${typeWord(action.value)}`);
    }
    if (action.kind === 'DELETE' && !['SS', 'NS', 'BS'].includes(attributeType(action.value))) {
      throw dynamoValidation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: ${typeWord(action.value)}`);
    }
  }
  return update;
}

/** How DynamoDB names a type in update-expression operand errors. */
function typeWord(value: AttributeValue): string {
  const words: Record<AttributeType, string> = {
    S: 'STRING',
    N: 'NUMBER',
    B: 'BINARY',
    BOOL: 'BOOLEAN',
    NULL: 'NULL',
    M: 'MAP',
    L: 'LIST',
    SS: 'STRING SET',
    NS: 'NUMBER SET',
    BS: 'BINARY SET',
  };
  return words[attributeType(value)];
}

const MISSING_ATTRIBUTE = 'The provided expression refers to an attribute that does not exist in the item';
const INCORRECT_OPERAND = 'An operand in the update expression has an incorrect data type';
const INVALID_UPDATE_PATH = 'The document path provided in the update expression is invalid for update';

function setOperandValue(operand: SetOperand, item: Item): AttributeValue {
  switch (operand.kind) {
    case 'value':
      return operand.value;
    case 'path': {
      const value = valueAt(item, operand.path);
      if (value === undefined) throw dynamoValidation(MISSING_ATTRIBUTE);
      return value;
    }
    case 'if_not_exists':
      return valueAt(item, operand.path) ?? setOperandValue(operand.fallback, item);
    case 'list_append': {
      const left = setOperandValue(operand.left, item);
      const right = setOperandValue(operand.right, item);
      if (!('L' in left) || !('L' in right)) throw dynamoValidation(INCORRECT_OPERAND);
      return { L: [...left.L, ...right.L] };
    }
  }
}

function setValueOf(value: SetValue, item: Item): AttributeValue {
  if (value.kind !== 'arithmetic') return setOperandValue(value, item);
  const left = setOperandValue(value.left, item);
  const right = setOperandValue(value.right, item);
  if (!('N' in left) || !('N' in right)) throw dynamoValidation(INCORRECT_OPERAND);
  return { N: addNumbers(left.N, right.N, value.operator === '-') };
}

/** The container holding the last element of `path` (a map's entries or a list), or undefined if it is missing. */
function parentOf(root: Record<string, AttributeValue>, path: DocumentPath): Record<string, AttributeValue> | AttributeValue[] | undefined {
  let container: Record<string, AttributeValue> | AttributeValue[] = root;
  for (const element of path.slice(0, -1)) {
    const next: AttributeValue | undefined =
      element.kind === 'attribute'
        ? Array.isArray(container)
          ? undefined
          : container[element.name]
        : Array.isArray(container)
          ? container[element.index]
          : undefined;
    if (next === undefined) return undefined;
    if ('M' in next) container = next.M as Record<string, AttributeValue>;
    else if ('L' in next) container = next.L as AttributeValue[];
    else return undefined;
  }
  return container;
}

function setAt(root: Record<string, AttributeValue>, path: DocumentPath, value: AttributeValue): void {
  const parent = parentOf(root, path);
  const last = path[path.length - 1]!;
  if (parent === undefined) throw dynamoValidation(INVALID_UPDATE_PATH);
  if (last.kind === 'attribute') {
    if (Array.isArray(parent)) throw dynamoValidation(INVALID_UPDATE_PATH);
    parent[last.name] = value;
  } else {
    if (!Array.isArray(parent)) throw dynamoValidation(INVALID_UPDATE_PATH);
    // An index past the end appends.
    if (last.index >= parent.length) parent.push(value);
    else parent[last.index] = value;
  }
}

function removeAt(root: Record<string, AttributeValue>, path: DocumentPath): void {
  const parent = parentOf(root, path);
  const last = path[path.length - 1]!;
  if (parent === undefined) {
    if (path.length === 1) return;
    throw dynamoValidation(INVALID_UPDATE_PATH);
  }
  if (last.kind === 'attribute') {
    if (Array.isArray(parent)) throw dynamoValidation(INVALID_UPDATE_PATH);
    delete parent[last.name];
  } else {
    if (!Array.isArray(parent)) throw dynamoValidation(INVALID_UPDATE_PATH);
    if (last.index < parent.length) parent.splice(last.index, 1);
  }
}

function setMembers(value: AttributeValue): { type: 'SS' | 'NS' | 'BS'; members: readonly string[] } | undefined {
  if ('SS' in value) return { type: 'SS', members: value.SS };
  if ('NS' in value) return { type: 'NS', members: value.NS };
  if ('BS' in value) return { type: 'BS', members: value.BS };
  return undefined;
}

function setValue(type: 'SS' | 'NS' | 'BS', members: readonly string[]): AttributeValue {
  if (type === 'SS') return { SS: members };
  if (type === 'NS') return { NS: members };
  return { BS: members };
}

function sameMember(type: 'SS' | 'NS' | 'BS', a: string, b: string): boolean {
  if (type === 'NS') return compareNumbers(a, b) === 0;
  if (type === 'BS') return bytesOf(a).equals(bytesOf(b));
  return a === b;
}

/** The result of an update: the new item and the paths it touched (for UPDATED_OLD / UPDATED_NEW). */
export interface UpdateResult {
  readonly item: Item;
  readonly updatedPaths: readonly DocumentPath[];
}

/**
 * Applies `update` to `item` (`{}` when the item does not exist yet). Every right-hand side is evaluated against the
 * item as it was before the update, as DynamoDB does.
 */
export function applyUpdate(update: UpdateExpression, item: Item): UpdateResult {
  const values = update.actions.map((action) => (action.kind === 'SET' ? setValueOf(action.value, item) : undefined));
  const result = structuredClone(item) as Record<string, AttributeValue>;
  // List elements removed by index go last-first, so earlier indices still point at the elements meant.
  const removals = update.actions
    .filter((action): action is Extract<UpdateAction, { kind: 'REMOVE' }> => action.kind === 'REMOVE')
    .sort((a, b) => {
      const x = a.path[a.path.length - 1]!;
      const y = b.path[b.path.length - 1]!;
      return x.kind === 'index' && y.kind === 'index' ? y.index - x.index : 0;
    });
  update.actions.forEach((action, index) => {
    if (action.kind === 'SET') setAt(result, action.path, values[index]!);
  });
  for (const removal of removals) removeAt(result, removal.path);
  for (const action of update.actions) {
    if (action.kind !== 'ADD' && action.kind !== 'DELETE') continue;
    const current = valueAt(result, action.path);
    const operand = setMembers(action.value);
    if (action.kind === 'ADD') {
      if (current === undefined) {
        setAt(result, action.path, action.value);
      } else if ('N' in action.value) {
        if (!('N' in current)) throw dynamoValidation(INCORRECT_OPERAND);
        setAt(result, action.path, { N: addNumbers(current.N, action.value.N) });
      } else {
        const existing = setMembers(current);
        if (!existing || !operand || existing.type !== operand.type) throw dynamoValidation(INCORRECT_OPERAND);
        const union = [...existing.members, ...operand.members.filter((m) => !existing.members.some((e) => sameMember(operand.type, e, m)))];
        setAt(result, action.path, setValue(operand.type, union));
      }
    } else if (current !== undefined) {
      const existing = setMembers(current);
      if (!existing || !operand || existing.type !== operand.type) throw dynamoValidation(INCORRECT_OPERAND);
      const remaining = existing.members.filter((member) => !operand.members.some((removed) => sameMember(operand.type, member, removed)));
      // A set cannot be empty: deleting its last members removes the attribute.
      if (remaining.length === 0) removeAt(result, action.path);
      else setAt(result, action.path, setValue(operand.type, remaining));
    }
  }
  return { item: result, updatedPaths: update.actions.map((action) => action.path) };
}

// ---------------------------------------------------------------- projections

/** Parses a ProjectionExpression, recording the placeholders it uses in `attributes`. */
export function parseProjection(source: string, attributes: ExpressionAttributes): DocumentPath[] {
  const parser = new Parser(source, 'ProjectionExpression', attributes);
  const paths = parser.parseProjection();
  parser.finish();
  checkNoOverlap('ProjectionExpression', paths);
  return paths;
}

interface ProjectionNode {
  /** The whole value at this node is selected. */
  whole: boolean;
  readonly attributes: Map<string, ProjectionNode>;
  readonly indices: Map<number, ProjectionNode>;
}

const newNode = (): ProjectionNode => ({ whole: false, attributes: new Map(), indices: new Map() });

function projectValue(value: AttributeValue, node: ProjectionNode): AttributeValue | undefined {
  if (node.whole) return value;
  if ('M' in value && node.attributes.size > 0) {
    const projected = projectMap(value.M, node);
    return Object.keys(projected).length > 0 ? { M: projected } : undefined;
  }
  if ('L' in value && node.indices.size > 0) {
    // Selected list elements come back as a (shorter) list, in index order.
    const elements = [...node.indices.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([index, child]) => {
        const element = value.L[index];
        const projected = element === undefined ? undefined : projectValue(element, child);
        return projected === undefined ? [] : [projected];
      });
    return elements.length > 0 ? { L: elements } : undefined;
  }
  return undefined;
}

function projectMap(map: Item, node: ProjectionNode): Item {
  const result: Record<string, AttributeValue> = {};
  for (const [name, child] of node.attributes) {
    const value = map[name];
    const projected = value === undefined ? undefined : projectValue(value, child);
    if (projected !== undefined) result[name] = projected;
  }
  return result;
}

/** The parts of `item` the paths select, nested as in the item. */
export function project(item: Item, paths: readonly DocumentPath[]): Item {
  const root = newNode();
  for (const path of paths) {
    let node = root;
    for (const element of path) {
      const children: Map<string | number, ProjectionNode> = element.kind === 'attribute' ? node.attributes : node.indices;
      const key = element.kind === 'attribute' ? element.name : element.index;
      let child = children.get(key);
      if (!child) {
        child = newNode();
        children.set(key, child);
      }
      node = child;
    }
    node.whole = true;
  }
  return projectMap(item, root);
}


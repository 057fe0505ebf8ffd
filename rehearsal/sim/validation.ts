/**
 * Input validation the way AWS's JSON services report it. Each operation has one zod schema for its
 * input; a failed parse becomes:
 * - SerializationException when a member has the wrong JSON type (AWS fails to deserialize it), or
 * - ValidationException "N validation error(s) detected: Value 'x' at 'memberPath' failed to satisfy
 *   constraint: Member must ..." for missing required members and length, pattern, range and enum
 *   violations, with AWS's member paths (lowerCamelCase, 1-based list indices: `productionVariants.1.member.variantName`).
 */
import { z } from 'zod';
import { AwsServiceError } from './errors';

type PathSegment = PropertyKey;

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** `['ProductionVariants', 0, 'VariantName']` -> `productionVariants.1.member.variantName`. */
export function awsMemberPath(path: readonly PathSegment[]): string {
  return path
    .map((segment) => (typeof segment === 'number' ? `${segment + 1}.member` : lowerFirst(String(segment))))
    .join('.');
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment as string];
  }
  return current;
}

/** How AWS prints a value in a constraint message. */
function formatValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `'${value}'`;
  return `'${JSON.stringify(value)}'`;
}

function regexSource(pattern: string | undefined): string {
  // zod reports the pattern as `/source/flags`; AWS prints the bare source.
  const match = /^\/(.*)\/[a-z]*$/s.exec(pattern ?? '');
  return match ? match[1]! : (pattern ?? '');
}

/** The "Member must ..." text of one zod issue. */
function constraintText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
        ? `Member must have value less than or equal to ${issue.maximum}`
        : `Member must have length less than or equal to ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
        ? `Member must have value greater than or equal to ${issue.minimum}`
        : `Member must have length greater than or equal to ${issue.minimum}`;
    case 'invalid_format':
      return `Member must satisfy regular expression pattern: ${regexSource((issue as { pattern?: string }).pattern)}`;
    case 'invalid_value':
      return `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
    default:
      // Custom refinements carry the constraint text as their message.
      return issue.message;
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'structure';
  return typeof value;
}

/** JSON `null` members are treated as absent, as AWS's JSON deserializers do. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, member]) => member !== null)
        .map(([key, member]) => [key, withoutNulls(member)]),
    );
  }
  return value;
}

/**
 * Parses `input` with `schema`, throwing the SerializationException or ValidationException AWS would
 * answer. Unknown members are ignored, as AWS ignores them.
 */
export function parseAwsInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AwsServiceError('SerializationException', `Start of ${typeName(input)} found where a structure was expected.`);
  }
  const cleaned = withoutNulls(input);
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;

  const messages: string[] = [];
  for (const issue of result.error.issues) {
    const value = valueAt(cleaned, issue.path);
    const memberPath = awsMemberPath(issue.path);
    if (issue.code === 'invalid_type' && value !== undefined) {
      // A member of the wrong JSON type never reaches validation in AWS: deserialization fails first.
      throw new AwsServiceError(
        'SerializationException',
        `Expected ${issue.expected} at '${memberPath}' but found ${typeName(value)}.`,
      );
    }
    const text = issue.code === 'invalid_type' ? 'Member must not be null' : constraintText(issue);
    messages.push(`Value ${formatValue(value)} at '${memberPath}' failed to satisfy constraint: ${text}`);
  }
  const count = messages.length;
  throw new AwsServiceError(
    'ValidationException',
    `${count} validation error${count === 1 ? '' : 's'} detected: ${messages.join('; ')}`,
  );
}

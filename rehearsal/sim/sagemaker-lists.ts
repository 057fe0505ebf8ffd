/**
 * SageMaker's List operations (ListEndpointConfigs, ListModels, ListEndpoints) over the simulation's stored
 * resources: their input schemas (from the SageMaker API model), their filters (NameContains, CreationTimeBefore/
 * After, and for endpoints LastModifiedTimeBefore/After and StatusEquals), sorting (default CreationTime,
 * Descending) and pagination.
 *
 * The NextToken is a cursor (the sort key and name of the last item returned), not an offset: a caller that
 * deletes what one page listed before asking for the next one (a sweeper) still gets every remaining item.
 */
import { z } from 'zod';
import { validationException } from './errors';
import { parseAwsInput } from './validation';

const NAME_CONTAINS_PATTERN = /^[a-zA-Z0-9-]+$/;
/** Timestamps arrive as epoch seconds (awsJson1_1), possibly fractional. */
const timestamp = z.number();
/** Most items one page returns when MaxResults is absent (SageMaker's List* default). */
export const DEFAULT_MAX_RESULTS = 10;

const common = {
  SortOrder: z.enum(['Ascending', 'Descending']).optional(),
  NextToken: z.string().max(8192).optional(),
  MaxResults: z.int().min(1).max(100).optional(),
  NameContains: z.string().max(63).regex(NAME_CONTAINS_PATTERN).optional(),
  CreationTimeBefore: timestamp.optional(),
  CreationTimeAfter: timestamp.optional(),
};

export const listEndpointConfigsInput = z.object({ SortBy: z.enum(['Name', 'CreationTime']).optional(), ...common });
export const listModelsInput = z.object({ SortBy: z.enum(['Name', 'CreationTime']).optional(), ...common });
export const listEndpointsInput = z.object({
  SortBy: z.enum(['Name', 'CreationTime', 'Status']).optional(),
  ...common,
  LastModifiedTimeBefore: timestamp.optional(),
  LastModifiedTimeAfter: timestamp.optional(),
  StatusEquals: z
    .enum(['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed'])
    .optional(),
});

/** What a List operation needs of one stored resource. */
export interface Listable {
  readonly name: string;
  readonly creationTimeMs: number;
  readonly lastModifiedTimeMs?: number;
  readonly status?: string;
}

type ListInput = z.output<typeof listEndpointsInput>;

/**
 * One page of `resources` as SageMaker lists them: filtered, sorted, cut after MaxResults, with a NextToken
 * when more remain. `summarize` renders each item (timestamps in epoch seconds).
 */
export function listPage<R extends Listable>(
  schema: z.ZodType,
  rawInput: unknown,
  resources: Iterable<R>,
  summarize: (resource: R) => object,
): { items: object[]; NextToken?: string } {
  const input = parseAwsInput(schema, rawInput) as Partial<ListInput>;
  const seconds = (ms: number | undefined): number => (ms ?? 0) / 1000;
  const contains = input.NameContains?.toLowerCase();
  const matched = [...resources].filter(
    (resource) =>
      (contains === undefined || resource.name.toLowerCase().includes(contains)) &&
      (input.CreationTimeBefore === undefined || seconds(resource.creationTimeMs) < input.CreationTimeBefore) &&
      (input.CreationTimeAfter === undefined || seconds(resource.creationTimeMs) > input.CreationTimeAfter) &&
      (input.LastModifiedTimeBefore === undefined || seconds(resource.lastModifiedTimeMs) < input.LastModifiedTimeBefore) &&
      (input.LastModifiedTimeAfter === undefined || seconds(resource.lastModifiedTimeMs) > input.LastModifiedTimeAfter) &&
      (input.StatusEquals === undefined || resource.status === input.StatusEquals),
  );
  const sortBy = input.SortBy ?? 'CreationTime';
  const direction = (input.SortOrder ?? 'Descending') === 'Ascending' ? 1 : -1;
  const sortKey = (resource: R): string | number =>
    sortBy === 'Name' ? resource.name.toLowerCase() : sortBy === 'Status' ? (resource.status ?? '') : resource.creationTimeMs;
  // Ties on the sort key are broken by name, always ascending, so a cursor is a position in one total order.
  const compare = (a: { key: string | number; name: string }, b: { key: string | number; name: string }): number => {
    if (a.key !== b.key) return (a.key < b.key ? -1 : 1) * direction;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
  const ordered = matched
    .map((resource) => ({ resource, position: { key: sortKey(resource), name: resource.name.toLowerCase() } }))
    .sort((a, b) => compare(a.position, b.position));
  const cursor = input.NextToken !== undefined ? decodeCursor(input.NextToken, sortBy) : undefined;
  const remaining = cursor ? ordered.filter((entry) => compare(entry.position, cursor) > 0) : ordered;
  const page = remaining.slice(0, input.MaxResults ?? DEFAULT_MAX_RESULTS);
  const last = page[page.length - 1];
  return {
    items: page.map((entry) => summarize(entry.resource)),
    ...(last && remaining.length > page.length ? { NextToken: encodeCursor({ ...last.position, sortBy }) } : {}),
  };
}

interface Cursor {
  readonly key: string | number;
  readonly name: string;
  readonly sortBy: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64');
}

function decodeCursor(token: string, sortBy: string): Cursor {
  let cursor: Partial<Cursor> | undefined;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Partial<Cursor>;
  } catch {
    cursor = undefined;
  }
  if (!cursor || typeof cursor.name !== 'string' || (typeof cursor.key !== 'string' && typeof cursor.key !== 'number')) {
    throw validationException('Invalid pagination token: pass the NextToken of a previous response.');
  }
  if (cursor.sortBy !== sortBy) {
    // A token continues the listing it came from; SageMaker refuses one replayed with another sort.
    throw validationException('Invalid pagination token: it was issued for a different SortBy.');
  }
  return cursor as Cursor;
}

/**
 * Reads one value out of a model's JSON response (the score the distribution gate compares, the prediction
 * the golden gate checks). Two notations:
 * - a path starting with `/` (or the empty path) is an RFC 6901 JSON pointer: `/predictions/0/score`,
 *   with `~1` for `/` and `~0` for `~` inside a key; `''` is the whole document;
 * - anything else is the field/index subset of JMESPath: `score`, `predictions[0].score`, `a.b[2]`, `[0]`.
 *   Only identifiers and non-negative indexes: wildcards, slices, filters, functions and quoted identifiers
 *   are refused when the path is compiled, so a policy with one fails at configuration time, not per request.
 * A path that leads nowhere (missing key, index out of range, a step into a non-container) gives undefined.
 */

/** Reads the value at a compiled path; undefined when the document has nothing there. */
export type PathReader = (document: unknown) => unknown;

/** The path cannot be read: bad syntax, or JMESPath beyond the supported subset. */
export class UnsupportedPathError extends Error {
  constructor(
    /** The path as given. */
    readonly path: string,
    /** What is wrong with it. */
    problem: string,
  ) {
    super(`unsupported path ${JSON.stringify(path)}: ${problem}`);
    this.name = 'UnsupportedPathError';
  }
}

type Step = (container: unknown) => unknown;

const SUPPORTED = 'supported: identifiers and non-negative indexes such as predictions[0].score, or a JSON pointer such as /predictions/0/score';
const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;
const ARRAY_INDEX_TOKEN = /^(0|[1-9][0-9]*)$/;

/**
 * Parses `path` once and returns a reader: use it in loops over many responses.
 * @throws UnsupportedPathError naming the path and what is unsupported or malformed
 */
export function compilePath(path: string): PathReader {
  const steps = path === '' || path.startsWith('/') ? jsonPointerSteps(path) : jmesPathSteps(path);
  if (steps.length === 0) return (document) => document;
  return (document) => {
    let current = document;
    for (const step of steps) {
      current = step(current);
      if (current === undefined) return undefined;
    }
    return current;
  };
}

/** Compiled paths by text: the few paths a policy names are parsed once per container, not once per call. */
const compiledPaths = new Map<string, PathReader>();
const MAX_CACHED_PATHS = 256;

/**
 * The value at `path` in `document` (see the module comment for the notations); undefined when missing.
 * @throws UnsupportedPathError when the path is malformed or beyond the supported subset
 */
export function extractAt(document: unknown, path: string): unknown {
  let reader = compiledPaths.get(path);
  if (reader === undefined) {
    reader = compilePath(path);
    if (compiledPaths.size >= MAX_CACHED_PATHS) compiledPaths.clear();
    compiledPaths.set(path, reader);
  }
  return reader(document);
}

function propertyStep(key: string): Step {
  return (container) =>
    container !== null && typeof container === 'object' && !Array.isArray(container) && Object.prototype.hasOwnProperty.call(container, key)
      ? (container as Record<string, unknown>)[key]
      : undefined;
}

function indexStep(index: number): Step {
  return (container) => (Array.isArray(container) && index < container.length ? container[index] : undefined);
}

/** RFC 6901: `/`-separated reference tokens; an array takes only a decimal index without leading zeros. */
function jsonPointerSteps(path: string): Step[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((token, position) => {
      const badEscape = /~(?![01])/.exec(token);
      if (badEscape) {
        throw new UnsupportedPathError(path, `reference token ${position + 1} ("${token}") has "~" not followed by 0 or 1 (write ~0 for "~" and ~1 for "/")`);
      }
      // ~1 first: "~01" is the key "~1", not "/".
      const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
      const readProperty = propertyStep(key);
      if (!ARRAY_INDEX_TOKEN.test(key)) {
        return (container: unknown) => (Array.isArray(container) ? undefined : readProperty(container));
      }
      const readIndex = indexStep(Number(key));
      return (container: unknown) => (Array.isArray(container) ? readIndex(container) : readProperty(container));
    });
}

/** The JMESPath subset: identifier or [index] first, then `.identifier` and `[index]` steps. */
function jmesPathSteps(path: string): Step[] {
  const steps: Step[] = [];
  let position = 0;
  const fail = (problem: string): never => {
    throw new UnsupportedPathError(path, `${problem} at position ${position} (${SUPPORTED})`);
  };

  const readIdentifier = (): void => {
    const character = path[position];
    if (character === undefined) fail('an identifier is missing');
    else if (character === '"') fail('quoted identifiers are not supported');
    else if (character === '*') fail('wildcards are not supported');
    else if (character === '@') fail('the current-node operator @ is not supported');
    else if (/\s/.test(character)) fail('whitespace is not supported');
    else if (!IDENTIFIER_START.test(character)) fail(`"${character}" cannot start an identifier`);
    const start = position;
    while (position < path.length && IDENTIFIER_PART.test(path[position]!)) position++;
    const identifier = path.slice(start, position);
    if (position < path.length && path[position] === '(') {
      position = start;
      fail(`functions (${identifier}(...)) are not supported`);
    }
    steps.push(propertyStep(identifier));
  };

  const readIndex = (): void => {
    position++; // past '['
    const character = path[position];
    if (character === '-') fail('negative indexes are not supported');
    if (character === '*') fail('wildcards are not supported');
    if (character === '?') fail('filter expressions are not supported');
    if (character === ':') fail('slices are not supported');
    if (character === ']') fail('flatten ([]) is not supported');
    const start = position;
    while (position < path.length && /[0-9]/.test(path[position]!)) position++;
    if (position === start) fail('an index must be a non-negative integer');
    if (path[position] === ':') fail('slices are not supported');
    if (path[position] !== ']') fail('"]" expected');
    steps.push(indexStep(Number(path.slice(start, position))));
    position++; // past ']'
  };

  if (path[0] === '[') readIndex();
  else readIdentifier();
  while (position < path.length) {
    const character = path[position]!;
    if (character === '.') {
      position++;
      if (path[position] === '[') fail('multiselect lists (.[...]) are not supported');
      if (path[position] === '{') fail('multiselect hashes (.{...}) are not supported');
      readIdentifier();
    } else if (character === '[') {
      readIndex();
    } else if (character === '|') {
      fail('pipes are not supported');
    } else if (/\s/.test(character)) {
      fail('whitespace is not supported');
    } else {
      fail(`"${character}" is not supported (expected "." or "[")`);
    }
  }
  return steps;
}

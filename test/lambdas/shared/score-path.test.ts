import fc from 'fast-check';
import { compilePath, extractAt, UnsupportedPathError } from '../../../lambdas/shared/score-path';

const response = {
  score: 0.93,
  predictions: [
    { label: 'fraud', score: 0.81 },
    { label: 'ok', score: 0.19, probabilities: [0.1, 0.9] },
  ],
  a: { b: [10, 11, 12] },
  'a/b': 'slash',
  'm~n': 'tilde',
  '': 'empty key',
  '0': 'zero key',
  nothing: null,
  flag: false,
};

describe('extractAt: JMESPath field/index subset', () => {
  test.each([
    ['score', 0.93],
    ['predictions[0].score', 0.81],
    ['predictions[1].label', 'ok'],
    ['predictions[1].probabilities[1]', 0.9],
    ['a.b[2]', 12],
    ['a.b', [10, 11, 12]],
    ['nothing', null],
    ['flag', false],
    ['_private_1', undefined],
  ])('%s -> %p', (path, expected) => {
    expect(extractAt(response, path)).toEqual(expected);
  });

  test('a leading index reads a top-level array', () => {
    expect(extractAt([{ score: 1 }, { score: 2 }], '[1].score')).toBe(2);
    expect(extractAt([[1, 2], [3, 4]], '[1][0]')).toBe(3);
  });

  test.each([
    ['missing key', 'label'],
    ['index past the end', 'predictions[5].score'],
    ['field of an array', 'predictions.score'],
    ['index into an object', 'a[0]'],
    ['step through null', 'nothing.score'],
    ['step through a number', 'score.value'],
    ['inherited property', 'toString'],
    ['prototype', '__proto__'],
  ])('%s -> undefined', (_, path) => {
    expect(extractAt(response, path)).toBeUndefined();
  });

  test.each([
    ['predictions[-1].score', 'negative indexes are not supported'],
    ['predictions[*].score', 'wildcards are not supported'],
    ['predictions[0:2]', 'slices are not supported'],
    ['predictions[?score > `0.5`]', 'filter expressions are not supported'],
    ['predictions[]', 'flatten ([]) is not supported'],
    ['*.score', 'wildcards are not supported'],
    ['"quoted key".score', 'quoted identifiers are not supported'],
    ['length(predictions)', 'functions (length(...)) are not supported'],
    ['predictions | [0]', 'whitespace is not supported'],
    ['predictions|[0]', 'pipes are not supported'],
    ['a.{x: b}', 'multiselect hashes (.{...}) are not supported'],
    ['a.[b, c]', 'multiselect lists (.[...]) are not supported'],
    ['a.', 'an identifier is missing'],
    ['a..b', '"." cannot start an identifier'],
    ['1abc', '"1" cannot start an identifier'],
    ['a[x]', 'an index must be a non-negative integer'],
    ['a[1', '"]" expected'],
    ['@.score', 'the current-node operator @ is not supported'],
    ['a-b', '"-" is not supported (expected "." or "[")'],
  ])('%s is refused: %s', (path, problem) => {
    const attempt = () => compilePath(path);
    expect(attempt).toThrow(UnsupportedPathError);
    expect(attempt).toThrow(`unsupported path ${JSON.stringify(path)}: ${problem}`);
  });

  test('the error carries the path and says what is supported', () => {
    try {
      compilePath('predictions[-1]');
      throw new Error('compilePath accepted a negative index');
    } catch (error) {
      expect(error).toBeInstanceOf(UnsupportedPathError);
      expect((error as UnsupportedPathError).path).toBe('predictions[-1]');
      expect((error as UnsupportedPathError).name).toBe('UnsupportedPathError');
      expect((error as Error).message).toContain('at position 12');
      expect((error as Error).message).toContain('supported: identifiers and non-negative indexes');
    }
  });
});

describe('extractAt: RFC 6901 JSON pointer', () => {
  test.each([
    // The RFC's own examples use the same escaping rules.
    ['', response],
    ['/score', 0.93],
    ['/predictions/0/score', 0.81],
    ['/predictions/1/probabilities/0', 0.1],
    ['/a/b/1', 11],
    ['/a~1b', 'slash'],
    ['/m~0n', 'tilde'],
    ['/', 'empty key'],
    ['/0', 'zero key'],
    ['/nothing', null],
  ])('%p -> %p', (path, expected) => {
    expect(extractAt(response, path)).toEqual(expected);
  });

  test('~01 is the key "~1" (unescape ~1 before ~0)', () => {
    expect(extractAt({ '~1': 'literal', '/': 'slash' }, '/~01')).toBe('literal');
  });

  test.each([
    ['missing key', '/label'],
    ['index past the end', '/predictions/9'],
    ['"-" (the element after the last)', '/predictions/-'],
    ['leading zero in an array index', '/predictions/01'],
    ['key on an array', '/predictions/score'],
    ['step through null', '/nothing/x'],
    ['inherited property', '/constructor'],
  ])('%s -> undefined', (_, path) => {
    expect(extractAt(response, path)).toBeUndefined();
  });

  test('a numeric token reads an object key when the container is an object', () => {
    expect(extractAt({ 7: 'seven' }, '/7')).toBe('seven');
  });

  test.each(['/a~2b', '/a~', '/x/~'])('%p is refused: "~" must be followed by 0 or 1', (path) => {
    expect(() => compilePath(path)).toThrow(UnsupportedPathError);
    expect(() => compilePath(path)).toThrow('has "~" not followed by 0 or 1');
  });
});

describe('compilePath', () => {
  test('a compiled reader gives what extractAt gives, for any document', () => {
    const paths = ['score', 'predictions[0].score', '/predictions/1/label', 'a.b[0]', ''];
    const documents = fc.oneof(fc.jsonValue(), fc.constant(response));
    fc.assert(
      fc.property(documents, fc.constantFrom(...paths), (document, path) => {
        expect(compilePath(path)(document)).toEqual(extractAt(document, path));
      }),
    );
  });

  test('the pointer and the JMESPath form of one location agree on generated documents', () => {
    const scored = fc.record({ predictions: fc.array(fc.record({ score: fc.double({ noNaN: true }) }), { maxLength: 3 }) });
    fc.assert(
      fc.property(scored, (document) => {
        expect(extractAt(document, '/predictions/1/score')).toBe(extractAt(document, 'predictions[1].score'));
        expect(extractAt(document, 'predictions[1].score')).toBe(document.predictions[1]?.score);
      }),
    );
  });

  test('reads a key whose name looks like a JMESPath expression through a pointer', () => {
    expect(extractAt({ 'a.b[0]': 1 }, '/a.b[0]')).toBe(1);
    expect(extractAt({ 'a.b[0]': 1 }, 'a.b[0]')).toBeUndefined();
  });
});

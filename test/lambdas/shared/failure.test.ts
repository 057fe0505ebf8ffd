import { failureMessage, joinSentences, oneLine } from '../../../lambdas/shared/failure';

describe('failureMessage', () => {
  test('takes errorMessage out of a Lambda error document', () => {
    const cause = JSON.stringify({
      errorType: 'SmokeCheckFailed',
      errorMessage: 'Smoke check of green variant v7-3f9a2c1b on endpoint fraud-detector-prod failed: ModelError (OriginalStatusCode 500): boom',
      trace: ['SmokeCheckFailed: ...', '    at smokeCheck (/var/task/index.js:1:1)'],
    });
    expect(failureMessage(cause)).toBe(
      'Smoke check of green variant v7-3f9a2c1b on endpoint fraud-detector-prod failed: ModelError (OriginalStatusCode 500): boom',
    );
  });

  test('keeps a plain Cause as it is, on one line', () => {
    expect(failureMessage('Task timed out\n  after 120.00 seconds')).toBe('Task timed out after 120.00 seconds');
  });

  test('keeps JSON that is not a Lambda error document, and text that only looks like JSON', () => {
    expect(failureMessage('{"status": "FAILED"}')).toBe('{"status": "FAILED"}');
    expect(failureMessage('{not json')).toBe('{not json');
  });

  test('never empty', () => {
    expect(failureMessage(undefined)).toBe('(no cause given)');
    expect(failureMessage('  ')).toBe('(no cause given)');
  });
});

describe('joinSentences and oneLine', () => {
  test('adds a period only when the first sentence lacks one', () => {
    expect(joinSentences('Green failed', 'Blue restored.')).toBe('Green failed. Blue restored.');
    expect(joinSentences('Green failed.', 'Blue restored.')).toBe('Green failed. Blue restored.');
    expect(joinSentences('Green failed?', 'Blue restored.')).toBe('Green failed? Blue restored.');
  });

  test('collapses whitespace', () => {
    expect(oneLine(' a\n\tb  c ')).toBe('a b c');
  });
});

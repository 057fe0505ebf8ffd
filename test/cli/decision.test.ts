import { describePendingApproval, formatDuration } from '../../cli/decision';
import { ENDPOINT, EXECUTION_ARN, NOW, PACKAGE_ARN } from './support';

describe('formatDuration', () => {
  test.each([
    [40_999, '40 s'],
    [12 * 60_000 + 59_000, '12 min'],
    [2 * 3_600_000 + 5 * 60_000 + 30_000, '2 h 5 min'],
    [3 * 3_600_000, '3 h'],
  ])('%d ms: %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('describePendingApproval', () => {
  const approval = {
    taskToken: 'token',
    endpointName: ENDPOINT,
    modelPackageArn: PACKAGE_ARN,
    modelPackageVersion: 7,
    verdict: 'PASS' as const,
    summary: '',
    waitingSince: new Date(NOW.getTime() - 7_200_000),
    deadline: new Date(NOW.getTime() - 60_000),
  };

  test('a timeout already past is said so; an empty summary shows as (none); no report row without a URI', () => {
    const lines = describePendingApproval(EXECUTION_ARN, approval, NOW);

    expect(lines).toContain('  summary        (none)');
    expect(lines.at(-1)).toBe('  waiting since  2025-03-04T10:00:00.000Z (its timeout, 2025-03-04T11:59:00.000Z, has passed)');
    expect(lines.some((line) => line.includes('report'))).toBe(false);
  });
});

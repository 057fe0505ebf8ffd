/**
 * The rollout summary, built from an audit trail (pure): timeline order and bound, gates and verdict, decisions,
 * resources, the readable text, and the size of the whole on a huge trail.
 */
import type { RolloutAudit, RolloutHeader } from '../../lambdas/shared/audit-trail';
import {
  describeLifecycleEvent,
  isNotified,
  LIFECYCLE_SCHEMA_VERSION,
  type GateOutcome,
  type LifecycleDetail,
  type LifecycleEvent,
  type RolloutRef,
} from '../../lambdas/shared/lifecycle-events';
import {
  buildRolloutSummary,
  cutText,
  formatSeconds,
  MAX_MESSAGE_CHARS,
  MAX_RESOURCES,
  MAX_TEXT_BYTES,
  MAX_TIMELINE_ENTRIES,
  outcomeTags,
  parseRejectionCause,
  PROMOTED_REASON,
  type BuildRolloutSummaryInput,
} from '../../lambdas/shared/rollout-summary';

const REF: RolloutRef = {
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:rollout:abc',
  deploymentId: '0a1b2c3d',
  endpointName: 'fraud-endpoint',
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/7',
  modelPackageGroupName: 'fraud-detector',
  modelPackageVersion: 7,
};
const START = '2026-11-22T10:00:00.000Z';
const END = '2026-11-22T10:14:03.000Z';
const GREEN = 'v7-0a1b2c3d';

/** `seconds` after START, as an ISO time. */
const after = (seconds: number) => new Date(Date.parse(START) + seconds * 1000).toISOString();

/** An event as the audit trail stores it. */
function recorded(event: LifecycleEvent, atSecond: number): LifecycleDetail {
  return {
    ...event,
    schemaVersion: LIFECYCLE_SCHEMA_VERSION,
    rollout: REF,
    at: after(atSecond),
    message: describeLifecycleEvent(REF, event),
    notify: isNotified(event),
  } as LifecycleDetail;
}

const HEADER: RolloutHeader = {
  ref: REF,
  startedAt: START,
  trigger: { kind: 'MODEL_REGISTRY_APPROVAL', by: 'arn:aws:iam::123456789012:role/ds-lead', eventId: 'e-42' },
  policy: { trafficMode: 'CANARY', stepPercents: [10, 100], bakeSeconds: 600, stepBakeSeconds: 300, rollbackWindowSeconds: 300 },
  configHash: '0123456789abcdef',
  blueVariantName: 'v6-99999999',
  greenVariantName: GREEN,
  instanceType: 'ml.g5.xlarge',
  instanceCount: 2,
  firstDeployment: false,
};

const LATENCY_PASS: GateOutcome = {
  gate: 'latency',
  verdict: 'PASS',
  samples: 500,
  checks: [{ name: 'green p99 / blue p99', statistic: 1.02, threshold: 1.2, comparison: '<=' }],
  reason: 'green p99 182 ms vs blue 178 ms',
};
const ERRORS_PASS: GateOutcome = {
  gate: 'errors',
  verdict: 'PASS',
  samples: 500,
  checks: [{ name: 'green 5xx rate', statistic: 0, threshold: 0.01, comparison: '<=' }],
};
const GOLDEN_SKIPPED: GateOutcome = { gate: 'golden', verdict: 'SKIPPED' };

/** A promoted canary, as its steps record it. */
function promotedEvents(): LifecycleDetail[] {
  return [
    recorded({ type: 'RolloutStarted', trigger: HEADER.trigger, trafficMode: 'CANARY', stepPercents: [10, 100], greenVariantName: GREEN, instanceType: 'ml.g5.xlarge', configHash: 'x' }, 0),
    recorded(
      {
        type: 'GreenProvisioned',
        greenVariantName: GREEN,
        instanceType: 'ml.g5.xlarge',
        instanceCount: 2,
        resourcesCreated: [
          { kind: 'model', name: 'fraud-detector-v7-0a1b2c3d' },
          { kind: 'endpoint-config', name: 'fraud-endpoint-0a1b2c3d-transition' },
        ],
      },
      5,
    ),
    recorded({ type: 'ValidationVerdict', verdict: 'FAIL', gates: [{ gate: 'latency', verdict: 'FAIL' }] }, 300),
    recorded({ type: 'ValidationVerdict', verdict: 'PASS', gates: [LATENCY_PASS, ERRORS_PASS, GOLDEN_SKIPPED] }, 400),
    recorded({ type: 'ApprovalDecided', decision: 'APPROVED', by: 'alice', reason: 'numbers look fine' }, 450),
    recorded({ type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, 500),
    recorded({ type: 'TrafficShifted', greenPercent: 100, bluePercent: 0 }, 700),
    recorded({ type: 'CleanupCompleted', resourcesRemoved: [{ kind: 'variant', name: 'v6-99999999' }] }, 800),
    recorded(
      {
        type: 'CleanupCompleted',
        resourcesRemoved: [
          { kind: 'endpoint-config', name: 'fraud-endpoint-0a1b2c3d-transition' },
          { kind: 'variant', name: 'v6-99999999' },
          { kind: 'alarm', name: 'bluegreen-0a1b2c3d-5xx' },
        ],
      },
      840,
    ),
  ];
}

function input(overrides: Partial<BuildRolloutSummaryInput> = {}, audit: RolloutAudit = { header: HEADER, events: promotedEvents() }): BuildRolloutSummaryInput {
  return {
    ref: REF,
    outcome: 'PROMOTED',
    reason: PROMOTED_REASON,
    startedAt: '2026-11-22T09:59:00.000Z',
    endedAt: END,
    greenVariantName: GREEN,
    audit,
    ...overrides,
  };
}

describe('buildRolloutSummary: a promoted rollout', () => {
  const summary = buildRolloutSummary(input());

  test('identity, times from the audit header (not the execution start), duration', () => {
    expect(summary).toMatchObject({
      outcome: 'PROMOTED',
      endpointName: 'fraud-endpoint',
      modelPackageArn: REF.modelPackageArn,
      modelPackageVersion: 7,
      deploymentId: '0a1b2c3d',
      executionArn: REF.executionArn,
      trigger: HEADER.trigger,
      startedAt: START,
      endedAt: END,
      durationSeconds: 843,
      reason: PROMOTED_REASON,
    });
    expect(summary.error).toBeUndefined();
  });

  test('the timeline is in time order, seconds after the start, and ends with the Promoted event', () => {
    const shuffled = buildRolloutSummary(input({}, { header: HEADER, events: [...promotedEvents()].reverse() }));
    expect(shuffled.timeline).toEqual(summary.timeline);
    expect(summary.timeline.map((t) => t.afterSeconds)).toEqual([0, 5, 300, 400, 450, 500, 700, 800, 840, 843]);
    expect(summary.timeline.map((t) => t.event)).toEqual([
      'Rollout Started',
      'Green Provisioned',
      'Validation Verdict',
      'Validation Verdict',
      'Approval Decided',
      'Traffic Shifted',
      'Traffic Shifted',
      'Cleanup Completed',
      'Cleanup Completed',
      'Rollout Promoted',
    ]);
    expect(summary.timeline.at(-1)).toEqual({
      at: END,
      afterSeconds: 843,
      event: 'Rollout Promoted',
      message: `fraud-detector v7 on fraud-endpoint PROMOTED: green ${GREEN} serves all traffic (rollout took 843 s)`,
    });
  });

  test('verdict and gates come from the last Validation Verdict event', () => {
    expect(summary.verdict).toBe('PASS');
    expect(summary.gates).toEqual([LATENCY_PASS, ERRORS_PASS, GOLDEN_SKIPPED]);
  });

  test('decisions from Approval Decided events', () => {
    expect(summary.decisions).toEqual([{ decision: 'APPROVED', by: 'alice', reason: 'numbers look fine', at: after(450) }]);
  });

  test('resources created and removed, each once', () => {
    expect(summary.resourcesCreated).toEqual([
      { kind: 'model', name: 'fraud-detector-v7-0a1b2c3d' },
      { kind: 'endpoint-config', name: 'fraud-endpoint-0a1b2c3d-transition' },
    ]);
    expect(summary.resourcesRemoved).toEqual([
      { kind: 'variant', name: 'v6-99999999' },
      { kind: 'endpoint-config', name: 'fraud-endpoint-0a1b2c3d-transition' },
      { kind: 'alarm', name: 'bluegreen-0a1b2c3d-5xx' },
    ]);
  });

  test('the text reads as a report', () => {
    const lines = summary.text.split('\n');
    expect(lines[0]).toBe('PROMOTED: fraud-detector v7 on fraud-endpoint in 14 min 3 s');
    expect(lines).toContain('Trigger: approved in the Model Registry by arn:aws:iam::123456789012:role/ds-lead (event e-42)');
    expect(lines).toContain(`Reason: ${PROMOTED_REASON}`);
    expect(lines).toContain(
      'Verdict: PASS (latency PASS: green p99 / blue p99 = 1.02 <= 1.2; errors PASS: green 5xx rate = 0 <= 0.01; golden SKIPPED)',
    );
    expect(lines).toContain(`Decision: APPROVED by alice at ${after(450)}: numbers look fine`);
    expect(lines).toContain('  +0 s  Rollout Started  ' + summary.timeline[0]!.message);
    expect(lines).toContain('  +8 min 20 s  Traffic Shifted  Traffic of fraud-endpoint: green (fraud-detector v7) 10%, blue 90%');
    expect(lines).toContain('Created: model fraud-detector-v7-0a1b2c3d, endpoint-config fraud-endpoint-0a1b2c3d-transition');
    expect(lines).toContain('Removed: variant v6-99999999, endpoint-config fraud-endpoint-0a1b2c3d-transition, alarm bluegreen-0a1b2c3d-5xx');
    expect(lines.indexOf('Timeline:')).toBeGreaterThan(0);
    expect(summary.text).not.toMatch(/Note:|Error:/);
  });

  test('a closing event already in the trail (a summary written again) is not listed twice', () => {
    const events = [...promotedEvents(), recorded({ type: 'Promoted', durationSeconds: 843, greenVariantName: GREEN }, 843)];
    const again = buildRolloutSummary(input({}, { header: HEADER, events }));
    expect(again.timeline.filter((t) => t.event === 'Rollout Promoted')).toHaveLength(1);
  });
});

describe('buildRolloutSummary: a rejected rollout', () => {
  const rollback = recorded(
    { type: 'RolledBack', error: 'RolloutRejected', reason: 'Rejected by bob: p99 too high', resourcesRemoved: [{ kind: 'variant', name: GREEN }] },
    600,
  );
  const rejected = (events: LifecycleDetail[]) =>
    buildRolloutSummary(
      input(
        {
          outcome: 'ROLLED_BACK',
          error: 'RolloutRejected',
          reason: 'Rejected by bob: p99 too high. Blue restored.',
          facts: { failure: { error: 'RolloutRejected', cause: 'Rejected by bob: p99 too high' } },
        },
        { header: HEADER, events },
      ),
    );

  test('the rejection comes from the failure\'s cause when the trail lacks it, dated by the rollback', () => {
    const summary = rejected([...promotedEvents().slice(0, 4), rollback]);
    expect(summary.decisions).toEqual([{ decision: 'REJECTED', by: 'bob', reason: 'p99 too high', at: after(600) }]);
    expect(summary.error).toBe('RolloutRejected');
    expect(summary.resourcesRemoved).toEqual([{ kind: 'variant', name: GREEN }]);
    expect(summary.timeline.at(-1)).toMatchObject({ event: 'Rollout Ended', message: expect.stringMatching(/ended ROLLED_BACK \(RolloutRejected\): Rejected by bob/) });
    const lines = summary.text.split('\n');
    expect(lines[0]).toMatch(/^ROLLED_BACK: fraud-detector v7 on fraud-endpoint in /);
    expect(lines).toContain('Error: RolloutRejected');
    expect(lines).toContain(`Decision: REJECTED by bob at ${after(600)}: p99 too high`);
  });

  test('a rejection the trail has (restore-blue recorded it) is not listed twice', () => {
    const decided = recorded({ type: 'ApprovalDecided', decision: 'REJECTED', by: 'bob', reason: 'p99 too high' }, 590);
    const summary = rejected([...promotedEvents().slice(0, 4), decided, rollback]);
    expect(summary.decisions).toEqual([{ decision: 'REJECTED', by: 'bob', reason: 'p99 too high', at: after(590) }]);
  });

  test('another failure is no decision', () => {
    const summary = buildRolloutSummary(
      input({ outcome: 'ROLLED_BACK', error: 'AlarmTriggered', reason: 'x', facts: { failure: { error: 'AlarmTriggered', cause: 'Rejected by nobody: x' } } }),
    );
    expect(summary.decisions.map((d) => d.decision)).toEqual(['APPROVED']);
  });
});

describe('buildRolloutSummary: without an audit trail', () => {
  test('what the execution knew stands in, and the text says so', () => {
    const summary = buildRolloutSummary({
      ref: REF,
      outcome: 'ROLLBACK_FAILED',
      error: 'RollbackFailed',
      reason: 'Blue cannot be restored',
      startedAt: START,
      endedAt: END,
      greenVariantName: GREEN,
      auditProblem: 'the audit trail could not be read (AccessDeniedException: no)',
      facts: {
        trigger: { kind: 'OPERATOR_DEPLOY', by: 'carol' },
        validation: { verdict: 'PASS', gates: [{ gate: 'latency', verdict: 'PASS' }] },
        approval: { decision: 'APPROVED', by: 'alice', at: after(100) },
      },
    });
    expect(summary).toMatchObject({
      startedAt: START,
      durationSeconds: 843,
      trigger: { kind: 'OPERATOR_DEPLOY', by: 'carol' },
      verdict: 'PASS',
      gates: [{ gate: 'latency', verdict: 'PASS' }],
      decisions: [{ decision: 'APPROVED', by: 'alice', at: after(100) }],
      resourcesCreated: [],
      resourcesRemoved: [],
    });
    expect(summary.timeline).toEqual([
      { at: END, afterSeconds: 843, event: 'Rollout Ended', message: 'Rollout of fraud-detector v7 on fraud-endpoint ended ROLLBACK_FAILED (RollbackFailed): Blue cannot be restored' },
    ]);
    expect(summary.text).toContain('Note: the audit trail could not be read (AccessDeniedException: no): this summary is built from what the execution knew.');
    expect(summary.text).toContain('Trigger: deployed by hand by carol');
    expect(summary.text).toContain('Verdict: PASS (latency PASS)');
  });

  test('no verdict and no trigger are said as such', () => {
    const summary = buildRolloutSummary({ ref: REF, outcome: 'ROLLED_BACK', error: 'SmokeCheckFailed', reason: 'r', startedAt: START, endedAt: START, greenVariantName: GREEN });
    expect(summary.verdict).toBeUndefined();
    expect(summary.text).toContain('Verdict: no validation verdict');
    expect(summary.text).toContain('Trigger: unknown (not in the audit trail)');
    expect(summary.text.split('\n')[0]).toBe('ROLLED_BACK: fraud-detector v7 on fraud-endpoint in 0 s');
  });
});

describe('buildRolloutSummary: bounds', () => {
  test(`the timeline keeps the first 10 and the last 49 events, and says how many were left out (${MAX_TIMELINE_ENTRIES} at most)`, () => {
    const shifts = Array.from({ length: 200 }, (_, i) => recorded({ type: 'TrafficShifted', greenPercent: i % 100, bluePercent: 100 - (i % 100) }, i + 1));
    const summary = buildRolloutSummary(input({}, { header: HEADER, events: shifts }));
    const { timeline } = summary;
    expect(timeline).toHaveLength(MAX_TIMELINE_ENTRIES);
    expect(timeline.slice(0, 10).map((t) => t.afterSeconds)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // 200 recorded + the closing event = 201; 10 + 49 kept.
    expect(timeline[10]).toEqual({ at: after(11), afterSeconds: 11, event: 'Events Left Out', message: '142 events left out here (the audit trail has all 201)' });
    expect(timeline.slice(11, -1).map((t) => t.afterSeconds)).toEqual(Array.from({ length: 48 }, (_, i) => 153 + i));
    expect(timeline.at(-1)!.event).toBe('Rollout Promoted');
    expect(summary.text).toContain('142 events left out here');
  });

  test('a huge audit trail still gives a summary far below the 256 KB payload limit', () => {
    const long = 'é'.repeat(5000);
    const manyResources = Array.from({ length: 400 }, (_, i) => ({ kind: 'model' as const, name: `model-${i}-${'x'.repeat(200)}` }));
    const hugeGates: GateOutcome[] = Array.from({ length: 40 }, (_, g) => ({
      gate: `gate-${g}`,
      verdict: 'PASS',
      reason: long,
      checks: Array.from({ length: 40 }, (_, c) => ({ name: `${c}-${long}`, statistic: c, threshold: 1, comparison: '<=' })),
    }));
    const events: LifecycleDetail[] = [
      ...Array.from({ length: 5000 }, (_, i) => ({ ...recorded({ type: 'TrafficShifted', greenPercent: 10, bluePercent: 90 }, i), message: `${i} ${long}` })),
      recorded({ type: 'GreenProvisioned', greenVariantName: GREEN, instanceType: 'ml.g5.xlarge', instanceCount: 2, resourcesCreated: manyResources }, 5001),
      recorded({ type: 'CleanupCompleted', resourcesRemoved: manyResources }, 5002),
      recorded({ type: 'ValidationVerdict', verdict: 'PASS', gates: hugeGates }, 5003),
      ...Array.from({ length: 30 }, (_, i) => recorded({ type: 'ApprovalDecided', decision: 'APPROVED', by: `op-${i}`, reason: long }, 5004)),
    ];
    const summary = buildRolloutSummary(input({ reason: long.repeat(40), error: 'E'.repeat(10_000) }, { header: HEADER, events }));

    const bytes = Buffer.byteLength(JSON.stringify(summary));
    expect(bytes).toBeLessThan(128 * 1024);
    expect(Buffer.byteLength(summary.text)).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(summary.text).toMatch(/… \(cut at 16 KB: the audit trail has the whole story\)$/);
    expect(summary.timeline).toHaveLength(MAX_TIMELINE_ENTRIES);
    for (const entry of summary.timeline) expect(Array.from(entry.message).length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(summary.resourcesCreated).toHaveLength(MAX_RESOURCES);
    expect(summary.resourcesRemoved).toHaveLength(MAX_RESOURCES);
    expect(summary.gates.length).toBeLessThan(hugeGates.length);
    for (const gate of summary.gates) expect(Array.from(gate.reason ?? '').length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(summary.decisions.length).toBeLessThan(30);
  });

  test('the resource lines say how many more there were', () => {
    const many = Array.from({ length: MAX_RESOURCES + 7 }, (_, i) => ({ kind: 'alarm' as const, name: `alarm-${i}` }));
    const summary = buildRolloutSummary(input({}, { header: HEADER, events: [recorded({ type: 'CleanupCompleted', resourcesRemoved: many }, 10)] }));
    expect(summary.text).toMatch(new RegExp(`^Removed: alarm alarm-0, .*alarm alarm-${MAX_RESOURCES - 1} and 7 more$`, 'm'));
    expect(summary.text).toMatch(/^Created: nothing$/m);
  });
});

describe('helpers', () => {
  test.each([
    [0, '0 s'],
    [45, '45 s'],
    [843, '14 min 3 s'],
    [900, '15 min'],
    [7507, '2 h 5 min 7 s'],
    [7200, '2 h'],
    [3607, '1 h 0 min 7 s'],
    [-5, '-5 s'],
  ])('formatSeconds(%p) = %p', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  test('cutText cuts by characters, never half a surrogate pair', () => {
    expect(cutText('abcdef', 4)).toBe('abc…');
    expect(cutText('abc', 3)).toBe('abc');
    expect(cutText('😀😀😀😀', 3)).toBe('😀😀…');
  });

  test('parseRejectionCause reads what the reject command sends', () => {
    expect(parseRejectionCause('Rejected by bob@example.com: p99: too high')).toEqual({ by: 'bob@example.com', reason: 'p99: too high' });
    expect(parseRejectionCause('Alarm fraud-5xx went to ALARM')).toBeUndefined();
    expect(parseRejectionCause(undefined)).toBeUndefined();
  });

  test('outcome tags: per endpoint, within SageMaker\'s limits even for the longest endpoint name', () => {
    const longest = 'e'.repeat(63);
    const { tags, refused } = outcomeTags({ endpointName: longest, outcome: 'ROLLED_BACK', endedAt: END, deploymentId: '0a1b2c3d' });
    expect(refused).toEqual([]);
    expect(tags).toEqual([
      { Key: `bluegreen:${longest}:outcome`, Value: 'ROLLED_BACK' },
      { Key: `bluegreen:${longest}:deployed-at`, Value: END },
      { Key: `bluegreen:${longest}:deployment-id`, Value: '0a1b2c3d' },
    ]);
    for (const tag of tags) expect(tag.Key!.length).toBeLessThanOrEqual(128);
  });

  test('a tag SageMaker would refuse is left out, the others kept', () => {
    const { tags, refused } = outcomeTags({ endpointName: 'fraud-endpoint', outcome: 'PROMOTED', endedAt: END, deploymentId: 'bad#id' });
    expect(tags.map((t) => t.Key)).toEqual(['bluegreen:fraud-endpoint:outcome', 'bluegreen:fraud-endpoint:deployed-at']);
    expect(refused).toEqual(['bluegreen:fraud-endpoint:deployment-id: Value has a character SageMaker tags refuse']);
  });
});

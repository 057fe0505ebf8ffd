/**
 * docs/events.md documents the lifecycle events' schema: it must list every detail-type with its type name, carry the
 * current schema version, and its example must be what the code publishes (message and notify included).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeLifecycleEvent,
  isNotified,
  LIFECYCLE_DETAIL_TYPES,
  LIFECYCLE_EVENT_SOURCE,
  LIFECYCLE_SCHEMA_VERSION,
  type LifecycleEvent,
} from '../../lambdas/shared/lifecycle-events';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8');

describe('docs/events.md', () => {
  it('is the current schema version', () => {
    expect(doc.split('\n')[0]).toBe(`# Lifecycle events (schema version ${LIFECYCLE_SCHEMA_VERSION})`);
    expect(doc).toContain(`| \`source\` | \`${LIFECYCLE_EVENT_SOURCE}\` |`);
  });

  it('has one row per event type, with its detail-type, and no row for a type that does not exist', () => {
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| `([A-Za-z]+)` \|/gm)].map(([, detailType, type]) => [type, detailType]);
    expect(Object.fromEntries(rows)).toEqual(LIFECYCLE_DETAIL_TYPES);
  });

  it('shows an example that is exactly what the code publishes', () => {
    const example = JSON.parse(/```json\n([\s\S]+?)\n```/.exec(doc)![1]!);
    const { schemaVersion, rollout, at, message, notify, ...event } = example.detail;
    expect(schemaVersion).toBe(LIFECYCLE_SCHEMA_VERSION);
    expect(example.source).toBe(LIFECYCLE_EVENT_SOURCE);
    expect(example['detail-type']).toBe(LIFECYCLE_DETAIL_TYPES[event.type as keyof typeof LIFECYCLE_DETAIL_TYPES]);
    expect(example.resources).toEqual([rollout.modelPackageArn]);
    expect(typeof at).toBe('string');
    expect(message).toBe(describeLifecycleEvent(rollout, event as LifecycleEvent));
    expect(notify).toBe(isNotified(event as LifecycleEvent));
  });
});

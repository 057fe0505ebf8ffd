/**
 * EventBridge's rule matching, for the patterns this system uses: every field of the pattern must match;
 * a pattern leaf is a list of allowed values, and an event array matches when any of its elements does.
 * Content filters (prefix, anything-but, exists, numeric) are supported for completeness.
 */
type PatternLeaf = Array<string | number | boolean | null | Record<string, unknown>>;
export type EventPattern = { readonly [key: string]: PatternLeaf | EventPattern };

function matchesValue(allowed: PatternLeaf, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return allowed.some((rule) => {
    if (rule !== null && typeof rule === 'object') {
      if ('exists' in rule) return (value !== undefined) === rule.exists;
      if ('prefix' in rule) return values.some((v) => typeof v === 'string' && v.startsWith(String(rule.prefix)));
      if ('anything-but' in rule) {
        const excluded = ([] as unknown[]).concat(rule['anything-but']);
        return value !== undefined && values.every((v) => !excluded.includes(v));
      }
      throw new Error(`unsupported event pattern filter ${JSON.stringify(rule)}`);
    }
    return values.some((v) => v === rule);
  });
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  return Object.entries(pattern).every(([key, rule]) => {
    const value = (event as Record<string, unknown>)[key];
    return Array.isArray(rule) ? matchesValue(rule, value) : matchesPattern(rule as EventPattern, value);
  });
}

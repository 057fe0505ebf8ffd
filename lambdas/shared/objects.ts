/**
 * The object without its undefined fields. SDK inputs and the plan should not carry `key: undefined`
 * (it reads as "set to nothing" in assertions and logs, and is dropped anyway at the JSON boundary).
 */
export function definedOnly<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

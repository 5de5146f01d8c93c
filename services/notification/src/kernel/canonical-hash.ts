import { createHash } from 'node:crypto';

/*
 * One hash of JSON content for every "is this the same thing again?" check:
 * a repeated request under an Idempotency-Key, an edit that changes nothing
 * in a template. Kept here because both features need it and neither owns it.
 */

/** A stable hash of a JSON body: object keys sorted, so key order never changes the hash. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

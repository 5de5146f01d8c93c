/** A duration as definitions write it: a whole number and a unit, `90s`, `30m`, `1h`, `7d`. */
export const DURATION_PATTERN = '^[1-9][0-9]{0,6}(s|m|h|d)$';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** At most 90 days: a run waiting longer is a schedule, not a workflow step. */
export const MAX_DURATION_MS = 90 * UNIT_MS.d;

/** Milliseconds of a duration, or undefined when it is not one (or longer than `MAX_DURATION_MS`). */
export function durationMs(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,6})(s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** The value at a dotted path of the trigger's data (`order.id`), or undefined. */
export function valueAt(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

import { type QuietHours } from '../data/preference-model';

/** `HH:MM`, 00:00 to 23:59. */
export const LOCAL_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

/** Whether the runtime knows this IANA time zone (`Europe/Paris`); `Intl` throws a RangeError otherwise. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a time zone. */
function localParts(at: Date, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(
    format
      .formatToParts(at)
      .filter((part) => part.type !== 'literal')
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(at: number, timeZone: string): number {
  const p = localParts(new Date(at), timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(at / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in a zone. Two passes settle an
 * offset that changes between the guess and the answer (a DST switch); a
 * time that does not exist that day (inside a spring-forward gap) lands just
 * after the gap.
 */
function instantOf(
  date: { year: number; month: number; day: number },
  minutes: number,
  timeZone: string,
): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, Math.floor(minutes / 60), minutes % 60);
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  return new Date(Math.max(first, second));
}

/**
 * When a message due at `at` may leave: the end of the recipient's quiet
 * window if `at` falls inside it (start inclusive, end exclusive), else
 * null. A window whose start is after its end spans midnight (22:00–07:00).
 */
export function quietUntil(at: Date, timeZone: string, window: QuietHours): Date | null {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return null;
  const local = localParts(at, timeZone);
  const now = local.hour * 60 + local.minute;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  // Spanning midnight and already past the start: the window ends tomorrow (local date).
  const dayAfter = start > end && now >= start ? 1 : 0;
  const date = new Date(Date.UTC(local.year, local.month - 1, local.day + dayAfter));
  return instantOf(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() },
    end,
    timeZone,
  );
}

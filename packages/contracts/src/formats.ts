import { FormatRegistry } from '@sinclair/typebox';

/*
 * TypeBox's compiler rejects every string that carries a `format` it does not
 * know, and checks none by itself: the formats the contracts use are defined
 * here, once. The patterns follow ajv-formats' "fast" mode where it has one,
 * so a value Fastify accepts over HTTP is also accepted on the broker.
 */

const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * RFC 3339 date-time with a mandatory offset. Checked field by field because
 * `Date.parse` rolls `02-30` over into March. Leap seconds (`:60`) are
 * refused: a JavaScript Date cannot hold one and `toISOString` never writes one.
 * (No arrays or closures: every message's timestamps pass here.)
 */
export function isDateTime(value: string): boolean {
  const match = dateTimePattern.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12) return false;
  if (day < 1 || day > daysInMonth(year, month)) return false;
  if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 59) return false;
  return Number(match[7] ?? 0) <= 23 && Number(match[8] ?? 0) <= 59;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

const emailPattern =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The longest address SMTP can carry (RFC 5321 path limit) is 254 characters. */
export function isEmail(value: string): boolean {
  return value.length <= 254 && emailPattern.test(value);
}

const uriPattern = /^[a-z][a-z0-9+.-]*:[^\s]*$/i;

/** An absolute URI: a scheme, no whitespace, and something the WHATWG URL parser accepts. */
export function isUri(value: string): boolean {
  if (!uriPattern.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const formats: Record<string, (value: string) => boolean> = {
  'date-time': isDateTime,
  uuid: isUuid,
  email: isEmail,
  uri: isUri,
};

/** Idempotent; the validator calls it on import, so importing this module is never needed for validation. */
export function registerFormats(): void {
  for (const [name, check] of Object.entries(formats)) FormatRegistry.Set(name, check);
}

import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';

/*
 * @herald/runtime/phone: where an SMS may go. SMS costs money per message
 * and by country, and premium or far-away ranges are what SMS pumping aims
 * at, so an SMS goes only to a number libphonenumber-js (full metadata)
 * calls valid and, when `SMS_ALLOWED_COUNTRIES` lists E.164 prefixes, to one
 * whose E.164 form starts with one of them (`+44`, or `+1204` for a finer
 * cut inside a shared calling code). The notification service refuses such
 * sends at its API and the worker checks again before any provider: one
 * module, so the two can never disagree about a number.
 */

/** Every valid number may be texted: SMS_ALLOWED_COUNTRIES unset, empty (development) or `*`. */
export const ALL_DESTINATIONS = 'all';

export type SmsAllowList = typeof ALL_DESTINATIONS | readonly string[];

export type SmsDestinationVerdict = 'allowed' | 'invalid_number' | 'sms_country_not_allowed';

/** Every country calling code, and the non-geographic ones (+800, +882 …); none is a prefix of another. */
const KNOWN_CALLING_CODES = new Set([
  ...Object.keys(metadata.country_calling_codes),
  ...Object.keys(metadata.nonGeographic),
]);

/**
 * SMS_ALLOWED_COUNTRIES: unset, empty or `*` allows every valid number; otherwise comma-separated
 * E.164 prefixes, each starting with a country calling code that exists (`+44`, `+1`, `+1204`).
 * A prefix shorter than any calling code (`+4`) is refused rather than read as "+40 to +49".
 */
export function parseSmsAllowList(value: string | undefined): SmsAllowList {
  if (value === undefined || value.trim() === '' || value.trim() === '*') return ALL_DESTINATIONS;
  const prefixes = value.split(',').map((entry) => entry.trim());
  for (const prefix of prefixes) {
    const digits = /^\+(\d{1,15})$/.exec(prefix)?.[1];
    const callingCode =
      digits && [1, 2, 3].map((n) => digits.slice(0, n)).find((code) => KNOWN_CALLING_CODES.has(code));
    if (!callingCode) {
      throw new Error(
        `SMS_ALLOWED_COUNTRIES: "${prefix}" is not an E.164 prefix starting with a country calling code (e.g. +44, +1)`,
      );
    }
  }
  return prefixes;
}

/** Whether an SMS may go to `phone` under `allowed`. */
export function smsDestinationVerdict(phone: string, allowed: SmsAllowList): SmsDestinationVerdict {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid()) return 'invalid_number';
  if (allowed === ALL_DESTINATIONS) return 'allowed';
  return allowed.some((prefix) => parsed.number.startsWith(prefix)) ? 'allowed' : 'sms_country_not_allowed';
}

/** `+44 (GB)`: how a refusal names where the number is, never the number itself. */
export function describeDestination(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed) return 'an unknown destination';
  return `+${parsed.countryCallingCode}${parsed.country ? ` (${parsed.country})` : ''}`;
}

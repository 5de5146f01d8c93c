import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';
import { PermanentError } from '@herald/runtime';

/** Every number may be texted: SMS_ALLOWED_COUNTRIES unset (development) or `*`. */
export const ALL_DESTINATIONS = 'all';

export type SmsAllowList = typeof ALL_DESTINATIONS | readonly string[];

/** An SMS job the worker refuses to hand to any provider; permanent, so it goes to the DLQ. */
export class SmsDestinationRefused extends PermanentError {}

/**
 * The last guard against SMS pumping: an SMS goes out only to a number that
 * libphonenumber-js (full metadata) calls valid, and, when an allow-list is
 * configured, whose E.164 form starts with one of its prefixes (`+44`, or
 * `+1204` for a finer cut inside a shared calling code). The notification
 * service refuses such sends at its API; this check holds whatever reaches
 * the queue.
 */
export class SmsDestinations {
  constructor(private readonly allowed: SmsAllowList) {}

  /** Throws SmsDestinationRefused (`invalid_number`, `sms_country_not_allowed`) for a number we must not text. */
  check(phone: string): void {
    const parsed = parsePhoneNumberFromString(phone);
    if (!parsed?.isValid()) {
      throw new SmsDestinationRefused('invalid_number', 'The number is not a valid phone number');
    }
    if (this.allowed === ALL_DESTINATIONS) return;
    if (!this.allowed.some((prefix) => parsed.number.startsWith(prefix))) {
      throw new SmsDestinationRefused(
        'sms_country_not_allowed',
        `SMS to +${parsed.countryCallingCode}${parsed.country ? ` (${parsed.country})` : ''} is not allowed`,
      );
    }
  }
}

/** Every country calling code, and the non-geographic ones (+800, +882 …); none is a prefix of another. */
const KNOWN_CALLING_CODES = new Set([
  ...Object.keys(metadata.country_calling_codes),
  ...Object.keys(metadata.nonGeographic),
]);

/**
 * SMS_ALLOWED_COUNTRIES: unset or `*` allows every valid number; otherwise comma-separated
 * E.164 prefixes, each starting with a country calling code that exists (`+44`, `+1`, `+1204`).
 * A prefix shorter than any calling code (`+4`) is refused rather than read as "+40 to +49".
 */
export function parseSmsAllowList(value: string | undefined): SmsAllowList {
  if (value === undefined || value.trim() === '*') return ALL_DESTINATIONS;
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

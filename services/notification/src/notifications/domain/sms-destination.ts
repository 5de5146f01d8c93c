import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { UnprocessableError } from '@herald/runtime';

/*
 * SMS costs money per message and varies by country, and premium or
 * far-away ranges are what SMS pumping aims at: an SMS goes only to a
 * number that parses as valid and, when `SMS_ALLOWED_COUNTRIES` lists
 * countries, to one of those. The worker checks the same variable, with
 * the same library, as the last guard before the provider.
 */

export type SmsDestinationVerdict = 'allowed' | 'phone_invalid' | 'sms_country_not_allowed';

/** `allowedCountries`: ISO 3166-1 alpha-2 codes, upper case; empty allows every country. */
export function smsDestinationVerdict(
  phone: string,
  allowedCountries: readonly string[],
): SmsDestinationVerdict {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid()) return 'phone_invalid';
  // A non-geographic number (+800, +881 satellite…) has no country: only allowed when every country is.
  if (allowedCountries.length > 0 && !(parsed.country && allowedCountries.includes(parsed.country))) {
    return 'sms_country_not_allowed';
  }
  return 'allowed';
}

/** 422 for a number an SMS may not be sent to. */
export function assertSmsDestinationAllowed(phone: string, allowedCountries: readonly string[]): void {
  const verdict = smsDestinationVerdict(phone, allowedCountries);
  if (verdict === 'phone_invalid') {
    throw new UnprocessableError('phone_invalid', 'The phone number is not a valid number for SMS');
  }
  if (verdict === 'sms_country_not_allowed') {
    throw new UnprocessableError(
      'sms_country_not_allowed',
      `SMS may only be sent to numbers of ${allowedCountries.join(', ')}`,
    );
  }
}

import { UnprocessableError } from '@herald/runtime';
import { describeDestination, smsDestinationVerdict, type SmsAllowList } from '@herald/runtime/phone';

/*
 * SMS goes only to a valid number and, when `SMS_ALLOWED_COUNTRIES` lists
 * E.164 prefixes, to one of them; the rule lives in `@herald/runtime/phone`,
 * shared with the worker, which checks again before any provider.
 */

export { smsDestinationVerdict };

/** 422 for a number an SMS may not be sent to. */
export function assertSmsDestinationAllowed(phone: string, allowed: SmsAllowList): void {
  const verdict = smsDestinationVerdict(phone, allowed);
  if (verdict === 'invalid_number') {
    throw new UnprocessableError('invalid_number', 'The phone number is not a valid number for SMS');
  }
  if (verdict === 'sms_country_not_allowed') {
    throw new UnprocessableError(
      'sms_country_not_allowed',
      `SMS may not be sent to numbers of ${describeDestination(phone)}`,
    );
  }
}

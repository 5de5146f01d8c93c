import { PermanentError } from '@herald/runtime';
import { describeDestination, smsDestinationVerdict, type SmsAllowList } from '@herald/runtime/phone';

/** An SMS job the worker refuses to hand to any provider; permanent, so it goes to the DLQ. */
export class SmsDestinationRefused extends PermanentError {}

/**
 * The last guard against SMS pumping, with the same rule as the notification
 * API (`@herald/runtime/phone`): this check holds whatever reaches the queue.
 */
export class SmsDestinations {
  constructor(private readonly allowed: SmsAllowList) {}

  /** Throws SmsDestinationRefused (`invalid_number`, `sms_country_not_allowed`) for a number we must not text. */
  check(phone: string): void {
    const verdict = smsDestinationVerdict(phone, this.allowed);
    if (verdict === 'invalid_number') {
      throw new SmsDestinationRefused('invalid_number', 'The number is not a valid phone number');
    }
    if (verdict === 'sms_country_not_allowed') {
      throw new SmsDestinationRefused(
        'sms_country_not_allowed',
        `SMS to ${describeDestination(phone)} is not allowed`,
      );
    }
  }
}

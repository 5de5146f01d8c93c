import { type EmailDeliveryJob, type SmsDeliveryJob } from '@herald/contracts';
import { type Static } from '@sinclair/typebox';

export type EmailJob = Static<typeof EmailDeliveryJob>;
export type SmsJob = Static<typeof SmsDeliveryJob>;

export interface SendResult {
  /** the provider's id for the accepted message: what its webhooks will name */
  providerMessageId: string;
}

/**
 * Sends one rendered message. Resolves once the provider has accepted it;
 * rejects with a `ProviderTransientError` or `ProviderPermanentError`.
 */
export interface Provider<J> {
  /** `mailgun`, `twilio`, `log`: shown in delivery statuses */
  readonly name: string;
  send(job: J): Promise<SendResult>;
}

export interface Providers {
  email: Provider<EmailJob>;
  sms: Provider<SmsJob>;
}

import { type EmailDeliveryJob, type PushDeliveryJob, type SmsDeliveryJob } from '@herald/contracts';
import { type Static } from '@sinclair/typebox';

export type EmailJob = Static<typeof EmailDeliveryJob>;
export type SmsJob = Static<typeof SmsDeliveryJob>;
export type PushJob = Static<typeof PushDeliveryJob>;

export interface SendResult {
  /** the provider's id for the accepted message: what its webhooks will name */
  providerMessageId: string;
}

/**
 * What a provider says about a send whose outcome we do not know (the worker
 * died, or the call timed out, after the request went out): `accepted` with
 * its id, or `not_found` (it never took it, so sending is safe).
 */
export type SentLookup = { kind: 'accepted'; providerMessageId: string } | { kind: 'not_found' };

/** What a lookup knows of the send in question. */
export interface UnclearSend {
  /** no call of this delivery started before this moment (the delivery record's creation) */
  since: Date;
}

/**
 * Sends one rendered message. Resolves once the provider has accepted it;
 * rejects with a `ProviderTransientError` or `ProviderPermanentError`.
 */
export interface Provider<J> {
  /** `mailgun`, `twilio`, `log`: shown in delivery statuses */
  readonly name: string;
  send(job: J): Promise<SendResult>;
  /**
   * Asks the provider whether it accepted a send of this job (by the job's Herald ids, which the
   * send attached). Rejects when the provider cannot be asked right now. Absent: the provider keeps
   * nothing we could ask (SMTP), so an unclear send can only be sent again.
   */
  findSent?(job: J, send: UnclearSend): Promise<SentLookup>;
}

/** Each channel's providers, in order of preference (the first is used while it is healthy). */
export interface Providers {
  email: Provider<EmailJob>[];
  sms: Provider<SmsJob>[];
  push: Provider<PushJob>[];
}

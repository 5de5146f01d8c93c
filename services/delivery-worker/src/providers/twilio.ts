import twilio from 'twilio';
import { classifyTwilioError, TwilioRetryLater } from '../deliveries/domain/classify';
import { type Provider, type SendResult, type SentLookup, type SmsJob, type UnclearSend } from './provider';

/** Twilio's date_created has whole seconds; our clock and Twilio's may differ a little. */
const CLOCK_SKEW_MS = 60_000;
/** How many of the number's most recent messages a lookup reads. */
const LOOKUP_LIMIT = 100;

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  /** replaces https://api.twilio.com (a local fake); undefined: the real API */
  apiUrl?: string;
  /** where Twilio posts delivery updates: the notification service's webhook, through the gateway */
  statusCallbackUrl: string;
  timeoutMs: number;
}

type RequestOptions<T> = Parameters<twilio.RequestClient['request']>[0] & { data?: T };

/**
 * The twilio package's HTTP client, with two changes. It can send every
 * request to another base URL (twilio 6 builds absolute api.twilio.com URLs
 * per domain, and a custom `httpClient` is the one documented hook that sees
 * them all). And it raises a 429 (or a 503 with Retry-After) as
 * `TwilioRetryLater` with the Retry-After header, which the package's
 * RestException would drop.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  constructor(
    private readonly apiUrl: string | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true });
  }

  override async request<T>(opts: RequestOptions<T>) {
    const uri = this.apiUrl ? rebase(opts.uri, this.apiUrl) : opts.uri;
    const response = await super.request<T>({ ...opts, uri });
    const headers = (response.headers ?? {}) as Record<string, unknown>;
    const retryAfter = typeof headers['retry-after'] === 'string' ? headers['retry-after'] : undefined;
    if (response.statusCode === 429) throw new TwilioRetryLater(429, retryAfter);
    // A 503 without the header keeps the package's RestException and its Twilio error code.
    if (response.statusCode === 503 && retryAfter !== undefined) throw new TwilioRetryLater(503, retryAfter);
    return response;
  }
}

function rebase(uri: string, base: string): string {
  const target = new URL(uri);
  return `${base.replace(/\/+$/, '')}${target.pathname}${target.search}`;
}

/** SMS through Twilio Programmable Messaging, with a status callback for delivery receipts. */
export class TwilioProvider implements Provider<SmsJob> {
  readonly name = 'twilio';
  private readonly client;

  constructor(private readonly settings: TwilioSettings) {
    if (!settings.from && !settings.messagingServiceSid) {
      throw new Error('Twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID');
    }
    this.client = twilio(settings.accountSid, settings.authToken, {
      httpClient: new TwilioHttpClient(settings.apiUrl, settings.timeoutMs),
    });
  }

  async send(job: SmsJob): Promise<SendResult> {
    const sender = this.settings.messagingServiceSid
      ? { messagingServiceSid: this.settings.messagingServiceSid }
      : { from: this.settings.from! };
    try {
      const message = await this.client.messages.create({
        to: job.recipient.phone,
        body: job.content.sms ?? job.content.text,
        statusCallback: this.settings.statusCallbackUrl,
        ...sender,
      });
      return { providerMessageId: message.sid };
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }

  /**
   * Twilio's message list, filtered by the recipient: a message to this number with this body,
   * from our sender, created since the delivery record was, is this send. Twilio's Message
   * resource has no custom data and does not echo the status callback, so nothing finer than
   * recipient, body and time can name the send: a second notification with the very same text to
   * the same number within that window would be taken for this one, and this send not repeated.
   */
  async findSent(job: SmsJob, send: UnclearSend): Promise<SentLookup> {
    const body = job.content.sms ?? job.content.text;
    const since = send.since.getTime() - CLOCK_SKEW_MS;
    try {
      const messages = await this.client.messages.list({
        to: job.recipient.phone,
        ...(this.settings.messagingServiceSid ? {} : { from: this.settings.from }),
        limit: LOOKUP_LIMIT,
      });
      for (const message of messages) {
        if (message.body !== body || !message.dateCreated || message.dateCreated.getTime() < since) continue;
        return { kind: 'accepted', providerMessageId: message.sid };
      }
      return { kind: 'not_found' };
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }
}

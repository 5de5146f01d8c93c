import twilio from 'twilio';
import { classifyTwilioError, TwilioRetryLater } from '../deliveries/domain/classify';
import { type Provider, type SendResult, type SmsJob } from './provider';

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
}

import { randomBytes } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import {
  FakeProviderServer,
  basicCredentials,
  field,
  parseForm,
  type ApiAnswer,
  type FailureKind,
  type FakeServerOptions,
  type RecordedRequest,
} from './fake-server';
import { twilioSignature } from './signatures';

export interface FakeTwilioOptions extends FakeServerOptions {
  accountSid?: string;
  /** Basic auth password of API calls and the key of `X-Twilio-Signature` */
  authToken?: string;
}

export type TwilioMessageStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface TwilioCallbackInput {
  message: RecordedRequest;
  status: TwilioMessageStatus;
  errorCode?: number;
  /** defaults to the message's `StatusCallback` */
  url?: string;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

/** Twilio's error texts for the codes tests inject most. */
const ERROR_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20429: 'Too Many Requests',
  21211: "The 'To' number is not a valid phone number.",
  21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

/**
 * A local Twilio Programmable Messaging API:
 * `POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth
 * `{sid}:{authToken}` and a urlencoded form, answered with a Message
 * resource; status callbacks signed with `X-Twilio-Signature`.
 */
export class FakeTwilio extends FakeProviderServer {
  readonly accountSid: string;
  readonly authToken: string;

  constructor(options: FakeTwilioOptions = {}) {
    super(options);
    this.accountSid = options.accountSid ?? `AC${'0'.repeat(32)}`;
    this.authToken = options.authToken ?? 'fake-twilio-auth-token';
  }

  static async start(options: FakeTwilioOptions & { port?: number } = {}): Promise<FakeTwilio> {
    const fake = new FakeTwilio(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** The form fields of a status callback for `input.message`, as Twilio posts them. */
  callbackParams(input: TwilioCallbackInput): Record<string, string> {
    const { message } = input;
    if (!message.messageId) throw new Error('a status callback needs a message the fake accepted');
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      From: field(message, 'From') ?? '',
      MessageSid: message.messageId,
      MessageStatus: input.status,
      SmsSid: message.messageId,
      SmsStatus: input.status,
      To: field(message, 'To') ?? '',
      ...(input.errorCode !== undefined ? { ErrorCode: String(input.errorCode) } : {}),
    };
  }

  /** Posts a signed status callback (form-encoded, `X-Twilio-Signature` over the URL and sorted fields). */
  async sendWebhook(input: TwilioCallbackInput): Promise<Response> {
    const url = input.url ?? field(input.message, 'StatusCallback');
    if (!url) throw new Error('the message has no StatusCallback and no url was given');
    const params = this.callbackParams(input);
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(this.authToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
  }

  protected controlWebhook(message: RecordedRequest, input: Record<string, unknown>): Promise<Response> {
    return this.sendWebhook({
      message,
      status: (input.status as TwilioMessageStatus | undefined) ?? 'delivered',
      errorCode: typeof input.errorCode === 'number' ? input.errorCode : undefined,
      url: typeof input.url === 'string' ? input.url : undefined,
    });
  }

  /**
   * `GET /2010-04-01/Accounts/{sid}/Messages.json` as Twilio answers it: the messages this fake
   * accepted, newest first, filtered by `To` and `From`, one page of `PageSize` (default 50) with
   * Twilio's paging fields. Twilio's Message resource carries neither the status callback nor any
   * custom data: a caller matches on `to`, `body` and `date_created`.
   */
  protected override lookup(request: IncomingMessage, url: URL): ApiAnswer | undefined {
    const match = MESSAGES_PATH.exec(url.pathname);
    if (request.method !== 'GET' || !match) return undefined;
    const credentials = basicCredentials(request);
    if (
      match[1] !== this.accountSid ||
      credentials?.user !== this.accountSid ||
      credentials.password !== this.authToken
    ) {
      return errorBody(401, 20003);
    }
    const query = url.searchParams;
    const pageSize = Math.min(1000, Number(query.get('PageSize') ?? 50));
    const messages = this.accepted
      .filter((message) => !query.get('To') || field(message, 'To') === query.get('To'))
      .filter((message) => !query.get('From') || field(message, 'From') === query.get('From'))
      .reverse()
      .slice(0, pageSize)
      .map((message) => this.resourceOf(message));
    const uri = `${url.pathname}${url.search}`;
    return {
      status: 200,
      body: {
        messages,
        end: Math.max(0, messages.length - 1),
        first_page_uri: uri,
        next_page_uri: null,
        page: 0,
        page_size: pageSize,
        previous_page_uri: null,
        start: 0,
        uri,
      },
    };
  }

  private readonly resources = new Map<string, Record<string, unknown>>();

  /** The Message resource of an accepted message, as the send answered it. */
  private resourceOf(message: RecordedRequest): Record<string, unknown> {
    return this.resources.get(message.messageId!) ?? {};
  }

  protected async parse(request: IncomingMessage, body: Buffer) {
    const match = MESSAGES_PATH.exec(new URL(request.url ?? '/', 'http://fake').pathname);
    if (request.method !== 'POST' || !match) {
      return errorBody(404, 20404, 'The requested resource was not found');
    }
    const credentials = basicCredentials(request);
    if (
      match[1] !== this.accountSid ||
      credentials?.user !== this.accountSid ||
      credentials.password !== this.authToken
    ) {
      return errorBody(401, 20003);
    }
    const fields = await parseForm(request.headers['content-type'], body);
    if (!fields.To?.length) return errorBody(400, 21604, "A 'To' phone number is required.");
    if (!fields.From?.length && !fields.MessagingServiceSid?.length) {
      return errorBody(400, 21603, "A 'From' phone number is required.");
    }
    if (!fields.Body?.length && !fields.MediaUrl?.length) {
      return errorBody(400, 21602, 'Message body is required.');
    }
    return { fields, recipient: fields.To[0] };
  }

  protected accept(recorded: RecordedRequest): ApiAnswer {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const body = field(recorded, 'Body') ?? '';
    const resource = {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: field(recorded, 'From') ?? null,
      messaging_service_sid: field(recorded, 'MessagingServiceSid') ?? null,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(body.length / 160))),
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}/Media.json` },
      to: field(recorded, 'To'),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
    };
    this.resources.set(sid, resource);
    return { status: 201, messageId: sid, body: resource };
  }

  protected errorAnswer(status: number, failure: Exclude<FailureKind, 'timeout' | 'disconnect'>): ApiAnswer {
    if (failure === 'rate_limited') return { ...errorBody(429, 20429), headers: { 'retry-after': '1' } };
    if (failure === 'server_error') return errorBody(status, 20500, 'Internal Server Error');
    const answer = errorBody(status, failure.code ?? status, failure.message);
    if (failure.retryAfterSeconds !== undefined) {
      answer.headers = { 'retry-after': String(failure.retryAfterSeconds) };
    }
    return answer;
  }
}

function errorBody(status: number, code: number, message?: string): ApiAnswer {
  return {
    status,
    body: {
      code,
      message: message ?? ERROR_MESSAGES[code] ?? `Error ${code}`,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    },
  };
}

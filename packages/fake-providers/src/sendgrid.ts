import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import {
  FakeProviderServer,
  field,
  type ApiAnswer,
  type FailureKind,
  type FakeServerOptions,
  type RecordedRequest,
} from './fake-server';
import { sendGridSignature } from './signatures';

export interface FakeSendGridOptions extends FakeServerOptions {
  /** the API key clients must present (`Authorization: Bearer {key}`) */
  apiKey?: string;
  /**
   * The Event Webhook's signing key, base64 DER PKCS#8 of a P-256 key, for a
   * fake whose public key must be known in advance (compose); default: a
   * fresh pair.
   */
  webhookPrivateKey?: string;
}

interface MailSendBody {
  personalizations?: { to?: { email?: string; name?: string }[]; custom_args?: Record<string, unknown> }[];
  from?: { email?: string; name?: string };
  subject?: string;
  content?: { type?: string; value?: string }[];
  categories?: string[];
  custom_args?: Record<string, unknown>;
  /** the message's own headers (List-Unsubscribe …) */
  headers?: Record<string, unknown>;
}

export type SendGridEventType =
  | 'processed'
  | 'delivered'
  | 'deferred'
  | 'bounce'
  | 'dropped'
  | 'open'
  | 'click'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe';

export interface SendGridEventInput {
  event: SendGridEventType;
  /** the accepted message (as recorded) the event is about */
  message: RecordedRequest;
  /** for `bounce`: `bounce` (hard) or `blocked`; SendGrid's default is `bounce` */
  type?: 'bounce' | 'blocked';
  /** for `bounce` / `dropped` / `deferred`: SendGrid's reason text */
  reason?: string;
  /** for `bounce`: the SMTP enhanced status, e.g. `5.1.1` */
  status?: string;
  /** defaults to the webhook's time */
  timestamp?: Date;
  /** defaults to a fresh id; give one to replay an event */
  sgEventId?: string;
}

export interface SendGridWebhookInput {
  events: SendGridEventInput[];
  /** when SendGrid signs the batch; defaults to now */
  timestamp?: Date;
}

/** A batch as SendGrid posts it: the exact body and the headers that sign it. */
export interface SignedSendGridWebhook {
  body: string;
  headers: Record<string, string>;
  events: Record<string, unknown>[];
}

/** `unique_args['key']="value"` terms joined by AND: the part of the activity query language Herald uses. */
const UNIQUE_ARG_TERM = /unique_args\['([^']+)'\]\s*=\s*"([^"]*)"/g;

/**
 * A local SendGrid v3 API: `POST /v3/mail/send` with `Authorization: Bearer
 * {key}` and a JSON body, answered `202` with an empty body and the message
 * id in `X-Message-Id`, as SendGrid answers; errors as `{ errors: [{ message,
 * field, help }] }`. `GET /v3/messages?query=…` is the Email Activity API:
 * messages whose `unique_args` (the send's `custom_args`) match the query.
 *
 * Recorded fields: `from`, `to` (each recipient's address), `subject`,
 * `text`, `html`, `category`, each custom arg as `custom_args.{name}`, and each header as `h:{Header}`.
 */
export class FakeSendGrid extends FakeProviderServer {
  readonly apiKey: string;
  /**
   * The Event Webhook's verification key as SendGrid's settings show it
   * (base64 DER SubjectPublicKeyInfo): what `SENDGRID_WEBHOOK_PUBLIC_KEY` holds.
   */
  readonly webhookPublicKey: string;
  private readonly webhookPrivateKey: KeyObject;

  constructor(options: FakeSendGridOptions = {}) {
    super(options);
    this.apiKey = options.apiKey ?? 'SG.fake-sendgrid-key';
    // A fresh P-256 pair per fake unless given, as each SendGrid account has its own.
    const privateKey = options.webhookPrivateKey
      ? createPrivateKey({
          key: Buffer.from(options.webhookPrivateKey, 'base64'),
          format: 'der',
          type: 'pkcs8',
        })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    this.webhookPrivateKey = privateKey;
    this.webhookPublicKey = createPublicKey(privateKey)
      .export({ format: 'der', type: 'spki' })
      .toString('base64');
  }

  /**
   * Posts a batch of events to `url` as SendGrid's Event Webhook does: a
   * JSON array, signed over the timestamp header and the body.
   */
  async sendWebhook(url: string, input: SendGridWebhookInput): Promise<Response> {
    const { body, headers } = this.signedWebhook(input);
    return fetch(url, { method: 'POST', headers, body });
  }

  /** What `sendWebhook` posts, for tests that post it themselves (e.g. through `app.inject`). */
  signedWebhook(input: SendGridWebhookInput): SignedSendGridWebhook {
    const at = input.timestamp ?? new Date();
    const events = input.events.map((event) => this.webhookEvent(event, at));
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(at.getTime() / 1000));
    return {
      body,
      events,
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': sendGridSignature(this.webhookPrivateKey, timestamp, body),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
    };
  }

  /**
   * One event as SendGrid writes it: `sg_message_id` is the send's
   * X-Message-Id followed by a filter suffix, and the send's custom args are
   * fields of the event itself.
   */
  webhookEvent(input: SendGridEventInput, at: Date = new Date()): Record<string, unknown> {
    const { message } = input;
    if (!message.messageId) throw new Error('an event needs a message the fake accepted');
    const customArgs = Object.fromEntries(
      Object.entries(message.fields)
        .filter(([name]) => name.startsWith('custom_args.'))
        .map(([name, values]) => [name.slice('custom_args.'.length), values[0]]),
    );
    const bounce = input.event === 'bounce' ? { type: input.type ?? 'bounce' } : {};
    return {
      ...customArgs,
      email: message.recipient,
      timestamp: Math.floor((input.timestamp ?? at).getTime() / 1000),
      'smtp-id': `<${message.messageId}@fake.sendgrid.net>`,
      event: input.event,
      category: message.fields.category ?? [],
      sg_event_id: input.sgEventId ?? randomBytes(16).toString('base64url'),
      sg_message_id: `${message.messageId}.filter0001.1.1.0`,
      ...bounce,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.status ? { status: input.status } : {}),
    };
  }

  static async start(options: FakeSendGridOptions & { port?: number } = {}): Promise<FakeSendGrid> {
    const fake = new FakeSendGrid(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  protected override lookup(request: IncomingMessage, url: URL): ApiAnswer | undefined {
    if (request.method !== 'GET' || url.pathname !== '/v3/messages') return undefined;
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return unauthorized();
    const query = url.searchParams.get('query');
    if (!query) return errors(400, 'query is required', 'query');
    const terms = [...query.matchAll(UNIQUE_ARG_TERM)].map(([, name, value]) => [name!, value!] as const);
    if (terms.length === 0)
      return errors(400, 'unsupported query (the fake reads unique_args terms)', 'query');
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 10));
    const messages = this.accepted
      .filter((message) => terms.every(([name, value]) => field(message, `custom_args.${name}`) === value))
      .reverse()
      .slice(0, limit)
      .map((message) => ({
        // the activity feed's msg_id is the X-Message-Id followed by SendGrid's filter suffix
        msg_id: `${message.messageId}.filter0001.1.1.0`,
        from_email: field(message, 'from'),
        subject: field(message, 'subject'),
        to_email: message.recipient,
        status: 'processing',
        opens_count: 0,
        clicks_count: 0,
        last_event_time: message.receivedAt.toISOString(),
      }));
    return { status: 200, body: { messages } };
  }

  protected async parse(request: IncomingMessage, body: Buffer) {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method !== 'POST' || path !== '/v3/mail/send') {
      return errors(404, 'Not Found', null);
    }
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return unauthorized();
    let mail: MailSendBody;
    try {
      mail = JSON.parse(body.toString('utf8')) as MailSendBody;
    } catch {
      return errors(400, 'Bad Request', null);
    }
    const recipients = (mail.personalizations ?? []).flatMap((p) => p.to ?? []);
    if (!recipients.length || recipients.some((to) => !to.email)) {
      return errors(400, 'The to array is required for all personalization objects', 'personalizations.0.to');
    }
    if (!mail.from?.email)
      return errors(400, 'The from object must be provided for every email send.', 'from');
    if (!mail.subject) return errors(400, 'The subject is required.', 'subject');
    if (!mail.content?.length)
      return errors(
        400,
        'Unless a valid template_id is provided, the content parameter is required.',
        'content',
      );
    const fields: Record<string, string[]> = {
      from: [mail.from.name ? `${mail.from.name} <${mail.from.email}>` : mail.from.email],
      to: recipients.map((to) => to.email!),
      subject: [mail.subject],
    };
    for (const part of mail.content) {
      if (part.type === 'text/plain') fields.text = [part.value ?? ''];
      if (part.type === 'text/html') fields.html = [part.value ?? ''];
    }
    if (mail.categories?.length) fields.category = mail.categories;
    const customArgs = { ...mail.custom_args, ...mail.personalizations?.[0]?.custom_args };
    for (const [name, value] of Object.entries(customArgs)) fields[`custom_args.${name}`] = [String(value)];
    // recorded as Mailgun's fields name them (`h:<Header>`), so a test reads one shape from both fakes
    for (const [name, value] of Object.entries(mail.headers ?? {})) fields[`h:${name}`] = [String(value)];
    return { fields, recipient: recipients[0]!.email };
  }

  protected accept(): ApiAnswer {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    return { status: 202, body: '', headers: { 'x-message-id': id }, messageId: id };
  }

  protected errorAnswer(
    status: number,
    failure: Exclude<FailureKind, 'timeout' | 'disconnect'>,
    _recorded: RecordedRequest,
  ): ApiAnswer {
    if (failure === 'rate_limited') {
      return { ...errors(429, 'too many requests', null), headers: { 'retry-after': '1' } };
    }
    if (failure === 'server_error') return errors(503, 'Service Unavailable', null);
    const answer = errors(status, failure.message ?? `Injected failure ${status}`, null);
    if (failure.retryAfterSeconds !== undefined) {
      answer.headers = { 'retry-after': String(failure.retryAfterSeconds) };
    }
    return answer;
  }

  protected controlWebhook(message: RecordedRequest, input: Record<string, unknown>): Promise<Response> {
    return this.sendWebhook(String(input.url), {
      events: [
        {
          message,
          event: (input.event as SendGridEventType | undefined) ?? 'delivered',
          ...(typeof input.reason === 'string' ? { reason: input.reason } : {}),
        },
      ],
    });
  }
}

function errors(status: number, message: string, fieldName: string | null): ApiAnswer {
  return { status, body: { errors: [{ message, field: fieldName, help: null }] } };
}

function unauthorized(): ApiAnswer {
  return errors(401, 'The provided authorization grant is invalid, expired, or revoked', null);
}

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
import { signMailgunWebhook } from './signatures';

export interface FakeMailgunOptions extends FakeServerOptions {
  /** the API key clients must present (Basic auth, user `api`) */
  apiKey?: string;
  /** the key webhooks are signed with */
  webhookSigningKey?: string;
}

export type MailgunEvent =
  'accepted' | 'delivered' | 'failed' | 'opened' | 'clicked' | 'complained' | 'unsubscribed';

export interface MailgunWebhookInput {
  event: MailgunEvent;
  /** the accepted message (as recorded) the event is about */
  message: RecordedRequest;
  /** for `failed`: `permanent` (a bounce) or `temporary` (Mailgun retries) */
  severity?: 'permanent' | 'temporary';
  reason?: string;
  deliveryStatus?: { code?: number; message?: string; description?: string };
  /** defaults to now */
  timestamp?: Date;
}

const MESSAGES_PATH = /^\/v3\/([^/]+)\/messages\/?$/;
const EVENTS_PATH = /^\/v3\/([^/]+)\/events\/?$/;

/**
 * A local Mailgun: `POST /v3/{domain}/messages` with Basic auth `api:{key}`
 * and a multipart form, answered like Mailgun answers, and webhooks signed
 * with the webhook signing key. Aim `mailgun.js` at it with the `url` option.
 */
export class FakeMailgun extends FakeProviderServer {
  readonly apiKey: string;
  readonly webhookSigningKey: string;

  constructor(options: FakeMailgunOptions = {}) {
    super(options);
    this.apiKey = options.apiKey ?? 'key-fake-mailgun';
    this.webhookSigningKey = options.webhookSigningKey ?? 'fake-mailgun-webhook-signing-key';
  }

  static async start(options: FakeMailgunOptions & { port?: number } = {}): Promise<FakeMailgun> {
    const fake = new FakeMailgun(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /**
   * Posts a webhook for `input.message` to `url`, in Mailgun's shape:
   * `{ signature: { timestamp, token, signature }, 'event-data': {...} }`.
   * The event's `message.headers.message-id` has no angle brackets, unlike
   * the send response's `id`, as with the real Mailgun.
   */
  async sendWebhook(url: string, input: MailgunWebhookInput): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(this.webhookBody(input)),
    });
  }

  /** The body `sendWebhook` posts, for tests that post it themselves (e.g. through `app.inject`). */
  webhookBody(input: MailgunWebhookInput): Record<string, unknown> {
    const { message } = input;
    if (!message.messageId) throw new Error('a webhook needs a message the fake accepted');
    const at = input.timestamp ?? new Date();
    const userVariables = Object.fromEntries(
      Object.entries(message.fields)
        .filter(([name]) => name.startsWith('v:'))
        .map(([name, values]) => [name.slice(2), values[0]]),
    );
    return {
      signature: signMailgunWebhook(this.webhookSigningKey, at),
      'event-data': {
        id: randomBytes(16).toString('base64url'),
        event: input.event,
        timestamp: at.getTime() / 1000,
        recipient: message.recipient,
        ...(input.severity ? { severity: input.severity } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
        ...(input.deliveryStatus ? { 'delivery-status': input.deliveryStatus } : {}),
        tags: message.fields['o:tag'] ?? [],
        'user-variables': userVariables,
        message: {
          headers: {
            'message-id': message.messageId.replace(/^<|>$/g, ''),
            from: field(message, 'from'),
            to: field(message, 'to'),
            subject: field(message, 'subject'),
          },
        },
      },
    };
  }

  protected controlWebhook(message: RecordedRequest, input: Record<string, unknown>): Promise<Response> {
    return this.sendWebhook(String(input.url), {
      message,
      event: (input.event as MailgunEvent | undefined) ?? 'delivered',
      severity: input.severity as MailgunWebhookInput['severity'],
      reason: typeof input.reason === 'string' ? input.reason : undefined,
    });
  }

  /**
   * `GET /v3/{domain}/events` as Mailgun answers it: `accepted` events of the messages this fake
   * took, newest first, filtered by `event`, `recipient`, `message-id` and `user-variables` (a JSON
   * object every listed variable of which must match, the way Herald finds a send by its
   * `notification-id`), `{ items, paging }`. Mailgun records an event only for a request it accepted, and shows it
   * only after a lag (`lookupLagMs`, 0 by default).
   */
  protected override lookup(request: IncomingMessage, url: URL): ApiAnswer | undefined {
    const match = EVENTS_PATH.exec(url.pathname);
    if (request.method !== 'GET' || !match) return undefined;
    const credentials = basicCredentials(request);
    if (credentials?.user !== 'api' || credentials.password !== this.apiKey) {
      return { status: 401, body: 'Forbidden' };
    }
    const query = url.searchParams;
    let wanted: Record<string, unknown> = {};
    try {
      wanted = JSON.parse(query.get('user-variables') ?? '{}') as Record<string, unknown>;
    } catch {
      return { status: 400, body: { message: 'Invalid user-variables filter' } };
    }
    const event = query.get('event');
    if (event && event !== 'accepted') return { status: 200, body: { items: [], paging: {} } };
    const limit = Math.min(300, Number(query.get('limit') ?? 100));
    const items = this.visibleToLookups
      .filter((message) => field(message, 'domain') === decodeURIComponent(match[1]!))
      .filter((message) => !query.get('recipient') || message.recipient === query.get('recipient'))
      .filter(
        (message) =>
          !query.get('message-id') ||
          message.messageId?.replace(/^<|>$/g, '') === query.get('message-id')!.replace(/^<|>$/g, ''),
      )
      .filter((message) =>
        Object.entries(wanted).every(([name, value]) => field(message, `v:${name}`) === String(value)),
      )
      .reverse()
      .slice(0, limit)
      .map((message) => {
        const body = this.webhookBody({ event: 'accepted', message, timestamp: message.receivedAt });
        return body['event-data'];
      });
    return { status: 200, body: { items, paging: { next: `${this.url}${url.pathname}?page=next` } } };
  }

  protected async parse(request: IncomingMessage, body: Buffer) {
    const match = MESSAGES_PATH.exec(new URL(request.url ?? '/', 'http://fake').pathname);
    if (request.method !== 'POST' || !match) {
      return { status: 404, body: { message: 'Not Found' } } satisfies ApiAnswer;
    }
    const credentials = basicCredentials(request);
    if (credentials?.user !== 'api' || credentials.password !== this.apiKey) {
      return { status: 401, body: 'Forbidden' } satisfies ApiAnswer;
    }
    const fields = await parseForm(request.headers['content-type'], body);
    fields.domain = [decodeURIComponent(match[1]!)];
    const missing = ['from', 'to'].find((name) => !fields[name]?.length);
    if (missing)
      return { status: 400, body: { message: `${missing} parameter is missing` } } satisfies ApiAnswer;
    if (!fields.text && !fields.html && !fields.template) {
      return {
        status: 400,
        body: { message: "Need at least one of 'text', 'html' or 'template' parameters specified" },
      } satisfies ApiAnswer;
    }
    return { fields, recipient: bareAddress(fields.to![0]!) };
  }

  protected accept(recorded: RecordedRequest): ApiAnswer {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const id = `<${stamp}.${randomBytes(8).toString('hex')}@${field(recorded, 'domain')}>`;
    return { status: 200, body: { id, message: 'Queued. Thank you.' }, messageId: id };
  }

  protected errorAnswer(status: number, failure: Exclude<FailureKind, 'timeout' | 'disconnect'>): ApiAnswer {
    if (failure === 'rate_limited') {
      return { status, body: { message: 'Too many requests' }, headers: { 'retry-after': '1' } };
    }
    if (failure === 'server_error') return { status, body: { message: 'Service Unavailable' } };
    const headers =
      failure.retryAfterSeconds !== undefined
        ? { 'retry-after': String(failure.retryAfterSeconds) }
        : undefined;
    return { status, body: { message: failure.message ?? `Injected failure ${status}` }, headers };
  }
}

/** `Ada <ada@example.com>` → `ada@example.com`: the recipient as Mailgun's events name it. */
function bareAddress(to: string): string {
  return /<([^>]+)>\s*$/.exec(to)?.[1] ?? to.trim();
}

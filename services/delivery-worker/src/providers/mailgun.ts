import type MailgunClass from 'mailgun.js' with { 'resolution-mode': 'import' };
import { classifyMailgunError } from '../deliveries/domain/classify';
import { emailSubject, headerText, jobHeaders, mailbox, MAX_TAG_LENGTH, singleLine } from './header-values';
import { mailgunAdapter, type Adapter } from './mailgun-transport';
import { MultipartBody } from './multipart-body';
import { type EmailJob, type Provider, type SendResult, type SentLookup } from './provider';

// mailgun.js publishes its types as ESM only; its CommonJS build is what Node loads here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mailgun = require('mailgun.js') as typeof MailgunClass;

export interface MailgunSettings {
  apiKey: string;
  domain: string;
  /** https://api.mailgun.net, https://api.eu.mailgun.net, or a local fake */
  url: string;
  from: string;
  timeoutMs: number;
}

/** Mailgun allows three tags per message. */
const MAX_TAGS = 3;
/** Variables the worker sets itself; metadata cannot overwrite them. */
const RESERVED_VARIABLES = new Set(['notification-id', 'channel', 'job-id']);

/**
 * Email through Mailgun's messages API. The custom variables
 * `v:notification-id` and `v:channel` come back in every webhook's
 * `user-variables`, so a webhook can be matched even before the provider
 * message id is stored.
 */
export class MailgunProvider implements Provider<EmailJob> {
  readonly name = 'mailgun';
  private readonly client;

  constructor(private readonly settings: MailgunSettings) {
    // One Buffer per request instead of axios streaming the platform FormData (see MultipartBody).
    this.client = new Mailgun(MultipartBody as unknown as typeof FormData).client({
      username: 'api',
      key: settings.apiKey,
      url: settings.url,
      timeout: settings.timeoutMs,
    });
    keepRetryAfter(this.client.request.requestProvider, mailgunAdapter());
  }

  async send(job: EmailJob): Promise<SendResult> {
    const { content, recipient } = job;
    // Mailgun carries tags and variables in headers too (X-Mailgun-Tag, X-Mailgun-Variables):
    // one line each, like the subject and the To mailbox.
    const metadata = Object.entries(job.metadata)
      .map(([key, value]) => [singleLine(key), singleLine(value)] as const)
      .filter(([key]) => key !== '' && !RESERVED_VARIABLES.has(key));
    const tags = [job.category, job.template?.key]
      .map((tag) => (tag === undefined ? '' : headerText(tag, MAX_TAG_LENGTH)))
      .filter((tag) => tag !== '')
      .slice(0, MAX_TAGS);
    try {
      const answer = await this.client.messages.create(this.settings.domain, {
        from: this.settings.from,
        to: [mailbox(recipient.email, recipient.name)],
        subject: emailSubject(content.subject, content.text),
        text: content.text,
        ...(content.html ? { html: content.html } : {}),
        ...(tags.length ? { 'o:tag': tags } : {}),
        'v:notification-id': job.notificationId,
        'v:channel': job.channel,
        'v:job-id': job.jobId,
        ...Object.fromEntries(metadata.map(([key, value]) => [`v:${key}`, value])),
        ...Object.fromEntries(jobHeaders(job.headers).map(([name, value]) => [`h:${name}`, value])),
      });
      if (!answer.id) throw new Error('Mailgun accepted the message without an id');
      return { providerMessageId: answer.id };
    } catch (error) {
      throw classifyMailgunError(error);
    }
  }

  /**
   * Mailgun's events API (`GET /v3/{domain}/events`): an `accepted` event whose user variables
   * carry this notification's id and channel (`v:notification-id`, `v:channel`, set on every send)
   * means Mailgun took it. The record is per notification and channel, so any accepted copy
   * counts, whichever job sent it. Called through the client's request layer: mailgun.js marks its
   * `events.get` deprecated in favour of the Logs API and warns on every call. Mailgun's events
   * become visible within seconds to minutes; the lease (SEND_LEASE_MS) has run out before a
   * crashed send is looked up.
   */
  async findSent(job: EmailJob): Promise<SentLookup> {
    try {
      // the query type of mailgun.js lists no `user-variables` filter, which the events API takes
      const query: unknown = {
        event: 'accepted',
        limit: 10,
        'user-variables': JSON.stringify({ 'notification-id': job.notificationId, channel: job.channel }),
      };
      const response = (await this.client.request.get(
        `/v3/${encodeURIComponent(this.settings.domain)}/events`,
        query as Parameters<typeof this.client.request.get>[1],
      )) as { body?: { items?: { message?: { headers?: Record<string, unknown> } }[] } };
      const messageId = (response.body?.items ?? [])
        .map((item) => item.message?.headers?.['message-id'])
        .find((id): id is string => typeof id === 'string' && id !== '');
      if (!messageId) return { kind: 'not_found' };
      return { kind: 'accepted', providerMessageId: `<${messageId}>` };
    } catch (error) {
      throw classifyMailgunError(error);
    }
  }
}

/**
 * mailgun.js turns an HTTP failure into an APIError that keeps the status and
 * body but drops the response headers, Retry-After among them. Its request
 * provider spreads each request's data into the config of its bundled axios,
 * so a per-request `transformResponse` (axios hands it the headers and the
 * status) sees the header; the APIError that follows gets it back as
 * `retryAfter` for `classifyMailgunError`. The replacement transform parses
 * JSON exactly as axios's default does (a body that is not JSON stays text).
 * test/retry-after.integration.test.ts holds this against the fake Mailgun.
 * The same per-request config hands axios the form already encoded (`formAsOneBuffer`) and
 * turns redirects off.
 */
function keepRetryAfter<D, C, R>(
  provider: { makeRequest(url: string, method: string, data: D, config?: C): Promise<R> },
  adapter: Adapter | undefined,
): void {
  const makeRequest = provider.makeRequest.bind(provider);
  provider.makeRequest = async (url, method, data, config) => {
    let retryAfter: unknown;
    const transformResponse = (body: unknown, headers: unknown, status?: number) => {
      if (status === 429 || status === 503) retryAfter = headerOf(headers, 'retry-after');
      return parseJsonBody(body);
    };
    try {
      // Typed as the request body, but what Request passes here is `{ params?, data? }`: axios config.
      const options = {
        ...(data as object),
        transformRequest: [formAsOneBuffer],
        // Node's http straight, not through axios's bundled follow-redirects, which wraps every
        // request in a writable of its own that buffers the body and relays each event: ~9 % of
        // the client's CPU per send (bench/mailgun-client.ts). Mailgun's API answers, it does not
        // redirect; a 3xx is now a refusal like any other answer outside 2xx, and the API key
        // never follows a redirect anywhere.
        maxRedirects: 0,
        transformResponse: [transformResponse],
        // the bytes go through our lean transport (mailgun-transport.ts) unless a proxy is configured
        ...(adapter ? { adapter } : {}),
      } as D;
      return await makeRequest(url, method, options, config);
    } catch (error) {
      if (retryAfter !== undefined && error && typeof error === 'object') {
        Object.assign(error, { retryAfter });
      }
      throw error;
    }
  };
}

/**
 * The request's form handed to axios as the Buffer it encodes to, its boundary in the
 * Content-Type: axios then writes headers and body in one go. Handed the form itself, its Node
 * adapter asks for the length through a promisified callback and pipes the form into the request
 * as a stream, a few allocations and listeners per send (bench/worker-sends.ts: ~10 % of the
 * client's CPU per send). Anything else (a lookup's empty body) passes unchanged.
 */
function formAsOneBuffer(data: unknown, headers: { set(name: string, value: string): unknown }): unknown {
  if (!(data instanceof MultipartBody)) return data;
  for (const [name, value] of Object.entries(data.getHeaders())) headers.set(name, value);
  return data.getBuffer();
}

function headerOf(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  return typeof get === 'function'
    ? (get as (name: string) => unknown).call(headers, name)
    : (headers as Record<string, unknown>)[name];
}

function parseJsonBody(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

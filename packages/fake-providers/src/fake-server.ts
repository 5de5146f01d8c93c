import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { readBody, send } from './http';

export { basicCredentials, parseForm } from './http';

/**
 * How a fake provider misbehaves for one request:
 * - `server_error`: 503 with a JSON body, as during a provider incident
 * - `rate_limited`: 429 with `Retry-After` (seconds, default 1)
 * - `timeout`: the request is held unanswered until the client gives up or the server closes
 * - `disconnect`: the socket is destroyed without an answer (a connection reset)
 * - `{ status, ... }`: a specific answer, e.g. Twilio's 400 with code 21211
 */
export type FailureKind =
  | 'server_error'
  | 'rate_limited'
  | 'timeout'
  | 'disconnect'
  | { status: number; code?: number; message?: string; retryAfterSeconds?: number };

/** What the fake did with a request. `accepted` is the only outcome where the provider took the message. */
export type RequestOutcome = 'accepted' | 'rejected' | 'held' | 'aborted' | 'disconnected';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** form fields; a repeated field (Mailgun's `to`, `o:tag`) keeps every value */
  fields: Record<string, string[]>;
  /** the message's recipient as the provider sees it (`to`) */
  recipient: string | undefined;
  receivedAt: Date;
  outcome: RequestOutcome;
  status?: number;
  /** the provider's id for an accepted message */
  messageId?: string;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** the provider message id, when this answer accepts a message */
  messageId?: string;
}

/** One form field's first value, the way both providers read single-valued fields. */
export function field(request: Pick<RecordedRequest, 'fields'>, name: string): string | undefined {
  return request.fields[name]?.[0];
}

/**
 * The shared machinery of a fake provider: an HTTP server on 127.0.0.1,
 * a record of every request, and failure injection for the next N requests
 * or for one recipient. Subclasses parse their API's requests and shape its
 * answers.
 */
export interface FakeServerOptions {
  /** keep at most this many requests in `requests` (oldest dropped); counts in `stats()` stay exact */
  maxRecorded?: number;
}

export type FakeStats = Record<RequestOutcome, number> & { total: number };

/** Where the control API lives: a prefix no provider API uses. */
export const CONTROL_PREFIX = '/__fake/';

export abstract class FakeProviderServer {
  readonly requests: RecordedRequest[] = [];
  private readonly counts: FakeStats = {
    total: 0,
    accepted: 0,
    rejected: 0,
    held: 0,
    aborted: 0,
    disconnected: 0,
  };
  private readonly maxRecorded: number;
  private readonly server: Server;
  private queuedFailures: { kind: FailureKind; remaining: number }[] = [];
  private readonly recipientFailures = new Map<string, { kind: FailureKind; remaining: number }>();
  private readonly heldResponses = new Set<ServerResponse>();
  private baseUrl?: string;
  /** every answer waits this long, like a real provider's round trip; a client gone by then is not served */
  latencyMs = 0;
  /** called as each message is accepted, before the answer leaves (a crash test kills the sender here) */
  onAccepted?: (request: RecordedRequest) => void;
  /**
   * The next this-many requests that go through are taken (`accepted`, with an id; lookups find
   * them) but their answer never arrives: held until the client gives up, as when a response is
   * lost or comes after the client's timeout. Applies after any injected failure.
   */
  lostAnswers = 0;
  /**
   * How long an accepted message stays invisible to lookups (events, activity), as the real
   * providers' event stores lag behind their send APIs (seconds to minutes). 0: at once.
   */
  lookupLagMs = 0;
  /** lookups (events, message list, activity) answered so far */
  lookups = 0;
  /** the next this-many lookups answer 503 */
  failLookups = 0;

  protected constructor(options: FakeServerOptions = {}) {
    this.maxRecorded = options.maxRecorded ?? Number.POSITIVE_INFINITY;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
        }
      });
    });
  }

  /** Listens on `port` (0: any free port) and resolves with the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}`;
    return this.baseUrl;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('the fake provider is not listening yet');
    return this.baseUrl;
  }

  /** The next `count` requests fail with `kind`; queued after any earlier `failNext`. */
  failNext(count: number, kind: FailureKind): this {
    this.queuedFailures.push({ kind, remaining: count });
    return this;
  }

  /** Requests to `recipient` fail with `kind`, `count` times (default: until cleared). */
  failFor(recipient: string, kind: FailureKind, count = Number.POSITIVE_INFINITY): this {
    this.recipientFailures.set(recipient, { kind, remaining: count });
    return this;
  }

  clearFailures(): this {
    this.queuedFailures = [];
    this.lostAnswers = 0;
    this.recipientFailures.clear();
    return this;
  }

  /** Forgets recorded requests, counts and failures; answers nothing still held. */
  reset(): this {
    this.requests.length = 0;
    for (const key of Object.keys(this.counts) as (keyof FakeStats)[]) this.counts[key] = 0;
    return this.clearFailures();
  }

  /** How many requests ended each way since the start (or the last reset). */
  stats(): FakeStats {
    return { ...this.counts };
  }

  /** The recorded request that produced `messageId`. */
  findMessage(messageId: string): RecordedRequest | undefined {
    return this.requests.find((request) => request.messageId === messageId);
  }

  /** Accepted messages a lookup can see now: accepted at least `lookupLagMs` ago. */
  protected get visibleToLookups(): RecordedRequest[] {
    const before = Date.now() - this.lookupLagMs;
    return this.accepted.filter((request) => request.receivedAt.getTime() <= before);
  }

  /** Requests the provider accepted, i.e. the messages it would deliver. */
  get accepted(): RecordedRequest[] {
    return this.requests.filter((request) => request.outcome === 'accepted');
  }

  /** Requests being held unanswered by a `timeout` failure right now. */
  get held(): RecordedRequest[] {
    return this.requests.filter((request) => request.outcome === 'held');
  }

  async close(): Promise<void> {
    for (const response of this.heldResponses) response.destroy();
    this.heldResponses.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Parses the request into fields, or returns the answer to give at once (401, 404, 400). */
  protected abstract parse(
    request: IncomingMessage,
    body: Buffer,
  ): Promise<{ fields: Record<string, string[]>; recipient?: string } | ApiAnswer>;

  /**
   * A read of the provider's own records (Mailgun's events, Twilio's message list, SendGrid's
   * activity): answered from the accepted requests, never recorded as a send, never failed by
   * `failNext`. Undefined: not a lookup, parse it as a send.
   */
  protected lookup(_request: IncomingMessage, _url: URL): ApiAnswer | undefined {
    return undefined;
  }

  /** The answer to a request that goes through. */
  protected abstract accept(recorded: RecordedRequest): ApiAnswer;

  /** The provider-shaped answer for an injected failure with this status. */
  protected abstract errorAnswer(
    status: number,
    failure: Exclude<FailureKind, 'timeout' | 'disconnect'>,
    recorded: RecordedRequest,
  ): ApiAnswer;

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.url?.startsWith(CONTROL_PREFIX)) {
      send(response, await this.control(request, body));
      return;
    }
    const lookedUp = this.lookup(request, new URL(request.url ?? '/', 'http://fake'));
    if (lookedUp) {
      this.lookups += 1;
      if (this.failLookups > 0) {
        this.failLookups -= 1;
        send(response, { status: 503, body: { message: 'Service Unavailable' } });
        return;
      }
      send(response, lookedUp);
      return;
    }
    const parsed = await this.parse(request, body);
    if ('status' in parsed) {
      send(response, parsed);
      return;
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      fields: parsed.fields,
      recipient: parsed.recipient,
      receivedAt: new Date(),
      outcome: 'held',
    };
    this.counts.total += 1;
    this.counts.held += 1;
    this.requests.push(recorded);
    if (this.requests.length > this.maxRecorded) this.requests.shift();

    const failure = this.takeFailure(parsed.recipient);
    if (failure === 'timeout') {
      this.heldResponses.add(response);
      response.on('close', () => {
        this.heldResponses.delete(response);
        if (recorded.outcome === 'held') this.settle(recorded, 'aborted');
      });
      return;
    }
    if (failure === 'disconnect') {
      this.settle(recorded, 'disconnected');
      request.socket.destroy();
      return;
    }
    if (failure) {
      const status = failureStatus(failure);
      recorded.status = status;
      this.settle(recorded, 'rejected');
      send(response, this.errorAnswer(status, failure, recorded));
      return;
    }
    if (this.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      if (response.destroyed || request.socket.destroyed) {
        this.settle(recorded, 'aborted');
        return;
      }
    }
    const answer = this.accept(recorded);
    this.settle(recorded, 'accepted');
    this.onAccepted?.(recorded);
    recorded.status = answer.status;
    recorded.messageId = answer.messageId;
    if (this.lostAnswers > 0) {
      this.lostAnswers -= 1;
      this.heldResponses.add(response);
      response.on('close', () => this.heldResponses.delete(response));
      return;
    }
    send(response, answer);
  }

  private settle(recorded: RecordedRequest, outcome: RequestOutcome): void {
    this.counts[recorded.outcome] -= 1;
    this.counts[outcome] += 1;
    recorded.outcome = outcome;
  }

  /**
   * The control API, for a fake running in its own process (`pnpm start`,
   * benchmarks): `GET stats`, `GET requests?limit=`, `POST fail-next`
   * `{ count, kind }`, `POST fail-for` `{ recipient, kind, count? }`,
   * `POST reset`, `POST webhook` (provider-specific body).
   */
  private async control(request: IncomingMessage, body: Buffer): Promise<ApiAnswer> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const action = `${request.method ?? 'GET'} ${url.pathname.slice(CONTROL_PREFIX.length)}`;
    let input: Record<string, unknown> = {};
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return { status: 400, body: { message: 'the body must be JSON' } };
    }
    switch (action) {
      case 'GET stats':
        return { status: 200, body: this.stats() };
      case 'GET requests': {
        const limit = Number(url.searchParams.get('limit') ?? 100);
        return { status: 200, body: this.requests.slice(-Math.max(0, limit)) };
      }
      case 'POST fail-next':
        this.failNext(Number(input.count ?? 1), input.kind as FailureKind);
        return { status: 204, body: '' };
      case 'POST fail-for':
        this.failFor(String(input.recipient), input.kind as FailureKind, Number(input.count ?? Infinity));
        return { status: 204, body: '' };
      case 'POST reset':
        this.reset();
        return { status: 204, body: '' };
      case 'POST webhook': {
        const message = this.findMessage(String(input.messageId));
        if (!message) return { status: 404, body: { message: 'no accepted message with this messageId' } };
        const delivered = await this.controlWebhook(message, input);
        return { status: 200, body: { webhookStatus: delivered.status } };
      }
      default:
        return { status: 404, body: { message: `unknown control action ${action}` } };
    }
  }

  /** Sends a signed webhook for `message` as the control API's `POST webhook` asks. */
  protected abstract controlWebhook(
    message: RecordedRequest,
    input: Record<string, unknown>,
  ): Promise<Response>;

  private takeFailure(recipient: string | undefined): FailureKind | undefined {
    const forRecipient = recipient ? this.recipientFailures.get(recipient) : undefined;
    if (forRecipient) {
      forRecipient.remaining -= 1;
      if (forRecipient.remaining <= 0) this.recipientFailures.delete(recipient!);
      return forRecipient.kind;
    }
    const next = this.queuedFailures[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) this.queuedFailures.shift();
    return next.kind;
  }
}

function failureStatus(failure: Exclude<FailureKind, 'timeout' | 'disconnect'>): number {
  if (failure === 'server_error') return 503;
  if (failure === 'rate_limited') return 429;
  return failure.status;
}

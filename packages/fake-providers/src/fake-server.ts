import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

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
export abstract class FakeProviderServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private queuedFailures: { kind: FailureKind; remaining: number }[] = [];
  private readonly recipientFailures = new Map<string, { kind: FailureKind; remaining: number }>();
  private readonly heldResponses = new Set<ServerResponse>();
  private baseUrl?: string;
  /** every answer waits this long, like a real provider's round trip; a client gone by then is not served */
  latencyMs = 0;

  protected constructor() {
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
    this.recipientFailures.clear();
    return this;
  }

  /** Forgets recorded requests and failures; answers nothing still held. */
  reset(): this {
    this.requests.length = 0;
    return this.clearFailures();
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
      outcome: 'accepted',
    };
    this.requests.push(recorded);

    const failure = this.takeFailure(parsed.recipient);
    if (failure === 'timeout') {
      recorded.outcome = 'held';
      this.heldResponses.add(response);
      response.on('close', () => {
        this.heldResponses.delete(response);
        if (recorded.outcome === 'held') recorded.outcome = 'aborted';
      });
      return;
    }
    if (failure === 'disconnect') {
      recorded.outcome = 'disconnected';
      request.socket.destroy();
      return;
    }
    if (failure) {
      const status = failureStatus(failure);
      recorded.outcome = 'rejected';
      recorded.status = status;
      send(response, this.errorAnswer(status, failure, recorded));
      return;
    }
    if (this.latencyMs > 0) {
      recorded.outcome = 'held';
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      if (response.destroyed || request.socket.destroyed) {
        recorded.outcome = 'aborted';
        return;
      }
      recorded.outcome = 'accepted';
    }
    const answer = this.accept(recorded);
    recorded.status = answer.status;
    recorded.messageId = answer.messageId;
    send(response, answer);
  }

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

function send(response: ServerResponse, answer: ApiAnswer): void {
  const isText = typeof answer.body === 'string';
  response.writeHead(answer.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    ...answer.headers,
  });
  response.end(isText ? (answer.body as string) : JSON.stringify(answer.body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a form body (urlencoded or multipart) with the platform's own parser, keeping repeated fields. */
export async function parseForm(
  contentType: string | undefined,
  body: Buffer,
): Promise<Record<string, string[]>> {
  const fields: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    (fields[name] ??= []).push(value);
  };
  if (!contentType) return fields;
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) add(name, value);
    return fields;
  }
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    for (const [name, value] of form) add(name, typeof value === 'string' ? value : `[file ${value.name}]`);
  }
  return fields;
}

/** The `user:password` of a Basic Authorization header, or undefined. */
export function basicCredentials(request: IncomingMessage): { user: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

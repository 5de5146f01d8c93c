import { randomBytes } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * How the fake SMTP server misbehaves for one message:
 * - `transient`: `451 4.3.0` to the DATA (the client knows the message was not taken)
 * - `permanent`: `550 5.1.1` to the recipient (a refused mailbox)
 * - `disconnect`: the whole message is read, then the connection dropped without a reply to DATA:
 *   the client cannot know whether it was taken (it was not)
 * - `reject_auth`: `535` to AUTH, as for wrong credentials
 */
export type SmtpFailure = 'transient' | 'permanent' | 'disconnect' | 'reject_auth';

export type SmtpOutcome = 'accepted' | 'rejected' | 'disconnected';

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  /** the message's header lines, names lower-cased (first value of each) */
  headers: Record<string, string>;
  /** the whole message as received (headers and body) */
  raw: string;
  outcome: SmtpOutcome;
  /** the queue id in the 250 reply of an accepted message */
  queueId?: string;
  receivedAt: Date;
}

export interface FakeSmtpOptions {
  user?: string;
  pass?: string;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that records every message
 * it receives and can fail the next ones: what nodemailer talks to in tests.
 * Plain text on the wire (no TLS), AUTH PLAIN/LOGIN with `user`/`pass`.
 */
export class FakeSmtp {
  readonly messages: ReceivedMail[] = [];
  readonly user: string;
  readonly pass: string;
  private queuedFailures: { kind: SmtpFailure; remaining: number }[] = [];
  private readonly server: SMTPServer;
  private boundPort?: number;

  constructor(options: FakeSmtpOptions = {}) {
    this.user = options.user ?? 'herald';
    this.pass = options.pass ?? 'fake-smtp-password';
    this.server = new SMTPServer({
      secure: false,
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 100,
      onAuth: (auth, _session, callback) => {
        if (this.peekFailure() === 'reject_auth') {
          this.takeFailure();
          callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
          return;
        }
        if (auth.username === this.user && auth.password === this.pass)
          callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      },
      onRcptTo: (_address, _session, callback) => {
        if (this.peekFailure() === 'permanent') {
          this.takeFailure();
          this.messages.push(this.record(_session, '', 'rejected'));
          callback(Object.assign(new Error('5.1.1 Mailbox does not exist'), { responseCode: 550 }));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const failure = this.takeFailure();
          if (failure === 'transient') {
            this.messages.push(this.record(session, raw, 'rejected'));
            callback(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
            return;
          }
          if (failure === 'disconnect') {
            this.messages.push(this.record(session, raw, 'disconnected'));
            this.dropConnectionOf(session);
            return;
          }
          const mail = this.record(session, raw, 'accepted');
          mail.queueId = randomBytes(6).toString('hex').toUpperCase();
          this.messages.push(mail);
          callback(null, `2.0.0 Ok: queued as ${mail.queueId}`);
        });
      },
    });
  }

  static async start(options: FakeSmtpOptions & { port?: number } = {}): Promise<FakeSmtp> {
    const fake = new FakeSmtp(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.boundPort = (this.server.server.address() as AddressInfo).port;
    return this.boundPort;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('the fake SMTP server is not listening yet');
    return this.boundPort;
  }

  /** The messages the server took (250 to DATA): what would be delivered. */
  get accepted(): ReceivedMail[] {
    return this.messages.filter((mail) => mail.outcome === 'accepted');
  }

  /** The next `count` messages (or logins, for `reject_auth`) fail with `kind`. */
  failNext(count: number, kind: SmtpFailure): this {
    this.queuedFailures.push({ kind, remaining: count });
    return this;
  }

  clearFailures(): this {
    this.queuedFailures = [];
    return this;
  }

  reset(): this {
    this.messages.length = 0;
    return this.clearFailures();
  }

  async close(): Promise<void> {
    for (const connection of this.server.connections) {
      (connection as { _socket?: { destroy(): void } })._socket?.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(session: SMTPServerSession, raw: string, outcome: SmtpOutcome): ReceivedMail {
    const envelope = session.envelope;
    return {
      from: envelope.mailFrom ? envelope.mailFrom.address : undefined,
      to: envelope.rcptTo.map((address) => address.address),
      headers: headersOf(raw),
      raw,
      outcome,
      receivedAt: new Date(),
    };
  }

  /** smtp-server has no API to drop a client mid-transaction: its connection's socket is destroyed. */
  private dropConnectionOf(session: SMTPServerSession): void {
    for (const connection of this.server.connections) {
      const candidate = connection as { session?: unknown; _socket?: { destroy(): void } };
      if (candidate.session === session) candidate._socket?.destroy();
    }
  }

  private peekFailure(): SmtpFailure | undefined {
    return this.queuedFailures[0]?.kind;
  }

  private takeFailure(): SmtpFailure | undefined {
    const next = this.queuedFailures[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) this.queuedFailures.shift();
    return next.kind;
  }
}

/** The header block of a message, unfolded; names lower-cased. */
function headersOf(raw: string): Record<string, string> {
  const end = raw.search(/\r?\n\r?\n/);
  const block = (end < 0 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

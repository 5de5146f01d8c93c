import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
  type ECDH,
} from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { readBody } from './http';

/** A browser's subscription as `PushSubscription.toJSON()` gives it, with the keys the fake decrypts with. */
export interface FakePushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** What the fake push service made of one request. */
export interface ReceivedPush {
  endpoint: string;
  headers: Record<string, string | string[] | undefined>;
  /** the VAPID JWT's claims, once its ES256 signature checked out against `k` */
  vapid?: { aud: string; exp: number; sub: string; publicKey: string };
  /** the decrypted payload (UTF-8), for an accepted message */
  payload?: string;
  ttl?: number;
  urgency?: string;
  status: number;
  outcome: 'accepted' | 'rejected' | 'gone';
  /** why a request was rejected (bad JWT, bad encryption, unknown subscription) */
  reason?: string;
}

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

/**
 * A local push service (RFC 8030) speaking HTTPS on 127.0.0.1 with a
 * self-signed certificate (`ca` is what a client must trust), as browsers'
 * push services do: `subscribe()` plays the browser, generating a real ECDH
 * P-256 key pair and auth secret for a new endpoint; a push message to it
 * must carry a VAPID JWT (RFC 8292: ES256 over `k`, `aud` = this origin, an
 * `exp` in the next 24 h) and an aes128gcm payload (RFC 8188/8291), which the
 * fake decrypts with the subscription's private key and records. It answers
 * 201, or what a test set: `gone()` makes an endpoint answer 410 (expired or
 * unsubscribed), `failNext` any status.
 */
export class FakePushService {
  readonly received: ReceivedPush[] = [];
  /** when set, a JWT signed by another key is refused (403), as a push service bound to the subscription's key does */
  expectedVapidPublicKey?: string;
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly goneEndpoints = new Set<string>();
  private queuedStatuses: number[] = [];
  private baseUrl?: string;

  private constructor(
    private readonly server: Server,
    /** the PEM certificate of the fake's TLS: what a client passes as `ca` */
    readonly ca: string,
  ) {}

  static async start(options: { port?: number } = {}): Promise<FakePushService> {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 7 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    let fake: FakePushService | undefined = undefined;
    const server = createServer({ key: pems.private, cert: pems.cert }, (request, response) => {
      fake!.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500).end(String(error));
      });
    });
    fake = new FakePushService(server, pems.cert);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    fake.baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('the fake push service is not listening yet');
    return this.baseUrl;
  }

  /** A new subscription, as a browser gets one: a fresh endpoint, key pair and auth secret. */
  subscribe(): FakePushSubscription {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const endpoint = `${this.url}/push/${randomUUID()}`;
    this.subscribers.set(endpoint, { ecdh, auth });
    return { endpoint, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
  }

  /** From now on, this endpoint answers 410 Gone, as after the user revoked the permission. */
  gone(endpoint: string): this {
    this.goneEndpoints.add(endpoint);
    return this;
  }

  /** The next requests answer these statuses (429, 500, 404, …), one each, before anything else. */
  failNext(...statuses: number[]): this {
    this.queuedStatuses.push(...statuses);
    return this;
  }

  /** Messages the service accepted, i.e. would deliver to the browser. */
  get accepted(): ReceivedPush[] {
    return this.received.filter((push) => push.outcome === 'accepted');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const endpoint = `${this.url}${request.url ?? '/'}`;
    const record: ReceivedPush = { endpoint, headers: request.headers, status: 0, outcome: 'rejected' };
    this.received.push(record);
    const answer = (status: number, reason?: string) => {
      record.status = status;
      if (reason) record.reason = reason;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(reason ?? '');
    };
    const subscriber = this.subscribers.get(endpoint);
    if (request.method !== 'POST' || !subscriber) return answer(404, 'no such subscription');
    if (this.goneEndpoints.has(endpoint)) {
      record.outcome = 'gone';
      return answer(410, 'push subscription has unsubscribed or expired');
    }
    const injected = this.queuedStatuses.shift();
    if (injected !== undefined) return answer(injected, 'injected failure');

    try {
      record.vapid = this.verifyVapid(request.headers.authorization);
    } catch (error) {
      return answer(error instanceof ForbiddenKey ? 403 : 401, (error as Error).message);
    }
    if (request.headers['content-encoding'] !== 'aes128gcm') {
      return answer(415, 'Content-Encoding must be aes128gcm');
    }
    const ttl = Number(request.headers.ttl);
    if (!Number.isInteger(ttl) || ttl < 0) return answer(400, 'a TTL header is required');
    try {
      record.payload = decryptAes128gcm(body, subscriber).toString('utf8');
    } catch (error) {
      return answer(400, `the payload does not decrypt: ${(error as Error).message}`);
    }
    record.ttl = ttl;
    if (typeof request.headers.urgency === 'string') record.urgency = request.headers.urgency;
    record.outcome = 'accepted';
    record.status = 201;
    response.writeHead(201, { location: `${this.url}/message/${randomUUID()}` }).end();
  }

  /** `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292), checked as a push service checks it. */
  private verifyVapid(header: string | undefined) {
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (!match) throw new Error('missing or malformed vapid Authorization header');
    const [, token, key] = match as unknown as [string, string, string];
    const publicKey = Buffer.from(key, 'base64url');
    if (publicKey.length !== 65 || publicKey[0] !== 4)
      throw new Error('k is not an uncompressed P-256 point');
    if (this.expectedVapidPublicKey && key !== this.expectedVapidPublicKey) {
      throw new ForbiddenKey('the JWT is signed by another application server key');
    }
    const [headerPart, claimsPart, signaturePart] = token.split('.');
    if (!headerPart || !claimsPart || !signaturePart) throw new Error('the JWT has not three parts');
    const jwtHeader = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: string };
    if (jwtHeader.alg !== 'ES256') throw new Error('the JWT must be ES256');
    const verifier = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: b64url(publicKey.subarray(1, 33)),
        y: b64url(publicKey.subarray(33, 65)),
      },
      format: 'jwk',
    });
    const signed = verify(
      'sha256',
      Buffer.from(`${headerPart}.${claimsPart}`),
      { key: verifier, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!signed) throw new Error('the JWT signature does not verify against k');
    const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8')) as {
      aud?: unknown;
      exp?: unknown;
      sub?: unknown;
    };
    if (claims.aud !== this.url) throw new Error(`aud must be ${this.url}`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 86_400) {
      throw new Error('exp must lie within the next 24 hours');
    }
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
      throw new Error('sub must be a mailto: or https: URL');
    }
    return { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: key };
  }
}

class ForbiddenKey extends Error {}

/**
 * RFC 8291 over RFC 8188: the header (salt, record size, the sender's ephemeral public key as key
 * id), the input keying material from ECDH with the subscription's private key and its auth
 * secret, then one AES-128-GCM record ending in the 0x02 padding delimiter.
 */
function decryptAes128gcm(body: Buffer, subscriber: Subscriber): Buffer {
  if (body.length < 21) throw new Error('shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body[20]!;
  const senderKey = body.subarray(21, 21 + keyIdLength);
  const ciphertext = body.subarray(21 + keyIdLength);
  if (keyIdLength !== 65) throw new Error('the key id must be the sender’s 65-byte public key');
  if (ciphertext.length > recordSize) throw new Error('more than one record');
  const shared = subscriber.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), subscriber.ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, subscriber.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (end < 0 || padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}

import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import jwt from 'jsonwebtoken';
import { createLogger } from '../src/logger';
import { createHttpApp, type HttpApp } from '../src/http/app';
import {
  cachedApiKeyDirectory,
  createTtlCache,
  generateApiKey,
  parseApiKey,
  type ApiKeyDirectory,
  type ApiKeyRecord,
} from '../src/http/api-keys';
import { adminScope, authenticated, authenticationPlugin, requireScope } from '../src/http/authenticate';
import { createStaticKeyResolver, createTokenVerifier } from '../src/jwt';

const ISSUER = 'herald-auth';
const AUDIENCE = 'herald';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

class Lines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
}

function signToken(claims: object, subject: string) {
  return jwt.sign(claims, privateKey, {
    algorithm: 'ES256',
    keyid: 'key-1',
    issuer: ISSUER,
    audience: AUDIENCE,
    subject,
    expiresIn: '15m',
  });
}

/** The keys a service knows, as its read model would hold them, with every lookup counted. */
class TestDirectory implements ApiKeyDirectory {
  readonly records = new Map<string, ApiKeyRecord>();
  lookups = 0;
  readonly used: string[] = [];
  async lookup(keyId: string) {
    this.lookups += 1;
    return this.records.get(keyId);
  }
  recordUse(keyId: string) {
    this.used.push(keyId);
  }
  add(scopes: string[], extra: Partial<ApiKeyRecord> = {}): string {
    const key = generateApiKey();
    this.records.set(key.keyId, { keyId: key.keyId, secretHash: key.secretHash, scopes, ...extra });
    return key.key;
  }
}

describe('API keys, inbox tokens and scopes', () => {
  let app: HttpApp;
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const directory = new TestDirectory();
  const logs = new Lines();

  beforeAll(async () => {
    app = await createHttpApp({
      service: 'demo',
      logger: createLogger({ name: 'demo', level: 'debug', format: 'json' }, logs),
    });
    const verifier = createTokenVerifier({
      keys: createStaticKeyResolver({ 'key-1': publicKey.export({ format: 'jwk' }) }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    await app.register(authenticationPlugin, {
      verifier,
      apiKeys: directory,
      apiKeyRateLimit: { perSecond: 2 },
      now,
    });
    const whoAmI = async (request: { user: object }) => request.user;
    await app.register(
      authenticated(
        async (scope) => {
          scope.get('/send', { preHandler: requireScope('notifications:send') }, whoAmI);
          scope.get('/templates', { preHandler: scope.requireScope('templates:write') }, whoAmI);
          scope.get('/inbox', { preHandler: requireScope('inbox') }, whoAmI);
        },
        { principals: ['user', 'apikey', 'subscriber'] },
      ),
      { prefix: '/open' },
    );
    await app.register(
      authenticated(async (scope) => {
        scope.get('/me', whoAmI);
      }),
      { prefix: '/users-only' },
    );
    await app.register(
      adminScope(async (scope) => {
        scope.get('/stats', whoAmI);
      }),
      { prefix: '/admin' },
    );
    await app.ready();
  });
  afterAll(() => app.close());

  const get = (url: string, bearer?: string) =>
    app.inject({ url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('formats keys as hk_<16 hex>_<43 base64url> and parses them back', () => {
    const key = generateApiKey();
    expect(key.key).toMatch(/^hk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key.key)).toEqual({ keyId: key.keyId, secret: key.key.slice(20) });
    expect(key.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts a key with the scope as an apikey principal, and tells the directory it was used', async () => {
    const key = directory.add(['notifications:send']);
    const response = await get('/open/send', key);
    expect(response.statusCode).toBe(200);
    const keyId = parseApiKey(key)!.keyId;
    expect(response.json()).toMatchObject({
      kind: 'apikey',
      id: keyId,
      role: 'user',
      scopes: ['notifications:send'],
    });
    expect(directory.used).toContain(keyId);
  });

  it.each([
    ['malformed', () => 'hk_short'],
    ['unknown', () => generateApiKey().key],
    ['with a wrong secret', () => `${directory.add(['admin']).slice(0, 20)}${'A'.repeat(43)}`],
    ['expired', () => directory.add(['admin'], { expiresAt: new Date(Date.now() - 1000) })],
    ['revoked', () => directory.add(['admin'], { revokedAt: new Date(Date.now() - 1000) })],
  ])('answers 401 invalid_api_key for a %s key', async (_, key) => {
    const response = await get('/open/send', key());
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'invalid_api_key' });
  });

  it('stops a key the moment its expiry passes on the injected clock', async () => {
    const key = directory.add(['notifications:send'], { expiresAt: new Date(Date.now() + 60_000) });
    expect((await get('/open/send', key)).statusCode).toBe(200);
    offsetMs += 61_000;
    expect((await get('/open/send', key)).json()).toMatchObject({ code: 'invalid_api_key' });
  });

  it.each(['api_key', 'apiKey', 'key'])('refuses a key in the query string (?%s=) with 400', async (name) => {
    const key = directory.add(['admin']);
    const response = await get(`/open/send?${name}=${encodeURIComponent(key)}`, key);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'api_key_in_query' });
  });

  it('lets a query value that only starts like a key through (a template named hk_welcome)', async () => {
    const key = directory.add(['notifications:send']);
    expect((await get('/open/send?key=hk_welcome', key)).statusCode).toBe(200);
  });

  it('answers 403 missing_scope naming the scope a key lacks', async () => {
    const key = directory.add(['notifications:send']);
    const response = await get('/open/templates', key);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'missing_scope' });
    expect(response.json().detail).toContain('templates:write');
  });

  it('lets an admin key pass every scope and into admin scopes; other keys stay out of admin scopes', async () => {
    const admin = directory.add(['admin']);
    expect((await get('/open/templates', admin)).statusCode).toBe(200);
    expect((await get('/admin/stats', admin)).json()).toMatchObject({ kind: 'apikey', role: 'admin' });
    expect((await get('/admin/stats', directory.add(['templates:write']))).statusCode).toBe(403);
  });

  it('keeps users working: an admin user passes every scope, a user sends but does not write templates', async () => {
    const admin = signToken({ role: 'admin', email_verified: true }, 'admin-1');
    const user = signToken({ role: 'user', email_verified: true }, 'user-1');
    expect((await get('/open/templates', admin)).json()).toMatchObject({ kind: 'user', id: 'admin-1' });
    expect((await get('/open/send', user)).json()).toMatchObject({
      kind: 'user',
      id: 'user-1',
      role: 'user',
    });
    expect((await get('/open/templates', user)).json()).toMatchObject({ code: 'missing_scope' });
    expect((await get('/users-only/me', user)).statusCode).toBe(200);
  });

  it('reads an inbox token as a subscriber with only the inbox scope', async () => {
    const inbox = signToken({ typ: 'inbox' }, 'sub:customer-42');
    const response = await get('/open/inbox', inbox);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ kind: 'subscriber', id: 'sub:customer-42', scopes: ['inbox'] });
    expect((await get('/open/send', inbox)).json()).toMatchObject({ code: 'missing_scope' });
    // scopes that do not admit subscribers (or keys) refuse them outright
    expect((await get('/users-only/me', inbox)).json()).toMatchObject({ code: 'principal_not_allowed' });
    expect((await get('/admin/stats', inbox)).statusCode).toBe(403);
    expect((await get('/users-only/me', directory.add(['admin']))).statusCode).toBe(403);
  });

  it('refuses an inbox token that names no subscriber, a token of an unknown type, and an access token naming a subscriber', async () => {
    for (const token of [
      signToken({ typ: 'inbox' }, 'user-1'),
      signToken({ typ: 'refresh', role: 'admin' }, 'user-1'),
      signToken({ role: 'user' }, 'sub:customer-42'),
    ]) {
      expect((await get('/open/inbox', token)).json()).toMatchObject({ code: 'invalid_token' });
    }
  });

  it('answers 429 rate_limited with Retry-After past the per-key rate, and lets the key in again later', async () => {
    const key = directory.add(['notifications:send']);
    expect((await get('/open/send', key)).statusCode).toBe(200);
    expect((await get('/open/send', key)).statusCode).toBe(200);
    const limited = await get('/open/send', key);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(limited.headers['retry-after']).toBe('1');
    // another key has its own bucket
    expect((await get('/open/send', directory.add(['notifications:send']))).statusCode).toBe(200);
    offsetMs += 1_000;
    expect((await get('/open/send', key)).statusCode).toBe(200);
  });

  it('never writes a key secret to the log, from the header or a query string', async () => {
    const key = directory.add(['notifications:send']);
    const secret = key.slice(20);
    await get('/open/send', key);
    await get(`/open/send?api_key=${key}`);
    await get(`/open/send?key=${key}`, key);
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.filter((line) => line.includes(secret))).toEqual([]);
    expect(logs.lines.filter((line) => line.includes('hk_'))).toEqual([]);
  });

  it('never writes a link token (unsubscribe, verification, reset) from a query string to the log', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWxpbmstdG9rZW4.c2lnbmF0dXJlLXZhbHVl';
    await get(`/open/send?token=${token}`);
    await get(`/open/send?lang=en&TOKEN=${token}#top`);
    await get(`/open/send?code=482913&next=%2Finbox`);
    expect(logs.lines.some((line) => line.includes('/open/send?token=[redacted]'))).toBe(true);
    expect(logs.lines.some((line) => line.includes('next=%2Finbox'))).toBe(true);
    expect(logs.lines.filter((line) => line.includes(token) || line.includes('482913'))).toEqual([]);
  });
});

describe('the directory cache', () => {
  it('serves a lookup for at most its TTL, and forgets a key at once when invalidated', async () => {
    let offsetMs = 0;
    const now = () => new Date(1_700_000_000_000 + offsetMs);
    const directory = new TestDirectory();
    const key = parseApiKey(directory.add(['admin']))!;
    const cached = cachedApiKeyDirectory(directory, { ttlMs: 2_000, now });

    await cached.lookup(key.keyId);
    await cached.lookup(key.keyId);
    expect(directory.lookups).toBe(1);

    // revoked in the directory: this instance may serve its cached copy until the TTL passes, not longer
    const revokedAt = now();
    directory.records.set(key.keyId, { ...directory.records.get(key.keyId)!, revokedAt });
    offsetMs += 1_999;
    expect((await cached.lookup(key.keyId))!.revokedAt).toBeUndefined();
    offsetMs += 1;
    expect((await cached.lookup(key.keyId))!.revokedAt).toEqual(revokedAt);
    expect(directory.lookups).toBe(2);

    cached.invalidate(key.keyId);
    await cached.lookup(key.keyId);
    expect(directory.lookups).toBe(3);
  });

  it('remembers unknown keys too, so junk ids do not reach the database on every request', async () => {
    const directory = new TestDirectory();
    const cached = cachedApiKeyDirectory(directory, { ttlMs: 1_000 });
    await cached.lookup('0000000000000000');
    await cached.lookup('0000000000000000');
    expect(directory.lookups).toBe(1);
  });

  it('does not cache what a lookup read before an invalidation that arrived while it ran', async () => {
    const cache = createTtlCache<string>({ ttlMs: 2_000 });
    let release!: () => void;
    const stale = cache.get('k', () => new Promise<string>((resolve) => (release = () => resolve('before'))));
    cache.invalidate('k'); // the change arrives while the old record is being read
    release();
    expect(await stale).toBe('before');
    expect(await cache.get('k', async () => 'after')).toBe('after');
  });

  it('refuses a TTL above 2 s, which would break the 5 s revocation promise', () => {
    expect(() => createTtlCache({ ttlMs: 5_000 })).toThrow(RangeError);
  });
});

import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import {
  createJwksKeyResolver,
  createStaticKeyResolver,
  createTokenVerifier,
  bearerToken,
  type TokenKeyHeader,
} from '../src/jwt';
import { createHttpApp } from '../src/http/app';
import { authenticationPlugin } from '../src/http/authenticate';

const ISSUER = 'herald-auth';
const AUDIENCE = 'herald';

function keyPair(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' } };
}

function sign(privateKey: KeyObject, kid: string | undefined, claims: object, options: jwt.SignOptions = {}) {
  return jwt.sign({ role: 'user', email_verified: true, ...claims }, privateKey, {
    algorithm: 'ES256',
    ...(kid ? { keyid: kid } : {}),
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'user-1',
    expiresIn: '15m',
    ...options,
  });
}

describe('access token verification through JWKS', () => {
  const first = keyPair('key-1');
  const second = keyPair('key-2');
  let published = [first.jwk];
  let authDown = false;
  let fetches = 0;
  let server: Server;
  let jwksUrl: string;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches += 1;
      if (authDown) {
        response.statusCode = 503;
        response.end();
        return;
      }
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const verifier = (minRefetchIntervalMs = 0) =>
    createTokenVerifier({
      keys: createJwksKeyResolver({ jwksUrl, minRefetchIntervalMs }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });

  it('accepts a valid token and returns who it is for', async () => {
    const user = await verifier().verify(sign(first.privateKey, 'key-1', { role: 'admin' }));
    expect(user).toMatchObject({ id: 'user-1', role: 'admin', emailVerified: true });
    expect(user.tokenExpiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it.each([
    ['expired', () => sign(first.privateKey, 'key-1', {}, { expiresIn: -60 }), 'token_expired'],
    [
      'for another audience',
      () => sign(first.privateKey, 'key-1', {}, { audience: 'other' }),
      'invalid_token',
    ],
    ['from another issuer', () => sign(first.privateKey, 'key-1', {}, { issuer: 'evil' }), 'invalid_token'],
    ['signed by an unknown key', () => sign(keyPair('x').privateKey, 'key-1', {}), 'invalid_token'],
    ['with an unknown role', () => sign(first.privateKey, 'key-1', { role: 'root' }), 'invalid_token'],
    ['garbage', () => 'not-a-jwt', 'invalid_token'],
    [
      'HS256 with the public key as secret',
      () => jwt.sign({ role: 'admin', sub: 'u' }, 'secret', { keyid: 'key-1' }),
      'invalid_token',
    ],
  ])('rejects a token that is %s', async (_name, makeToken, code) => {
    await expect(verifier().verify(makeToken())).rejects.toMatchObject({ status: 401, code });
  });

  it('picks up a rotated key by refetching on an unknown kid, rate-limited', async () => {
    const v = verifier(60_000);
    await v.verify(sign(first.privateKey, 'key-1', {}));
    published = [first.jwk, second.jwk];
    const before = fetches;
    // First fetch was just now, so within the rate limit the new kid is not fetched yet.
    await expect(v.verify(sign(second.privateKey, 'key-2', {}))).rejects.toMatchObject({
      code: 'invalid_token',
    });
    expect(fetches).toBe(before);

    const eager = verifier(0);
    await expect(eager.verify(sign(second.privateKey, 'key-2', {}))).resolves.toMatchObject({ id: 'user-1' });
  });

  it('keeps verifying with the keys it has while auth cannot answer a refetch', async () => {
    // cacheMs 0: every verification refetches, so the second one meets auth down
    const v = createTokenVerifier({
      keys: createJwksKeyResolver({ jwksUrl, cacheMs: 0 }),
      issuer: ISSUER,
      audience: AUDIENCE,
      verifiedCacheMs: 0,
    });
    await v.verify(sign(first.privateKey, 'key-1', {}));
    authDown = true;
    try {
      const before = fetches;
      await expect(v.verify(sign(first.privateKey, 'key-1', { role: 'admin' }))).resolves.toMatchObject({
        role: 'admin',
      });
      expect(fetches).toBe(before + 1);
    } finally {
      authDown = false;
    }
  });

  it("checks expiry against the verifier's clock, not the machine's", async () => {
    const issuedAt = Math.floor(Date.now() / 1000) - 3_600; // an hour ago, valid for a minute
    const token = sign(first.privateKey, 'key-1', { iat: issuedAt }, { expiresIn: 60 });
    const at = (seconds: number) =>
      createTokenVerifier({
        keys: createStaticKeyResolver({ 'key-1': first.jwk }),
        issuer: ISSUER,
        audience: AUDIENCE,
        clockToleranceSeconds: 0,
        now: () => new Date(seconds * 1000),
      });
    await expect(at(issuedAt + 30).verify(token)).resolves.toMatchObject({ id: 'user-1' });
    await expect(at(issuedAt + 61).verify(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('verifies with static keys when no JWKS is used', async () => {
    const v = createTokenVerifier({
      keys: createStaticKeyResolver({ 'key-1': first.jwk }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    await expect(v.verify(sign(first.privateKey, undefined, {}))).resolves.toMatchObject({ id: 'user-1' });
  });

  describe('remembering verified tokens', () => {
    const countingKeys = () => {
      const resolver = createStaticKeyResolver({ 'key-1': first.jwk });
      const counted = {
        lookups: 0,
        getKey: (header: TokenKeyHeader) => (counted.lookups++, resolver.getKey(header)),
      };
      return counted;
    };

    it("checks a token's signature once, then answers from memory", async () => {
      const keys = countingKeys();
      const v = createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE });
      const token = sign(first.privateKey, 'key-1', { role: 'admin' });
      const a = await v.verify(token);
      const b = await v.verify(token);
      expect(b).toEqual(a);
      expect(keys.lookups).toBe(1);
      // a different token is verified on its own: the memory is per token, never per user
      await expect(v.verify(sign(first.privateKey, 'key-1', { role: 'root' }))).rejects.toMatchObject({
        code: 'invalid_token',
      });
    });

    it("never answers from memory past the token's expiry or the memory's limit", async () => {
      let clock = Date.now();
      const keys = countingKeys();
      const v = createTokenVerifier({
        keys,
        issuer: ISSUER,
        audience: AUDIENCE,
        verifiedCacheMs: 60_000,
        clockToleranceSeconds: 0,
        now: () => new Date(clock),
      });
      const shortLived = sign(first.privateKey, 'key-1', {}, { expiresIn: 30 });
      await v.verify(shortLived);
      clock += 31_000;
      await expect(v.verify(shortLived)).rejects.toMatchObject({ code: 'token_expired' });

      const longLived = sign(first.privateKey, 'key-1', {}, { expiresIn: '1h' });
      await v.verify(longLived);
      const lookups = keys.lookups;
      clock += 59_000;
      await v.verify(longLived);
      expect(keys.lookups).toBe(lookups);
      clock += 2_000;
      await v.verify(longLived);
      expect(keys.lookups).toBe(lookups + 1);
    });

    it('forgets the oldest token when full, and remembers nothing when turned off', async () => {
      const keys = countingKeys();
      const v = createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, verifiedCacheSize: 2 });
      const [t1, t2, t3] = ['a', 'b', 'c'].map((sub) =>
        sign(first.privateKey, 'key-1', {}, { subject: sub }),
      );
      for (const token of [t1!, t2!, t3!]) await v.verify(token);
      expect(keys.lookups).toBe(3);
      await v.verify(t3!);
      expect(keys.lookups).toBe(3);
      await v.verify(t1!);
      expect(keys.lookups).toBe(4);

      const off = countingKeys();
      const uncached = createTokenVerifier({
        keys: off,
        issuer: ISSUER,
        audience: AUDIENCE,
        verifiedCacheMs: 0,
      });
      await uncached.verify(t1!);
      await uncached.verify(t1!);
      expect(off.lookups).toBe(2);
    });
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('guards routes as a Fastify plugin', async () => {
    const app = await createHttpApp({ service: 'demo', logger: pino({ level: 'silent' }) });
    await app.register(authenticationPlugin, { verifier: verifier() });
    await app.register(async (authenticated) => {
      authenticated.addHook('onRequest', authenticated.authenticate);
      authenticated.get('/me', async (request) => ({ id: request.user.id }));
      authenticated.get('/admin', { preHandler: authenticated.requireRole('admin') }, async () => ({
        ok: true,
      }));
    });
    await app.ready();
    const token = sign(first.privateKey, 'key-1', {});

    expect((await app.inject({ url: '/me' })).json()).toMatchObject({ status: 401, code: 'missing_token' });
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).json()).toEqual({
      id: 'user-1',
    });
    expect(
      (await app.inject({ url: '/admin', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(403);
    await app.close();
  });
});

describe('when auth cannot be reached', () => {
  it('answers 503 (retry later), not 401 (log in again)', async () => {
    const unreachable = createTokenVerifier({
      keys: createJwksKeyResolver({
        jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json',
        fetchTimeoutMs: 500,
      }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const { privateKey } = keyPair('key-1');
    await expect(unreachable.verify(sign(privateKey, 'key-1', {}))).rejects.toMatchObject({
      status: 503,
      code: 'jwks_unavailable',
    });
  });
});

import { type AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { createJwksKeyResolver, createTokenVerifier, type TokenVerifier } from '@herald/runtime/http';
import { signAccessToken } from '../src/keys/domain/access-tokens';
import { keyRing } from '../src/keys/domain/signing-keys';
import { newEcKey, startHarness, type AuthHarness } from './harness';

describe('access tokens and the JWKS', () => {
  const oldKey = newEcKey();
  const currentKey = newEcKey();
  let auth: AuthHarness;
  let otherService: TokenVerifier;

  beforeAll(async () => {
    auth = await startHarness('auth-tokens', { keys: keyRing([oldKey, currentKey]) });
    await auth.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = auth.app.server.address() as AddressInfo;
    // exactly what another Herald service builds from JwtVerifyEnv
    otherService = createTokenVerifier({
      keys: createJwksKeyResolver({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` }),
      issuer: 'herald-auth',
      audience: 'herald',
    });
  });
  afterAll(() => auth.close());

  it('serves every active public key, and no private part', async () => {
    const response = await auth.request('GET', '/.well-known/jwks.json');
    const { keys } = response.json();
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toEqual({
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: expect.any(String),
        use: 'sig',
        alg: 'ES256',
      });
    }
    expect(keys.map((key: { kid: string }) => key.kid)).toEqual(auth.keys.all.map((key) => key.kid));
  });

  it('signs with the newest key, and another service verifies the token from the JWKS alone', async () => {
    const user = await auth.signUp('verify@example.com');
    const header = jwt.decode(user.accessToken, { complete: true })!.header;
    expect(header).toMatchObject({ alg: 'ES256', kid: auth.keys.all[1]!.kid });
    expect(jwt.decode(user.accessToken)).toMatchObject({
      sub: user.id,
      role: 'user',
      email_verified: false,
      iss: 'herald-auth',
      aud: 'herald',
      exp: expect.any(Number),
      iat: expect.any(Number),
    });

    const verified = await otherService.verify(user.accessToken);
    expect(verified).toMatchObject({ id: user.id, role: 'user', emailVerified: false });
    expect(verified.tokenExpiresAt.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('still accepts tokens signed with the older key during a rotation', async () => {
    const user = await auth.signUp('rotation@example.com');
    const byOldKey = signAccessToken(
      { keys: keyRing([oldKey]), issuer: 'herald-auth', audience: 'herald', ttlSeconds: 60 },
      { userId: user.id, role: 'user', emailVerified: false, sessionId: 's' },
    );
    expect((await otherService.verify(byOldKey)).id).toBe(user.id);
    expect((await auth.request('GET', '/api/v1/auth/me', undefined, byOldKey)).statusCode).toBe(200);
  });

  it('rejects an expired token', async () => {
    const user = await auth.signUp('expired@example.com');
    const expired = signAccessToken(
      { keys: auth.keys, issuer: 'herald-auth', audience: 'herald', ttlSeconds: -60 },
      { userId: user.id, role: 'user', emailVerified: false, sessionId: 's' },
    );
    await expect(otherService.verify(expired)).rejects.toMatchObject({ code: 'token_expired' });
    const me = await auth.request('GET', '/api/v1/auth/me', undefined, expired);
    expect(me.json()).toMatchObject({ status: 401, code: 'token_expired' });
  });

  it('rejects a tampered token and one signed by a stranger under our kid', async () => {
    const user = await auth.signUp('tampered@example.com');
    const [head, payload, signature] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const tampered = `${head}.${promoted}.${signature}`;
    await expect(otherService.verify(tampered)).rejects.toMatchObject({ code: 'invalid_token' });
    expect((await auth.request('GET', '/api/v1/users', undefined, tampered)).json()).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });

    const forged = jwt.sign({ role: 'admin', email_verified: true }, newEcKey(), {
      algorithm: 'ES256',
      keyid: auth.keys.current.kid,
      subject: user.id,
      issuer: 'herald-auth',
      audience: 'herald',
      expiresIn: 60,
    });
    await expect(otherService.verify(forged)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it("stops accepting an access token once its TTL has passed on the service's clock", async () => {
    const user = await auth.signUp('short-lived@example.com');
    const me = () => auth.request('GET', '/api/v1/auth/me', undefined, user.accessToken);
    try {
      // ACCESS_TOKEN_TTL_SECONDS is 900
      auth.clock.advance(14 * 60_000);
      expect((await me()).statusCode).toBe(200);
      auth.clock.advance(2 * 60_000);
      expect((await me()).json()).toMatchObject({ status: 401, code: 'token_expired' });
    } finally {
      auth.clock.advance(-16 * 60_000);
    }
  });
});

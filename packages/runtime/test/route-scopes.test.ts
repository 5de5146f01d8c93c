import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { createHttpApp, type HttpApp } from '../src/http/app';
import { adminScope, authenticated, authenticationPlugin } from '../src/http/authenticate';
import { createStaticKeyResolver, createTokenVerifier, type Role } from '../src/jwt';

const ISSUER = 'herald-auth';
const AUDIENCE = 'herald';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const token = (role: Role) =>
  jwt.sign({ role, email_verified: true }, privateKey, {
    algorithm: 'ES256',
    keyid: 'key-1',
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: `${role}-1`,
    expiresIn: '15m',
  });

describe('authenticated and admin route scopes', () => {
  let app: HttpApp;

  beforeAll(async () => {
    app = await createHttpApp({ service: 'demo', logger: pino({ level: 'silent' }) });
    const verifier = createTokenVerifier({
      keys: createStaticKeyResolver({ 'key-1': publicKey.export({ format: 'jwk' }) }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    await app.register(authenticationPlugin, { verifier });
    app.get('/public', async () => ({ open: true }));
    await app.register(
      authenticated(async (scope) => {
        scope.get('/me', async (request) => ({ id: request.user.id }));
      }),
      { prefix: '/api' },
    );
    await app.register(
      adminScope(async (scope) => {
        scope.get('/stats', async (request) => ({ admin: request.user.id }));
      }),
      { prefix: '/admin' },
    );
    await app.ready();
  });
  afterAll(() => app.close());

  const get = (url: string, bearer?: string) =>
    app.inject({ url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('answers 401 missing_token inside either scope without a token, and leaves other routes open', async () => {
    for (const url of ['/api/me', '/admin/stats']) {
      const response = await get(url);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'missing_token' });
    }
    expect((await get('/public')).json()).toEqual({ open: true });
  });

  it('answers 401 invalid_token for a token it cannot verify', async () => {
    const response = await get('/admin/stats', 'not-a-jwt');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'invalid_token' });
  });

  it('lets any signed-in user into the authenticated scope', async () => {
    const response = await get('/api/me', token('user'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: 'user-1' });
  });

  it('answers 403 to a signed-in user who is not an admin', async () => {
    const response = await get('/admin/stats', token('user'));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'forbidden' });
  });

  it('lets an admin into the admin scope', async () => {
    const response = await get('/admin/stats', token('admin'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ admin: 'admin-1' });
  });
});

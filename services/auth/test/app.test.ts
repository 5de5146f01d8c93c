import { startHarness, type AuthHarness } from './harness';

describe('the auth service', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-app');
  });
  afterAll(() => auth.close());

  it('is live, ready and documents every route', async () => {
    expect((await auth.request('GET', '/health/live')).json()).toEqual({ status: 'ok' });
    expect((await auth.request('GET', '/health/ready')).json()).toEqual({
      status: 'ok',
      checks: { mongo: 'up' },
    });
    const doc = (await auth.request('GET', '/docs/json')).json();
    expect(doc.info.title).toBe('Herald auth');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/.well-known/jwks.json',
        '/api/v1/auth/register',
        '/api/v1/auth/login',
        '/api/v1/auth/refresh',
        '/api/v1/auth/logout',
        '/api/v1/auth/logout-all',
        '/api/v1/auth/me',
        '/api/v1/auth/verify-email',
        '/api/v1/auth/verify-email/resend',
        '/api/v1/auth/validate-email',
        '/api/v1/auth/password-reset',
        '/api/v1/auth/password-reset/confirm',
        '/api/v1/auth/me/phone',
        '/api/v1/auth/me/phone/verify',
        '/api/v1/users/',
        '/api/v1/users/{id}',
      ]),
    );
  });
});

import { waitFor } from '@herald/test-support';
import { startHarness, waitForOutboxDrained, type AuthHarness } from './harness';

/**
 * Drives every route, the happy paths and the failures, then searches every
 * response body and every log line for passwords, hashes and tokens.
 */
describe('secrets never leave the service', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-no-secrets', {
      env: { ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'Admin-Secret-Pass-1', LOG_LEVEL: 'trace' },
    });
  });
  afterAll(() => auth.close());

  it('has no password, hash or token in any response body or log line', async () => {
    const passwords = [
      'Original-Secret-Pass-1',
      'Changed-Secret-Pass-2',
      'Wrong-Guess-Pass-3',
      'Admin-Secret-Pass-1',
    ];
    const tokenBodies = new Set<string>();
    const tokens: string[] = [];
    const issue = async (url: string, body: unknown) => {
      const response = await auth.request('POST', url, body);
      tokenBodies.add(response.body);
      if (response.statusCode === 200) tokens.push(response.json().accessToken, response.json().refreshToken);
      return response.json();
    };

    await auth.request('POST', '/api/v1/auth/register', {
      email: 'secretive@example.com',
      password: passwords[0],
      name: 'Secretive',
    });
    const userId = (await auth.models.users
      .findOne({ email: 'secretive@example.com' })
      .lean())!._id.toHexString();
    await auth.request('POST', '/api/v1/auth/register', {
      email: 'secretive@example.com',
      password: passwords[0],
      name: 'Duplicate',
    });
    await auth.request('POST', '/api/v1/auth/register', {
      email: 'x@example.com',
      password: passwords[0],
      name: 1,
    });
    const session = await issue('/api/v1/auth/login', {
      email: 'secretive@example.com',
      password: passwords[0],
    });
    await issue('/api/v1/auth/login', { email: 'secretive@example.com', password: passwords[2] });
    await issue('/api/v1/auth/login', { email: 'nobody@example.com', password: passwords[2] });
    const admin = await issue('/api/v1/auth/login', { email: 'admin@example.com', password: passwords[3] });

    const [verification] = await waitFor(() => {
      const found = auth.events
        .ofType('user.verification_requested')
        .filter((event) => event.payload.userId === userId);
      return found.length ? found : undefined;
    });
    const verificationToken = new URL(verification!.payload.verificationUrl).searchParams.get('token')!;
    tokens.push(verificationToken);

    await auth.request('GET', '/api/v1/auth/me', undefined, session.accessToken);
    await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { currentPassword: passwords[2], newPassword: passwords[1] },
      session.accessToken,
    );
    await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { currentPassword: passwords[0], newPassword: passwords[1] },
      session.accessToken,
    );
    await auth.request('POST', '/api/v1/auth/verify-email', { token: verificationToken });
    await auth.request('POST', '/api/v1/auth/verify-email', { token: verificationToken });
    const rotated = await issue('/api/v1/auth/refresh', { refreshToken: session.refreshToken });
    await issue('/api/v1/auth/refresh', { refreshToken: session.refreshToken }); // reuse: revokes the family
    await auth.request('POST', '/api/v1/auth/logout', { refreshToken: rotated.refreshToken });
    await auth.request('GET', '/api/v1/users', undefined, admin.accessToken);
    await auth.request('PATCH', `/api/v1/users/${userId}`, { disabled: true }, admin.accessToken);
    await auth.request('GET', '/api/v1/auth/me', undefined, `${session.accessToken}x`);
    await auth.request('POST', '/api/v1/auth/logout-all', undefined, admin.accessToken);
    await waitForOutboxDrained(auth);

    const hashes = [
      ...(await auth.models.users.find({}, { passwordHash: 1, emailVerification: 1 }).lean()).flatMap(
        (user) => [user.passwordHash, ...(user.emailVerification ? [user.emailVerification.tokenHash] : [])],
      ),
      ...(await auth.models.refreshTokens.find({}, { tokenHash: 1 }).lean()).map((token) => token.tokenHash),
    ];
    expect(hashes.length).toBeGreaterThan(5);
    expect(tokens.length).toBeGreaterThan(6);
    expect(auth.logs.lines.length).toBeGreaterThan(20);

    const secrets = [...passwords, ...hashes, ...tokens];
    const leaksIn = (text: string) => secrets.filter((secret) => text.includes(secret));
    for (const line of auth.logs.lines) {
      expect({ line, leaks: leaksIn(line) }).toEqual({ line, leaks: [] });
      expect(line).not.toMatch(/\$2[aby]\$/);
    }
    for (const body of auth.bodies) {
      // a token response carries its own new pair, and nothing else secret
      const allowed = tokenBodies.has(body) ? tokens.filter((token) => body.includes(token)).length : 0;
      expect(leaksIn(body).length).toBe(allowed);
      expect(body).not.toMatch(/\$2[aby]\$|passwordHash|tokenHash/);
    }
  });
});

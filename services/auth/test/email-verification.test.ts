import { waitFor } from '@herald/test-support';
import { startHarness, type AuthHarness } from './harness';

describe('email verification', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-verify', {
      env: {
        VERIFY_EMAIL_URL_BASE: 'https://herald.test/verify-email?token=',
        VERIFY_EMAIL_RESEND_INTERVAL_SECONDS: '60',
      },
    });
  });
  afterAll(() => auth.close());

  async function verificationEvents(userId: string, count = 1) {
    return waitFor(
      () => {
        const found = auth.events
          .ofType('user.verification_requested')
          .filter((event) => event.payload.userId === userId);
        return found.length >= count ? found : undefined;
      },
      { description: `${count} verification event(s) for ${userId}` },
    );
  }
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
  const verify = (token: string) => auth.request('POST', '/api/v1/auth/verify-email', { token });

  it('publishes the event with a working single-use link at registration', async () => {
    const user = await auth.signUp('new@example.com', undefined, { locale: 'de' });
    const [event] = await verificationEvents(user.id);
    expect(event!.payload).toEqual({
      userId: user.id,
      email: 'new@example.com',
      name: 'Test User',
      locale: 'de',
      verificationUrl: expect.stringMatching(/^https:\/\/herald\.test\/verify-email\?token=[\w-]{43}$/),
      expiresAt: expect.any(String),
    });
    const expiresInMs = Date.parse(event!.payload.expiresAt) - auth.clock.now().getTime();
    expect(expiresInMs).toBeGreaterThan(59 * 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(60 * 60_000);

    const token = tokenOf(event!.payload.verificationUrl);
    expect((await verify(token)).statusCode).toBe(204);
    expect(
      (await auth.request('GET', '/api/v1/auth/me', undefined, user.accessToken)).json().emailVerified,
    ).toBe(true);
    const updated = await waitFor(() =>
      auth.events.ofType('user.updated').find((message) => message.payload.userId === user.id),
    );
    expect(updated.payload).toMatchObject({ emailVerified: true, revision: 1 });

    const again = await verify(token);
    expect(again.json()).toMatchObject({ status: 409, code: 'verification_token_used' });
    // the next access token says so
    const refreshed = await auth.request('POST', '/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    const claims = JSON.parse(
      Buffer.from(refreshed.json().accessToken.split('.')[1], 'base64url').toString(),
    );
    expect(claims.email_verified).toBe(true);
  });

  it('refuses an expired token and an unknown one, with distinct codes', async () => {
    const user = await auth.signUp('late@example.com');
    const [event] = await verificationEvents(user.id);
    // VERIFY_EMAIL_TOKEN_TTL_SECONDS is an hour
    auth.clock.advance(60 * 60_000 + 1000);
    const expired = await verify(tokenOf(event!.payload.verificationUrl));
    expect(expired.json()).toMatchObject({ status: 400, code: 'verification_token_expired' });
    expect((await verify('made-up-token')).json()).toMatchObject({
      status: 400,
      code: 'verification_token_invalid',
    });
    expect((await auth.models.users.findById(user.id).lean())!.emailVerified).toBe(false);
  });

  it('resends with a new token, invalidates the old one, and rate-limits', async () => {
    const user = await auth.signUp('resend@example.com');
    const [first] = await verificationEvents(user.id);
    const tooSoon = await auth.request(
      'POST',
      '/api/v1/auth/verify-email/resend',
      undefined,
      user.accessToken,
    );
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().code).toBe('verification_resend_too_soon');
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(50);

    // a minute later
    auth.clock.advance(61_000);
    const resent = await auth.request(
      'POST',
      '/api/v1/auth/verify-email/resend',
      undefined,
      user.accessToken,
    );
    expect(resent.statusCode).toBe(202);
    const [, second] = await verificationEvents(user.id, 2);
    expect(second!.payload.verificationUrl).not.toBe(first!.payload.verificationUrl);

    expect((await verify(tokenOf(first!.payload.verificationUrl))).json().code).toBe(
      'verification_token_invalid',
    );
    expect((await verify(tokenOf(second!.payload.verificationUrl))).statusCode).toBe(204);
    const afterwards = await auth.request(
      'POST',
      '/api/v1/auth/verify-email/resend',
      undefined,
      user.accessToken,
    );
    expect(afterwards.json()).toMatchObject({ status: 409, code: 'email_already_verified' });
  });
});

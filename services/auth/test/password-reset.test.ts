import { waitFor } from '@herald/test-support';
import { startHarness, TEST_PASSWORD, type AuthHarness } from './harness';

describe('password reset', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-password-reset', {
      env: { PASSWORD_RESET_URL_BASE: 'https://herald.test/reset-password?token=' },
    });
  });
  afterAll(() => auth.close());

  let nextIp = 1;
  /** each test asks from its own address, so the per-address limit is its own */
  const freshIp = () => `198.51.100.${nextIp++}`;
  const ask = (email: string, ip: string, requestId?: string) =>
    auth.request('POST', '/api/v1/auth/password-reset', { email }, undefined, {
      'x-forwarded-for': ip,
      ...(requestId ? { 'x-request-id': requestId } : {}),
    });
  const confirm = (token: string, newPassword: string) =>
    auth.request('POST', '/api/v1/auth/password-reset/confirm', { token, newPassword });
  const resetEvents = (userId: string) =>
    auth.events.ofType('user.password_reset_requested').filter((event) => event.payload.userId === userId);
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
  const login = (email: string, password: string) =>
    auth.request('POST', '/api/v1/auth/login', { email, password });

  it('answers a known and an unknown address the same; only the known one gets a single-use link', async () => {
    const user = await auth.signUp('forgot@example.com', TEST_PASSWORD, { locale: 'de' });
    const ip = freshIp();
    const unknown = await ask('nobody-here@example.com', ip);
    const known = await ask(' Forgot@Example.com', ip, 'req-reset-forgot');
    expect(known.statusCode).toBe(202);
    expect({ status: unknown.statusCode, body: unknown.body }).toEqual({
      status: known.statusCode,
      body: known.body,
    });
    expect(known.json()).toEqual({ status: 'reset_requested' });

    const [event] = await waitFor(() => (resetEvents(user.id).length ? resetEvents(user.id) : undefined));
    expect(event!.payload).toEqual({
      userId: user.id,
      email: 'forgot@example.com',
      name: 'Test User',
      locale: 'de',
      resetUrl: expect.stringMatching(/^https:\/\/herald\.test\/reset-password\?token=[\w-]{43}$/),
      expiresAt: expect.any(String),
    });
    const record = (await auth.models.users.findById(user.id).lean())!.passwordReset!;
    expect(event!.payload.expiresAt).toBe(record.expiresAt.toISOString());
    expect(record.expiresAt.getTime() - record.requestedAt.getTime()).toBe(3_600_000);
    expect(event!.correlationId).toBe('req-reset-forgot');
    expect(auth.events.messages.filter((m) => JSON.stringify(m).includes('nobody-here'))).toEqual([]);
    // only the hash is stored
    const token = tokenOf(event!.payload.resetUrl);
    const stored = JSON.stringify(await auth.models.users.findById(user.id).lean());
    expect(stored).not.toContain(token);
  });

  it('sets the new password, ends every session, verifies the address, and works once', async () => {
    const user = await auth.signUp('reset-me@example.com');
    const otherDevice = (await login(user.email, user.password)).json();
    await ask(user.email, freshIp());
    const [event] = await waitFor(() => (resetEvents(user.id).length ? resetEvents(user.id) : undefined));
    const token = tokenOf(event!.payload.resetUrl);

    expect((await confirm(token, 'a completely new secret')).statusCode).toBe(204);
    expect((await login(user.email, user.password)).statusCode).toBe(401);
    expect((await login(user.email, 'a completely new secret')).statusCode).toBe(200);
    for (const refreshToken of [user.refreshToken, otherDevice.refreshToken]) {
      const refreshed = await auth.request('POST', '/api/v1/auth/refresh', { refreshToken });
      expect(refreshed.json()).toMatchObject({ status: 401, code: 'refresh_token_revoked' });
    }
    expect((await auth.models.users.findById(user.id).lean())!.emailVerified).toBe(true);

    const again = await confirm(token, 'yet another new secret');
    expect(again.statusCode).toBe(400);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json()).toMatchObject({ status: 400, code: 'password_reset_token_used' });
  });

  it('refuses an expired link, an unknown one and a password against the policy', async () => {
    const user = await auth.signUp('slow-reader@example.com');
    await ask(user.email, freshIp());
    const [event] = await waitFor(() => (resetEvents(user.id).length ? resetEvents(user.id) : undefined));
    const token = tokenOf(event!.payload.resetUrl);
    expect((await confirm(token, 'short')).json()).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await confirm('made-up-token', 'a completely new secret')).json()).toMatchObject({
      status: 400,
      code: 'password_reset_token_invalid',
    });
    auth.clock.advance(3_600_000 + 1000);
    expect((await confirm(token, 'a completely new secret')).json()).toMatchObject({
      status: 400,
      code: 'password_reset_token_expired',
    });
    expect((await login(user.email, user.password)).statusCode).toBe(200);
  });

  it('sends at most three links an hour per account, silently, and limits each address', async () => {
    const user = await auth.signUp('popular-reset@example.com');
    for (let i = 0; i < 5; i += 1) expect((await ask(user.email, freshIp())).statusCode).toBe(202);
    await waitFor(() => resetEvents(user.id).length === 3 || undefined);

    const ip = freshIp();
    for (let i = 0; i < 10; i += 1) expect((await ask(`someone${i}@example.com`, ip)).statusCode).toBe(202);
    const limited = await ask('someone-else@example.com', ip);
    expect(limited.json()).toMatchObject({ status: 429, code: 'too_many_password_resets' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('sends nothing for a disabled account', async () => {
    const user = await auth.signUp('disabled-reset@example.com');
    await auth.models.users.updateOne({ _id: user.id }, { $set: { disabled: true } });
    expect((await ask(user.email, freshIp())).statusCode).toBe(202);
    // a later request for another account proves the first was handled and published nothing
    const other = await auth.signUp('enabled-reset@example.com');
    await ask(other.email, freshIp());
    await waitFor(() => resetEvents(other.id).length === 1 || undefined);
    expect(resetEvents(user.id)).toEqual([]);
  });
});

import { waitFor } from '@herald/test-support';
import { startHarness, subjectOf, TEST_PASSWORD, type AuthHarness } from './harness';

describe('accounts', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-accounts');
  });
  afterAll(() => auth.close());

  it('registers, logs in and shows the user on /me, without secrets', async () => {
    const registered = await auth.request('POST', '/api/v1/auth/register', {
      email: '  Ada@Example.COM ',
      password: TEST_PASSWORD,
      name: 'Ada Lovelace',
      locale: 'en-GB',
    });
    expect(registered.statusCode).toBe(202);
    expect(registered.json()).toEqual({ status: 'verification_sent' });

    const login = await auth.request('POST', '/api/v1/auth/login', {
      email: 'ADA@example.com',
      password: TEST_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      tokenType: 'Bearer',
    });

    const me = await auth.request('GET', '/api/v1/auth/me', undefined, login.json().accessToken);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      id: subjectOf(login.json().accessToken),
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      locale: 'en-GB',
      role: 'user',
      emailVerified: false,
      phoneVerified: false,
      disabled: false,
      createdAt: expect.any(String),
    });
  });

  it('publishes user.registered with the full snapshot, correlated with the request', async () => {
    const registered = await auth.request(
      'POST',
      '/api/v1/auth/register',
      { email: 'grace@example.com', password: TEST_PASSWORD, name: 'Test User', locale: 'en' },
      undefined,
      { 'x-request-id': 'req-register-grace' },
    );
    expect(registered.statusCode).toBe(202);
    const id = (await auth.models.users.findOne({ email: 'grace@example.com' }).lean())!._id.toHexString();
    const [event] = await waitFor(() => {
      const found = auth.events.ofType('user.registered').filter((message) => message.payload.userId === id);
      return found.length ? found : undefined;
    });
    expect(event!.payload).toEqual({
      userId: id,
      email: 'grace@example.com',
      name: 'Test User',
      locale: 'en',
      role: 'user',
      emailVerified: false,
      phoneVerified: false,
      disabled: false,
      revision: 0,
    });
    expect(event!.correlationId).toBe('req-register-grace');
    const verification = await waitFor(() =>
      auth.events.ofType('user.verification_requested').find((message) => message.payload.userId === id),
    );
    expect(verification.correlationId).toBe('req-register-grace');
  });

  it('answers a taken address exactly as a new one, and tells its owner someone tried', async () => {
    const owner = await auth.signUp('taken@example.com', TEST_PASSWORD, { locale: 'fr' });
    const register = (email: string) =>
      auth.request(
        'POST',
        '/api/v1/auth/register',
        { email, password: 'another password', name: 'Someone else' },
        undefined,
        { 'x-request-id': `req-register-${email.trim().split('@')[0]!.toLowerCase()}` },
      );
    const fresh = await register('fresh@example.com');
    const taken = await register(' TAKEN@example.com');
    expect({ status: taken.statusCode, body: taken.body }).toEqual({
      status: fresh.statusCode,
      body: fresh.body,
    });
    expect(taken.statusCode).toBe(202);
    expect(taken.headers['content-type']).toBe(fresh.headers['content-type']);
    expect(await auth.models.users.countDocuments({ email: 'taken@example.com' })).toBe(1);
    // both paid for a bcrypt hash of the password they sent
    const hashed = auth.passwords.calls.filter(
      (call) => call.op === 'hash' && call.password === 'another password',
    );
    expect(hashed).toHaveLength(2);

    const attempt = await waitFor(() =>
      auth.events.ofType('user.registration_attempted').find((event) => event.payload.userId === owner.id),
    );
    expect(attempt.payload).toEqual({
      userId: owner.id,
      email: 'taken@example.com',
      name: 'Test User',
      locale: 'fr',
    });
    expect(attempt.correlationId).toBe('req-register-taken');
    // the stored account is untouched: no snapshot, no new verification email for it
    expect(auth.events.ofType('user.updated').filter((event) => event.payload.userId === owner.id)).toEqual(
      [],
    );
    expect(
      auth.events.ofType('user.verification_requested').filter((event) => event.payload.userId === owner.id),
    ).toHaveLength(1);
  });

  it('tells an owner about attempts at most three times a day', async () => {
    const owner = await auth.signUp('popular@example.com');
    for (let i = 0; i < 5; i += 1) {
      const again = await auth.request('POST', '/api/v1/auth/register', {
        email: 'popular@example.com',
        password: 'another password',
        name: 'Someone else',
      });
      expect(again.statusCode).toBe(202);
    }
    const notices = () =>
      auth.events.ofType('user.registration_attempted').filter((event) => event.payload.userId === owner.id);
    await waitFor(() => notices().length === 3 || undefined);
    auth.clock.advance(86_400_000 + 1000);
    await auth.request('POST', '/api/v1/auth/register', {
      email: 'popular@example.com',
      password: 'another password',
      name: 'Someone else',
    });
    await waitFor(() => notices().length === 4 || undefined);
  });

  it.each([
    ['too short', 'short', '/body/password'],
    ['over 72 bytes', 'é'.repeat(37), '/body/password'],
    ['the email itself', 'Policy@Example.com', '/body/password'],
  ])('refuses a password that is %s', async (_case, password, field) => {
    const response = await auth.request('POST', '/api/v1/auth/register', {
      email: 'policy@example.com',
      password,
      name: 'P',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ field })]);
  });

  it('validates every field with problem+json', async () => {
    const response = await auth.request('POST', '/api/v1/auth/register', {
      email: 'x@example.com',
      password: TEST_PASSWORD,
      name: '',
      phone: '0044 7700 900123',
      admin: true,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('validation_failed');
    const fields = response.json().errors.map((error: { field: string }) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['/body/name', '/body/phone', '/body/admin']));
  });

  it('refuses malformed and disposable addresses at registration', async () => {
    const bad = await auth.request('POST', '/api/v1/auth/register', {
      email: 'a@@b',
      password: TEST_PASSWORD,
      name: 'A',
    });
    expect(bad.json()).toMatchObject({ status: 400, code: 'email_syntax' });
    const disposable = await auth.request('POST', '/api/v1/auth/register', {
      email: 'someone@mailinator.com',
      password: TEST_PASSWORD,
      name: 'A',
    });
    expect(disposable.json()).toMatchObject({ status: 400, code: 'email_disposable' });
  });

  it('updates name and locale, and publishes the new snapshot', async () => {
    const user = await auth.signUp('profile@example.com', TEST_PASSWORD);
    const patched = await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { name: 'Renamed', locale: 'fr' },
      user.accessToken,
    );
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Renamed', locale: 'fr' });

    const updated = await waitFor(() =>
      auth.events.ofType('user.updated').find((message) => message.payload.userId === user.id),
    );
    expect(updated.payload).toMatchObject({ name: 'Renamed', locale: 'fr', revision: 1 });
    expect(updated.payload.phone).toBeUndefined();
  });

  it('changes the password only with the current one, and ends the other sessions', async () => {
    const user = await auth.signUp('rotate@example.com');
    const otherDevice = (
      await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
    ).json();

    const wrong = await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { currentPassword: 'not it at all', newPassword: 'a brand new secret' },
      user.accessToken,
    );
    expect(wrong.json()).toMatchObject({ status: 403, code: 'wrong_current_password' });
    const missing = await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { newPassword: 'a brand new secret' },
      user.accessToken,
    );
    expect(missing.statusCode).toBe(400);

    const changed = await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { currentPassword: user.password, newPassword: 'a brand new secret' },
      user.accessToken,
    );
    expect(changed.statusCode).toBe(200);

    const oldLogin = await auth.request('POST', '/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(oldLogin.statusCode).toBe(401);
    const newLogin = await auth.request('POST', '/api/v1/auth/login', {
      email: user.email,
      password: 'a brand new secret',
    });
    expect(newLogin.statusCode).toBe(200);
    // this session continues; the other device must log in again
    expect(
      (await auth.request('POST', '/api/v1/auth/refresh', { refreshToken: user.refreshToken })).statusCode,
    ).toBe(200);
    const other = await auth.request('POST', '/api/v1/auth/refresh', {
      refreshToken: otherDevice.refreshToken,
    });
    expect(other.json()).toMatchObject({ status: 401, code: 'refresh_token_revoked' });
  });

  it('answers 401 to /me without a token', async () => {
    const response = await auth.request('GET', '/api/v1/auth/me');
    expect(response.json()).toMatchObject({ status: 401, code: 'missing_token' });
  });

  it('limits registrations per client address', async () => {
    const limited = await startHarness('auth-accounts', {
      shareWith: auth,
      env: { REGISTER_MAX_PER_IP: '2' },
    });
    try {
      const register = (n: number, ip: string) =>
        limited.request(
          'POST',
          '/api/v1/auth/register',
          { email: `flood${n}@example.com`, password: TEST_PASSWORD, name: 'Flood' },
          undefined,
          { 'x-forwarded-for': ip },
        );
      expect((await register(1, '198.51.100.7')).statusCode).toBe(202);
      expect((await register(2, '198.51.100.7')).statusCode).toBe(202);
      const third = await register(3, '198.51.100.7');
      expect(third.json()).toMatchObject({ status: 429, code: 'too_many_registrations' });
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(3500);
      expect((await register(4, '198.51.100.8')).statusCode).toBe(202);
    } finally {
      await limited.app.close();
    }
  });

  it('throttles wrong current passwords like failed logins', async () => {
    const user = await auth.signUp('oracle@example.com');
    const attempt = (currentPassword: string) =>
      auth.request(
        'PATCH',
        '/api/v1/auth/me',
        { currentPassword, newPassword: 'a brand new secret' },
        user.accessToken,
      );
    for (let i = 0; i < 5; i += 1) expect((await attempt(`guess number ${i}`)).statusCode).toBe(403);
    const throttled = await attempt(user.password);
    expect(throttled.json()).toMatchObject({ status: 429, code: 'too_many_login_attempts' });
    const login = await auth.request('POST', '/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(login.statusCode).toBe(429);
  });

  it('accepts a password of exactly 72 bytes, and not one that merely starts with it', async () => {
    const longest = 'x'.repeat(72);
    const user = await auth.signUp('longest@example.com', longest);
    const login = (password: string) =>
      auth.request('POST', '/api/v1/auth/login', { email: user.email, password });
    expect((await login(longest)).statusCode).toBe(200);
    expect((await login(`${longest}y`)).statusCode).toBe(401);
  });
});

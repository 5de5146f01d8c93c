import { startHarness, TEST_PASSWORD, type AuthHarness } from './harness';

describe('login', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-login', {
      env: {
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
        LOGIN_MAX_FAILURES_PER_IP: '5',
        LOGIN_FAILURE_WINDOW_SECONDS: '600',
      },
    });
  });
  afterAll(() => auth.close());

  const login = (email: string, password: string, ip = '198.51.100.1') =>
    auth.request('POST', '/api/v1/auth/login', { email, password }, undefined, { 'x-forwarded-for': ip });

  it('answers a wrong password and an unknown email identically', async () => {
    await auth.signUp('known@example.com');
    const wrongPassword = await login('known@example.com', 'wrong password', '203.0.113.10');
    const unknownEmail = await login('nobody@example.com', 'wrong password', '203.0.113.11');
    const comparable = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownEmail.statusCode).toBe(401);
    expect(comparable(unknownEmail.json())).toEqual(comparable(wrongPassword.json()));
    expect(wrongPassword.json()).toMatchObject({ code: 'invalid_credentials' });
    expect(unknownEmail.headers['content-type']).toBe(wrongPassword.headers['content-type']);
  });

  it('slows down one address guessing one account, not the account: the owner elsewhere logs in', async () => {
    await auth.signUp('target@example.com');
    for (let i = 0; i < 3; i += 1) {
      expect((await login('target@example.com', 'guess', '192.0.2.1')).statusCode).toBe(401);
    }
    const throttled = await login('target@example.com', TEST_PASSWORD, '192.0.2.1');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json().code).toBe('too_many_login_attempts');
    expect(throttled.headers['retry-after']).toBe('1');
    expect((await login('target@example.com', TEST_PASSWORD, '192.0.2.4')).statusCode).toBe(200);
  });

  it('throttles an IP spraying many accounts, across two instances', async () => {
    const second = await startHarness('auth-login', {
      shareWith: auth,
      env: {
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
        LOGIN_MAX_FAILURES_PER_IP: '5',
        LOGIN_FAILURE_WINDOW_SECONDS: '600',
      },
    });
    try {
      await auth.signUp('sprayed@example.com');
      const instances = [auth, second];
      for (let i = 0; i < 5; i += 1) {
        const response = await instances[i % 2]!.request(
          'POST',
          '/api/v1/auth/login',
          { email: `victim${i}@example.com`, password: 'guess' },
          undefined,
          // a client's own X-Forwarded-For entries do not hide its address
          { 'x-forwarded-for': `10.${i}.0.1, 198.18.0.${i}, 203.0.113.99` },
        );
        expect(response.statusCode).toBe(401);
      }
      for (const instance of instances) {
        const blocked = await instance.request(
          'POST',
          '/api/v1/auth/login',
          { email: 'sprayed@example.com', password: TEST_PASSWORD },
          undefined,
          { 'x-forwarded-for': '203.0.113.99' },
        );
        expect(blocked.statusCode).toBe(429);
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      }
      // the same account from another address is fine
      expect((await login('sprayed@example.com', TEST_PASSWORD, '203.0.113.100')).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('resets the account counter after a successful login', async () => {
    await auth.signUp('forgetful@example.com');
    await login('forgetful@example.com', 'guess', '192.0.2.40');
    await login('forgetful@example.com', 'guess', '192.0.2.40');
    expect((await login('forgetful@example.com', TEST_PASSWORD, '192.0.2.40')).statusCode).toBe(200);
    await login('forgetful@example.com', 'guess', '192.0.2.40');
    await login('forgetful@example.com', 'guess', '192.0.2.40');
    expect((await login('forgetful@example.com', TEST_PASSWORD, '192.0.2.40')).statusCode).toBe(200);
  });

  it('counts login outcomes for /metrics', async () => {
    const metrics = (await auth.request('GET', '/metrics')).body;
    const count = (outcome: string) =>
      Number(
        new RegExp(`auth_logins_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
      );
    expect(count('success')).toBeGreaterThan(5);
    expect(count('invalid_credentials')).toBeGreaterThan(10);
    // the account+address test, and the spray on this instance (the other has its own registry)
    expect(count('throttled')).toBe(2);
    expect(metrics).toMatch(/auth_outbox_pending_users\{[^}]*\} \d+/);
    expect(metrics).toMatch(/auth_outbox_pending_documents\{[^}]*collection="subscribers"[^}]*\} \d+/);
  });

  it('holds against a burst of parallel guesses: every guess is counted before it is checked', async () => {
    await auth.signUp('burst@example.com');
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login('burst@example.com', `parallel guess ${i}`, '192.0.2.100')),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
  });
});

describe('login for an unknown email', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-login-unknown', { env: { BCRYPT_COST: '6' } });
  });
  afterAll(() => auth.close());

  const compares = () => auth.passwords.calls.filter((call) => call.op === 'matches');
  const costOf = (hash: string) => /^\$2[aby]\$(\d\d)\$/.exec(hash)?.[1];

  it('still runs one bcrypt compare at full cost, as a wrong password does, so its timing tells nothing', async () => {
    await auth.signUp('member@example.com');
    const stored = (await auth.models.users.findOne({ email: 'member@example.com' }).lean())!;

    const before = compares().length;
    const wrongPassword = await auth.request('POST', '/api/v1/auth/login', {
      email: 'member@example.com',
      password: 'wrong password',
    });
    const [againstUser] = compares().slice(before);
    expect(wrongPassword.statusCode).toBe(401);
    expect(compares()).toHaveLength(before + 1);
    expect(againstUser).toMatchObject({ password: 'wrong password', hash: stored.passwordHash });

    const unknownEmail = await auth.request('POST', '/api/v1/auth/login', {
      email: 'stranger@example.com',
      password: 'some password',
    });
    const [againstDummy] = compares().slice(before + 1);
    expect(unknownEmail.statusCode).toBe(401);
    expect(compares()).toHaveLength(before + 2);
    expect(againstDummy).toMatchObject({ op: 'matches', password: 'some password', result: false });
    if (againstDummy?.op !== 'matches') throw new Error('no compare for the unknown email');
    // the dummy hash: made by the service at start, at the configured cost, and nobody's password
    expect(auth.passwords.calls.some((call) => call.op === 'hash' && call.result === againstDummy.hash)).toBe(
      true,
    );
    expect(costOf(againstDummy.hash)).toBe('06');
    expect(costOf(againstDummy.hash)).toBe(costOf(stored.passwordHash));
    expect(await auth.models.users.countDocuments({ passwordHash: againstDummy.hash })).toBe(0);
  });
});

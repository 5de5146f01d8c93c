import { startHarness, TEST_PASSWORD, type AuthHarness } from './harness';

describe('login: growing delays per account and client address', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-login-backoff', {
      env: {
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '5',
        // this suite is about one account from one address, not about one address spraying
        LOGIN_MAX_FAILURES_PER_IP: '1000',
        LOGIN_FAILURE_WINDOW_SECONDS: '900',
      },
    });
  });
  afterAll(() => auth.close());

  const login = (email: string, password: string, ip: string) =>
    auth.request('POST', '/api/v1/auth/login', { email, password }, undefined, { 'x-forwarded-for': ip });
  const ATTACKER = '203.0.113.66';
  const OWNER = '198.51.100.23';

  it("slows the guessing address down, 1 s, 2 s, 4 s … up to 15 min, while the owner's own address logs in", async () => {
    const user = await auth.signUp('guarded@example.com');
    for (let i = 0; i < 5; i += 1)
      expect((await login(user.email, `guess ${i}`, ATTACKER)).statusCode).toBe(401);

    const delays: number[] = [];
    for (let step = 0; step < 12; step += 1) {
      // even the right password is refused while the address waits
      const refused = await login(user.email, TEST_PASSWORD, ATTACKER);
      expect(refused.json()).toMatchObject({ status: 429, code: 'too_many_login_attempts' });
      const retryAfter = Number(refused.headers['retry-after']);
      delays.push(retryAfter);
      // the owner, elsewhere, is not held up at any point
      expect((await login(user.email, TEST_PASSWORD, OWNER)).statusCode).toBe(200);
      auth.clock.advance(retryAfter * 1000);
      expect((await login(user.email, `guess after ${retryAfter}s`, ATTACKER)).statusCode).toBe(401);
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  });

  it('forgets the address once the right password comes from it', async () => {
    const user = await auth.signUp('forgetful-owner@example.com');
    for (let i = 0; i < 5; i += 1) await login(user.email, `guess ${i}`, OWNER);
    expect((await login(user.email, TEST_PASSWORD, OWNER)).statusCode).toBe(429);
    auth.clock.advance(1000);
    expect((await login(user.email, TEST_PASSWORD, OWNER)).statusCode).toBe(200);
    for (let i = 0; i < 4; i += 1)
      expect((await login(user.email, `again ${i}`, OWNER)).statusCode).toBe(401);
  });

  it('forgets a quiet account and address after the window', async () => {
    const user = await auth.signUp('quiet@example.com');
    for (let i = 0; i < 5; i += 1) await login(user.email, `guess ${i}`, ATTACKER);
    auth.clock.advance(901_000);
    for (let i = 0; i < 5; i += 1)
      expect((await login(user.email, `later ${i}`, ATTACKER)).statusCode).toBe(401);
    expect((await login(user.email, TEST_PASSWORD, ATTACKER)).statusCode).toBe(429);
  });
});

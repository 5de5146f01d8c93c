import { startHarness, type AuthHarness } from './harness';

/**
 * A refresh that is in flight while the session is revoked must not leave a
 * working token behind: every claim checks the session after the new token
 * is written. Raced many times, because the window is a few awaits wide.
 */
describe('a refresh racing a revocation', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-session-race');
  });
  afterAll(() => auth.close());

  const refresh = (refreshToken: string) => auth.request('POST', '/api/v1/auth/refresh', { refreshToken });
  const ITERATIONS = 30;
  /**
   * Starts `second` after `ticks` turns of the event loop, so that over the
   * iterations it lands at every point of the first request's awaits.
   */
  async function staggered<A, B>(first: () => Promise<A>, ticks: number, second: () => Promise<B>) {
    const started = first();
    for (let tick = 0; tick < ticks; tick += 1) await new Promise((resolve) => setImmediate(resolve));
    return Promise.all([started, second()]);
  }

  it('never survives logout-all', async () => {
    const user = await auth.signUp('race-logout-all@example.com');
    let session = { accessToken: user.accessToken, refreshToken: user.refreshToken };
    for (let i = 0; i < ITERATIONS; i += 1) {
      const [rotated, loggedOut] = await staggered(
        () => refresh(session.refreshToken),
        i % 15,
        () => auth.request('POST', '/api/v1/auth/logout-all', undefined, session.accessToken),
      );
      expect(loggedOut.statusCode).toBe(204);
      if (rotated.statusCode === 200) {
        const survivor = await refresh(rotated.json().refreshToken);
        expect({ iteration: i, status: survivor.statusCode, code: survivor.json().code }).toEqual({
          iteration: i,
          status: 401,
          code: 'refresh_token_revoked',
        });
      } else {
        expect(rotated.json().code).toBe('refresh_token_revoked');
      }
      const login = await auth.request('POST', '/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      session = login.json();
    }
  });

  it('never survives a password change from another session', async () => {
    const user = await auth.signUp('race-password@example.com');
    let password = user.password;
    for (let i = 0; i < ITERATIONS; i += 1) {
      const other = (
        await auth.request('POST', '/api/v1/auth/login', { email: user.email, password })
      ).json();
      const newPassword = `new password number ${i}`;
      // the change hashes with bcrypt before it revokes: the refresh starts later and later into it
      const [changed, rotated] = await staggered(
        () =>
          auth.request(
            'PATCH',
            '/api/v1/auth/me',
            { currentPassword: password, newPassword },
            user.accessToken,
          ),
        i * 2,
        () => refresh(other.refreshToken),
      );
      expect(changed.statusCode).toBe(200);
      password = newPassword;
      if (rotated.statusCode === 200) {
        const survivor = await refresh(rotated.json().refreshToken);
        expect({ iteration: i, status: survivor.statusCode }).toEqual({ iteration: i, status: 401 });
      }
    }
  });

  it('never survives reuse detection', async () => {
    const user = await auth.signUp('race-reuse@example.com');
    for (let i = 0; i < ITERATIONS; i += 1) {
      const session = (
        await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
      ).json();
      const first = await refresh(session.refreshToken);
      const next = first.json().refreshToken as string;
      // the thief replays the used token while the holder refreshes the current one
      const [rotated, replay] = await staggered(
        () => refresh(next),
        i % 15,
        () => refresh(session.refreshToken),
      );
      expect(replay.json().code).toBe('refresh_token_reused');
      if (rotated.statusCode === 200) {
        const survivor = await refresh(rotated.json().refreshToken);
        expect({ iteration: i, status: survivor.statusCode }).toEqual({ iteration: i, status: 401 });
      }
    }
  });
});

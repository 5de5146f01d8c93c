import jwt from 'jsonwebtoken';
import { startHarness, type AuthHarness } from './harness';

describe('sessions: refresh rotation, reuse detection, logout, roles and disabling', () => {
  let auth: AuthHarness;
  let admin: { accessToken: string; id: string };

  beforeAll(async () => {
    auth = await startHarness('auth-sessions', {
      env: { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'admin password 1' },
    });
    const login = await auth.request('POST', '/api/v1/auth/login', {
      email: 'root@example.com',
      password: 'admin password 1',
    });
    admin = {
      accessToken: login.json().accessToken,
      id: jwt.decode(login.json().accessToken)!.sub as string,
    };
  });
  afterAll(() => auth.close());

  const refresh = (refreshToken: string) => auth.request('POST', '/api/v1/auth/refresh', { refreshToken });

  it('rotates: each refresh token works once and yields a new pair', async () => {
    const user = await auth.signUp('rotate@example.com');
    const first = await refresh(user.refreshToken);
    expect(first.statusCode).toBe(200);
    const pair = first.json();
    expect(pair.refreshToken).not.toBe(user.refreshToken);
    expect(jwt.decode(pair.accessToken)).toMatchObject({ sub: user.id });
    expect((await refresh(pair.refreshToken)).statusCode).toBe(200);
  });

  it('revokes the whole family when a used refresh token comes back', async () => {
    const user = await auth.signUp('stolen@example.com');
    const rotated = (await refresh(user.refreshToken)).json();

    const replay = await refresh(user.refreshToken);
    expect(replay.json()).toMatchObject({ status: 401, code: 'refresh_token_reused' });
    // the legitimate holder's newer token died with the family
    const legitimate = await refresh(rotated.refreshToken);
    expect(legitimate.json()).toMatchObject({ status: 401, code: 'refresh_token_revoked' });
    // another login (another family) is untouched
    const elsewhere = (
      await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
    ).json();
    expect((await refresh(elsewhere.refreshToken)).statusCode).toBe(200);
    expect((await auth.request('GET', '/metrics')).body).toMatch(
      /auth_refresh_token_reuse_total\{[^}]*\} 1\b/,
    );
  });

  it('refuses unknown and expired refresh tokens', async () => {
    expect((await refresh('not-a-token')).json()).toMatchObject({
      status: 401,
      code: 'invalid_refresh_token',
    });
    const user = await auth.signUp('old-session@example.com');
    const fresh = await auth.signUp('new-session@example.com');
    // REFRESH_TOKEN_TTL_SECONDS is 30 days; the other user logs in again a day before the end
    auth.clock.advance(29 * 86_400_000);
    const relogin = (
      await auth.request('POST', '/api/v1/auth/login', { email: fresh.email, password: fresh.password })
    ).json();
    auth.clock.advance(86_400_000 + 1000);
    try {
      expect((await refresh(user.refreshToken)).json()).toMatchObject({
        status: 401,
        code: 'refresh_token_expired',
      });
      expect((await refresh(relogin.refreshToken)).statusCode).toBe(200);
    } finally {
      auth.clock.advance(-(30 * 86_400_000 + 1000));
    }
  });

  it('logout ends one session, logout-all every session', async () => {
    const user = await auth.signUp('leaving@example.com');
    const second = (
      await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
    ).json();
    const third = (
      await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
    ).json();

    expect(
      (await auth.request('POST', '/api/v1/auth/logout', { refreshToken: user.refreshToken })).statusCode,
    ).toBe(204);
    expect((await refresh(user.refreshToken)).json().code).toBe('refresh_token_revoked');
    const secondRotated = await refresh(second.refreshToken);
    expect(secondRotated.statusCode).toBe(200);

    expect(
      (await auth.request('POST', '/api/v1/auth/logout-all', undefined, third.accessToken)).statusCode,
    ).toBe(204);
    expect((await refresh(secondRotated.json().refreshToken)).json().code).toBe('refresh_token_revoked');
    expect((await refresh(third.refreshToken)).json().code).toBe('refresh_token_revoked');
  });

  it('puts a role change into the next token', async () => {
    const user = await auth.signUp('promoted@example.com');
    expect((await auth.request('GET', '/api/v1/users', undefined, user.accessToken)).statusCode).toBe(403);

    const patched = await auth.request(
      'PATCH',
      `/api/v1/users/${user.id}`,
      { role: 'admin' },
      admin.accessToken,
    );
    expect(patched.json()).toMatchObject({ id: user.id, role: 'admin' });

    const next = (await refresh(user.refreshToken)).json();
    expect(jwt.decode(next.accessToken)).toMatchObject({ sub: user.id, role: 'admin' });
    expect((await auth.request('GET', '/api/v1/users', undefined, next.accessToken)).statusCode).toBe(200);
  });

  it('locks a disabled user out of login, refresh and /me', async () => {
    const user = await auth.signUp('disabled@example.com');
    const patched = await auth.request(
      'PATCH',
      `/api/v1/users/${user.id}`,
      { disabled: true },
      admin.accessToken,
    );
    expect(patched.json()).toMatchObject({ disabled: true });

    const login = await auth.request('POST', '/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(login.json()).toMatchObject({ status: 403, code: 'account_disabled' });
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
    expect((await auth.request('GET', '/api/v1/auth/me', undefined, user.accessToken)).json()).toMatchObject({
      status: 403,
      code: 'account_disabled',
    });

    await auth.request('PATCH', `/api/v1/users/${user.id}`, { disabled: false }, admin.accessToken);
    expect(
      (await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password }))
        .statusCode,
    ).toBe(200);
  });
});

import { waitFor } from '@herald/test-support';
import { startHarness, type AuthHarness } from './harness';

const ADMIN = { ADMIN_EMAIL: 'Boss@Example.com', ADMIN_PASSWORD: 'admin password 1' };

describe('user administration', () => {
  let auth: AuthHarness;
  let adminToken: string;

  beforeAll(async () => {
    auth = await startHarness('auth-admin', { env: ADMIN });
    const login = await auth.request('POST', '/api/v1/auth/login', {
      email: 'boss@example.com',
      password: ADMIN.ADMIN_PASSWORD,
    });
    adminToken = login.json().accessToken;
    for (const name of ['alice', 'albert', 'bob', 'carol', 'alfred']) {
      await auth.signUp(`${name}@example.com`);
    }
  });
  afterAll(() => auth.close());

  const list = (query: string, token = adminToken) =>
    auth.request('GET', `/api/v1/users${query}`, undefined, token);

  it('creates the first admin at start, once, however often the service starts', async () => {
    const again = await startHarness('auth-admin', { shareWith: auth, env: ADMIN });
    await again.app.close();
    const admins = await auth.models.users.find({ email: 'boss@example.com' }).lean();
    expect(admins).toHaveLength(1);
    expect(admins[0]).toMatchObject({ role: 'admin', emailVerified: true, disabled: false });
    const registered = await waitFor(() =>
      auth.events.ofType('user.registered').find((event) => event.payload.email === 'boss@example.com'),
    );
    expect(registered.payload.role).toBe('admin');
  });

  it('pages through users with a cursor', async () => {
    const first = await list('?limit=4');
    expect(first.statusCode).toBe(200);
    expect(first.json().items).toHaveLength(4);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    const second = await list(`?limit=4&cursor=${first.json().nextCursor}`);
    expect(second.json().items).toHaveLength(2);
    expect(second.json().nextCursor).toBeNull();
    const emails = [...first.json().items, ...second.json().items].map(
      (user: { email: string }) => user.email,
    );
    expect(new Set(emails).size).toBe(6);
    for (const user of [...first.json().items, ...second.json().items]) {
      expect(Object.keys(user).sort()).toEqual([
        'createdAt',
        'disabled',
        'email',
        'emailVerified',
        'id',
        'name',
        'phoneVerified',
        'role',
      ]);
    }
  });

  it('filters by role and by email prefix', async () => {
    const admins = await list('?role=admin');
    expect(admins.json().items.map((user: { email: string }) => user.email)).toEqual(['boss@example.com']);
    const al = await list('?emailPrefix=AL');
    expect(al.json().items.map((user: { email: string }) => user.email)).toEqual([
      'alice@example.com',
      'albert@example.com',
      'alfred@example.com',
    ]);
    // a prefix is text, never a pattern
    expect((await list('?emailPrefix=.*')).json().items).toEqual([]);
  });

  it('rejects a bad cursor and bad filters with problem+json', async () => {
    expect((await list('?cursor=nonsense')).json()).toMatchObject({ status: 400 });
    expect((await list('?role=root')).json()).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await list('?limit=1000')).json()).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('is for admins only', async () => {
    const user = await auth.signUp('curious@example.com');
    expect((await list('', user.accessToken)).json()).toMatchObject({ status: 403, code: 'forbidden' });
    const patch = await auth.request(
      'PATCH',
      `/api/v1/users/${user.id}`,
      { role: 'admin' },
      user.accessToken,
    );
    expect(patch.statusCode).toBe(403);
    expect((await auth.request('GET', '/api/v1/users')).statusCode).toBe(401);
  });

  it('publishes user.updated for a role change and a disable, and 404s an unknown user', async () => {
    const user = await auth.signUp('managed@example.com');
    await auth.request('PATCH', `/api/v1/users/${user.id}`, { role: 'admin', disabled: true }, adminToken);
    const updated = await waitFor(() =>
      auth.events.ofType('user.updated').find((event) => event.payload.userId === user.id),
    );
    expect(updated.payload).toMatchObject({ role: 'admin', disabled: true, revision: 1 });

    const missing = await auth.request(
      'PATCH',
      '/api/v1/users/0123456789abcdef01234567',
      { role: 'user' },
      adminToken,
    );
    expect(missing.json()).toMatchObject({ status: 404, code: 'user_not_found' });
    const empty = await auth.request('PATCH', `/api/v1/users/${user.id}`, {}, adminToken);
    expect(empty.statusCode).toBe(400);
  });

  it('does not let an admin demote or disable themselves', async () => {
    const me = (await auth.request('GET', '/api/v1/auth/me', undefined, adminToken)).json();
    const demote = await auth.request('PATCH', `/api/v1/users/${me.id}`, { role: 'user' }, adminToken);
    expect(demote.json()).toMatchObject({ status: 409, code: 'cannot_demote_self' });
  });
});

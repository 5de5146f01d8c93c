import { startHarness, TEST_PASSWORD } from './harness';

const ADMIN = { ADMIN_EMAIL: 'first-admin@example.com', ADMIN_PASSWORD: 'admin password 1' };

describe('start-up on a fresh database', () => {
  // Collections and indexes are prepared, awaited, before the admin bootstrap writes: a write racing
  // mongoose's background index build on a new database used to make mongo-java-server refuse one.
  it('builds, bootstraps the admin and serves, 15 times in a row', async () => {
    for (let run = 1; run <= 15; run += 1) {
      const auth = await startHarness(`auth-start-up-${run}`, { env: ADMIN });
      try {
        await auth.app.ready();
        const admin = await auth.request('POST', '/api/v1/auth/login', {
          email: ADMIN.ADMIN_EMAIL,
          password: ADMIN.ADMIN_PASSWORD,
        });
        expect({ run, status: admin.statusCode }).toEqual({ run, status: 200 });
        const body = { email: `user${run}@example.com`, password: TEST_PASSWORD, name: 'Fresh' };
        expect((await auth.request('POST', '/api/v1/auth/register', body)).statusCode).toBe(202);
        // the unique email index was there before the first write: the second registration made no account
        expect((await auth.request('POST', '/api/v1/auth/register', body)).statusCode).toBe(202);
        expect(await auth.models.users.countDocuments({ email: body.email })).toBe(1);
      } finally {
        await auth.close();
      }
    }
  }, 180_000);
});

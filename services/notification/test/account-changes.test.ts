import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage, type UserSnapshot } from '@herald/contracts';
import { createTestAmqp, testLogger, waitFor } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { startHarness, type Harness } from './harness';

const TTL_MS = 2_000;

describe('role and disabled changes reach every request within seconds', () => {
  let clock = new Date();
  const now = () => clock;
  let h: Harness;
  // A second instance on the same database. Its events queue is in another namespace, so it
  // never gets auth's events: it stands for the instances that did not handle the update.
  let other: NotificationApp;
  let otherBroker: Awaited<ReturnType<typeof createTestAmqp>>;

  beforeAll(async () => {
    h = await startHarness('notif-account', { now, settings: { userCacheTtlMs: TTL_MS } });
    otherBroker = await createTestAmqp('notif-account-2');
    other = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: otherBroker.client,
      verifier: h.issuer.verifier(),
      settings: { userCacheTtlMs: TTL_MS },
      now,
    });
    await other.ready();
  });
  afterAll(async () => {
    await other.close();
    await otherBroker.cleanup();
    await h.close();
  });

  /** Auth's `user.updated`, on the broker, newer than the registration. */
  async function authUpdates(user: UserSnapshot, change: Partial<UserSnapshot>) {
    await h.publishEvent(
      'user.updated',
      createMessage(
        MessageTypes.userUpdated,
        { ...user, ...change },
        {
          correlationId: 'auth',
          occurredAt: new Date(Date.now() + 1_000),
        },
      ),
    );
  }

  const inbox = (app: NotificationApp, token: string) =>
    app.inject({
      method: 'GET',
      url: '/api/v1/notifications',
      headers: { authorization: `Bearer ${token}` },
    });
  const adminList = (token: string) => h.request('GET', '/api/v1/admin/suppressions', { token });

  it('refuses a disabled user at once here, and on other instances once their cache entry expires', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    expect((await inbox(h.app, token)).statusCode).toBe(200);
    expect((await inbox(other, token)).statusCode).toBe(200);

    await authUpdates(user, { disabled: true });
    // The instance that handled the event dropped its cached copy: no clock moved.
    const refused = await waitFor(
      async () => {
        const reply = await inbox(h.app, token);
        return reply.statusCode === 401 ? reply : undefined;
      },
      { description: 'the disabled user refused' },
    );
    expect(refused.json()).toMatchObject({ status: 401, code: 'account_disabled' });

    // The other instance still trusts its copy for the rest of the TTL, and not a moment longer.
    expect((await inbox(other, token)).statusCode).toBe(200);
    clock = new Date(clock.getTime() + TTL_MS);
    const elsewhere = await inbox(other, token);
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.json().code).toBe('account_disabled');
  });

  it('takes admin routes from a demoted admin whose token still says admin', async () => {
    const user = await h.registerUser({ role: 'admin' });
    const token = h.token(user.userId, 'admin');
    expect((await adminList(token)).statusCode).toBe(200);

    await authUpdates(user, { role: 'user' });
    const refused = await waitFor(
      async () => {
        const reply = await adminList(token);
        return reply.statusCode === 403 ? reply : undefined;
      },
      { description: 'the demoted admin refused' },
    );
    expect(refused.json().code).toBe('forbidden');
    // …and sends as a user: only to themself.
    const send = await h.request('POST', '/api/v1/notifications', {
      token,
      body: { title: 'Hi', body: 'There', recipient: { userId: randomUUID() }, channels: ['in_app'] },
    });
    expect(send.statusCode).toBe(403);
  });

  it('gives admin routes to a promoted user without a new token (the read model is the authority)', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    expect((await adminList(token)).statusCode).toBe(403);

    await authUpdates(user, { role: 'admin' });
    await waitFor(async () => (await adminList(token)).statusCode === 200, {
      description: 'the promoted user let in',
    });
  });

  it('goes by the token while the read model has not heard of the user yet', async () => {
    expect((await inbox(h.app, h.token(randomUUID()))).statusCode).toBe(200);
    expect((await adminList(h.token(randomUUID(), 'admin'))).statusCode).toBe(200);
  });

  it('reads no user again for a user notifying themself, and sees their change at once here', async () => {
    const user = await h.registerUser({ name: 'Grace Hopper' });
    const token = h.token(user.userId);
    const notifyMyself = async () => {
      const reply = await h.request('POST', '/api/v1/notifications', {
        token,
        body: { title: 'Note', body: 'To self', recipient: { userId: user.userId }, channels: ['in_app'] },
      });
      expect(reply.statusCode).toBe(202);
      return (await h.models.notifications.findById(reply.json().id).lean())!;
    };
    const finds = jest.spyOn(h.models.users.collection, 'find');
    try {
      // The first request's account check reads the user; its recipient is that same read, and
      // the next requests (the clock stands still: within the cache's TTL) read nothing.
      expect((await notifyMyself()).recipient).toMatchObject({ name: 'Grace Hopper', email: user.email });
      await notifyMyself();
      await notifyMyself();
      expect(finds).toHaveBeenCalledTimes(1);
    } finally {
      finds.mockRestore();
    }

    // A change this instance handled applies to the very next notification.
    await authUpdates(user, { name: 'Rear Admiral Hopper' });
    await waitFor(async () => (await notifyMyself()).recipient.name === 'Rear Admiral Hopper', {
      description: 'the new name on the next notification',
    });
  });
});

import { testLogger, waitFor } from '@herald/test-support';
import { buildApp } from '../src/app';
import { startHarness, type Harness, type Json } from './harness';

describe('scheduled notifications (sendAt)', () => {
  let h: Harness;
  // A clock of the test's own, so no real time passing under load can make a job due early.
  let clock = Date.now();
  const now = () => new Date(clock);
  beforeAll(async () => {
    h = await startHarness('notif-schedule', { now });
  });
  afterAll(() => h.close());

  it('publishes the jobs and shows the in-app notification at its time, not before', async () => {
    const user = await h.registerUser();
    const created = await h.tapCreated();
    const sendAt = new Date(now().getTime() + 3_600_000);
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(user.userId),
      body: {
        title: 'Reminder',
        body: 'Meeting in 5 minutes',
        recipient: { userId: user.userId },
        channels: ['in_app', 'email'],
        sendAt: sendAt.toISOString(),
      },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      statuses: { in_app: 'queued', email: 'queued' },
      sendAt: sendAt.toISOString(),
    });
    const id = response.json().id as string;

    // Relay passes before the time publish nothing, and the inbox does not show it yet.
    await h.app.relay.runOnce();
    await h.app.relay.runOnce();
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);
    expect(await h.drainCreated(created)).toEqual([]);
    const inboxBefore = await h.request('GET', '/api/v1/notifications', { token: h.token(user.userId) });
    expect(inboxBefore.json().items).toEqual([]);
    const countBefore = await h.request('GET', '/api/v1/notifications/unread-count', {
      token: h.token(user.userId),
    });
    expect(countBefore.json().unreadCount).toBe(0);

    clock += 3_600_000 - 1;
    await h.app.relay.runOnce();
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);

    clock += 1;
    const job = await waitFor(async () => (await h.drain(h.names.queues.work.email))[0], {
      description: 'the job, once due',
    });
    expect(job.payload.notificationId).toBe(id);
    const event = await waitFor(async () => (await h.drainCreated(created))[0]);
    expect(event.notification.id).toBe(id);

    const detail: Json = await waitFor(async () => {
      const found = (
        await h.request('GET', `/api/v1/notifications/${id}`, { token: h.token(user.userId) })
      ).json();
      return found.deliveries.in_app.status === 'delivered' ? found : undefined;
    });
    expect(detail.history.map((entry: Json) => [entry.channel, entry.status, entry.source])).toEqual([
      ['in_app', 'queued', 'api'],
      ['email', 'queued', 'api'],
      ['in_app', 'delivered', 'outbox'],
    ]);
    const inboxAfter = await h.request('GET', '/api/v1/notifications', { token: h.token(user.userId) });
    expect(inboxAfter.json().items.map((item: Json) => item.id)).toEqual([id]);

    await h.app.relay.runOnce();
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);
  });

  it('gives a catch-up since the newest createdAt the scheduled notification that came due after it', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    const post = async (title: string, sendAt?: Date) => {
      const response = await h.request('POST', '/api/v1/notifications', {
        token,
        body: {
          title,
          body: 'Hi',
          recipient: { userId: user.userId },
          channels: ['in_app'],
          ...(sendAt ? { sendAt: sendAt.toISOString() } : {}),
        },
      });
      expect(response.statusCode).toBe(202);
      return response.json().id as string;
    };
    const sinceIds = async (since: string) =>
      (await h.request('GET', `/api/v1/notifications?since=${encodeURIComponent(since)}`, { token }))
        .json()
        .items.map((item: Json) => item.id);

    const scheduled = await post('Tomorrow', new Date(clock + 60_000));
    clock += 1_000;
    const seen = await post('Now');
    const newestSeen = (await h.request('GET', `/api/v1/notifications/${seen}`, { token })).json()
      .createdAt as string;
    // not due yet: nothing after what the client has
    expect(await sinceIds(newestSeen)).toEqual([]);

    clock += 60_000;
    await h.app.relay.runOnce();
    // created before `since`, but in the inbox only since it came due
    expect(await sinceIds(newestSeen)).toEqual([scheduled]);
    expect(new Date(newestSeen).getTime()).toBeGreaterThan(
      new Date(
        (await h.request('GET', `/api/v1/notifications/${scheduled}`, { token })).json().createdAt,
      ).getTime(),
    );
  });

  it('publishes each due job exactly once with several instances relaying at the same time', async () => {
    const other = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: h.broker.client,
      verifier: h.issuer.verifier(),
      settings: { relayIntervalMs: 50, outboxBatchSize: 3 },
      now,
    });
    await other.ready();
    try {
      const sendAt = new Date(clock + 60_000).toISOString();
      const ids = await Promise.all(
        Array.from({ length: 20 }, async (_, index) => {
          const response = await h.request('POST', '/api/v1/notifications', {
            token: h.token('root', 'admin'),
            body: {
              title: `Batch ${index}`,
              body: 'Hi',
              recipient: { email: `r${index}@example.com` },
              channels: ['email'],
              sendAt,
            },
          });
          return response.json().id as string;
        }),
      );
      clock += 60_000;
      await Promise.all([
        h.app.relay.runOnce(),
        other.relay.runOnce(),
        h.app.relay.runOnce(),
        other.relay.runOnce(),
      ]);
      await waitFor(async () => (await h.messageCount(h.names.queues.work.email)) >= 20, {
        description: 'every outbox published',
      });
      await waitFor(async () => (await Promise.all(ids.map((id) => h.confirmed(id)))).every(Boolean), {
        description: 'every confirmation logged',
      });
      // more passes on both instances publish nothing again
      await Promise.all([h.app.relay.runOnce(), other.relay.runOnce()]);
      await h.app.relay.runOnce();
      await other.relay.runOnce();
      const jobs = await h.drain(h.names.queues.work.email);
      expect(jobs).toHaveLength(20);
      expect(new Set(jobs.map((job) => job.payload.notificationId))).toEqual(new Set(ids));
    } finally {
      await other.close();
    }
  });
});

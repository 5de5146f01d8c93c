import { randomUUID } from 'node:crypto';
import { createTestAmqp, testLogger } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { type SendQuotaLimits } from '../src/quotas/domain/limits';
import { QuotaExceededError, userSender } from '../src/quotas/domain/send-quota';
import { startHarness, type Harness, type Reply } from './harness';

const MINUTE = 60_000;
const DAY = 86_400_000;
const QUOTAS: SendQuotaLimits = {
  in_app: { perMinute: 3, perDay: 5 },
  email: { perMinute: 2, perDay: 0 },
  sms: { perMinute: 0, perDay: 0 },
  push: { perMinute: 0, perDay: 0 },
};

describe('send quotas per sender', () => {
  // 10 s into a minute, and more than a minute before the UTC day ends.
  const today = Math.floor(Date.now() / DAY) * DAY;
  let clock = new Date(today + 12 * 3_600_000 + 10_000);
  const now = () => clock;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('notif-quotas', { now, settings: { sendQuotas: QUOTAS } });
  });
  afterAll(() => h.close());

  function send(token: string, recipient: string, channels: string[], app?: NotificationApp): Promise<Reply> {
    const body = { title: 'Hi', body: 'There', recipient: { userId: recipient }, channels };
    if (!app) return h.request('POST', '/api/v1/notifications', { token, body });
    return app.inject({
      method: 'POST',
      url: '/api/v1/notifications',
      headers: { authorization: `Bearer ${token}` },
      payload: body,
    });
  }
  const sentBy = (userId: string) => h.models.notifications.countDocuments({ senderId: userId });

  it('refuses a request that would pass a window whole, with Retry-After until the window frees', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    expect((await send(token, user.userId, ['in_app', 'email'])).statusCode).toBe(202);
    expect((await send(token, user.userId, ['in_app', 'email'])).statusCode).toBe(202);

    const refused = await send(token, user.userId, ['in_app', 'email']);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.headers['retry-after']).toBe('50');
    expect(refused.json()).toMatchObject({ status: 429, code: 'quota_exceeded' });
    expect(refused.json().detail).toContain('email: 2 per minute');
    expect(await sentBy(user.userId)).toBe(2);

    // Refused whole: its in-app send was not counted either, so one more in-app fits this minute.
    expect((await send(token, user.userId, ['in_app'])).statusCode).toBe(202);
    const inAppFull = await send(token, user.userId, ['in_app']);
    expect(inAppFull.statusCode).toBe(429);
    expect(inAppFull.json().detail).toContain('in_app: 3 per minute');

    const metrics = (await h.request('GET', '/metrics')).body;
    expect(metrics).toMatch(/notification_quota_refusals_total\{[^}]*channel="email"[^}]*\} 1\b/);
    expect(metrics).toMatch(/notification_quota_refusals_total\{[^}]*channel="in_app"[^}]*\} 1\b/);

    // The next minute: the minute windows are free; the day window still holds 3 of 5 in-app.
    clock = new Date(clock.getTime() + 50_000);
    expect((await send(token, user.userId, ['email'])).statusCode).toBe(202);
    expect((await send(token, user.userId, ['in_app'])).statusCode).toBe(202);
    expect((await send(token, user.userId, ['in_app'])).statusCode).toBe(202);
    const dayFull = await send(token, user.userId, ['in_app']);
    expect(dayFull.statusCode).toBe(429);
    expect(dayFull.json().detail).toContain('in_app: 5 per day');
    expect(dayFull.headers['retry-after']).toBe(String(Math.ceil((today + DAY - clock.getTime()) / 1000)));
    expect(await sentBy(user.userId)).toBe(6);
  });

  it('keeps each window in quota_counters, keyed by sender, channel and window start, expiring at its end', async () => {
    const user = await h.registerUser();
    expect((await send(h.token(user.userId), user.userId, ['email'])).statusCode).toBe(202);
    const minute = Math.floor(clock.getTime() / MINUTE) * MINUTE;
    const counter = await h.models.quotaCounters
      .findById(`user:${user.userId}|email|minute|${minute}`)
      .lean();
    expect(counter).toMatchObject({
      sender: `user:${user.userId}`,
      channel: 'email',
      window: 'minute',
      count: 1,
      start: new Date(minute),
      expiresAt: new Date(minute + MINUTE),
    });
    // Unlimited windows (email per day here) are not counted at all.
    expect(await h.models.quotaCounters.countDocuments({ sender: `user:${user.userId}` })).toBe(1);
  });

  it('exempts admins', async () => {
    const user = await h.registerUser();
    const admin = h.token(`admin-${randomUUID()}`, 'admin');
    for (let index = 0; index < 3; index += 1) {
      expect((await send(admin, user.userId, ['email'])).statusCode).toBe(202);
    }
  });

  it('counts only accepted requests: a request refused after it was charged gives its quota back', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    // Not theirs to notify: refused after the quota was charged. Kept, two would fill the minute.
    for (let index = 0; index < 2; index += 1) {
      expect((await send(token, randomUUID(), ['email'])).statusCode).toBe(403);
    }
    const counter = `user:${user.userId}|email|minute|${Math.floor(clock.getTime() / MINUTE) * MINUTE}`;
    await waitForCount(counter, 0);
    expect((await send(token, user.userId, ['email'])).statusCode).toBe(202);
    expect((await send(token, user.userId, ['email'])).statusCode).toBe(202);
  });

  it('holds across instances: another instance on the same database refuses once the quota is used', async () => {
    const broker = await createTestAmqp('notif-quotas-2');
    const other = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: broker.client,
      verifier: h.issuer.verifier(),
      settings: { sendQuotas: QUOTAS },
      now,
    });
    try {
      await other.ready();
      const user = await h.registerUser();
      const token = h.token(user.userId);
      expect((await send(token, user.userId, ['email'])).statusCode).toBe(202);
      expect((await send(token, user.userId, ['email'], other)).statusCode).toBe(202);
      expect((await send(token, user.userId, ['email'], other)).statusCode).toBe(429);
      expect((await send(token, user.userId, ['email'])).statusCode).toBe(429);
    } finally {
      await other.close();
      await broker.cleanup();
    }
  });

  it('counts concurrent requests exactly, in one bulk write for those arriving together', async () => {
    const quotas = h.app.context.sendQuotas;
    const sender = userSender(randomUUID());
    const bulkWrites = jest.spyOn(h.models.quotaCounters.collection, 'bulkWrite');
    try {
      // in_app: 3 a minute; each charge is one in-app send.
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => quotas.charge(sender, [{ channel: 'in_app', count: 1 }])),
      );
      const accepted = results.filter((result) => result.status === 'fulfilled');
      const refused = results.filter(
        (result) => result.status === 'rejected' && result.reason instanceof QuotaExceededError,
      );
      expect(accepted).toHaveLength(3);
      expect(refused).toHaveLength(7);
      const minute = await h.models.quotaCounters
        .findById(`${sender}|in_app|minute|${Math.floor(clock.getTime() / MINUTE) * MINUTE}`)
        .lean();
      expect(minute?.count).toBe(3);
      const day = await h.models.quotaCounters
        .findById(`${sender}|in_app|day|${Math.floor(clock.getTime() / DAY) * DAY}`)
        .lean();
      expect(day?.count).toBe(3);
      // the ten charges leave together; then one retry of the refused and one give-back
      expect(bulkWrites.mock.calls[0]?.[0]).toHaveLength(20);
    } finally {
      bulkWrites.mockRestore();
    }
  });

  async function waitForCount(id: string, count: number) {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if ((await h.models.quotaCounters.findById(id).lean())?.count === count) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`counter ${id} never reached ${count}`);
  }
});

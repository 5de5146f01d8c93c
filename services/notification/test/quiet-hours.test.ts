import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { testLogger, waitFor } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { quietUntil } from '../src/preferences/domain/quiet-hours';
import { startHarness, type Harness, type Json } from './harness';

describe('quiet hours', () => {
  it('end a window spanning midnight at its end, in the zone, across a DST change', () => {
    const window = { start: '22:00', end: '07:00' };
    // 23:00 in Paris in winter (UTC+1) → 07:00 the next morning, 06:00Z
    expect(quietUntil(new Date('2026-01-15T22:00:00Z'), 'Europe/Paris', window)).toEqual(
      new Date('2026-01-16T06:00:00Z'),
    );
    // 03:00 local, same night: the same end
    expect(quietUntil(new Date('2026-01-16T02:00:00Z'), 'Europe/Paris', window)).toEqual(
      new Date('2026-01-16T06:00:00Z'),
    );
    // 07:00 local is outside (the end is exclusive), 21:59 too
    expect(quietUntil(new Date('2026-01-16T06:00:00Z'), 'Europe/Paris', window)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T20:59:00Z'), 'Europe/Paris', window)).toBeNull();
    // the night clocks go forward (29 March 2026): 23:00 CET → 07:00 CEST, 05:00Z
    expect(quietUntil(new Date('2026-03-28T22:00:00Z'), 'Europe/Paris', window)).toEqual(
      new Date('2026-03-29T05:00:00Z'),
    );
    // a window within one day, in another zone
    expect(
      quietUntil(new Date('2026-06-01T17:30:00Z'), 'America/New_York', { start: '12:00', end: '14:00' }),
    ).toEqual(new Date('2026-06-01T18:00:00Z'));
  });

  describe('at send, with a controlled clock', () => {
    let h: Harness;
    // 23:00 in Paris (UTC+1 in January)
    let clock = new Date('2026-01-15T22:00:00Z');
    const now = () => clock;
    let admin: string;
    beforeAll(async () => {
      h = await startHarness('quiet-hours', {
        now,
        settings: { relayIntervalMs: 60_000, vapidPublicKey: `B${'x'.repeat(86)}` },
      });
      admin = h.token('admin-q', 'admin');
      await h.createCategories('marketing');
      const critical = await h.request('POST', '/api/v1/categories', {
        token: admin,
        body: { key: 'alerts', name: 'Alerts', critical: true },
      });
      expect(critical.statusCode).toBe(201);
    });
    afterAll(() => h.close());

    async function quietUser() {
      const user = await h.registerUser({ phone: '+14155550142' });
      const set = await h.request('PUT', '/api/v1/preferences', {
        token: h.token(user.userId),
        body: {
          channels: {},
          categories: {},
          timeZone: 'Europe/Paris',
          quietHours: { start: '22:00', end: '07:00' },
        },
      });
      expect(set.statusCode).toBe(200);
      return user;
    }

    const sms = (jobs: Json[], id: string) => jobs.filter((job) => job.payload.notificationId === id);

    it('do not hold a critical send: its SMS leaves at once', async () => {
      const user = await quietUser();
      const critical = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: {
          title: 'New sign-in',
          body: 'Was it you?',
          recipient: { userId: user.userId },
          channels: ['in_app', 'sms', 'email'],
          category: 'alerts',
        },
      });
      expect(critical.statusCode).toBe(202);
      const id = critical.json().id as string;
      expect((await h.stored(id)).deliveries.sms.heldUntil).toBeUndefined();
      await waitFor(() => h.confirmed(id), { description: 'the critical send published' });
      expect(sms(await h.drain(h.names.queues.work.sms), id)).toHaveLength(1);
      await h.drain(h.names.queues.work.email);
    });

    it('hold a broadcast’s SMS for a recipient inside the window too, in-app at once', async () => {
      await quietUser();
      const started = await h.request('POST', '/api/v1/notifications/broadcast', {
        token: admin,
        body: {
          title: 'Maintenance',
          body: 'Tonight',
          audience: { all: true },
          channels: ['in_app', 'sms'],
          category: 'marketing',
        },
      });
      expect(started.statusCode).toBe(202);
      const broadcastId = started.json().id as string;
      await waitFor(
        async () =>
          (await h.request('GET', `/api/v1/notifications/broadcast/${broadcastId}`, { token: admin })).json()
            .state === 'completed',
        { description: 'the broadcast fanned out' },
      );
      const stored = await h.models.notifications.find({ broadcastId }).lean();
      expect(stored.length).toBeGreaterThan(0);
      for (const record of stored) {
        expect(record.deliveries.in_app?.status).toBe('delivered');
        expect(record.deliveries.sms).toMatchObject({
          status: 'queued',
          heldUntil: new Date('2026-01-16T06:00:00Z'),
        });
      }
      await h.app.relay.runOnce();
      expect(await h.messageCount(h.names.queues.work.sms)).toBe(0);
    });

    it('hold a push until the window ends, then send it to the subscriptions the recipient has then', async () => {
      const user = await quietUser();
      const token = h.token(user.userId);
      const subscription = (endpoint: string) => {
        const ecdh = createECDH('prime256v1');
        ecdh.generateKeys();
        return {
          endpoint,
          expirationTime: null,
          keys: {
            p256dh: ecdh.getPublicKey().toString('base64url'),
            auth: randomBytes(16).toString('base64url'),
          },
        };
      };
      const phone = subscription(`https://push.example.net/send/${randomUUID()}`);
      expect((await h.request('POST', '/api/v1/push-subscriptions', { token, body: phone })).statusCode).toBe(
        201,
      );
      await h.drain(h.names.queues.work.push);
      clock = new Date('2026-01-15T22:00:00Z'); // 23:00 in Paris

      const sent = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: {
          title: 'Your order shipped',
          body: 'It arrives Friday',
          recipient: { userId: user.userId },
          channels: ['in_app', 'push'],
          category: 'marketing',
        },
      });
      expect(sent.statusCode).toBe(202);
      const id = sent.json().id as string;
      expect((await h.stored(id)).deliveries.push).toMatchObject({
        status: 'queued',
        heldUntil: new Date('2026-01-16T06:00:00Z'),
      });
      await waitFor(async () => (await h.stored(id)).createdPublishedAt !== undefined, {
        description: 'the in-app event published, the push held',
      });
      clock = new Date('2026-01-16T05:59:59Z');
      await h.app.relay.runOnce();
      const pushJobs = async () =>
        (await h.drain(h.names.queues.work.push)).filter((job: Json) => job.payload.notificationId === id);
      expect(await pushJobs()).toEqual([]);

      // a second browser subscribed during the night gets it too
      const laptop = subscription(`https://push.example.net/send/${randomUUID()}`);
      expect(
        (await h.request('POST', '/api/v1/push-subscriptions', { token, body: laptop })).statusCode,
      ).toBe(201);
      clock = new Date('2026-01-16T06:00:00Z'); // 07:00 in Paris
      await h.app.relay.runOnce();
      const [job, ...more] = await waitFor(async () => {
        const jobs = await pushJobs();
        return jobs.length ? jobs : undefined;
      });
      expect(more).toEqual([]);
      expect(job.payload.recipient.subscriptions.map((s: Json) => s.endpoint).sort()).toEqual(
        [phone.endpoint, laptop.endpoint].sort(),
      );
      // 07:00 released the earlier tests' held SMS too: the next test counts that queue from empty
      await h.drain(h.names.queues.work.sms);
      clock = new Date('2026-01-15T22:00:00Z');
    });

    it('an SMS sent at 23:00 local leaves at 07:00 local, exactly once, across a restart; in-app at once', async () => {
      const user = await quietUser();
      const created = await h.tapCreated();
      const sent = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: {
          title: 'Flash sale',
          body: 'Tonight only',
          recipient: { userId: user.userId },
          channels: ['in_app', 'sms'],
          category: 'marketing',
        },
      });
      expect(sent.statusCode).toBe(202);
      expect(sent.json().statuses).toEqual({ in_app: 'delivered', sms: 'queued' });
      const id = sent.json().id as string;
      const stored = await h.stored(id);
      expect(stored.deliveries.sms.heldUntil).toEqual(new Date('2026-01-16T06:00:00Z'));
      const view = await h.request('GET', `/api/v1/notifications/${id}`, { token: h.token(user.userId) });
      expect(view.json().deliveries.sms).toMatchObject({
        status: 'queued',
        heldUntil: '2026-01-16T06:00:00.000Z',
      });

      // the in-app event leaves at once; the SMS does not
      const event = await waitFor(async () => (await h.drainCreated(created))[0], {
        description: 'the in-app event',
      });
      expect(event.notification.id).toBe(id);
      await waitFor(async () => (await h.stored(id)).createdPublishedAt !== undefined, {
        description: 'the in-app event recorded, the hold re-dated',
      });
      expect((await h.stored(id)).outboxDueAt).toEqual(new Date('2026-01-16T06:00:00Z'));

      // past the grace period and up to 06:59:59 local+1: relay passes publish nothing
      for (const at of ['2026-01-15T22:00:05Z', '2026-01-16T03:00:00Z', '2026-01-16T05:59:59Z']) {
        clock = new Date(at);
        await h.app.relay.runOnce();
      }
      expect(await h.messageCount(h.names.queues.work.sms)).toBe(0);

      // restart: this instance stops, another starts on the same database and broker
      await h.app.close();
      const restarted: NotificationApp = await buildApp({
        logger: testLogger(),
        mongo: h.mongo.connection,
        amqp: h.broker.client,
        verifier: h.verifier,
        settings: { relayIntervalMs: 60_000, outboxGraceMs: 1_000, outboxLeaseMs: 2_000 },
        now,
      });
      await restarted.ready();
      try {
        await restarted.relay.runOnce();
        expect(await h.messageCount(h.names.queues.work.sms)).toBe(0);

        clock = new Date('2026-01-16T06:00:00Z'); // 07:00 in Paris
        await restarted.relay.runOnce();
        await waitFor(async () => (await h.messageCount(h.names.queues.work.sms)) >= 1, {
          description: 'the SMS job at 07:00',
        });
        clock = new Date('2026-01-16T06:30:00Z');
        await restarted.relay.runOnce();
        await restarted.relay.runOnce();
        const jobs = await h.drain(h.names.queues.work.sms);
        expect(sms(jobs, id)).toHaveLength(1);
        expect(sms(jobs, id)[0].payload).toMatchObject({
          channel: 'sms',
          recipient: { phone: '+14155550142' },
        });
        // the in-app event was not published a second time
        expect(await h.drainCreated(created)).toEqual([]);
        expect(await h.confirmed(id)).toBe(true);
      } finally {
        await restarted.close();
      }
    });
  });
});

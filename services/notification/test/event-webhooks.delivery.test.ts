import { FakeMailgun } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { defaultEventWebhookSettings } from '../src/config';
import { EventReceiver, verifySignature, type ReceivedDelivery } from './event-receiver';
import { startHarness, type Harness, type Json } from './harness';
import { topicEvents } from './topic-events';
import { postMailgun, sendThroughMailgun, untilEmailStatus } from './webhook-helpers';

/*
 * Outgoing webhooks end to end inside the service (issue 25): real flows
 * record events, the dispatcher signs and POSTs them to a real receiver on
 * 127.0.0.1 (config allows loopback here), which verifies them the way the
 * README says. Time is the injected clock: backoff is waited by moving it.
 */

const ADMIN_ID = 'ewh-delivery-admin';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('event webhook deliveries', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  let receiver: EventReceiver;
  let admin: string;
  let endpoint: { id: string; secret: string };
  let offset = 0;
  const now = () => new Date(Date.now() + offset);

  beforeAll(async () => {
    receiver = new EventReceiver();
    await receiver.start();
    mailgun = await FakeMailgun.start({ webhookSigningKey: 'mg-signing-key-for-event-webhooks' });
    h = await startHarness('notif-event-webhooks-delivery', {
      now,
      settings: {
        mailgunWebhookSigningKey: mailgun.webhookSigningKey,
        eventWebhooks: {
          ...defaultEventWebhookSettings,
          allowPrivate: true,
          // the tests run the passes themselves, after moving the clock
          pollIntervalMs: 600_000,
          disableAfterFailures: 3,
          disableAfterMs: HOUR,
        },
      },
    });
    admin = h.token(ADMIN_ID, 'admin');
    // a send naming a category nobody created is refused
    await h.createCategories('ops');
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: {
        url: receiver.url('/a'),
        eventTypes: [
          'notification.created',
          'notification.sent',
          'notification.delivered',
          'notification.failed',
          'notification.bounced',
          'notification.read',
          'notification.opened',
        ],
      },
    });
    expect(created.statusCode).toBe(201);
    endpoint = created.json();
  });
  afterAll(async () => {
    await h.close();
    await mailgun.close();
    await receiver.stop();
  });

  /** Runs dispatcher passes until one sends nothing (each pass sends every due chain). */
  async function drive(): Promise<void> {
    for (let pass = 0; pass < 20; pass += 1) if ((await h.app.eventWebhooks.runOnce()) === 0) return;
    throw new Error('the dispatcher kept sending');
  }

  const nowSeconds = () => Math.floor(now().getTime() / 1000);
  const parsed = (delivery: ReceivedDelivery): Json => JSON.parse(delivery.body);
  const about = (path: string, notificationId: string) =>
    receiver.at(path).filter((delivery) => parsed(delivery).data.notificationId === notificationId);
  const typesOf = (deliveries: ReceivedDelivery[]) => deliveries.map((delivery) => parsed(delivery).type);

  async function sendInApp(to: string, extra: Record<string, unknown> = {}, token = admin): Promise<string> {
    const response = await h.request('POST', '/api/v1/notifications', {
      token,
      body: { title: 'Hello', body: 'there', recipient: { userId: to }, channels: ['in_app'], ...extra },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  async function deliveriesOf(endpointId: string, notificationId: string): Promise<Json[]> {
    const response = await h.request(
      'GET',
      `/api/v1/event-webhooks/${endpointId}/deliveries?notificationId=${notificationId}`,
      { token: admin },
    );
    expect(response.statusCode).toBe(200);
    return response.json().items;
  }

  it('signs each event of an email to an outside address and delivers it once, in order; the sender hears sent then delivered', async () => {
    const senderStatus = await h.tapEvents('notification.status');
    const outside = 'someone@outside.example.org';
    const response = await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: { title: 'Receipt', body: 'Thanks', recipient: { email: outside }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(202);
    const id = response.json().id as string;
    const message = await sendThroughMailgun(h, mailgun, id, outside);
    await untilEmailStatus(h, id, 'sent');
    const delivered = await postMailgun(h, mailgun.webhookBody({ event: 'delivered', message }));
    expect(delivered.json()).toEqual({ outcome: 'applied' });
    // Engagement: an open, reported twice by the provider, is one event.
    for (let copy = 0; copy < 2; copy += 1) {
      const opened = await postMailgun(h, mailgun.webhookBody({ event: 'opened', message }));
      expect(opened.statusCode).toBe(200);
    }

    await drive();

    const received = about('/a', id);
    expect(typesOf(received)).toEqual([
      'notification.created',
      'notification.sent',
      'notification.delivered',
      'notification.opened',
    ]);
    received.pop();
    for (const delivery of received) {
      expect(verifySignature(endpoint.secret, delivery, { nowSeconds: nowSeconds() })).toBe(true);
    }
    expect(new Set(received.map((delivery) => delivery.id)).size).toBe(3);
    expect(parsed(received[2]!)).toMatchObject({
      type: 'notification.delivered',
      data: { notificationId: id, channel: 'email', status: 'delivered', provider: 'mailgun' },
    });
    // The attempts log, through the API.
    const log = await deliveriesOf(endpoint.id, id);
    expect(log.map((item) => [item.eventType, item.status, item.attempts])).toEqual([
      ['notification.opened', 'delivered', 1],
      ['notification.delivered', 'delivered', 1],
      ['notification.sent', 'delivered', 1],
      ['notification.created', 'delivered', 1],
    ]);
    expect(log[1].log).toEqual([
      {
        at: expect.any(String),
        statusCode: 200,
        latencyMs: expect.any(Number),
        responseExcerpt: 'status 200',
      },
    ]);
    expect(
      log
        .slice(1)
        .map((item) => item.id)
        .sort(),
    ).toEqual(received.map((delivery) => delivery.id).sort());

    // Live status for whoever sent it: the broker event names the admin, for realtime to push.
    const statuses = await waitFor(
      async () => {
        const mine = (await h.drain(senderStatus)).filter(
          (event: Json) => event.payload.notificationId === id,
        );
        return mine.length >= 2 ? mine : undefined;
      },
      { description: 'notification.status for sent and delivered' },
    );
    expect(statuses.map((event: Json) => [event.payload.senderId, event.payload.status])).toEqual([
      [ADMIN_ID, 'sent'],
      [ADMIN_ID, 'delivered'],
    ]);
  });

  it("records notification.created (and the in-app delivered) for each of a broadcast's notifications", async () => {
    await h.registerUser();
    await h.registerUser();
    const response = await h.request('POST', '/api/v1/notifications/broadcast', {
      token: admin,
      body: { audience: { all: true }, channels: ['in_app'], title: 'Maintenance', body: 'Tonight' },
    });
    expect(response.statusCode).toBe(202);
    const broadcastId = response.json().id as string;
    await waitFor(
      async () => (await h.models.broadcasts.findById(broadcastId).lean())?.state === 'completed',
      { description: 'the broadcast completed' },
    );
    const ids = (await h.models.notifications.find({ broadcastId }, { _id: 1 }).lean()).map((record) =>
      record._id.toHexString(),
    );
    expect(ids.length).toBeGreaterThanOrEqual(2);

    await drive();

    for (const id of ids) {
      expect(typesOf(about('/a', id))).toEqual(['notification.created', 'notification.delivered']);
    }
  });

  it("records notification.created (and the in-app delivered) for each of a topic send's notifications", async () => {
    const topics = topicEvents(h);
    for (const id of ['ewh-m1', 'ewh-m2']) await h.upsertSubscriber(id, { email: `${id}@example.com` });
    await topics.created('ewh-news', ['ewh-m1', 'ewh-m2']);
    const sender = (await h.createApiKey(['notifications:send'])).key;
    const response = await h.request('POST', '/api/v1/notifications', {
      token: sender,
      body: { recipient: { topic: 'ewh-news' }, channels: ['in_app'], title: 'News', body: 'Out now' },
    });
    expect(response.statusCode).toBe(202);
    const { topicSendId } = response.json() as { topicSendId: string };
    await waitFor(
      async () => (await h.models.topicSends.findById(topicSendId).lean())?.state === 'completed',
      { description: 'the topic send completed' },
    );
    const ids = (await h.models.notifications.find({ broadcastId: topicSendId }, { _id: 1 }).lean()).map(
      (record) => record._id.toHexString(),
    );
    expect(ids).toHaveLength(2);

    await drive();

    for (const id of ids) {
      expect(typesOf(about('/a', id))).toEqual(['notification.created', 'notification.delivered']);
    }
  });

  it('records the in-app delivered of a scheduled notification when it reaches the inbox at its time, once', async () => {
    const { userId } = await h.registerUser();
    const id = await sendInApp(userId, { sendAt: new Date(now().getTime() + HOUR).toISOString() });
    await h.app.relay.runOnce();
    await drive();
    expect(typesOf(about('/a', id))).toEqual(['notification.created']);

    offset += HOUR + MINUTE;
    await waitFor(
      async () => {
        await h.app.relay.runOnce();
        return (await h.stored(id)).deliveries.in_app.status === 'delivered';
      },
      { description: 'the scheduled in-app notification delivered' },
    );
    await drive();
    expect(typesOf(about('/a', id))).toEqual(['notification.created', 'notification.delivered']);
    expect(parsed(about('/a', id)[1]!).data).toMatchObject({ channel: 'in_app', status: 'delivered' });
    // later passes add nothing
    await h.app.relay.runOnce();
    await drive();
    expect(typesOf(about('/a', id))).toHaveLength(2);
  });

  it('keeps every event while the receiver is down, retries on the stored schedule, and delivers all once it is back, in order, none twice', async () => {
    const { userId } = await h.registerUser();
    await receiver.stop();
    const first = await sendInApp(userId);
    const second = await sendInApp(userId);
    const read = await h.request('PATCH', `/api/v1/notifications/${first}`, {
      token: h.token(userId),
      body: { read: true },
    });
    expect(read.statusCode).toBe(200);

    await drive();
    const [firstCreated] = (await deliveriesOf(endpoint.id, first)).slice(-1);
    expect(firstCreated).toMatchObject({ eventType: 'notification.created', status: 'pending', attempts: 1 });
    expect(firstCreated.log[0].error).toMatch(/ECONNREFUSED/);
    // Event N+1 of a notification is not tried before N got through.
    expect((await deliveriesOf(endpoint.id, first)).map((item) => item.attempts)).toEqual([0, 0, 1]);

    offset += 30_000;
    await drive();
    expect((await deliveriesOf(endpoint.id, first)).at(-1).attempts).toBe(2);

    await receiver.start();
    offset += 2 * MINUTE;
    await drive();

    expect(typesOf(about('/a', first))).toEqual([
      'notification.created',
      'notification.delivered',
      'notification.read',
    ]);
    expect(typesOf(about('/a', second))).toEqual(['notification.created', 'notification.delivered']);
    const all = [...about('/a', first), ...about('/a', second)];
    expect(new Set(all.map((delivery) => delivery.id)).size).toBe(all.length);
    for (const delivery of all) expect(verifySignature(endpoint.secret, delivery)).toBe(true);

    // Later passes, hours later, send nothing again.
    offset += 6 * HOUR;
    await drive();
    expect(about('/a', first).length + about('/a', second).length).toBe(5);
    expect((await deliveriesOf(endpoint.id, first)).map((item) => item.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
  });

  it('sends again, same webhook-id, what an instance that crashed mid-attempt had claimed, once its lease runs out', async () => {
    const { userId } = await h.registerUser();
    const id = await sendInApp(userId);
    // Another instance claimed the chain's head, then died before recording the outcome.
    const head = await h.models.eventWebhookDeliveries
      .findOneAndUpdate(
        { endpointId: endpoint.id, notificationId: id, eventType: 'notification.created' },
        { $set: { leaseOwner: 'crashed-instance', leaseUntil: new Date(now().getTime() + MINUTE) } },
        { returnDocument: 'after' },
      )
      .lean();
    await drive();
    expect(about('/a', id)).toEqual([]); // its lease holds, and the next event waits behind it

    offset += MINUTE + 1_000;
    await drive();
    expect(typesOf(about('/a', id))).toEqual(['notification.created', 'notification.delivered']);
    expect(about('/a', id)[0]!.id).toBe(head!._id);
  });

  it('fails verification for a tampered body, id or timestamp, or another secret', async () => {
    const delivery = receiver.at('/a')[0]!;
    expect(verifySignature(endpoint.secret, delivery)).toBe(true);
    const tampered = delivery.body.replace('"type":"notification.', '"type":"notification.x');
    expect(tampered).not.toBe(delivery.body);
    expect(verifySignature(endpoint.secret, { ...delivery, body: tampered })).toBe(false);
    expect(verifySignature(endpoint.secret, { ...delivery, id: `${delivery.id}x` })).toBe(false);
    expect(
      verifySignature(endpoint.secret, { ...delivery, timestamp: String(Number(delivery.timestamp) + 1) }),
    ).toBe(false);
    const other = (
      await h.request('POST', '/api/v1/event-webhooks', {
        token: admin,
        body: { url: receiver.url('/unused'), eventTypes: ['notification.bounced'] },
      })
    ).json();
    expect(verifySignature(other.secret, delivery)).toBe(false);
    // A replayed old delivery is refused by the receiver's timestamp tolerance.
    expect(verifySignature(endpoint.secret, delivery, { nowSeconds: nowSeconds() + 3_600 })).toBe(false);
  });

  it('signs with the old and the new secret during the grace period after a rotation, then with the new one only', async () => {
    const rotated = await h.request('POST', `/api/v1/event-webhooks/${endpoint.id}/rotate-secret`, {
      token: admin,
    });
    const newSecret = rotated.json().secret as string;
    const { userId } = await h.registerUser();
    const during = await sendInApp(userId);
    await drive();
    const [duringDelivery] = about('/a', during);
    expect(duringDelivery!.signature.split(' ')).toHaveLength(2);
    expect(verifySignature(newSecret, duringDelivery!)).toBe(true);
    expect(verifySignature(endpoint.secret, duringDelivery!)).toBe(true);

    offset += 25 * HOUR;
    const after = await sendInApp(userId);
    await drive();
    const [afterDelivery] = about('/a', after);
    expect(afterDelivery!.signature.split(' ')).toHaveLength(1);
    expect(verifySignature(newSecret, afterDelivery!)).toBe(true);
    expect(verifySignature(endpoint.secret, afterDelivery!)).toBe(false);
    endpoint.secret = newSecret;
  });

  it('records notification.read for each notification read-all marks, and once only', async () => {
    const { userId } = await h.registerUser();
    const ids = [await sendInApp(userId), await sendInApp(userId)];
    const readAll = await h.request('POST', '/api/v1/notifications/read-all', { token: h.token(userId) });
    expect(readAll.statusCode).toBe(200);
    // marking one unread and read again tells the application nothing new
    await h.request('PATCH', `/api/v1/notifications/${ids[0]}`, {
      token: h.token(userId),
      body: { read: false },
    });
    await h.request('PATCH', `/api/v1/notifications/${ids[0]}`, {
      token: h.token(userId),
      body: { read: true },
    });
    await drive();
    for (const id of ids) {
      expect(typesOf(about('/a', id))).toEqual([
        'notification.created',
        'notification.delivered',
        'notification.read',
      ]);
    }
  });

  it("sends an application's endpoint only the events of that application's own sends", async () => {
    const app = await h.createApiKey(['notifications:send', 'webhooks:write']);
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: app.key,
      body: { url: receiver.url('/app'), eventTypes: ['notification.created'] },
    });
    expect(created.statusCode).toBe(201);
    const { userId } = await h.registerUser();
    const byAdmin = await sendInApp(userId);
    const response = await h.request('POST', '/api/v1/notifications', {
      token: app.key,
      body: { title: 'From the app', body: 'hi', recipient: { subscriberId: userId }, channels: ['in_app'] },
    });
    expect(response.statusCode).toBe(202);
    const byApp = response.json().id as string;
    await drive();
    expect(receiver.at('/app').map((delivery) => parsed(delivery).data.notificationId)).toEqual([byApp]);
    expect(verifySignature(created.json().secret, receiver.at('/app')[0]!)).toBe(true);
    expect(about('/a', byAdmin)).toHaveLength(2);
  });

  it('lets its owner disable an endpoint by hand: nothing sent, what was pending waits for enable', async () => {
    const receiving = new EventReceiver();
    await receiving.start();
    try {
      const created = (
        await h.request('POST', '/api/v1/event-webhooks', {
          token: admin,
          body: { url: receiving.url('/c'), eventTypes: ['notification.created'], categories: ['ops'] },
        })
      ).json();
      const { userId } = await h.registerUser();
      const before = await sendInApp(userId, { category: 'ops' });

      const disabled = await h.request('POST', `/api/v1/event-webhooks/${created.id}/disable`, {
        token: admin,
      });
      expect(disabled.statusCode).toBe(200);
      expect(disabled.json()).toMatchObject({
        disabled: true,
        disabledReason: `disabled by user ${ADMIN_ID}`,
      });
      // again: idempotent, the first reason and time stay
      const again = await h.request('POST', `/api/v1/event-webhooks/${created.id}/disable`, { token: admin });
      expect(again.json()).toMatchObject({ disabledAt: disabled.json().disabledAt });
      const during = await sendInApp(userId, { category: 'ops' });
      await drive();
      expect(receiving.received).toEqual([]);
      expect(await deliveriesOf(created.id, before)).toEqual([
        expect.objectContaining({ status: 'pending' }),
      ]);
      expect(await deliveriesOf(created.id, during)).toEqual([]);

      await h.request('POST', `/api/v1/event-webhooks/${created.id}/enable`, { token: admin });
      await drive();
      expect(receiving.at('/c').map((delivery) => parsed(delivery).data.notificationId)).toEqual([before]);
    } finally {
      await receiving.stop();
    }
  });

  it('disables an endpoint after sustained failure, resumes it when enabled, gives a delivery up after the retry window and replays it on demand', async () => {
    const flaky = new EventReceiver();
    await flaky.start();
    await flaky.stop();
    const created = (
      await h.request('POST', '/api/v1/event-webhooks', {
        token: admin,
        body: { url: flaky.url('/b'), eventTypes: ['notification.created'], categories: ['ops'] },
      })
    ).json();
    const { userId } = await h.registerUser();
    const ops = await sendInApp(userId, { category: 'ops' });
    await sendInApp(userId); // not `ops`: never for this endpoint

    // Failures in a row spanning the configured hour (three here): disabled.
    for (let failures = 0; failures < 3; failures += 1) {
      await drive();
      offset += HOUR;
    }
    const disabled = (
      await h.request('GET', `/api/v1/event-webhooks/${created.id}`, { token: admin })
    ).json();
    expect(disabled).toMatchObject({ disabled: true, consecutiveFailures: 3 });
    expect(disabled.disabledReason).toMatch(/3 in a row/);
    expect(await deliveriesOf(created.id, ops)).toEqual([
      expect.objectContaining({ status: 'pending', attempts: 3 }),
    ]);

    await flaky.start();
    await drive();
    expect(flaky.received).toEqual([]); // disabled: nothing is sent
    const enabled = await h.request('POST', `/api/v1/event-webhooks/${created.id}/enable`, { token: admin });
    expect(enabled.json()).toMatchObject({ disabled: false, consecutiveFailures: 0 });
    await drive();
    expect(flaky.at('/b').map((delivery) => parsed(delivery).data.notificationId)).toEqual([ops]);

    // Given up after the retry window (24 h of backoff), then replayed by hand: same webhook-id.
    await flaky.stop();
    const late = await sendInApp(userId, { category: 'ops' });
    await drive();
    offset += 25 * HOUR;
    await drive();
    const [givenUp] = await deliveriesOf(created.id, late);
    expect(givenUp).toMatchObject({ status: 'failed', attempts: 2 });
    await flaky.start();
    const replay = await h.request(
      'POST',
      `/api/v1/event-webhooks/${created.id}/deliveries/${givenUp.id}/replay`,
      { token: admin },
    );
    expect(replay.statusCode).toBe(202);
    await drive();
    const replayed = flaky.at('/b').filter((delivery) => parsed(delivery).data.notificationId === late);
    expect(replayed.map((delivery) => delivery.id)).toEqual([givenUp.id]);
    expect((await deliveriesOf(created.id, late))[0]).toMatchObject({ status: 'delivered', attempts: 3 });
    await flaky.stop();
  });
});

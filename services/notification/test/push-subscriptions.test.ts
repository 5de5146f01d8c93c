import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { createMessage, EventRoutingKeys, MessageTypes } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

const VAPID_PUBLIC_KEY = `B${'x'.repeat(86)}`;

/** A browser's subscription: a real P-256 key and a 16-byte secret, as `PushSubscription.toJSON()` gives them. */
function browserSubscription(endpoint = `https://push.example.net/send/${randomUUID()}`) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

describe('Web Push subscriptions', () => {
  let h: Harness;
  let userId: string;
  let user: string;
  beforeAll(async () => {
    h = await startHarness('push-subscriptions', { settings: { vapidPublicKey: VAPID_PUBLIC_KEY } });
    userId = (await h.registerUser()).userId;
    user = h.token(userId);
  });
  afterAll(() => h.close());

  const subscribe = (token: string | undefined, body: Json) =>
    h.request('POST', '/api/v1/push-subscriptions', { ...(token ? { token } : {}), body });

  it('serves the VAPID public key to anyone, so a page can subscribe', async () => {
    const reply = await h.request('GET', '/api/v1/push-subscriptions/vapid-public-key');
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ publicKey: VAPID_PUBLIC_KEY });
  });

  it("records the caller's browser, lists it, and forgets it on DELETE", async () => {
    const browser = browserSubscription();
    const created = await subscribe(user, browser);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      endpoint: browser.endpoint,
    });
    // the same browser again: the same subscription, not a second one
    expect((await subscribe(user, browser)).json().id).toBe(created.json().id);

    const listed = await h.request('GET', '/api/v1/push-subscriptions', { token: user });
    expect(listed.json().subscriptions.map((s: Json) => s.endpoint)).toEqual([browser.endpoint]);

    const deleted = await h.request('DELETE', '/api/v1/push-subscriptions', {
      token: user,
      body: { endpoint: browser.endpoint },
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await h.request('GET', '/api/v1/push-subscriptions', { token: user })).json().subscriptions,
    ).toEqual([]);
  });

  it("lets a subscriber subscribe through their inbox token, as their own inbox's", async () => {
    await h.upsertSubscriber('push-reader');
    const browser = browserSubscription();
    const created = await subscribe(h.inboxToken('push-reader'), browser);
    expect(created.statusCode).toBe(201);
    expect(
      await h.models.pushSubscriptions.exists({ owner: 'sub:push-reader', endpoint: browser.endpoint }),
    ).not.toBeNull();
  });

  describe('refusals', () => {
    it('401 without a token, 403 for an API key (a key has no browser of its own)', async () => {
      expect((await subscribe(undefined, browserSubscription())).statusCode).toBe(401);
      const { key } = await h.createApiKey(['notifications:send']);
      const withKey = await h.request('POST', '/api/v1/push-subscriptions', {
        headers: { authorization: `Bearer ${key}` },
        body: browserSubscription(),
      });
      expect(withKey.statusCode).toBe(403);
    });

    it.each([
      ['http://push.example.net/send/1', 'must be an https URL'],
      ['ftp://push.example.net/send/1', 'must be an https URL'],
      ['https://127.0.0.1:8443/internal', 'public host'],
      ['https://10.1.2.3/admin', 'public host'],
      ['https://169.254.169.254/latest/meta-data', 'public host'],
      ['https://[::1]/x', 'public host'],
      ['https://user:pw@push.example.net/send/1', 'credentials'],
      ['not a url', 'absolute URL'],
    ])('422 for the endpoint %s, naming the field', async (endpoint, message) => {
      const reply = await subscribe(user, browserSubscription(endpoint));
      expect(reply.statusCode).toBe(422);
      expect(reply.json()).toMatchObject({ code: 'invalid_push_subscription' });
      expect(reply.json().errors[0]).toMatchObject({
        field: '/body/endpoint',
        message: expect.stringContaining(message),
      });
    });

    it('422 for a p256dh that is no point on P-256, 400 for keys of the wrong length', async () => {
      const offCurve = browserSubscription();
      offCurve.keys.p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
      const reply = await subscribe(user, offCurve);
      expect(reply.statusCode).toBe(422);
      expect(reply.json().errors[0]).toMatchObject({ field: '/body/keys/p256dh' });

      const shortAuth = browserSubscription();
      shortAuth.keys.auth = 'abc';
      const bad = await subscribe(user, shortAuth);
      expect(bad.statusCode).toBe(400);
      expect(JSON.stringify(bad.json())).toContain('/body/keys/auth');
    });

    it('409 past 10 subscriptions per recipient', async () => {
      const { userId: busy } = await h.registerUser();
      const token = h.token(busy);
      for (let index = 0; index < 10; index += 1) {
        expect((await subscribe(token, browserSubscription())).statusCode).toBe(201);
      }
      const eleventh = await subscribe(token, browserSubscription());
      expect(eleventh.statusCode).toBe(409);
      expect(eleventh.json()).toMatchObject({ code: 'push_subscription_limit' });
    });

    it("404 for deleting someone else's subscription, which stays", async () => {
      const browser = browserSubscription();
      await subscribe(user, browser);
      const { userId: other } = await h.registerUser();
      const reply = await h.request('DELETE', '/api/v1/push-subscriptions', {
        token: h.token(other),
        body: { endpoint: browser.endpoint },
      });
      expect(reply.statusCode).toBe(404);
      expect(
        await h.models.pushSubscriptions.exists({ owner: userId, endpoint: browser.endpoint }),
      ).not.toBeNull();
    });
  });

  describe('sending on the push channel', () => {
    it('422 when the recipient has no subscription, or was given by address', async () => {
      const { userId: lonely } = await h.registerUser();
      const none = await h.request('POST', '/api/v1/notifications', {
        token: h.token(lonely),
        body: { recipient: { userId: lonely }, channels: ['push'], title: 'Hi', body: 'There' },
      });
      expect(none.statusCode).toBe(422);
      expect(none.json()).toMatchObject({ code: 'recipient_unreachable' });

      const byAddress = await h.request('POST', '/api/v1/notifications', {
        token: h.token('admin-1', 'admin'),
        body: { recipient: { email: 'someone@example.com' }, channels: ['push'], title: 'Hi', body: 'There' },
      });
      expect(byAddress.statusCode).toBe(422);
      expect(byAddress.json()).toMatchObject({ code: 'channel_unreachable' });
    });

    it('fans out to every subscription in one push job, and shows its status history', async () => {
      const { userId: owner } = await h.registerUser();
      const token = h.token(owner);
      const phone = browserSubscription();
      const laptop = browserSubscription();
      await subscribe(token, phone);
      await subscribe(token, laptop);
      await h.drain(h.names.queues.work.push);

      const created = await h.request('POST', '/api/v1/notifications', {
        token,
        body: {
          recipient: { userId: owner },
          channels: ['in_app', 'push'],
          title: 'Build done',
          body: 'All green',
        },
      });
      expect(created.statusCode).toBe(202);
      const id: string = created.json().id;
      const [job] = await waitFor(async () => {
        const jobs = (await h.drain(h.names.queues.work.push)).filter(
          (message) => message.payload.notificationId === id,
        );
        return jobs.length ? jobs : undefined;
      });
      expect(job.payload).toMatchObject({
        channel: 'push',
        content: { subject: 'Build done', text: 'All green' },
        recipient: { userId: owner },
      });
      expect(job.payload.recipient.subscriptions.map((s: Json) => s.endpoint)).toEqual([
        phone.endpoint,
        laptop.endpoint,
      ]);
      expect(job.payload.recipient.subscriptions[0].keys).toEqual(phone.keys);

      // the worker's reports, as for email and SMS, each applied before the next leaves: the
      // service handles reports concurrently, and a `sending` applied after `sent` is (rightly) stale
      for (const [status, extra] of [
        ['sending', { provider: 'webpush' }],
        ['sent', { provider: 'webpush', providerMessageId: 'https://push.example.net/message/1' }],
      ] as const) {
        await h.publishEvent(
          EventRoutingKeys.deliveryStatus,
          createMessage(
            MessageTypes.deliveryStatus,
            {
              notificationId: id,
              channel: 'push',
              status,
              attempt: 1,
              at: new Date().toISOString(),
              ...extra,
            },
            { correlationId: 'test' },
          ),
        );
        await waitFor(async () => (await h.stored(id)).deliveries.push.status === status, {
          description: `push ${status} applied`,
        });
      }
      const detail = await h.request('GET', `/api/v1/notifications/${id}`, { token });
      expect(detail.json().deliveries.push).toMatchObject({ status: 'sent', provider: 'webpush' });
      expect(detail.json().statuses.push).toBe('sent');
      expect(
        detail
          .json()
          .history.filter((entry: Json) => entry.channel === 'push')
          .map((entry: Json) => entry.status),
      ).toEqual(['queued', 'sending', 'sent']);
    });

    it('a broadcast pushes only to users with a subscription; the others get the rest', async () => {
      const { userId: withBrowser } = await h.registerUser();
      const { userId: without } = await h.registerUser();
      await subscribe(h.token(withBrowser), browserSubscription());
      await h.drain(h.names.queues.work.push);
      const response = await h.request('POST', '/api/v1/notifications/broadcast', {
        token: h.token('admin-1', 'admin'),
        body: {
          audience: { all: true },
          channels: ['in_app', 'push'],
          title: 'Maintenance',
          body: 'Tonight',
        },
      });
      expect(response.statusCode).toBe(202);
      const broadcastId: string = response.json().id;
      await waitFor(
        async () =>
          (
            await h.request('GET', `/api/v1/notifications/broadcast/${broadcastId}`, {
              token: h.token('admin-1', 'admin'),
            })
          ).json().state === 'completed',
      );
      const records = await h.models.notifications.find({ broadcastId }).lean();
      const channelsOf = (owner: string) => records.find((record) => record.userId === owner)?.channels;
      expect(channelsOf(withBrowser)).toEqual(['in_app', 'push']);
      expect(channelsOf(without)).toEqual(['in_app']);
      const jobs = await h.drain(h.names.queues.work.push);
      expect(jobs.map((job) => job.payload.recipient.userId)).toContain(withBrowser);
      expect(jobs.map((job) => job.payload.recipient.userId)).not.toContain(without);
    });

    it("deletes a subscription on the worker's push.subscription_gone (a 410), and only that one", async () => {
      const { userId: owner } = await h.registerUser();
      const token = h.token(owner);
      const revoked = (await subscribe(token, browserSubscription())).json();
      const live = (await subscribe(token, browserSubscription())).json();

      const gone = (subscriptionId: string, endpoint: string) =>
        h.publishEvent(
          EventRoutingKeys.pushSubscriptionGone,
          createMessage(
            MessageTypes.pushSubscriptionGone,
            { subscriptionId, userId: owner, endpoint, status: 410, at: new Date().toISOString() },
            { correlationId: 'test' },
          ),
        );
      // an endpoint that does not match the id deletes nothing
      await gone(live.id, 'https://push.example.net/send/someone-else');
      await gone(revoked.id, revoked.endpoint);
      await waitFor(async () => (await h.models.pushSubscriptions.exists({ _id: revoked.id })) === null);
      const listed = await h.request('GET', '/api/v1/push-subscriptions', { token });
      expect(listed.json().subscriptions.map((s: Json) => s.id)).toEqual([live.id]);
    });
  });
});

describe('Web Push not configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('push-unconfigured');
  });
  afterAll(() => h.close());

  it('answers 503 for the key and for subscribing, 422 for the push channel', async () => {
    expect((await h.request('GET', '/api/v1/push-subscriptions/vapid-public-key')).statusCode).toBe(503);
    const { userId } = await h.registerUser();
    const token = h.token(userId);
    const reply = await h.request('POST', '/api/v1/push-subscriptions', {
      token,
      body: browserSubscription(),
    });
    expect(reply.statusCode).toBe(503);
    const send = await h.request('POST', '/api/v1/notifications', {
      token,
      body: { recipient: { userId }, channels: ['push'], title: 'Hi', body: 'There' },
    });
    expect(send.statusCode).toBe(422);
    expect(send.json()).toMatchObject({ code: 'channel_unavailable' });
  });
});

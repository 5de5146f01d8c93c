import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage, EventRoutingKeys } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Applications as senders (issue #15): API keys and inbox tokens from auth's
 * events, subscribers as recipients, batches, application fields.
 */

const NOTIFICATIONS = '/api/v1/notifications';
const text = { channels: ['in_app'], title: 'Order shipped', body: 'It is on its way' };

describe('applications sending through the notification service', () => {
  let h: Harness;
  beforeAll(async () => {
    // Lifted quotas: a batch of 1,000 is the point here (quotas have their own test below).
    const lifted = { perMinute: 0, perDay: 0 };
    h = await startHarness('notif-apps', {
      settings: { sendQuotas: { in_app: lifted, email: lifted, sms: lifted, push: lifted } },
    });
    await h.createCategories('orders', 'digest');
  });
  afterAll(() => h.close());

  const withKey = (key: string) => ({ authorization: `Bearer ${key}` });
  const send = (key: string, body: Json, headers: Record<string, string> = {}) =>
    h.request('POST', NOTIFICATIONS, { headers: { ...withKey(key), ...headers }, body });

  it('lets a key with only notifications:send notify a subscriber created a moment before, and nothing else', async () => {
    const sender = await h.createApiKey(['notifications:send']);
    await h.upsertSubscriber('customer-42', {
      email: 'ada@shop.example',
      name: 'Ada',
      locale: 'en',
      timezone: 'Europe/Paris',
    });
    const created = await h.tapCreated();

    const reply = await send(sender.key, {
      ...text,
      channels: ['in_app', 'email'],
      recipient: { subscriberId: 'customer-42' },
      actor: 'Grace (warehouse)',
      category: 'orders',
      tenant: 'shop-1',
      data: { orderId: 'A-17', 'dotted.key': true },
    });
    expect(reply.statusCode).toBe(202);
    const { id } = reply.json();

    const stored = await h.models.notifications.findById(id).lean<Json>();
    expect(stored).toMatchObject({
      userId: 'sub:customer-42',
      senderId: sender.snapshot.keyId,
      // given by a trusted application: sent to as is, no verification asked
      recipient: { userId: 'sub:customer-42', email: 'ada@shop.example', name: 'Ada', locale: 'en' },
      actor: 'Grace (warehouse)',
      category: 'orders',
      tenant: 'shop-1',
    });
    const events = await waitFor(
      async () => {
        const messages = await h.drainCreated(created);
        return messages.length ? messages : undefined;
      },
      { description: 'notification.created' },
    );
    expect(events[0]).toMatchObject({
      userId: 'sub:customer-42',
      notification: {
        id,
        actor: 'Grace (warehouse)',
        category: 'orders',
        tenant: 'shop-1',
        data: { orderId: 'A-17', 'dotted.key': true },
      },
    });

    // Not the templates, not an inbox: the key holds neither scope.
    const templates = await h.request('GET', '/api/v1/templates', { headers: withKey(sender.key) });
    expect(templates.statusCode).toBe(403);
    expect(templates.json()).toMatchObject({ code: 'missing_scope' });
    const inbox = await h.request('GET', NOTIFICATIONS, { headers: withKey(sender.key) });
    expect(inbox.statusCode).toBe(403);
    expect(inbox.json()).toMatchObject({ code: 'missing_scope' });
    const status = await h.request('GET', `${NOTIFICATIONS}/${id}/status`, { headers: withKey(sender.key) });
    expect(status.statusCode).toBe(403);

    // Someone the read model does not know.
    const unknown = await send(sender.key, { ...text, recipient: { subscriberId: 'nobody-here' } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'unknown_recipient' });
  });

  it('reaches a registered user by id as a subscriber id, and lets a key with notifications:read see any notification', async () => {
    const user = await h.registerUser();
    const keys = await h.createApiKey(['notifications:send', 'notifications:read']);
    const reply = await send(keys.key, { ...text, recipient: { subscriberId: user.userId } });
    expect(reply.statusCode).toBe(202);
    const stored = await h.models.notifications.findById(reply.json().id).lean<Json>();
    expect(stored.userId).toBe(user.userId);

    // The user sees it in their own inbox; the key reads it by id and status.
    const inbox = await h.request('GET', NOTIFICATIONS, { token: h.token(user.userId) });
    expect(inbox.json().items.map((item: Json) => item.id)).toContain(reply.json().id);
    const detail = await h.request('GET', `${NOTIFICATIONS}/${reply.json().id}`, {
      headers: withKey(keys.key),
    });
    expect(detail.statusCode).toBe(200);
    const status = await h.request('GET', `${NOTIFICATIONS}/${reply.json().id}/status`, {
      headers: withKey(keys.key),
    });
    expect(status.statusCode).toBe(200);

    // A user still notifies only themself, by whichever name.
    const other = await h.registerUser();
    const selfOnly = await h.request('POST', NOTIFICATIONS, {
      token: h.token(user.userId),
      body: { ...text, recipient: { subscriberId: other.userId } },
    });
    expect(selfOnly.statusCode).toBe(403);
    expect(selfOnly.json()).toMatchObject({ code: 'forbidden_recipient' });
  });

  it("opens a subscriber's own inbox with its inbox token, and nothing else", async () => {
    const app = await h.createApiKey(['notifications:send']);
    await h.upsertSubscriber('reader-1', { name: 'Reader' });
    await h.upsertSubscriber('reader-2', { name: 'Other' });
    const mine = (
      await send(app.key, { ...text, recipient: { subscriberId: 'reader-1' }, actor: 'Shop', data: { n: 1 } })
    ).json().id;
    const theirs = (await send(app.key, { ...text, recipient: { subscriberId: 'reader-2' } })).json().id;
    const token = h.inboxToken('reader-1');

    const inbox = await h.request('GET', NOTIFICATIONS, { token });
    expect(inbox.statusCode).toBe(200);
    expect(inbox.json().items).toEqual([
      expect.objectContaining({ id: mine, actor: 'Shop', data: { n: 1 }, read: false }),
    ]);
    expect((await h.request('GET', `${NOTIFICATIONS}/unread-count`, { token })).json()).toEqual({
      unreadCount: 1,
    });
    const since = await h.request('GET', `${NOTIFICATIONS}?since=2000-01-01T00:00:00.000Z`, { token });
    expect(since.json().items.map((item: Json) => item.id)).toEqual([mine]);
    expect((await h.request('GET', `${NOTIFICATIONS}/${mine}`, { token })).statusCode).toBe(200);
    const read = await h.request('PATCH', `${NOTIFICATIONS}/${mine}`, { token, body: { read: true } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ read: true });
    const archived = await h.request('PATCH', `${NOTIFICATIONS}/${mine}`, {
      token,
      body: { archived: true },
    });
    expect(archived.json()).toMatchObject({ archived: true });

    // Another subscriber's notification does not exist for it.
    const foreign = await h.request('GET', `${NOTIFICATIONS}/${theirs}`, { token });
    expect(foreign.statusCode).toBe(404);
    expect(
      (await h.request('PATCH', `${NOTIFICATIONS}/${theirs}`, { token, body: { read: true } })).statusCode,
    ).toBe(404);

    // Sending, templates and admin routes are not an inbox.
    const sending = await h.request('POST', NOTIFICATIONS, {
      token,
      body: { ...text, recipient: { subscriberId: 'reader-1' } },
    });
    expect(sending.statusCode).toBe(403);
    const templates = await h.request('GET', '/api/v1/templates', { token });
    expect(templates.statusCode).toBe(403);
    expect(templates.json()).toMatchObject({ code: 'principal_not_allowed' });
    expect((await h.request('GET', '/api/v1/admin/suppressions', { token })).statusCode).toBe(403);
  });

  it('opens templates to keys by scope, admin routes to admin keys, and keeps templates from normal users', async () => {
    const reader = await h.createApiKey(['templates:read']);
    const writer = await h.createApiKey(['templates:write']);
    const admin = await h.createApiKey(['admin']);
    const template = {
      key: `app-${randomUUID().slice(0, 8)}`,
      channels: ['in_app'],
      defaultLocale: 'en',
      locales: { en: { inApp: { title: 'Hi {{name}}', body: 'Welcome' } } },
    };

    const refused = await h.request('POST', '/api/v1/templates', {
      headers: withKey(reader.key),
      body: template,
    });
    expect(refused.statusCode).toBe(403);
    const created = await h.request('POST', '/api/v1/templates', {
      headers: withKey(writer.key),
      body: template,
    });
    expect(created.statusCode).toBe(201);
    const read = await h.request('GET', `/api/v1/templates/${template.key}`, {
      headers: withKey(reader.key),
    });
    expect(read.statusCode).toBe(200);

    const user = await h.registerUser();
    expect((await h.request('GET', '/api/v1/templates', { token: h.token(user.userId) })).statusCode).toBe(
      403,
    );

    expect(
      (await h.request('GET', '/api/v1/admin/suppressions', { headers: withKey(admin.key) })).statusCode,
    ).toBe(200);
    expect(
      (await h.request('GET', '/api/v1/admin/suppressions', { headers: withKey(writer.key) })).statusCode,
    ).toBe(403);
  });

  it('lets only keys with templates:write send raw html or a system template', async () => {
    await h.upsertSubscriber('html-reader', { email: 'html@shop.example' });
    const plain = await h.createApiKey(['notifications:send']);
    const trusted = await h.createApiKey(['notifications:send', 'templates:write']);
    const html = {
      ...text,
      channels: ['email'],
      html: '<p>Hi</p>',
      recipient: { subscriberId: 'html-reader' },
    };
    const system = {
      channels: ['in_app'],
      template: { key: 'welcome', data: { name: 'Ada' } },
      recipient: { subscriberId: 'html-reader' },
    };

    expect((await send(plain.key, html)).json()).toMatchObject({ status: 403, code: 'raw_html_forbidden' });
    expect((await send(plain.key, system)).json()).toMatchObject({
      status: 403,
      code: 'system_template_forbidden',
    });
    expect((await send(trusted.key, html)).statusCode).toBe(202);
    expect((await send(trusted.key, system)).statusCode).toBe(202);
  });

  it('makes one notification per recipient of a batch of 1,000, and none more when it is replayed', async () => {
    const app = await h.createApiKey(['notifications:send']);
    const ids = Array.from({ length: 1_000 }, (_, i) => `batch-${i}`);
    // Auth's events for a thousand subscribers, then wait until the read model has them all.
    await Promise.all(
      ids.map((externalId) => {
        const at = new Date().toISOString();
        return h.publishEvent(
          EventRoutingKeys.subscriberUpserted,
          createMessage(
            MessageTypes.subscriberUpserted,
            { externalId, subscriberId: `sub:${externalId}`, createdAt: at, updatedAt: at, revision: 1 },
            { correlationId: 'test' },
          ),
        );
      }),
    );
    await waitFor(async () => (await h.models.subscribers.countDocuments({ _id: /^batch-/ })) === 1_000, {
      description: 'a thousand subscribers in the read model',
      timeoutMs: 30_000,
    });

    const body = { ...text, category: 'digest', recipients: ids.map((subscriberId) => ({ subscriberId })) };
    const headers = { 'idempotency-key': `batch-${randomUUID()}` };
    const first = await send(app.key, body, headers);
    expect(first.statusCode).toBe(202);
    const accepted: Json[] = first.json().notifications;
    expect(accepted).toHaveLength(1_000);
    expect(new Set(accepted.map((n) => n.id)).size).toBe(1_000);
    const sent = { senderId: app.snapshot.keyId };
    expect(await h.models.notifications.countDocuments(sent)).toBe(1_000);
    // in order: the i-th id is the i-th recipient's
    const fifth = await h.models.notifications.findById(accepted[5].id).lean<Json>();
    expect(fifth.userId).toBe('sub:batch-5');

    const replay = await send(app.key, body, headers);
    expect(replay.statusCode).toBe(202);
    expect(replay.json().notifications.map((n: Json) => n.id)).toEqual(accepted.map((n) => n.id));
    expect(await h.models.notifications.countDocuments(sent)).toBe(1_000);

    // One unknown recipient refuses the whole batch, naming it; nothing is stored.
    const bad = await send(app.key, {
      ...text,
      recipients: [{ subscriberId: 'batch-1' }, { subscriberId: 'not-a-subscriber' }],
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({
      code: 'unknown_recipient',
      detail: expect.stringContaining('recipients/1'),
    });
    expect(await h.models.notifications.countDocuments(sent)).toBe(1_000);

    // More than 1,000, or both forms at once: 400.
    const tooMany = await send(app.key, {
      ...text,
      recipients: [...body.recipients, { subscriberId: 'batch-0' }],
    });
    expect(tooMany.statusCode).toBe(400);
    const both = await send(app.key, { ...text, recipient: { subscriberId: 'batch-0' }, recipients: [] });
    expect(both.statusCode).toBe(400);
  });

  it('erases a deleted subscriber and keeps its delivery records with hashed addresses', async () => {
    const app = await h.createApiKey(['notifications:send']);
    const subscriber = await h.upsertSubscriber('leaving-1', {
      email: 'leaving@shop.example',
      phone: '+14155550123',
      name: 'Leaving',
    });
    const { id } = (
      await send(app.key, {
        ...text,
        channels: ['in_app', 'email'],
        recipient: { subscriberId: 'leaving-1' },
      })
    ).json();

    await h.deleteSubscriber('leaving-1', subscriber.revision + 1);
    const record = await waitFor(
      async () => {
        const stored = await h.models.notifications.findById(id).lean<Json>();
        // erasure hashes each address, then drops the name last: wait for the whole of it
        return stored.recipient.email?.startsWith('sha256:') && stored.recipient.name === undefined
          ? stored
          : undefined;
      },
      { description: 'the addresses replaced by their hash and the name gone' },
    );
    expect(record.recipient).toEqual({
      userId: 'sub:leaving-1',
      email: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      phone: expect.stringMatching(/^sha256:/),
    });
    expect(record.deliveries.email).toBeDefined();

    const tombstone = await h.models.subscribers.findById('leaving-1').lean<Json>();
    expect(tombstone).not.toHaveProperty('email');
    expect(tombstone).not.toHaveProperty('name');
    expect(tombstone).not.toHaveProperty('phone');

    const again = await send(app.key, { ...text, recipient: { subscriberId: 'leaving-1' } });
    expect(again.json()).toMatchObject({ status: 422, code: 'unknown_recipient' });

    // A late, older upsert does not bring the data back.
    await h.publishEvent(
      EventRoutingKeys.subscriberUpserted,
      createMessage(MessageTypes.subscriberUpserted, { ...subscriber }, { correlationId: 'late' }),
    );
    await h.upsertSubscriber('probe-after-late', {});
    expect(await h.models.subscribers.findById('leaving-1').lean<Json>()).not.toHaveProperty('email');
  });

  it('answers bad keys with a clear problem, never a 5xx', async () => {
    const valid = await h.createApiKey(['notifications:send']);
    const expired = await h.createApiKey(['notifications:send'], {
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const cases: [string, { url: string; authorization?: string }, number, string][] = [
      ['malformed', { url: NOTIFICATIONS, authorization: 'Bearer hk_not-a-key' }, 401, 'invalid_api_key'],
      [
        'unknown',
        { url: NOTIFICATIONS, authorization: `Bearer hk_${'0'.repeat(16)}_${'A'.repeat(43)}` },
        401,
        'invalid_api_key',
      ],
      [
        'wrong secret',
        { url: NOTIFICATIONS, authorization: `Bearer hk_${valid.snapshot.keyId}_${'B'.repeat(43)}` },
        401,
        'invalid_api_key',
      ],
      ['expired', { url: NOTIFICATIONS, authorization: `Bearer ${expired.key}` }, 401, 'invalid_api_key'],
      ['in the query', { url: `${NOTIFICATIONS}?api_key=${valid.key}` }, 400, 'api_key_in_query'],
      [
        'in the query with a header too',
        { url: `${NOTIFICATIONS}?next=${valid.key}`, authorization: `Bearer ${valid.key}` },
        400,
        'api_key_in_query',
      ],
    ];
    for (const [name, request, status, code] of cases) {
      const reply = await h.app.inject({
        method: 'POST',
        url: request.url,
        headers: request.authorization ? { authorization: request.authorization } : {},
        payload: { ...text, recipient: { subscriberId: 'customer-42' } },
      });
      expect([name, reply.statusCode, reply.headers['content-type']]).toEqual([
        name,
        status,
        expect.stringContaining('application/problem+json'),
      ]);
      expect(reply.json()).toMatchObject({ status, code });
      expect(reply.body).not.toContain(valid.key);
    }
  });

  it('documents both security schemes on every authenticated route', async () => {
    const spec = (await h.request('GET', '/docs/json')).json();
    const authenticated = Object.entries(spec.paths as Record<string, Record<string, Json>>).flatMap(
      ([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => path.startsWith('/api/v1/') && operation.responses?.['401'])
          .map(([method, operation]) => [`${method} ${path}`, operation.security]),
    );
    expect(authenticated.length).toBeGreaterThan(15);
    for (const [route, security] of authenticated) {
      expect([route, security]).toEqual([route, [{ bearerAuth: [] }, { apiKeyAuth: [] }]]);
    }
  });
});

describe('API key quotas', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('notif-apps-quota', {
      settings: {
        sendQuotas: {
          in_app: { perMinute: 3, perDay: 0 },
          email: { perMinute: 0, perDay: 0 },
          sms: { perMinute: 0, perDay: 0 },
          push: { perMinute: 0, perDay: 0 },
        },
      },
    });
  });
  afterAll(() => h.close());

  it('counts a key as apikey:<id>, a batch as one per recipient, and exempts admin keys', async () => {
    const app = await h.createApiKey(['notifications:send']);
    const admin = await h.createApiKey(['admin']);
    await h.upsertSubscriber('q-1');
    const batch = { ...text, recipients: [{ subscriberId: 'q-1' }, { subscriberId: 'q-1' }] };
    const headers = { authorization: `Bearer ${app.key}` };
    expect((await h.request('POST', NOTIFICATIONS, { headers, body: batch })).statusCode).toBe(202);
    const over = await h.request('POST', NOTIFICATIONS, { headers, body: batch });
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ code: 'quota_exceeded' });
    expect(await h.models.quotaCounters.countDocuments({ sender: `apikey:${app.snapshot.keyId}` })).toBe(1);

    const adminHeaders = { authorization: `Bearer ${admin.key}` };
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await h.request('POST', NOTIFICATIONS, { headers: adminHeaders, body: batch })).statusCode,
      ).toBe(202);
    }
  });
});

import { waitFor } from '@herald/test-support';
import { buildNotification } from '../src/notifications/domain/create-notification';
import { startHarness, type Harness } from './harness';

describe('POST /api/v1/notifications', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('notif-create');
    await h.createCategories('orders');
  });
  afterAll(() => h.close());

  const base = { title: 'Your order shipped', body: 'It arrives on Tuesday.' };

  it('accepts a notification on every channel, stores it, and publishes each job and the created event once', async () => {
    const user = await h.registerUser({ phone: '+14155550100', locale: 'fr' });
    const created = await h.tapCreated();
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('admin-1', 'admin'),
      body: {
        ...base,
        recipient: { userId: user.userId },
        channels: ['in_app', 'email', 'sms'],
        category: 'orders',
        priority: 'high',
        metadata: { orderId: 'o-42' },
      },
    });

    expect(response.statusCode).toBe(202);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const accepted = response.json();
    expect(accepted).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      statuses: { in_app: 'delivered', email: 'queued', sms: 'queued' },
    });

    const email = await waitFor(async () => (await h.drain(h.names.queues.work.email))[0], {
      description: 'the email job',
    });
    const sms = await waitFor(async () => (await h.drain(h.names.queues.work.sms))[0], {
      description: 'the SMS job',
    });
    await waitFor(() => h.confirmed(accepted.id), { description: 'the confirmations logged' });
    const record = (await h.models.notifications.findById(accepted.id).lean())!;

    expect(email).toMatchObject({
      type: 'delivery.job',
      messageId: record.deliveries.email!.jobId,
      payload: {
        notificationId: accepted.id,
        jobId: record.deliveries.email!.jobId,
        channel: 'email',
        recipient: { userId: user.userId, email: user.email, locale: 'fr', name: 'Ada Lovelace' },
        content: { subject: base.title, text: base.body },
        metadata: { orderId: 'o-42' },
        category: 'orders',
        priority: 'high',
      },
    });
    expect(sms).toMatchObject({
      messageId: record.deliveries.sms!.jobId,
      payload: { channel: 'sms', recipient: { phone: '+14155550100' } },
    });
    // stored through the driver: timestamps set, and nothing absent written as null
    expect(record.createdAt).toBeInstanceOf(Date);
    expect(record.updatedAt).toBeInstanceOf(Date);
    for (const field of ['html', 'sendAt', 'broadcastId', 'template', 'rendered'])
      expect({ field, stored: field in record }).toEqual({ field, stored: false });
    // written once: no history of its acceptance, no outbox or lease fields, in-app delivered already
    for (const field of ['history', 'outbox', 'outboxLeaseUntil', 'outboxLeaseOwner'])
      expect({ field, stored: field in record }).toEqual({ field, stored: false });
    expect(record.deliveries.in_app).toMatchObject({ status: 'delivered' });
    expect(record.updatedAt).toEqual(record.createdAt);

    const events = await waitFor(async () => {
      const drained = await h.drainCreated(created);
      return drained.length ? drained : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      via: 'notifications.created',
      userId: user.userId,
      correlationId: expect.any(String),
      notification: {
        id: accepted.id,
        title: base.title,
        read: false,
        channels: ['in_app', 'email', 'sms'],
      },
    });
    // Nothing left over: exactly one job per channel.
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);
  });

  it('publishes, after the grace period, what an instance that died before publishing left behind', async () => {
    const ctx = h.app.context;
    // Stored by an instance that never got to publish.
    const document = buildNotification(
      ctx,
      {
        recipient: { email: 'orphan@example.org' },
        senderId: 'admin-1',
        channels: ['email'],
        title: 'Orphan',
        body: 'Saved before a crash',
        correlationId: 'crashed-request',
      },
      'instance-that-died',
    );
    await h.models.notifications.insertMany([document]);
    const graceEnds = document.outboxDueAt!.getTime();

    const job = await waitFor(async () => (await h.drain(h.names.queues.work.email))[0], {
      description: 'the relay to publish the orphaned job',
    });
    expect(Date.now()).toBeGreaterThanOrEqual(graceEnds);
    expect(job).toMatchObject({
      messageId: document.deliveries.email!.jobId,
      correlationId: 'crashed-request',
      payload: { notificationId: document._id.toHexString(), recipient: { email: 'orphan@example.org' } },
    });
  });

  it('lets a user notify themself in-app without any known profile', async () => {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('self-1'),
      body: { ...base, recipient: { userId: 'self-1' }, channels: ['in_app'] },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json().statuses).toEqual({ in_app: 'delivered' });
  });

  it('lets an admin email an address directly', async () => {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('admin-1', 'admin'),
      body: { ...base, recipient: { email: 'someone@example.org' }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(202);
    const job = await waitFor(async () => (await h.drain(h.names.queues.work.email))[0]);
    expect(job.payload.recipient).toEqual({ email: 'someone@example.org' });
  });

  it('forbids a user from notifying someone else', async () => {
    const other = await h.registerUser();
    for (const recipient of [{ userId: other.userId }, { email: other.email }]) {
      const response = await h.request('POST', '/api/v1/notifications', {
        token: h.token('mallory'),
        body: { ...base, recipient, channels: ['email'] },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'forbidden_recipient', status: 403 });
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('requires a valid token', async () => {
    const missing = await h.request('POST', '/api/v1/notifications', { body: base });
    expect(missing.statusCode).toBe(401);
    const forged = await h.request('POST', '/api/v1/notifications', { token: 'not.a.token', body: base });
    expect(forged.statusCode).toBe(401);
  });

  it('rejects invalid input with the fields named', async () => {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('self-1'),
      body: { recipient: { userId: 'self-1' }, channels: ['pigeon'], body: '', extra: 1 },
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json().errors.map((error: { field: string }) => error.field);
    expect(fields).toEqual(
      expect.arrayContaining(['/body/title', '/body/channels/0', '/body/body', '/body/extra']),
    );
  });

  it('rejects a sendAt in the past or not a date', async () => {
    for (const sendAt of [new Date(Date.now() - 60_000).toISOString(), 'tomorrow']) {
      const response = await h.request('POST', '/api/v1/notifications', {
        token: h.token('self-1'),
        body: { ...base, recipient: { userId: 'self-1' }, channels: ['in_app'], sendAt },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([expect.objectContaining({ field: '/body/sendAt' })]);
    }
  });

  it('refuses channels the recipient cannot be reached on', async () => {
    const admin = h.token('admin-1', 'admin');
    const cases = [
      { recipient: { email: 'a@example.org' }, channels: ['in_app'], code: 'channel_unreachable' },
      { recipient: { userId: 'nobody-known' }, channels: ['email'], code: 'unknown_recipient' },
      {
        recipient: { userId: (await h.registerUser()).userId },
        channels: ['sms'],
        code: 'recipient_unreachable',
      },
    ];
    for (const { code, ...input } of cases) {
      const response = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: { ...base, ...input },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().code).toBe(code);
    }
  });

  it('reports itself ready when MongoDB and RabbitMQ answer', async () => {
    const ready = await h.request('GET', '/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { mongo: 'up', amqp: 'up' } });
  });

  it('documents every route in the OpenAPI document', async () => {
    const paths = Object.keys((await h.request('GET', '/docs/json')).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/notifications/',
        '/api/v1/notifications/{id}',
        '/api/v1/notifications/{id}/status',
        '/api/v1/notifications/unread-count',
        '/api/v1/notifications/read-all',
        '/api/v1/notifications/broadcast',
        '/api/v1/notifications/broadcast/{id}',
      ]),
    );
  });
});

import { randomUUID } from 'node:crypto';
import amqplib, { type Channel as AmqpChannel, type ChannelModel } from 'amqplib';
import { EventRoutingKeys, Headers, MessageTypes, createMessage } from '@herald/contracts';
import {
  TestTokenIssuer,
  connectTestMongo,
  testAmqpUrl,
  testLogger,
  waitFor,
  type TestMongo,
} from '@herald/test-support';
import { startHarness as startWorker, type WorkerHarness } from '../../delivery-worker/test/harness';
import { fullHistory } from '../src/notifications/domain/views';
import { buildApp, type NotificationApp } from '../src/app';
import { type Json, type Reply } from './harness';

const BASE = '/api/v1/admin/dead-letters';

/*
 * The notification service and the real delivery worker on one broker
 * namespace, the worker sending through mailgun.js to the fake Mailgun:
 * what the worker dead-letters lands in the admin API, and a replay goes
 * all the way to `sent`.
 */
describe('dead letters you can act on', () => {
  let world: WorkerHarness;
  let mongo: TestMongo;
  let app: NotificationApp;
  let connection: ChannelModel;
  let channel: AmqpChannel;
  const issuer = new TestTokenIssuer();
  const adminId = randomUUID();
  const admin = issuer.sign({ sub: adminId, role: 'admin' });
  let userId: string;
  let email: string;

  beforeAll(async () => {
    world = await startWorker('dead-letters');
    await world.startApp();
    mongo = await connectTestMongo('dead-letters-notification');
    app = await buildApp({
      logger: testLogger(),
      mongo: mongo.connection,
      amqp: world.amqp,
      verifier: issuer.verifier(),
      settings: { relayIntervalMs: 100, outboxGraceMs: 1_000, outboxLeaseMs: 2_000 },
    });
    await app.ready();
    connection = await amqplib.connect(testAmqpUrl());
    channel = await connection.createChannel();

    userId = randomUUID();
    email = `dl-${userId.slice(0, 8)}@example.com`;
    await world.amqp.publish(
      world.amqp.names.exchanges.events,
      EventRoutingKeys.userRegistered,
      createMessage(
        MessageTypes.userRegistered,
        { userId, email, name: 'Grace Hopper', role: 'user', emailVerified: true },
        { correlationId: 'test' },
      ),
    );
    await waitFor(() => app.context.models.users.exists({ _id: userId }), { description: 'the user' });
  });

  afterAll(async () => {
    await app.close();
    await channel.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await world.close();
    await mongo.dropAndClose();
  });

  beforeEach(() => {
    world.mailgun.reset();
  });

  function request(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    token: string | null = admin,
  ): Promise<Reply> {
    return app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  async function sendEmail(): Promise<string> {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/notifications',
      headers: { authorization: `Bearer ${issuer.sign({ sub: userId, role: 'user' })}` },
      payload: {
        title: 'Invoice',
        body: 'Your invoice is ready',
        recipient: { userId },
        channels: ['email'],
      },
    });
    expect(response.statusCode).toBe(202);
    return response.json<Json>().id as string;
  }

  async function emailStatus(id: string): Promise<string | undefined> {
    const record = await app.context.models.notifications.findById(id).lean();
    return record?.deliveries.email?.status;
  }

  const untilEmailStatus = (id: string, status: string) =>
    waitFor(async () => (await emailStatus(id)) === status, {
      description: `email ${status} for ${id}`,
      timeoutMs: 10_000,
    });

  async function deadLetterOf(notificationId: string): Promise<Json> {
    return waitFor(
      async () => {
        const page = (await request('GET', `${BASE}?notificationId=${notificationId}`)).json<Json>();
        return page.items[0] as Json | undefined;
      },
      { description: `the dead letter of ${notificationId}`, timeoutMs: 10_000 },
    );
  }

  async function deadLetterById(predicate: (item: Json) => boolean, description: string): Promise<Json> {
    return waitFor(
      async () => {
        const page = (await request('GET', `${BASE}?limit=100`)).json<Json>();
        return (page.items as Json[]).find(predicate);
      },
      { description, timeoutMs: 10_000 },
    );
  }

  it('stores a permanent failure with its reason, and a replay gets the email sent', async () => {
    world.mailgun.failFor(email, { status: 400, message: "'to' parameter is not a valid address" }, 1);
    const id = await sendEmail();
    await untilEmailStatus(id, 'failed');

    const entry = await deadLetterOf(id);
    expect(entry).toMatchObject({
      state: 'pending',
      reason: 'permanent_error',
      errorCode: 'rejected_by_provider',
      attempts: 1,
      notificationId: id,
      channel: 'email',
      messageType: 'delivery.job',
      originalQueue: world.amqp.names.queues.work.email,
      replay: null,
    });
    expect(new Date(entry.deadLetteredAt).getTime()).toBeLessThanOrEqual(Date.now());
    expect(world.mailgun.accepted).toHaveLength(0);

    const detail = (await request('GET', `${BASE}/${entry.id}`)).json<Json>();
    expect(detail.validEnvelope).toBe(true);
    expect(detail.body.encoding).toBe('utf8');
    expect(detail.payload.payload).toMatchObject({ notificationId: id, channel: 'email' });
    expect(detail.headers[Headers.deadLetterReason]).toBe('permanent_error');

    const replayed = await request('POST', `${BASE}/${entry.id}/replay`);
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json<Json>()).toMatchObject({ id: entry.id, state: 'replayed', replay: { by: adminId } });

    await untilEmailStatus(id, 'sent');
    expect(world.mailgun.accepted).toHaveLength(1);
    expect(world.mailgun.accepted[0]!.fields['v:notification-id']).toEqual([id]);
    const record = await app.context.models.notifications.findById(id).lean();
    // The worker reports `sending` and then the outcome; with several events in flight the
    // outcome may be applied first, and a `sending` after it is correctly ignored (a status
    // never moves backwards). So `sending` steps are not asserted, only the path that matters.
    expect(
      fullHistory(record!)
        .filter((step) => step.status !== 'sending')
        .map((step) => [step.status, step.source]),
    ).toEqual([
      ['queued', 'api'],
      ['failed', 'worker'],
      ['queued', `admin:${adminId}`],
      ['sent', 'worker:mailgun'],
    ]);
    // The worker saw attempt 1 again: the replay reset the retry count.
    const sent = world.statusesOf(id).find((status) => status.status === 'sent');
    expect(sent?.attempt).toBe(1);

    const again = await request('POST', `${BASE}/${entry.id}/replay`);
    expect(again.statusCode).toBe(409);
    expect(again.json<Json>().code).toBe('already_replayed');
    expect(world.mailgun.accepted).toHaveLength(1);
  });

  it('stores a job whose retries ran out as dead, with every attempt counted', async () => {
    world.mailgun.failFor(email, 'server_error', 3);
    const id = await sendEmail();
    await untilEmailStatus(id, 'dead');
    const entry = await deadLetterOf(id);
    expect(entry).toMatchObject({
      reason: 'retries_exhausted',
      errorCode: 'provider_unavailable',
      attempts: 3,
      channel: 'email',
    });
    expect(entry.firstFailedAt).not.toBeNull();
    expect(new Date(entry.firstFailedAt).getTime()).toBeLessThan(new Date(entry.deadLetteredAt).getTime());
  });

  it('refuses to replay a delivery that is no longer failed or dead', async () => {
    world.mailgun.failFor(email, { status: 400 }, 1);
    const id = await sendEmail();
    await untilEmailStatus(id, 'failed');
    const entry = await deadLetterOf(id);
    // As if a provider webhook had since reported the message delivered by other means.
    await app.context.models.notifications.updateOne(
      { _id: id },
      { $set: { 'deliveries.email.status': 'sent' } },
    );

    const replay = await request('POST', `${BASE}/${entry.id}/replay`);
    expect(replay.statusCode).toBe(409);
    expect(replay.json<Json>().code).toBe('status_not_replayable');
    expect((await request('GET', `${BASE}/${entry.id}`)).json<Json>().state).toBe('pending');
  });

  it('replays any other message into the queue it failed in, and stores its next failure anew', async () => {
    const report = createMessage(
      MessageTypes.deliveryStatus,
      {
        notificationId: '0123456789abcdef01234567',
        channel: 'sms',
        status: 'sent',
        attempt: 1,
        at: new Date().toISOString(),
      },
      { correlationId: 'stray-report' },
    );
    await world.amqp.publish(world.amqp.names.exchanges.events, EventRoutingKeys.deliveryStatus, report);
    const first = await deadLetterById((item) => item.messageId === report.messageId, 'the stray report');
    expect(first).toMatchObject({
      reason: 'permanent_error',
      errorCode: 'notification_not_found',
      originalQueue: world.amqp.names.queues.notificationEvents,
      notificationId: '0123456789abcdef01234567',
      channel: 'sms',
    });

    const replay = await request('POST', `${BASE}/${first.id}/replay`);
    expect(replay.statusCode).toBe(200);
    expect(replay.json<Json>().replay).toMatchObject({
      exchange: '',
      routingKey: world.amqp.names.queues.notificationEvents,
    });
    // Still about an unknown notification: the notification service dead-letters it again, a new entry.
    const second = await deadLetterById(
      (item) => item.messageId === report.messageId && item.id !== first.id,
      'the replayed report, dead-lettered again',
    );
    expect(second).toMatchObject({ state: 'pending', attempts: 1, reason: 'permanent_error' });
  });

  it('stores a message that is not even JSON, and keeps bytes that are not text', async () => {
    const marker = randomUUID();
    channel.publish(world.amqp.names.exchanges.work, 'email', Buffer.from(`not json ${marker}`), {
      persistent: true,
      messageId: marker,
    });
    const poison = await deadLetterById((item) => item.messageId === marker, 'the non-JSON poison');
    expect(poison).toMatchObject({
      reason: 'invalid_message',
      errorCode: 'invalid_message',
      notificationId: null,
    });
    const detail = (await request('GET', `${BASE}/${poison.id}`)).json<Json>();
    expect(detail).toMatchObject({
      validEnvelope: false,
      body: { encoding: 'utf8', data: `not json ${marker}` },
    });
    expect(detail.payload).toBeUndefined();

    const binaryId = randomUUID();
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x81]);
    channel.publish(world.amqp.names.exchanges.deadLetter, '', bytes, { messageId: binaryId });
    const binary = await deadLetterById((item) => item.messageId === binaryId, 'the binary dead letter');
    expect(binary.reason).toBe('unknown');
    const binaryDetail = (await request('GET', `${BASE}/${binary.id}`)).json<Json>();
    expect(binaryDetail.body).toEqual({ encoding: 'base64', data: bytes.toString('base64') });
    // Nothing says where it came from: it cannot be replayed, and stays pending.
    const replay = await request('POST', `${BASE}/${binary.id}/replay`);
    expect(replay.statusCode).toBe(422);
    expect((await request('GET', `${BASE}/${binary.id}`)).json<Json>().state).toBe('pending');
  });

  it('stores a redelivered dead letter once', async () => {
    const messageId = randomUUID();
    const headers = {
      [Headers.deadLetterReason]: 'permanent_error',
      [Headers.deadLetteredAt]: new Date().toISOString(),
    };
    for (let copy = 0; copy < 2; copy += 1) {
      channel.publish(world.amqp.names.exchanges.deadLetter, '', Buffer.from('{}'), { messageId, headers });
    }
    const later = randomUUID();
    channel.publish(world.amqp.names.exchanges.deadLetter, '', Buffer.from('{}'), { messageId: later });
    // The queue is drained in order: once the later one is stored, both copies were handled.
    await deadLetterById((item) => item.messageId === later, 'the later dead letter');
    expect(
      await app.context.models.notifications.db.collection('dead_letters').countDocuments({ messageId }),
    ).toBe(1);
  });

  it('discards a dead letter for good', async () => {
    const messageId = randomUUID();
    channel.publish(world.amqp.names.exchanges.deadLetter, '', Buffer.from('{"x":1}'), { messageId });
    const entry = await deadLetterById((item) => item.messageId === messageId, 'the dead letter to discard');

    const discarded = await request('DELETE', `${BASE}/${entry.id}`);
    expect(discarded.statusCode).toBe(204);
    expect((await request('GET', `${BASE}/${entry.id}`)).statusCode).toBe(404);
    const page = (await request('GET', `${BASE}?limit=100`)).json<Json>();
    expect((page.items as Json[]).map((item) => item.id)).not.toContain(entry.id);
    expect((await request('DELETE', `${BASE}/${entry.id}`)).statusCode).toBe(404);
  });

  it('pages newest first without repeats, and filters by reason and channel', async () => {
    const all = (await request('GET', `${BASE}?limit=100`)).json<Json>().items as Json[];
    expect(all.length).toBeGreaterThanOrEqual(5);
    const times = all.map((item) => new Date(item.deadLetteredAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${BASE}?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await request('GET', url)).json<Json>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...(page.items as Json[]).map((item) => item.id as string));
      cursor = page.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(all.map((item) => item.id));

    const exhausted = (await request('GET', `${BASE}?reason=retries_exhausted`)).json<Json>().items as Json[];
    expect(exhausted.length).toBeGreaterThan(0);
    expect(exhausted.every((item) => item.reason === 'retries_exhausted')).toBe(true);
    const emails = (await request('GET', `${BASE}?channel=email&limit=100`)).json<Json>().items as Json[];
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.every((item) => item.channel === 'email')).toBe(true);
    expect(emails.length).toBeLessThan(all.length);

    const bad = await request('GET', `${BASE}?cursor=nonsense`);
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });

  it('is for admins only', async () => {
    const user = issuer.sign({ sub: userId, role: 'user' });
    expect((await request('GET', BASE, null)).statusCode).toBe(401);
    const forbidden = await request('GET', BASE, user);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    const someId = '0123456789abcdef01234567';
    expect((await request('POST', `${BASE}/${someId}/replay`, user)).statusCode).toBe(403);
    expect((await request('DELETE', `${BASE}/${someId}`, user)).statusCode).toBe(403);
    expect((await request('GET', `${BASE}/${someId}`)).statusCode).toBe(404);
    expect((await request('GET', `${BASE}/not-an-id`)).statusCode).toBe(400);
  });

  it('documents every route in the OpenAPI document', async () => {
    const paths = (await app.inject({ url: '/docs/json' })).json<Json>().paths;
    expect(Object.keys(paths[`${BASE}/`])).toEqual(['get']);
    expect(paths[`${BASE}/`].get.responses['200']).toBeDefined();
    expect(paths[`${BASE}/{id}/replay`].post.responses).toHaveProperty('409');
    expect(Object.keys(paths[`${BASE}/{id}`]).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(paths[`${BASE}/{id}/replay`])).toEqual(['post']);
  });
});

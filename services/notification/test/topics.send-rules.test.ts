// Sends to a topic under the rules single sends obey (#24): the sender's send
// quota charged per member, `sendAt` (durable, cancellable), quiet hours per
// member. The clock is injected and the relay driven by hand.
import { testLogger, waitFor } from '@herald/test-support';
import { buildApp } from '../src/app';
import { startHarness, type Harness, type Json } from './harness';
import { topicEvents } from './topic-events';

const unlimited = { perMinute: 0, perDay: 0 };

describe('sends to a topic: quota, schedule, quiet hours', () => {
  let h: Harness;
  // 23:00 in Paris (UTC+1 in January)
  let clock = new Date('2026-01-15T22:00:00Z');
  const now = () => clock;
  let writer: string;

  beforeAll(async () => {
    h = await startHarness('notification-topic-rules', {
      now,
      settings: {
        relayIntervalMs: 60_000,
        broadcastBatchSize: 2,
        sendQuotas: {
          in_app: unlimited,
          sms: unlimited,
          push: unlimited,
          email: { perMinute: 0, perDay: 5 },
        },
      },
    });
    const events = topicEvents(h);
    writer = (await h.createApiKey(['subscribers:write'])).key;
    for (const id of ['q1', 'q2', 'q3', 'q4', 'q5', 'q6']) {
      await h.upsertSubscriber(id, { email: `${id}@example.com`, locale: 'en' });
    }
    // q1 sleeps from 22:00 to 07:00 in Paris
    const quiet = await h.request('PUT', '/api/v1/preferences/subscribers/q1', {
      token: writer,
      body: {
        channels: {},
        categories: {},
        timeZone: 'Europe/Paris',
        quietHours: { start: '22:00', end: '07:00' },
      },
    });
    expect(quiet.statusCode).toBe(200);
    await events.upserted('small', 1);
    await events.membersChanged('small', 2, { added: ['q1', 'q2', 'q3'] });
    await events.settled('small', 2, 3);
    await events.upserted('big', 1);
    await events.membersChanged('big', 2, { added: ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'] });
    await events.settled('big', 2, 6);
  });
  afterAll(() => h.close());

  const sender = async () => (await h.createApiKey(['notifications:send', 'notifications:read'])).key;
  const send = (token: string, body: Json) => h.request('POST', '/api/v1/notifications', { token, body });
  const sendState = async (id: string) => (await h.models.topicSends.findById(id).lean<Json>()).state;
  const ofSend = (topicSendId: string) =>
    h.models.notifications.find({ broadcastId: topicSendId }).sort({ userId: 1 }).lean<Json[]>();

  it('charges the send quota once per member and channel; a topic larger than what is left is refused whole', async () => {
    const key = await sender();
    // 6 members, 5 emails a day: refused before anything is stored
    const big = await send(key, { recipient: { topic: 'big' }, channels: ['email'], title: 'x', body: 'x' });
    expect(big.statusCode).toBe(429);
    expect(big.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(big.json()).toMatchObject({ status: 429, code: 'quota_exceeded' });
    expect(big.json().detail).toMatch(/email: 5 per day/);
    expect(Number(big.headers['retry-after'])).toBeGreaterThan(0);
    expect(await h.models.topicSends.countDocuments({ topic: 'big' })).toBe(0);

    // 3 members fit, and use 3 of the 5
    const small = await send(key, {
      recipient: { topic: 'small' },
      channels: ['email'],
      title: 'x',
      body: 'x',
    });
    expect(small.statusCode).toBe(202);
    // 3 more do not fit in the 2 left
    const again = await send(key, {
      recipient: { topic: 'small' },
      channels: ['email'],
      title: 'x',
      body: 'x',
    });
    expect(again.json()).toMatchObject({ status: 429, code: 'quota_exceeded' });
    expect(await h.models.topicSends.countDocuments({ topic: 'small' })).toBe(1);
    // a channel with room still goes
    const inApp = await send(key, {
      recipient: { topic: 'big' },
      channels: ['in_app'],
      title: 'x',
      body: 'x',
    });
    expect(inApp.statusCode).toBe(202);
    // a topic that does not exist charges nothing and is a 404
    const missing = await send(key, {
      recipient: { topic: 'none' },
      channels: ['email'],
      title: 'x',
      body: 'x',
    });
    expect(missing.json()).toMatchObject({ status: 404, code: 'topic_not_found' });
  });

  it("holds the email of a member inside their quiet hours until the window's end; in-app and the others at once", async () => {
    const key = await sender();
    await h.drain(h.names.queues.work.email);
    const accepted = await send(key, {
      recipient: { topic: 'small' },
      channels: ['in_app', 'email'],
      title: 'Late news',
      body: 'x',
    });
    expect(accepted.statusCode).toBe(202);
    const { topicSendId } = accepted.json();
    await waitFor(async () => (await sendState(topicSendId)) === 'completed');
    const [q1, q2, q3] = await ofSend(topicSendId);
    expect(q1!.userId).toBe('sub:q1');
    expect(q1!.deliveries.email).toMatchObject({
      status: 'queued',
      heldUntil: new Date('2026-01-16T06:00:00Z'),
    });
    expect(q1!.deliveries.in_app.status).toBe('delivered');
    for (const other of [q2!, q3!]) expect(other.deliveries.email.heldUntil).toBeUndefined();

    const ids = (records: Json[]) => records.map((record) => record._id.toHexString());
    // this send's jobs (the first test's send to the same topic has its own held email)
    const jobsFor = (jobs: Json[]) =>
      jobs.map((job) => String(job.payload.notificationId)).filter((id) => ids([q1!, q2!, q3!]).includes(id));
    // the jobs of this send as they reach the queue (the first test's send to the topic may add its own)
    const published: string[] = [];
    const collect = async () => published.push(...jobsFor(await h.drain(h.names.queues.work.email)));
    await waitFor(async () => (await collect()) >= 2, { description: "q2's and q3's emails published" });
    await h.app.relay.runOnce();
    await collect();
    expect(published.sort()).toEqual(ids([q2!, q3!]).sort());

    // 07:00 in Paris: q1's email leaves, once
    published.length = 0;
    clock = new Date('2026-01-16T06:00:01Z');
    await waitFor(
      async () => {
        await h.app.relay.runOnce();
        return (await collect()) >= 1;
      },
      { description: "q1's held email published" },
    );
    await h.app.relay.runOnce();
    await collect();
    expect(published).toEqual(ids([q1!]));
  });

  it('schedules a send: stored, started by the relay at sendAt, cancellable until then', async () => {
    const key = await sender();
    const past = await send(key, {
      recipient: { topic: 'small' },
      channels: ['email'],
      title: 'x',
      body: 'x',
      sendAt: new Date(clock.getTime() - 1_000).toISOString(),
    });
    expect(past.statusCode).toBe(400);

    const sendAt = new Date(clock.getTime() + 3_600_000);
    const scheduled = await send(key, {
      recipient: { topic: 'small' },
      channels: ['email'],
      title: 'Tomorrow',
      body: 'x',
      sendAt: sendAt.toISOString(),
    });
    expect(scheduled.statusCode).toBe(202);
    expect(scheduled.json()).toMatchObject({
      state: 'scheduled',
      sendAt: sendAt.toISOString(),
      recipientCount: 3,
      processedCount: 0,
    });
    const { topicSendId } = scheduled.json();

    const toCancel = await send(key, {
      recipient: { topic: 'big' },
      channels: ['in_app'],
      title: 'Never',
      body: 'x',
      sendAt: sendAt.toISOString(),
    });
    const cancelId = toCancel.json().topicSendId as string;
    const cancel = (token: string, id = cancelId) =>
      h.request('POST', `/api/v1/topic-sends/${id}/cancel`, { token });
    // another application may not cancel it, a person neither
    expect((await cancel(await sender())).json()).toMatchObject({
      status: 404,
      code: 'topic_send_not_found',
    });
    expect((await cancel(h.token('65f2c0a1e4b0a1b2c3d4e5f7'))).statusCode).toBe(403);
    const cancelled = await cancel(key);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'cancelled', cancelledAt: clock.toISOString() });
    expect((await cancel(key)).json()).toMatchObject({ status: 409, code: 'topic_send_not_cancellable' });

    // not due: nothing happens
    await h.app.relay.runOnce();
    expect(await sendState(topicSendId)).toBe('scheduled');
    expect(await ofSend(topicSendId)).toHaveLength(0);

    // a member joins before it is due: the send counts again when it starts
    await topicEvents(h).membersChanged('small', 3, { added: ['q4'] });
    await topicEvents(h).settled('small', 3, 1);
    clock = new Date(sendAt.getTime() + 1_000);
    await h.app.relay.runOnce();
    await waitFor(async () => (await sendState(topicSendId)) === 'completed');
    expect((await ofSend(topicSendId)).map((record) => record.userId)).toEqual([
      'sub:q1',
      'sub:q2',
      'sub:q3',
      'sub:q4',
    ]);
    const stats = await h.request('GET', `/api/v1/topic-sends/${topicSendId}`, { token: key });
    expect(stats.json()).toMatchObject({ state: 'completed', recipientCount: 4, processedCount: 4 });
    // the cancelled one never ran; a started one can no longer be cancelled
    expect(await sendState(cancelId)).toBe('cancelled');
    expect(await ofSend(cancelId)).toHaveLength(0);
    expect((await cancel(key, topicSendId)).statusCode).toBe(409);
  });

  it('starts a scheduled send on an instance started after the one that accepted it', async () => {
    const key = await sender();
    const sendAt = new Date(clock.getTime() + 60_000);
    const scheduled = await send(key, {
      recipient: { topic: 'small' },
      channels: ['in_app'],
      title: 'After a restart',
      body: 'x',
      sendAt: sendAt.toISOString(),
    });
    const { topicSendId } = scheduled.json();
    // the instance that accepted it goes away; nothing of the send was kept in its memory
    await h.app.close();
    const next = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: h.broker.client,
      verifier: h.issuer.verifier(),
      settings: { relayIntervalMs: 60_000 },
      now,
    });
    await next.ready();
    try {
      clock = new Date(sendAt.getTime() + 1_000);
      await next.relay.runOnce();
      await waitFor(async () => (await sendState(topicSendId)) === 'completed');
      expect(await ofSend(topicSendId)).toHaveLength(4);
    } finally {
      await next.close();
    }
  });
});

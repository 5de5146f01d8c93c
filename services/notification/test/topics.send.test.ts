import { waitFor } from '@herald/test-support';
import { suppressionKey } from '../src/webhooks/data/webhook-models';
import { startHarness, type Harness, type Json } from './harness';
import { topicEvents } from './topic-events';

describe('sending to a topic', () => {
  let harness: Harness;
  let events: ReturnType<typeof topicEvents>;
  let sender: string;
  let writer: string;

  beforeAll(async () => {
    harness = await startHarness('notification-topics', { settings: { broadcastBatchSize: 2 } });
    events = topicEvents(harness);
    sender = (await harness.createApiKey(['notifications:send', 'notifications:read'])).key;
    writer = (await harness.createApiKey(['subscribers:write'])).key;
    for (const id of ['t1', 't2', 't3', 't4', 't5', 't6']) {
      await harness.upsertSubscriber(id, { email: `${id}@example.com`, locale: 'en' });
    }
    await harness.upsertSubscriber('nomail', { phone: '+14155550100' });
    await events.upserted('news', 1);
    await events.membersChanged('news', 2, { added: ['t1', 't2', 't3', 't4', 't5', 't6', 'nomail'] });
    await events.membersChanged('news', 4, { removed: ['t5'] });
    // an older change arriving late must not bring t5 back
    await events.membersChanged('news', 3, { added: ['t5'] });
    await events.settled('news', 2, 7);
    await waitFor(() => harness.models.topicMembers.exists({ topic: 'news', externalId: 't5', revision: 4 }));
  });
  afterAll(() => harness.close());

  const send = (body: Json, token = sender, headers: Record<string, string> = {}) =>
    harness.request('POST', '/api/v1/notifications', { token, body, headers });
  const notificationOf = (id: string) =>
    harness.models.notifications.findOne({ userId: `sub:${id}` }).lean<Json>();

  it('keeps the newest revision of each membership, whatever order the events arrive in', async () => {
    const members = await harness.models.topicMembers
      .find({ topic: 'news' })
      .sort({ externalId: 1 })
      .lean<Json[]>();
    expect(members.map((member) => [member.externalId, member.removed])).toEqual([
      ['nomail', false],
      ['t1', false],
      ['t2', false],
      ['t3', false],
      ['t4', false],
      ['t5', true],
      ['t6', false],
    ]);
  });

  it('sends to every member once, respecting preferences and suppressions; removed and deleted members get nothing', async () => {
    // t2 turned email off; t3's address is suppressed; t4 was deleted at auth
    const muted = await harness.request('PUT', '/api/v1/preferences/subscribers/t2', {
      token: writer,
      body: { channels: { email: false }, categories: {} },
    });
    expect(muted.statusCode).toBe(200);
    await harness.models.suppressions.create({
      _id: suppressionKey('t3@example.com'),
      channel: 'email',
      reason: 'bounced',
      provider: 'mailgun',
      createdAt: new Date(),
    });
    await harness.deleteSubscriber('t4', 2);

    const accepted = await send(
      { recipient: { topic: 'news' }, channels: ['email'], title: 'Hello', body: 'The news' },
      sender,
      { 'idempotency-key': 'news-1' },
    );
    expect(accepted.statusCode).toBe(202);
    const { topicSendId } = accepted.json();
    expect(accepted.json()).toMatchObject({ topic: 'news', recipientCount: 6 });
    // the same key: the same send, not a second one
    const again = await send(
      { recipient: { topic: 'news' }, channels: ['email'], title: 'Hello', body: 'The news' },
      sender,
      { 'idempotency-key': 'news-1' },
    );
    expect(again.json().topicSendId).toBe(topicSendId);

    const stats = await waitFor(async () => {
      const reply = await harness.request('GET', `/api/v1/topic-sends/${topicSendId}`, { token: sender });
      return reply.json().state === 'completed' ? reply.json() : undefined;
    });
    // t1, t2, t3, t6: nomail has no address for email, t4 is deleted, t5 was removed
    expect(stats).toMatchObject({ recipientCount: 6, processedCount: 6, notified: 4 });
    expect(stats.channels.email).toMatchObject({ recipients: 4, suppressed: 1, skipped: 1 });

    expect((await notificationOf('t1')).deliveries.email.status).toMatch(/queued|sending|sent/);
    expect((await notificationOf('t2')).deliveries.email).toMatchObject({
      status: 'skipped',
      reason: 'preference',
    });
    expect((await notificationOf('t3')).deliveries.email.status).toBe('suppressed');
    for (const none of ['t4', 't5', 'nomail']) expect(await notificationOf(none)).toBeNull();
    expect(await harness.models.notifications.countDocuments({ broadcastId: topicSendId })).toBe(4);
    expect((await notificationOf('t1')).dedupeKey).toBe(`topic-send:${topicSendId}:t1`);
  });

  it('resumes a send whose instance stopped, from its checkpoint, storing nobody twice', async () => {
    const accepted = await send({
      recipient: { topic: 'news' },
      channels: ['in_app'],
      title: 'Again',
      body: 'x',
    });
    const { topicSendId } = accepted.json();
    await waitFor(
      async () => (await harness.models.topicSends.findById(topicSendId).lean<Json>()).state === 'completed',
    );
    // as if the instance died after its first batch: the checkpoint back, the lease lapsed
    await harness.models.topicSends.updateOne(
      { _id: topicSendId },
      { $set: { state: 'running', lastExternalId: 't1', leaseUntil: new Date(0), processedCount: 2 } },
    );
    // the relay (this pass, or the app's own, running every 100 ms) claims the lapsed lease and resumes
    await harness.app.relay.runOnce();
    await waitFor(
      async () => (await harness.models.topicSends.findById(topicSendId).lean<Json>()).state === 'completed',
      { description: 'the resumed send completed' },
    );
    const resumed = await harness.models.topicSends.findById(topicSendId).lean<Json>();
    expect(resumed.processedCount).toBe(6);
    const stored = await harness.models.notifications.find({ broadcastId: topicSendId }).lean<Json[]>();
    expect(stored.map((n) => n.userId).sort()).toEqual([
      'sub:nomail',
      'sub:t1',
      'sub:t2',
      'sub:t3',
      'sub:t6',
    ]);
  });

  it('refuses a topic that does not exist, people sending to a topic, and strangers reading the stats', async () => {
    const missing = await send({ recipient: { topic: 'nope' }, channels: ['email'], title: 'x', body: 'x' });
    expect(missing.json()).toMatchObject({ status: 404, code: 'topic_not_found' });
    const person = harness.token('65f2c0a1e4b0a1b2c3d4e5f6');
    await harness.registerUser({ userId: '65f2c0a1e4b0a1b2c3d4e5f6' });
    const refused = await send(
      { recipient: { topic: 'news' }, channels: ['email'], title: 'x', body: 'x' },
      person,
    );
    expect(refused.json()).toMatchObject({ status: 403, code: 'forbidden_recipient' });
    const batch = await send({ recipients: [{ topic: 'news' }], channels: ['email'], title: 'x', body: 'x' });
    expect(batch.statusCode).toBe(400);

    const some = (await harness.models.topicSends.findOne().lean<Json>())._id.toHexString();
    expect((await harness.request('GET', `/api/v1/topic-sends/${some}`, { token: person })).statusCode).toBe(
      403,
    );
    expect((await harness.request('GET', `/api/v1/topic-sends/${some}`)).statusCode).toBe(401);
    expect(
      (
        await harness.request('GET', '/api/v1/topic-sends/65f2c0a1e4b0a1b2c3d4e5f6', { token: sender })
      ).json(),
    ).toMatchObject({ status: 404, code: 'topic_send_not_found' });
  });

  it('drops the memberships of a deleted topic, and sends to it are refused', async () => {
    await events.upserted('gone', 1);
    await events.membersChanged('gone', 2, { added: ['t1'] });
    await events.settled('gone', 2, 1);
    await events.deleted('gone', 3);
    expect(await harness.models.topicMembers.countDocuments({ topic: 'gone' })).toBe(0);
    // a change older than the deletion, late: void
    await events.membersChanged('gone', 2, { added: ['t6'] });
    await events.upserted('marker', 1);
    expect(await harness.models.topicMembers.countDocuments({ topic: 'gone' })).toBe(0);
    const refused = await send({ recipient: { topic: 'gone' }, channels: ['email'], title: 'x', body: 'x' });
    expect(refused.statusCode).toBe(404);
  });

  it('lists sends newest first, a page at a time: a key that only sends sees its own, a reader and an admin every one', async () => {
    await events.created('list-other', ['t1']);
    const appA = (await harness.createApiKey(['notifications:send'])).key;
    const appB = (await harness.createApiKey(['notifications:send'])).key;
    const reader = (await harness.createApiKey(['notifications:read'])).key;
    const admin = harness.token('list-admin', 'admin');
    const sendAs = async (token: string, topic: string, extra: Json = {}) => {
      const accepted = await send(
        { recipient: { topic }, channels: ['in_app'], title: 'Listed', body: 'x', ...extra },
        token,
      );
      expect(accepted.statusCode).toBe(202);
      return accepted.json().topicSendId as string;
    };
    const a1 = await sendAs(appA, 'news');
    const a2 = await sendAs(appA, 'list-other');
    const a3 = await sendAs(appA, 'news', { sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    const b1 = await sendAs(appB, 'news');
    const list = (token: string | undefined, query = '') =>
      harness.request('GET', `/api/v1/topic-sends${query}`, token ? { token } : {});
    const ids = async (token: string, query = '') => {
      const answer = await list(token, query);
      expect(answer.statusCode).toBe(200);
      return (answer.json().items as Json[]).map((item) => item.topicSendId as string);
    };

    // a key that only sends: its own, newest first, two a page
    const first = await list(appA, '?limit=2');
    expect(first.json().items.map((item: Json) => item.topicSendId)).toEqual([a3, a2]);
    expect(first.json().items[0]).toMatchObject({ topic: 'news', state: 'scheduled', processedCount: 0 });
    expect(first.json().items[0]).not.toHaveProperty('renderedByLocale');
    const second = await list(appA, `?limit=2&cursor=${first.json().nextCursor}`);
    expect(second.json()).toEqual({
      items: [expect.objectContaining({ topicSendId: a1 })],
      nextCursor: null,
    });
    expect(await ids(appA, '?topic=list-other')).toEqual([a2]);
    expect(await ids(appA, '?state=scheduled')).toEqual([a3]);
    expect(await ids(appB)).toEqual([b1]);

    // another application's send is not there for it: not in its list, 404 by id
    const peek = await harness.request('GET', `/api/v1/topic-sends/${a1}`, { token: appB });
    expect(peek.json()).toMatchObject({ status: 404, code: 'topic_send_not_found' });
    expect((await harness.request('GET', `/api/v1/topic-sends/${a1}`, { token: appA })).statusCode).toBe(200);

    // notifications:read (which reads any notification) and an admin see every send
    for (const token of [reader, admin]) {
      expect(await ids(token, '?limit=100')).toEqual(expect.arrayContaining([a1, a2, a3, b1]));
      expect((await ids(token, '?limit=100')).indexOf(b1)).toBeLessThan(
        (await ids(token, '?limit=100')).indexOf(a3),
      );
      expect((await harness.request('GET', `/api/v1/topic-sends/${a1}`, { token })).statusCode).toBe(200);
    }
    // reading every send is not cancelling it: only its sender or an admin
    const cancel = await harness.request('POST', `/api/v1/topic-sends/${a3}/cancel`, { token: reader });
    expect(cancel.statusCode).toBe(403);

    // refused: a person's token, an inbox token, no credentials, a bad query
    expect((await list(harness.token('65f2c0a1e4b0a1b2c3d4e5f6'))).statusCode).toBe(403);
    expect((await list(harness.inboxToken('t1'))).statusCode).toBe(403);
    expect((await list(undefined)).statusCode).toBe(401);
    for (const query of ['?cursor=nope', '?limit=0', '?limit=101', '?state=sent', '?topic=a b', '?extra=1']) {
      const refused = await list(appA, query);
      expect({ query, status: refused.statusCode }).toEqual({ query, status: 400 });
    }
  });
});

import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { Headers } from '@herald/contracts';
import { testAmqpUrl } from '@herald/test-support';
import { instanceQueueName } from '../src/events/consumers';
import { type NotificationNewEvent, type NotificationUpdatedEvent } from '../src/sockets/protocol';
import {
  startHarness,
  type RealtimeHarness,
  aNotification,
  metricValue,
  record,
  waitFor,
  type Instance,
} from './harness';

const at = () => new Date().toISOString();

describe('pushing events from the broker to sockets', () => {
  let harness: RealtimeHarness;
  let first: Instance;
  let second: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-push');
    [first, second] = await Promise.all([harness.startInstance(), harness.startInstance()]);
  });
  afterAll(() => harness.cleanup());

  it("delivers a new notification to every socket of its recipient and to no other user's", async () => {
    const aliceTab1 = await harness.connectAs(first.url, 'alice');
    const aliceTab2 = await harness.connectAs(first.url, 'alice');
    const bob = await harness.connectAs(first.url, 'bob');
    const tab1 = record<NotificationNewEvent>(aliceTab1, 'notification:new');
    const tab2 = record<NotificationNewEvent>(aliceTab2, 'notification:new');
    const bobs = record<NotificationNewEvent>(bob, 'notification:new');

    const forAlice = aNotification({ title: 'For Alice' });
    const sent = await harness.publishCreated('alice', forAlice);
    // Bob's own event is the barrier: one queue, one order, so once it arrives Alice's was handled.
    const forBob = aNotification({ title: 'For Bob' });
    await harness.publishCreated('bob', forBob);

    await waitFor(() => tab1.length === 1 && tab2.length === 1 && bobs.length === 1, {
      description: 'both events pushed',
    });
    const expected = {
      notification: forAlice,
      occurredAt: sent.occurredAt,
      correlationId: sent.correlationId,
    };
    expect(tab1).toEqual([expected]);
    expect(tab2).toEqual([expected]);
    expect(bobs.map((event) => event.notification.id)).toEqual([forBob.id]);
  });

  it('fans out across two instances: each pushes only to its own sockets of the recipient', async () => {
    const carolOnFirst = await harness.connectAs(first.url, 'carol');
    const carolOnSecond = await harness.connectAs(second.url, 'carol');
    const daveOnSecond = await harness.connectAs(second.url, 'dave');
    const c1 = record<NotificationNewEvent>(carolOnFirst, 'notification:new');
    const c2 = record<NotificationNewEvent>(carolOnSecond, 'notification:new');
    const d2 = record<NotificationNewEvent>(daveOnSecond, 'notification:new');

    const forCarol = aNotification();
    const forDave = aNotification();
    await harness.publishCreated('carol', forCarol);
    await harness.publishCreated('dave', forDave);
    const barrierForCarol = aNotification();
    await harness.publishCreated('carol', barrierForCarol);

    await waitFor(() => c1.length === 2 && c2.length === 2 && d2.length === 1, { description: 'all pushes' });
    expect(c1.map((e) => e.notification.id)).toEqual([forCarol.id, barrierForCarol.id]);
    expect(c2.map((e) => e.notification.id)).toEqual([forCarol.id, barrierForCarol.id]);
    expect(d2.map((e) => e.notification.id)).toEqual([forDave.id]);
  });

  it("pushes a notification once when the outbox publishes its creation twice (a relay that died after the broker's confirm)", async () => {
    const frank = await harness.connectAs(first.url, 'frank');
    const received = record<NotificationNewEvent>(frank, 'notification:new');
    const once = aNotification({ title: 'Republished' });
    await harness.publishCreated('frank', once);
    await harness.publishCreated('frank', once);
    const barrier = aNotification();
    await harness.publishCreated('frank', barrier);
    await waitFor(() => received.some((e) => e.notification.id === barrier.id), {
      description: 'the barrier',
    });
    expect(received.map((e) => e.notification.id)).toEqual([once.id, barrier.id]);
  });

  it("pushes each notification of a batch (notifications.created) to its own recipient's sockets, with its own correlation id", async () => {
    const ivyOnFirst = await harness.connectAs(first.url, 'ivy');
    const ivyOnSecond = await harness.connectAs(second.url, 'ivy');
    const jack = await harness.connectAs(second.url, 'jack');
    const i1 = record<NotificationNewEvent>(ivyOnFirst, 'notification:new');
    const i2 = record<NotificationNewEvent>(ivyOnSecond, 'notification:new');
    const jacks = record<NotificationNewEvent>(jack, 'notification:new');

    const [a, b, c] = [aNotification(), aNotification(), aNotification()];
    const sent = await harness.publishCreatedBatch([
      { userId: 'ivy', notification: a },
      { userId: 'jack', notification: b },
      { userId: 'ivy', notification: c },
    ]);
    await waitFor(() => i1.length === 2 && i2.length === 2 && jacks.length === 1, {
      description: 'the batch pushed',
    });
    const expected = (notification: typeof a) => ({
      notification,
      occurredAt: sent.occurredAt,
      correlationId: `corr-${notification.id}`,
    });
    expect(i1).toEqual([expected(a), expected(c)]);
    expect(i2).toEqual([expected(a), expected(c)]);
    expect(jacks).toEqual([expected(b)]);
  });

  it('pushes a notification once when it comes in a batch and again on its own, or in two batches', async () => {
    const kate = await harness.connectAs(first.url, 'kate');
    const received = record<NotificationNewEvent>(kate, 'notification:new');
    const [once, twice] = [aNotification(), aNotification()];
    await harness.publishCreatedBatch([
      { userId: 'kate', notification: once },
      { userId: 'kate', notification: twice },
    ]);
    await harness.publishCreated('kate', once);
    await harness.publishCreatedBatch([{ userId: 'kate', notification: twice }]);
    const barrier = aNotification();
    await harness.publishCreated('kate', barrier);
    await waitFor(() => received.some((e) => e.notification.id === barrier.id), {
      description: 'the barrier',
    });
    expect(received.map((e) => e.notification.id)).toEqual([once.id, twice.id, barrier.id]);
  });

  it('pushes changes and makes unread-count follow a read, then a read-all', async () => {
    const erin = await harness.connectAs(second.url, 'erin');
    const updates = record<NotificationUpdatedEvent>(erin, 'notification:updated');
    const counts = record<{ count: number }>(erin, 'unread-count');
    const [n1, n2, n3] = [aNotification(), aNotification(), aNotification()];

    // A producer that knows the count may send it with the creation (the notification service does not).
    await harness.publishCreated('erin', n1, { unreadCount: 3 });
    await harness.publishUpdated('erin', n1.id, { kind: 'read', read: true, at: at() }, 2);
    // Read-all: one update per notification, the last one leaving nothing unread.
    await harness.publishUpdated('erin', n2.id, { kind: 'read', read: true, at: at() }, 1);
    await harness.publishUpdated('erin', n3.id, { kind: 'read', read: true, at: at() }, 0);

    await waitFor(() => counts.length === 4, { description: 'four unread counts' });
    expect(counts).toEqual([{ count: 3 }, { count: 2 }, { count: 1 }, { count: 0 }]);
    expect(updates.map((u) => [u.notificationId, u.change.kind, u.unreadCount])).toEqual([
      [n1.id, 'read', 2],
      [n2.id, 'read', 1],
      [n3.id, 'read', 0],
    ]);
  });

  it('pushes status, archive and delete changes as notification:updated', async () => {
    const frank = await harness.connectAs(first.url, 'frank');
    const updates = record<NotificationUpdatedEvent>(frank, 'notification:updated');
    const n = aNotification({ channels: ['in_app', 'email'] });
    await harness.publishUpdated(
      'frank',
      n.id,
      { kind: 'status', channel: 'email', status: 'sent', at: at() },
      1,
    );
    await harness.publishUpdated('frank', n.id, { kind: 'archived', archived: true, at: at() }, 1);
    await harness.publishUpdated('frank', n.id, { kind: 'deleted', at: at() }, 0);

    await waitFor(() => updates.length === 3, { description: 'three updates' });
    expect(updates.map((u) => u.change)).toEqual([
      expect.objectContaining({ kind: 'status', channel: 'email', status: 'sent' }),
      expect.objectContaining({ kind: 'archived', archived: true }),
      expect.objectContaining({ kind: 'deleted' }),
    ]);
  });

  it('pushes a provider engagement (first open) as notification:updated', async () => {
    const iris = await harness.connectAs(first.url, 'iris');
    const updates = record<NotificationUpdatedEvent>(iris, 'notification:updated');
    const counts = record<{ count: number }>(iris, 'unread-count');
    const n = aNotification({ channels: ['in_app', 'email'] });
    const openedAt = at();
    const sent = await harness.publishUpdated(
      'iris',
      n.id,
      { kind: 'engagement', channel: 'email', engagement: 'opened', at: openedAt },
      4,
    );

    await waitFor(() => updates.length === 1 && counts.length === 1, {
      description: 'the engagement pushed',
    });
    expect(updates).toEqual([
      {
        notificationId: n.id,
        change: { kind: 'engagement', channel: 'email', engagement: 'opened', at: openedAt },
        unreadCount: 4,
        occurredAt: sent.occurredAt,
        correlationId: sent.correlationId,
      },
    ]);
    expect(counts).toEqual([{ count: 4 }]);
  });

  it('pushes no unread-count for a status or an engagement that carries none (they cannot move it)', async () => {
    const kate = await harness.connectAs(first.url, 'kate');
    const updates = record<NotificationUpdatedEvent>(kate, 'notification:updated');
    const counts = record<{ count: number }>(kate, 'unread-count');
    const n = aNotification({ channels: ['in_app', 'email'] });
    await harness.publishUpdated('kate', n.id, {
      kind: 'status',
      channel: 'email',
      status: 'sent',
      at: at(),
    });
    await harness.publishUpdated('kate', n.id, {
      kind: 'engagement',
      channel: 'email',
      engagement: 'opened',
      at: at(),
    });
    // the barrier: one queue, one order
    await harness.publishUpdated('kate', n.id, { kind: 'read', read: true, at: at() }, 0);

    await waitFor(() => updates.length === 3 && counts.length === 1, { description: 'three updates' });
    expect(updates.map((update) => 'unreadCount' in update)).toEqual([false, false, true]);
    expect(counts).toEqual([{ count: 0 }]);
  });

  it('pushes no unread-count for a creation that carries none', async () => {
    const jack = await harness.connectAs(second.url, 'jack');
    const created = record<NotificationNewEvent>(jack, 'notification:new');
    const counts = record<{ count: number }>(jack, 'unread-count');
    const n = aNotification();
    await harness.publishCreated('jack', n);
    // The update is the barrier: one queue, one order, so the creation was handled before it.
    await harness.publishUpdated('jack', n.id, { kind: 'read', read: true, at: at() }, 0);

    await waitFor(() => counts.length === 1, { description: 'the update’s unread count' });
    expect(created.map((event) => event.notification.id)).toEqual([n.id]);
    expect(counts).toEqual([{ count: 0 }]);
  });

  it('counts pushes and their latency in /metrics', async () => {
    const metric = (name: string) =>
      metricValue(second.app, new RegExp(`^${name}\\{[^}]*event="notification:new"`));
    const pushedBefore = (await metric('realtime_events_pushed_total')) ?? 0;
    const observedBefore = (await metric('realtime_push_latency_seconds_count')) ?? 0;
    const gina = await harness.connectAs(second.url, 'gina');
    await harness.connectAs(second.url, 'gina');
    const received = record(gina, 'notification:new');
    await harness.publishCreated('gina', aNotification());
    await waitFor(() => received.length === 1);

    await waitFor(async () => (await metric('realtime_events_pushed_total')) === pushedBefore + 2, {
      description: 'two sockets counted',
    });
    expect(await metric('realtime_push_latency_seconds_count')).toBe(observedBefore + 1);
  });

  it('dead-letters a message that breaks the schema, from each instance, without pushing it', async () => {
    const connection = await amqplib.connect(testAmqpUrl());
    try {
      const channel = await connection.createChannel();
      const henry = await harness.connectAs(first.url, 'henry');
      const received = record(henry, 'notification:new');
      const poison = { type: 'notification.created', payload: { userId: 'henry' } };
      channel.publish(
        harness.publisher.names.exchanges.events,
        'notification.created',
        Buffer.from(JSON.stringify(poison)),
        {
          messageId: 'poison-1',
        },
      );
      // a batch whose second item lacks its notification: none of it is pushed, the first item neither
      const valid = await harness.publishCreatedBatch([{ userId: 'henry', notification: aNotification() }]);
      // a notification of its own, not yet pushed (a repeat of the valid one would be dropped anyway)
      const unseen = { ...valid.payload.items[0]!, notification: aNotification(), correlationId: 'c1' };
      const poisonBatch = {
        ...valid,
        messageId: randomUUID(),
        payload: { items: [unseen, { userId: 'henry', correlationId: 'c2' }] },
      };
      channel.publish(
        harness.publisher.names.exchanges.events,
        'notifications.created',
        Buffer.from(JSON.stringify(poisonBatch)),
        { messageId: 'poison-2' },
      );

      const deadLetters: amqplib.GetMessage[] = [];
      await waitFor(
        async () => {
          const message = await channel.get(harness.publisher.names.queues.deadLetter, { noAck: true });
          if (message) deadLetters.push(message);
          return deadLetters.length === 4;
        },
        { description: 'both poison messages dead-lettered by both instances' },
      );
      const queues = [
        instanceQueueName(first.amqp, first.settings.instanceId),
        instanceQueueName(second.amqp, second.settings.instanceId),
      ];
      expect(deadLetters.map((m) => m.properties.headers?.[Headers.originalQueue]).sort()).toEqual(
        [...queues, ...queues].sort(),
      );
      expect(
        deadLetters.every((m) => m.properties.headers?.[Headers.deadLetterReason] === 'invalid_message'),
      ).toBe(true);
      // only the valid batch's one notification (sent before the poison batch) reached henry
      await waitFor(() => received.length === 1, { description: 'the valid batch pushed' });
      expect(received).toHaveLength(1);
      expect((received[0] as NotificationNewEvent).notification.id).toBe(
        valid.payload.items[0]!.notification.id,
      );
    } finally {
      await connection.close();
    }
  });
});

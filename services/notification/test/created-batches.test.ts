import { type PublishableMessage } from '@herald/amqp';
import { waitFor } from '@herald/test-support';
import { CreatedEvents } from '../src/outbox/domain/created-events';
import { startHarness, type Harness } from './harness';

/** The inboxes' events of the accept path leave in batches (`notifications.created`), not one message each. */
describe('notifications.created: the inbox events of accepted notifications, group-published', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('created-batches');
  });
  afterAll(() => h.close());

  it('publishes the creation of 200 notifications accepted together in far fewer messages, each notification once, all confirmed', async () => {
    const users = await Promise.all([h.registerUser(), h.registerUser()]);
    const created = await h.tapCreated();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, index) => {
        const user = users[index % 2]!;
        return h.request('POST', '/api/v1/notifications', {
          token: h.token(user.userId),
          body: { title: `N${index}`, body: 'b', recipient: { userId: user.userId }, channels: ['in_app'] },
        });
      }),
    );
    expect(replies.map((reply) => reply.statusCode)).toEqual(replies.map(() => 202));
    const ids = replies.map((reply) => reply.json().id as string);

    const messages = await h.drain(created);
    const seen = [...messages];
    await waitFor(
      async () => {
        seen.push(...(await h.drain(created)));
        return seen.flatMap((message) => message.payload.items ?? []).length >= ids.length;
      },
      { description: 'every notification in a notifications.created' },
    );
    expect(seen.every((message) => message.type === 'notifications.created')).toBe(true);
    const items = seen.flatMap((message) => message.payload.items);
    // each notification once, to its owner, with its request's correlation id
    expect(items.map((item) => item.notification.id).sort()).toEqual([...ids].sort());
    replies.forEach((reply, index) => {
      const item = items.find((one) => one.notification.id === ids[index]);
      expect(item).toMatchObject({
        userId: users[index % 2]!.userId,
        correlationId: reply.headers['x-request-id'],
        notification: { title: `N${index}`, statuses: { in_app: 'delivered' } },
      });
    });
    // batched: accepted together, they leave together (inserts are group-committed, and so are these)
    expect(seen.length).toBeLessThanOrEqual(ids.length / 4);
    await waitFor(async () => (await Promise.all(ids.map((id) => h.confirmed(id)))).every(Boolean), {
      description: 'every notification in the confirmation log',
    });
  });
});

describe('CreatedEvents: what goes in one notifications.created', () => {
  const summary = (id: string, title = 'T') => ({
    userId: 'u-1',
    correlationId: `req-${id}`,
    notification: {
      id,
      title,
      body: 'b',
      channels: ['in_app' as const],
      createdAt: '2026-12-06T10:00:00.000Z',
      read: false as const,
      statuses: { in_app: 'delivered' as const },
    },
  });
  const ids = (message: PublishableMessage) =>
    (message as unknown as { payload: { items: { notification: { id: string } }[] } }).payload.items.map(
      (item) => item.notification.id,
    );

  it('sends an item that breaks the contract alone, so that realtime dead-letters only it', async () => {
    const sent: PublishableMessage[] = [];
    const events = new CreatedEvents(
      async (message) => void sent.push(message),
      () => new Date(),
    );
    const a = '65f2c0a1e4b0a1b2c3d4e5f1';
    const broken = '65f2c0a1e4b0a1b2c3d4e5f2';
    const c = '65f2c0a1e4b0a1b2c3d4e5f3';
    await Promise.all([
      events.submit(summary(a)),
      events.submit(summary(broken, '')),
      events.submit(summary(c)),
    ]);
    expect(sent.map(ids)).toEqual([[a, c], [broken]]);
  });

  it('fails the items of a batch whose publish failed, and only those', async () => {
    const events = new CreatedEvents(
      async (message) => {
        if (ids(message).includes('65f2c0a1e4b0a1b2c3d4e5f1')) throw new Error('broker gone');
      },
      () => new Date(),
    );
    const results = await Promise.allSettled([
      events.submit(summary('65f2c0a1e4b0a1b2c3d4e5f1')),
      events.submit(summary('65f2c0a1e4b0a1b2c3d4e5f2', '')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
  });
});

import { type CatchUpEvent, type NotificationNewEvent } from '../src/sockets/protocol';
import {
  startHarness,
  type RealtimeHarness,
  aNotification,
  connected,
  record,
  stored,
  waitFor,
  type Instance,
} from './harness';

describe('catch-up on reconnect', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-catch-up');
    instance = await harness.startInstance();
  });
  afterAll(() => harness.cleanup());

  const requestsFor = (token: string) =>
    harness.api.requests.filter((request) => request.authorization === `Bearer ${token}`);

  it('replays exactly what was missed while disconnected, oldest first, with the user’s own token', async () => {
    const token = harness.token('ivy');
    let lastSeen: string | undefined;
    // A function, so each reconnect sends the newest time the client has seen.
    const socket = harness.client(instance.url, { auth: (send) => send({ token, since: lastSeen }) });
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    const catchUps = record<CatchUpEvent>(socket, 'catch-up');
    socket.on('notification:new', (event: NotificationNewEvent) => {
      lastSeen = event.notification.createdAt;
    });

    const older = aNotification({ createdAt: new Date(Date.now() - 60_000).toISOString() });
    harness.api.add('ivy', stored(older));
    await connected(socket);
    const seen = aNotification();
    harness.api.add('ivy', stored(seen));
    await harness.publishCreated('ivy', seen);
    await waitFor(() => received.length === 1, { description: 'the live notification' });
    expect(requestsFor(token)).toEqual([]);

    socket.disconnect();
    const missed = [aNotification(), aNotification()];
    harness.api.add('ivy', ...missed.map(stored));
    harness.api.add('someone-else', stored(aNotification()));
    await Promise.all(missed.map((notification) => harness.publishCreated('ivy', notification)));

    await connected(socket);
    await waitFor(() => catchUps.length === 1, { description: 'the end of the catch-up' });
    expect(catchUps).toEqual([{ status: 'complete', count: 2 }]);
    expect(received.slice(1)).toEqual(
      missed.map((notification) => ({
        notification: stored(notification),
        occurredAt: notification.createdAt,
        catchUp: true,
      })),
    );
    const [request] = requestsFor(token);
    expect(requestsFor(token)).toHaveLength(1);
    expect(request?.path).toBe('/api/v1/notifications');
    expect(Object.fromEntries(request!.query)).toEqual({ since: seen.createdAt, limit: '100' });
  });

  it('follows the cursor through every page of a long absence', async () => {
    const token = harness.token('jack');
    const since = new Date(Date.now() - 10_000).toISOString();
    const missed = Array.from({ length: 150 }, (_, i) =>
      aNotification({ createdAt: new Date(Date.parse(since) + 1 + i).toISOString() }),
    );
    harness.api.add('jack', ...missed.map(stored));
    const socket = harness.client(instance.url, { auth: { token, since } });
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    const catchUps = record<CatchUpEvent>(socket, 'catch-up');
    await connected(socket);

    await waitFor(() => catchUps.length === 1, { description: 'the end of the catch-up' });
    expect(catchUps).toEqual([{ status: 'complete', count: 150 }]);
    expect(received.map((event) => event.notification.id)).toEqual(missed.map((n) => n.id));
    expect(requestsFor(token).map((request) => request.query.get('cursor'))).toEqual([null, '100']);
  });

  it('sends the newest ones and says so when more was missed than one replay holds', async () => {
    const small = await harness.startInstance({ catchUpMaxItems: 120 });
    const token = harness.token('kate');
    const since = new Date(Date.now() - 10_000).toISOString();
    const missed = Array.from({ length: 150 }, (_, i) =>
      aNotification({ createdAt: new Date(Date.parse(since) + 1 + i).toISOString() }),
    );
    harness.api.add('kate', ...missed.map(stored));
    const socket = harness.client(small.url, { auth: { token, since } });
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    const catchUps = record<CatchUpEvent>(socket, 'catch-up');
    await connected(socket);

    await waitFor(() => catchUps.length === 1, { description: 'the end of the catch-up' });
    expect(catchUps).toEqual([{ status: 'truncated', count: 120 }]);
    expect(received.map((event) => event.notification.id)).toEqual(missed.slice(30).map((n) => n.id));
  });

  it('tells the client when catch-up cannot run, and keeps pushing live', async () => {
    harness.api.failWith(503);
    try {
      const socket = harness.client(instance.url, {
        auth: { token: harness.token('liam'), since: new Date().toISOString() },
      });
      const catchUps = record<CatchUpEvent>(socket, 'catch-up');
      const received = record<NotificationNewEvent>(socket, 'notification:new');
      await connected(socket);
      await waitFor(() => catchUps.length === 1, { description: 'the catch-up outcome' });
      expect(catchUps).toEqual([{ status: 'failed', count: 0 }]);

      const live = aNotification();
      await harness.publishCreated('liam', live);
      await waitFor(() => received.length === 1, { description: 'the live push' });
      expect(received[0]?.notification.id).toBe(live.id);
    } finally {
      harness.api.failWith(undefined);
    }
  });
});

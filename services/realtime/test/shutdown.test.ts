import { type CatchUpEvent, type NotificationNewEvent } from '../src/sockets/protocol';
import {
  startHarness,
  type RealtimeHarness,
  aNotification,
  connected,
  record,
  stored,
  waitFor,
} from './harness';
import { startSwitchableProxy } from './support/switchable-proxy';

describe('graceful shutdown', () => {
  let harness: RealtimeHarness;
  let proxy: Awaited<ReturnType<typeof startSwitchableProxy>>;

  beforeAll(async () => {
    harness = await startHarness('realtime-shutdown');
    proxy = await startSwitchableProxy();
  });
  afterAll(async () => {
    await proxy.close();
    await harness.cleanup();
  });

  it('tells clients to reconnect, and a client that lands on another instance misses nothing', async () => {
    const [stopping, survivor] = await Promise.all([harness.startInstance(), harness.startInstance()]);
    proxy.routeTo(stopping.url);
    const token = harness.token('pia');
    let lastSeen: string | undefined;
    const socket = harness.client(proxy.url, {
      auth: (send) => send({ token, since: lastSeen }),
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    const events: string[] = [];
    socket.onAny((event: string) => events.push(event));
    socket.on('disconnect', (reason) => events.push(`disconnect: ${reason}`));
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    const catchUps = record<CatchUpEvent>(socket, 'catch-up');
    socket.on('notification:new', (event: NotificationNewEvent) => {
      lastSeen = event.notification.createdAt;
    });
    await connected(socket);

    const beforeShutdown = aNotification();
    harness.api.add('pia', stored(beforeShutdown));
    await harness.publishCreated('pia', beforeShutdown);
    await waitFor(() => received.length === 1, { description: 'the live push before shutdown' });

    // The balancer stops routing to the draining instance; for a moment nothing takes the client.
    proxy.routeTo(undefined);
    await stopping.close();
    await waitFor(() => events.includes('disconnect: transport close'), { description: 'the disconnect' });
    expect(events.slice(-2)).toEqual(['server:shutdown', 'disconnect: transport close']);
    expect(socket.active).toBe(true);

    // Created while the client has no instance at all: only catch-up can bring it.
    const duringRestart = aNotification();
    harness.api.add('pia', stored(duringRestart));
    await harness.publishCreated('pia', duringRestart);

    proxy.routeTo(survivor.url);
    await waitFor(() => catchUps.length === 1, { description: 'catch-up on the surviving instance' });
    expect(catchUps).toEqual([{ status: 'complete', count: 1 }]);
    expect(received.map((event) => [event.notification.id, event.catchUp ?? false])).toEqual([
      [beforeShutdown.id, false],
      [duringRestart.id, true],
    ]);
  });
});

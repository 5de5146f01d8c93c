import { type Socket as ClientSocket } from 'socket.io-client';
import { type Socket as NetSocket } from 'node:net';
import {
  startHarness,
  type RealtimeHarness,
  aNotification,
  metricValue,
  record,
  waitFor,
  type Instance,
} from './harness';

/** The TCP socket under a connected client's WebSocket, to stop reading from it as a stalled tab would. */
function tcpSocketOf(client: ClientSocket): NetSocket {
  const transport = client.io.engine.transport as unknown as { ws?: { _socket?: NetSocket } };
  const tcp = transport.ws?._socket;
  if (!tcp) throw new Error('the client is not on a WebSocket');
  return tcp;
}

describe('a client that stops reading', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-slow-client');
    instance = await harness.startInstance({ maxBufferedPackets: 20, prefetch: 50 });
  });
  afterAll(() => harness.cleanup());

  it('is disconnected once its backlog passes the bound, while the user’s other sockets keep up', async () => {
    const stalled = await harness.connectAs(instance.url, 'quinn');
    const healthy = await harness.connectAs(instance.url, 'quinn');
    const received = record(healthy, 'notification:new');
    const stalledReasons = record<string>(stalled, 'disconnect');
    tcpSocketOf(stalled).pause();

    // Big events fill the kernel's socket buffers quickly; after that, packets queue in server memory.
    const body = 'x'.repeat(64 * 1024);
    let published = 0;
    const disconnected = () => metricValue(instance.app, /^realtime_slow_clients_disconnected_total\b/);
    while ((await disconnected()) === 0 && published < 600) {
      await Promise.all(
        Array.from({ length: 50 }, () => harness.publishCreated('quinn', aNotification({ body }))),
      );
      published += 50;
      await waitFor(() => received.length === published, {
        timeoutMs: 10_000,
        description: 'the healthy tab',
      });
    }

    expect(await disconnected()).toBe(1);
    expect(received).toHaveLength(published);
    expect(await metricValue(instance.app, /^realtime_connected_sockets\b/)).toBe(1);
    // Once the client reads again it sees a transport close, which it would recover from by reconnecting.
    tcpSocketOf(stalled).resume();
    await waitFor(() => stalledReasons.length === 1, {
      timeoutMs: 10_000,
      description: 'the stalled disconnect',
    });
    expect(stalledReasons).toEqual(['transport close']);
  });
});

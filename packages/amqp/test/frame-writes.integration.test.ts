// The publisher's frames leave in few socket writes (coalesceFrameWrites in
// client.ts): amqplib's Mux writes each queued frame on its own, a system
// call each. What must hold besides: every message arrives, in order.
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { createTestAmqp, testAmqpUrl, waitFor } from '@herald/test-support';

type Socket = { _write: (...args: unknown[]) => unknown; _writev?: (...args: unknown[]) => unknown };

/** the socket under the client's current connection (amqp-connection-manager → amqplib) */
function socketOf(client: unknown): Socket {
  const manager = (client as { connection: { connection?: { connection?: { stream?: Socket } } } })
    .connection;
  const stream = manager.connection?.connection?.stream;
  if (!stream) throw new Error('no connection: the internals this test reads have moved');
  return stream;
}

describe("the publisher's socket writes", () => {
  let amqp: Awaited<ReturnType<typeof createTestAmqp>>;
  let inspector: amqplib.ChannelModel;

  beforeAll(async () => {
    amqp = await createTestAmqp('frames');
    inspector = await amqplib.connect(testAmqpUrl());
  });
  afterAll(async () => {
    await inspector.close();
    await amqp.cleanup();
  });

  it('sends a burst of 300 publishes in a few writes, and every message arrives in order', async () => {
    const { client } = amqp;
    const socket = socketOf(client);
    let writes = 0;
    const write = socket._write;
    const writev = socket._writev;
    socket._write = function counted(...args: unknown[]) {
      writes += 1;
      return write.apply(this, args);
    };
    if (writev) {
      socket._writev = function counted(...args: unknown[]) {
        writes += 1;
        return writev.apply(this, args);
      };
    }
    const ids = Array.from({ length: 300 }, () => randomUUID());
    try {
      await Promise.all(
        ids.map((messageId) =>
          client.publish(client.names.exchanges.events, 'delivery.status', {
            messageId,
            correlationId: messageId,
            type: 'delivery.status',
          }),
        ),
      );
    } finally {
      socket._write = write;
      if (writev) socket._writev = writev;
    }
    // 300 publishes are 600–900 frames; one write each before
    expect(writes).toBeLessThan(30);

    const channel = await inspector.createChannel();
    try {
      const received: string[] = [];
      await channel.consume(
        client.names.durableQueues.notificationEvents,
        (got) => {
          if (got) received.push((JSON.parse(got.content.toString()) as { messageId: string }).messageId);
        },
        { noAck: true },
      );
      await waitFor(() => received.length >= ids.length, { description: '300 messages consumed' });
      expect(received).toEqual(ids);
    } finally {
      await channel.close();
    }
  });
});

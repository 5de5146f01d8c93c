import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { DurableQueues, type DurableQueueKey } from '@herald/contracts';
import { TEST_RETRY_POLICY, createTestAmqp, testAmqpUrl, testLogger, waitFor } from '@herald/test-support';
import { AmqpClient, UnroutableError, durableQueueArguments } from '../src';

const message = (type: string) => ({ messageId: randomUUID(), correlationId: randomUUID(), type });

describe('the topology declared from contracts', () => {
  let amqp: Awaited<ReturnType<typeof createTestAmqp>>;
  let inspector: amqplib.ChannelModel;

  beforeAll(async () => {
    amqp = await createTestAmqp('topology');
    inspector = await amqplib.connect(testAmqpUrl());
  });
  afterAll(async () => {
    await inspector.close();
    await amqp.cleanup();
  });

  async function typesOfMessagesIn(queue: string, count: number): Promise<string[]> {
    const channel = await inspector.createChannel();
    try {
      const types: string[] = [];
      await waitFor(
        async () => {
          const got = await channel.get(queue, { noAck: true });
          if (got) types.push(got.properties.type as string);
          return types.length >= count;
        },
        { description: `${count} messages in ${queue}` },
      );
      return types.sort();
    } finally {
      await channel.close();
    }
  }

  it("routes delivery status and every user event into the notification service's queue, and nothing else", async () => {
    const { client } = amqp;
    const events = client.names.exchanges.events;
    await client.publish(events, 'delivery.status', message('delivery.status'));
    await client.publish(events, 'user.registered', message('user.registered'));
    await client.publish(events, 'user.verification_requested', message('user.verification_requested'));
    await client.publish(events, 'workflow.run.changed', message('workflow.run.changed'));
    // bound to no durable queue, and no realtime instance listens here: the broker returns it
    await expect(
      client.publish(events, 'nothing.bound', message('notification.created')),
    ).rejects.toBeInstanceOf(UnroutableError);
    // a notification's own events reach no durable queue (only realtime's, absent here)
    await expect(
      client.publish(events, 'notification.created', message('notification.created')),
    ).rejects.toBeInstanceOf(UnroutableError);
    // a workflow run's notification's events are sent on (BCC) to the workflows service's queue, once
    await client.publish(events, 'notification.created', message('notification.created'), {
      bcc: ['workflows.notification.created'],
    });
    await client.publish(events, 'notification.updated', message('notification.updated'), {
      bcc: ['workflows.notification.updated'],
    });
    expect(await typesOfMessagesIn(client.names.durableQueues.workflowEvents, 2)).toEqual([
      'notification.created',
      'notification.updated',
    ]);

    expect(await typesOfMessagesIn(client.names.durableQueues.notificationEvents, 4)).toEqual([
      'delivery.status',
      'user.registered',
      'user.verification_requested',
      'workflow.run.changed',
    ]);
  });

  it('removes the bindings an earlier version declared when the topology is declared again', async () => {
    const { client } = amqp;
    const channel = await inspector.createChannel();
    try {
      // what a broker carried over from before the workflows queue took only its runs' events holds
      for (const key of ['notification.created', 'notification.updated']) {
        await channel.bindQueue(
          client.names.durableQueues.workflowEvents,
          client.names.exchanges.events,
          key,
        );
      }
      const again = new AmqpClient({
        url: testAmqpUrl(),
        logger: testLogger(),
        connectionName: `${amqp.namespace}-again`,
        namespace: amqp.namespace,
        retry: TEST_RETRY_POLICY,
      });
      await again.waitUntilReady();
      await again.close(1000);

      await expect(
        client.publish(
          client.names.exchanges.events,
          'notification.updated',
          message('notification.updated'),
        ),
      ).rejects.toBeInstanceOf(UnroutableError);
      const left = await channel.checkQueue(client.names.durableQueues.workflowEvents);
      expect(left.messageCount).toBe(0);
    } finally {
      await channel.close();
    }
  });

  it('routes delivery jobs by channel to their work queue', async () => {
    const { client } = amqp;
    await client.publish(client.names.exchanges.work, 'sms', message('delivery.job'));
    expect(await typesOfMessagesIn(client.names.queues.work.sms, 1)).toEqual(['delivery.job']);
  });

  it.each(Object.keys(DurableQueues) as DurableQueueKey[])(
    'declares %s as the queue type contracts gives it',
    async (key) => {
      const name = amqp.client.names.durableQueues[key];
      const declared = DurableQueues[key];
      const other = declared.type === 'quorum' ? 'classic' : 'quorum';
      // the arguments the topology gave it (the client's default delivery limit), but the other type
      const args = { ...durableQueueArguments(amqp.client.names, declared, 20), 'x-queue-type': other };
      const channel = await inspector.createChannel();
      const closed = new Promise((resolve) => channel.once('close', resolve));
      channel.on('error', () => undefined);
      // the broker refuses a redeclaration whose arguments differ: 406 PRECONDITION_FAILED
      await expect(channel.assertQueue(name, { durable: true, arguments: args })).rejects.toThrow(
        /PRECONDITION_FAILED.*x-queue-type/,
      );
      await closed;
    },
  );
});

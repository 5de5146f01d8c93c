import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { deleteAmqpNamespace, testAmqpUrl, uniqueNamespace, waitFor } from '@herald/test-support';
import { AmqpClient, type Consumer } from '../src';
import { brokerChannelsOfConnectionNamed } from './broker-control';

const TestJob = Type.Object({
  messageId: Type.String(),
  correlationId: Type.String(),
  type: Type.Literal('test.job'),
  payload: Type.Object({ n: Type.Integer() }),
});
const job = (n: number) => ({
  messageId: randomUUID(),
  correlationId: randomUUID(),
  type: 'test.job',
  payload: { n },
});
const policy = { maxAttempts: 3, delaysMs: [300, 600], jitter: 0 };
const JOBS = 12;

/**
 * Consumer.stop() at every moment of a channel's setup: before the channel
 * exists, in the middle of declaring, and while the consumer is being
 * registered. Each time: stop resolves, no channel error or failed ack is
 * logged, the queue is left without a consumer, and every job is either
 * handled (and acked) exactly once or still waiting in the queue.
 */
describe('Consumer.stop() while the channel is being set up', () => {
  let namespace: string;
  let client: AmqpClient;
  let inspector: amqplib.ChannelModel;
  let inspect: amqplib.Channel;
  let warnings: string[];

  beforeEach(async () => {
    namespace = uniqueNamespace('amqp-stop');
    warnings = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line).msg as string) },
    );
    client = new AmqpClient({
      url: testAmqpUrl(),
      logger,
      connectionName: `${namespace}-main`,
      namespace,
      retry: policy,
    });
    await client.waitUntilReady();
    inspector = await amqplib.connect(testAmqpUrl());
    inspect = await inspector.createChannel();
    await Promise.all(
      Array.from({ length: JOBS }, (_, n) =>
        client.publish(client.names.exchanges.work, 'email', job(n) as never),
      ),
    );
  });

  afterEach(async () => {
    await client.close(1000).catch(() => undefined);
    await deleteAmqpNamespace(namespace, policy);
    await inspector.close();
  });

  const queue = () => client.names.queues.work.email;

  function startConsumer(handled: number[]): Consumer<typeof TestJob> {
    return client.consume({
      queue: queue(),
      schema: TestJob,
      prefetch: 5,
      handler: async (message) => {
        handled.push(message.payload.n);
      },
    });
  }

  /** Runs `hook` inside the consumer's next setup, right after the topology is declared. */
  function duringNextSetup(hook: (channel: amqplib.ConfirmChannel) => void): void {
    const declare = client.declare.bind(client);
    client.declare = async (channel) => {
      await declare(channel);
      client.declare = declare;
      hook(channel);
    };
  }

  async function expectCleanStop(handled: number[]): Promise<void> {
    // The broker's counts settle once the closed channel's unacked messages are back.
    await waitFor(
      async () => {
        const { consumerCount, messageCount } = await inspect.checkQueue(queue());
        return consumerCount === 0 && messageCount + handled.length === JOBS;
      },
      { timeoutMs: 10_000, description: 'no consumer, and every job handled or back in the queue' },
    );
    expect(new Set(handled).size).toBe(handled.length);
    expect(warnings).toEqual([]);
  }

  it('stops a consumer whose channel does not exist yet: nothing consumed, no channel left open', async () => {
    const handled: number[] = [];
    const consumer = startConsumer(handled);
    await consumer.stop(5_000);
    await expectCleanStop(handled);
    expect(handled).toEqual([]);
    // The channel the connection manager was still opening is closed by the setup, not left
    // open until the connection closes: only the publisher's channel remains.
    await waitFor(async () => (await brokerChannelsOfConnectionNamed(`${namespace}-main`)) === 1, {
      timeoutMs: 10_000,
      description: "only the publisher's channel open",
    });
  });

  it('stops in the middle of declaring: the setup finishes without starting to consume', async () => {
    const handled: number[] = [];
    let stopped: Promise<void> | undefined;
    duringNextSetup(() => {
      stopped = consumer.stop(5_000);
    });
    // The hook runs in the consumer's setup, which starts once the channel opens: after this line.
    const consumer = startConsumer(handled);
    await waitFor(() => stopped !== undefined, { description: 'the stop during setup' });
    await stopped;
    await expectCleanStop(handled);
    expect(handled).toEqual([]);
  });

  it('stops while the consumer is being registered: its deliveries are handled and acked, or requeued', async () => {
    const handled: number[] = [];
    let stopped: Promise<void> | undefined;
    duringNextSetup((channel) => {
      const consume = channel.consume.bind(channel);
      channel.consume = (...args: Parameters<typeof consume>) => {
        const registered = consume(...args);
        stopped = consumer.stop(5_000);
        return registered;
      };
    });
    // The hook runs in the consumer's setup, which starts once the channel opens: after this line.
    const consumer = startConsumer(handled);
    await waitFor(() => stopped !== undefined, { description: 'the stop during registration' });
    await stopped;
    await expectCleanStop(handled);
  });
});

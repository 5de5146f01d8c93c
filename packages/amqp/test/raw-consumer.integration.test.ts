import amqplib, { type ConsumeMessage } from 'amqplib';
import pino from 'pino';
import { deleteAmqpNamespace, testAmqpUrl, uniqueNamespace, waitFor } from '@herald/test-support';
import { AmqpClient, type RawConsumeOptions } from '../src';

const policy = { maxAttempts: 3, delaysMs: [300, 600], jitter: 0 };

describe('the raw consumer against the real broker', () => {
  let namespace: string;
  let client: AmqpClient;
  let inspector: amqplib.ChannelModel;
  let inspect: amqplib.Channel;
  let warnings: string[];
  let queue: string;

  beforeEach(async () => {
    namespace = uniqueNamespace('amqp-raw');
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
    queue = client.names.scoped('test.raw');
    inspector = await amqplib.connect(testAmqpUrl());
    inspect = await inspector.createChannel();
  });

  afterEach(async () => {
    await client.close(1000).catch(() => undefined);
    await deleteAmqpNamespace(namespace, policy, [queue]);
    await inspector.close();
  });

  async function consumeRaw(handler: RawConsumeOptions['handler']) {
    const consumer = client.consumeRaw({
      name: 'test-raw',
      queue,
      declare: { options: { durable: false } },
      prefetch: 5,
      handler,
    });
    await consumer.waitUntilConsuming();
    return consumer;
  }

  const depth = async () => (await inspect.checkQueue(queue)).messageCount;

  it('hands over bytes and headers as delivered, and acks only what the handler acks', async () => {
    const seen: ConsumeMessage[] = [];
    const consumer = await consumeRaw(async (message, context) => {
      seen.push(message);
      if (message.content.toString() !== 'keep me') context.ack();
    });
    inspect.sendToQueue(queue, Buffer.from('{not json'), { headers: { 'herald-reason': 'odd' } });
    inspect.sendToQueue(queue, Buffer.from('keep me'));
    await waitFor(() => seen.length === 2, { description: 'both messages handled' });

    expect(seen[0]!.content.toString()).toBe('{not json');
    expect(seen[0]!.properties.headers).toMatchObject({ 'herald-reason': 'odd' });
    await consumer.stop(5_000);
    // The message the handler did not ack went back to the queue when the channel closed.
    await waitFor(async () => (await depth()) === 1, { description: 'the unacked message requeued' });
    expect(warnings).toEqual([]);
  });

  it("cuts a handler's backoff short on stop; the message it gave up stays in the queue", async () => {
    let paused = false;
    const consumer = await consumeRaw(async (_message, context) => {
      paused = true;
      await context.pause(120_000);
      if (context.isStopping()) return;
      context.ack();
    });
    inspect.sendToQueue(queue, Buffer.from('a dead letter MongoDB cannot take yet'));
    await waitFor(() => paused, { description: 'the handler in its backoff' });

    // A backoff not cut short would outlast this drain bound and log "drain timed out".
    await consumer.stop(30_000);
    expect(warnings).toEqual([]);
    await waitFor(async () => (await depth()) === 1, { description: 'the message back in the queue' });
  });

  it("logs through the consuming service's logger when given one", async () => {
    const lines: Record<string, unknown>[] = [];
    const serviceLogger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    const consumer = client.consumeRaw({
      name: 'test-raw',
      logger: serviceLogger.child({ component: 'dead-letters' }),
      queue,
      declare: { options: { durable: false } },
      prefetch: 1,
      handler: async (_message, context) => {
        context.log.info('handled');
        context.ack();
      },
    });
    await consumer.waitUntilConsuming();
    inspect.sendToQueue(queue, Buffer.from('x'));
    await waitFor(() => lines.some((line) => line.msg === 'handled'));
    await consumer.stop(5_000);
    expect(lines.find((line) => line.msg === 'handled')).toMatchObject({
      component: 'dead-letters',
      consumer: 'test-raw',
      queue,
    });
  });

  it('logs a handler that throws and leaves its message unacked, without crashing', async () => {
    const consumer = await consumeRaw(async () => {
      throw new Error('a bug in the handler');
    });
    inspect.sendToQueue(queue, Buffer.from('x'));
    await waitFor(() => warnings.includes('a message handler failed; the message stays unacked'), {
      description: 'the failure logged',
    });
    await consumer.stop(5_000);
    await waitFor(async () => (await depth()) === 1, { description: 'the message back in the queue' });
  });
});

import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import pino from 'pino';
import { Type, type Static } from '@sinclair/typebox';
import { Headers } from '@herald/contracts';
import { PermanentError, TransientError } from '@herald/runtime';
import { deleteAmqpNamespace, testAmqpUrl, uniqueNamespace, waitFor } from '@herald/test-support';
import { AmqpClient, UnroutableError, type MessageContext } from '../src';
import { brokerClosesConnectionsNamed } from './broker-control';

const TestJob = Type.Object(
  {
    messageId: Type.String(),
    correlationId: Type.String(),
    type: Type.Literal('test.job'),
    payload: Type.Object({ n: Type.Integer() }),
  },
  { additionalProperties: false },
);

const job = (n: number) => ({
  messageId: randomUUID(),
  correlationId: randomUUID(),
  type: 'test.job',
  payload: { n },
});
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const policy = { maxAttempts: 3, delaysMs: [300, 600], jitter: 0 };

describe('AMQP consumer against the real broker', () => {
  let namespace: string;
  let client: AmqpClient;
  let inspector: amqplib.ChannelModel;
  let inspect: amqplib.Channel;
  const extraClients: AmqpClient[] = [];

  beforeEach(async () => {
    namespace = uniqueNamespace('amqp');
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
  });

  afterEach(async () => {
    await Promise.all([client, ...extraClients.splice(0)].map((c) => c.close(1000).catch(() => undefined)));
    await deleteAmqpNamespace(namespace, policy);
    await inspector.close();
  });

  const emailQueue = () => client.names.queues.work.email;

  /** Starts a consumer of the email work queue and waits until the broker has registered it. */
  async function consumeEmail(
    handler: (message: Static<typeof TestJob>, context: MessageContext) => Promise<void>,
    { prefetch = 10, on = client }: { prefetch?: number; on?: AmqpClient } = {},
  ) {
    const consumer = on.consume({ queue: emailQueue(), schema: TestJob, prefetch, handler });
    await consumer.waitUntilConsuming();
    return consumer;
  }
  const publishJob = (body: object, c = client) => c.publish(c.names.exchanges.work, 'email', body as never);

  async function nextDeadLetter(): Promise<amqplib.GetMessage> {
    let found: amqplib.GetMessage | false = false;
    await waitFor(
      async () => {
        found = await inspect.get(client.names.queues.deadLetter, { noAck: true });
        return found !== false;
      },
      { timeoutMs: 10_000, description: 'a message in the DLQ' },
    );
    return found as unknown as amqplib.GetMessage;
  }

  it('brings a transiently failed job back after the delay with x-retry-attempts incremented', async () => {
    const seen: { at: number; attempt: number; header: unknown }[] = [];
    await consumeEmail(async (_message, context: MessageContext) => {
      seen.push({
        at: Date.now(),
        attempt: context.attempt,
        header: context.headers[Headers.retryAttempts],
      });
      if (context.attempt === 1) throw new TransientError('provider_unavailable', 'try later');
    });
    await publishJob(job(1));

    await waitFor(async () => seen.length === 2, { timeoutMs: 10_000, description: 'the retried delivery' });
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen[0]!.header).toBeUndefined();
    expect(seen[1]!.header).toBe(1);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(policy.delaysMs[0]! - 50);
    expect(await inspect.get(client.names.queues.deadLetter)).toBe(false);
  });

  it('dead-letters a job after the last attempt, with headers naming the error, attempts and times', async () => {
    let calls = 0;
    await consumeEmail(async () => {
      calls += 1;
      throw new TransientError('provider_unavailable', `attempt ${calls} failed`);
    });
    const sent = job(2);
    await publishJob(sent);

    const dead = await nextDeadLetter();
    const headers = dead.properties.headers ?? {};
    expect(calls).toBe(3);
    expect(JSON.parse(dead.content.toString())).toEqual(sent);
    expect(dead.properties.messageId).toBe(sent.messageId);
    expect(headers[Headers.deadLetterReason]).toBe('retries_exhausted');
    expect(headers[Headers.retryAttempts]).toBe(2);
    expect(headers[Headers.lastError]).toBe('attempt 3 failed');
    expect(headers[Headers.errorCode]).toBe('provider_unavailable');
    expect(headers[Headers.originalQueue]).toBe(emailQueue());
    expect(Date.parse(String(headers[Headers.firstFailedAt]))).toBeLessThanOrEqual(
      Date.parse(String(headers[Headers.deadLetteredAt])),
    );
  });

  it('dead-letters a permanent failure at once', async () => {
    let calls = 0;
    await consumeEmail(async () => {
      calls += 1;
      throw new PermanentError('invalid_recipient', 'no such mailbox');
    });
    await publishJob(job(3));

    const dead = await nextDeadLetter();
    expect(calls).toBe(1);
    expect(dead.properties.headers?.[Headers.deadLetterReason]).toBe('permanent_error');
    expect(dead.properties.headers?.[Headers.errorCode]).toBe('invalid_recipient');
    expect(dead.properties.headers?.[Headers.retryAttempts]).toBe(0);
  });

  it.each([
    ['a body that is not JSON', Buffer.from('{not json')],
    ['JSON that breaks the schema', Buffer.from(JSON.stringify({ ...job(4), payload: { n: 'four' } }))],
  ])('dead-letters %s without calling the handler', async (_name, content) => {
    let calls = 0;
    await consumeEmail(async () => {
      calls += 1;
    });
    inspect.publish(client.names.exchanges.work, 'email', content, { persistent: true, messageId: 'poison' });

    const dead = await nextDeadLetter();
    expect(dead.content).toEqual(content);
    expect(dead.properties.headers?.[Headers.deadLetterReason]).toBe('invalid_message');
    expect(calls).toBe(0);
    // The consumer is still alive and takes the next good message.
    await publishJob(job(5));
    await waitFor(async () => calls === 1, { timeoutMs: 5000, description: 'the next good message' });
  });

  it('redelivers a confirmed message whose consumer died before acking', async () => {
    const dying = new AmqpClient({
      url: testAmqpUrl(),
      logger,
      connectionName: `${namespace}-dying`,
      namespace,
      retry: policy,
    });
    extraClients.push(dying);
    let started = false;
    await consumeEmail(
      () => {
        started = true;
        return new Promise<void>(() => undefined); // never finishes, never acks
      },
      { prefetch: 1, on: dying },
    );
    const sent = job(6);
    await publishJob(sent);
    await waitFor(async () => started, {
      timeoutMs: 5000,
      description: 'the first consumer to take the job',
    });
    await dying.close(50); // gives up on the in-flight message: its channel closes unacked

    const received: { n: number; attempt: number }[] = [];
    await consumeEmail(
      async (message, context) => {
        received.push({ n: message.payload.n, attempt: context.attempt });
      },
      { prefetch: 1 },
    );
    await waitFor(async () => received.length === 1, { timeoutMs: 5000, description: 'the redelivered job' });
    expect(received).toEqual([{ n: 6, attempt: 1 }]);
  });

  it('rejects a publish that no queue is bound to take', async () => {
    await expect(
      client.publish(client.names.exchanges.work, 'carrier-pigeon', job(7) as never),
    ).rejects.toBeInstanceOf(UnroutableError);
    // The channel survives the return: the next publish is confirmed.
    await expect(publishJob(job(8))).resolves.toBeUndefined();
  });

  it('confirms many publishes in flight at once', async () => {
    await Promise.all(Array.from({ length: 500 }, (_, i) => publishJob(job(i))));
    const { messageCount } = await inspect.checkQueue(emailQueue());
    expect(messageCount).toBe(500);
  });

  it('recovers after the broker closes its connection: publishing and consuming resume', async () => {
    const received: number[] = [];
    await consumeEmail(async (message) => {
      received.push(message.payload.n);
    });
    await publishJob(job(1));
    await waitFor(async () => received.length === 1, {
      timeoutMs: 5000,
      description: 'delivery before the drop',
    });

    expect(await brokerClosesConnectionsNamed(`${namespace}-main`)).toBe(1);
    await waitFor(async () => !client.isConnected(), {
      timeoutMs: 5000,
      description: 'the client to notice',
    });
    await waitFor(async () => client.isConnected(), {
      timeoutMs: 15_000,
      description: 'the client to reconnect',
    });

    await publishJob(job(2));
    await waitFor(async () => received.includes(2), {
      timeoutMs: 10_000,
      description: 'delivery after the drop',
    });
    expect(received).toEqual([1, 2]);
  });
});

describe('the shared topology', () => {
  it("keeps the notification service's events even before that service has started", async () => {
    const namespace = uniqueNamespace('topology');
    const client = new AmqpClient({
      url: testAmqpUrl(),
      logger,
      connectionName: namespace,
      namespace,
      retry: policy,
    });
    await client.waitUntilReady();
    try {
      const event = { ...job(1), type: 'delivery.status' };
      await client.publish(client.names.exchanges.events, 'delivery.status', event as never);
      await client.publish(client.names.exchanges.events, 'user.registered', {
        ...event,
        messageId: randomUUID(),
      } as never);
      const inspector = await amqplib.connect(testAmqpUrl());
      const { messageCount } = await (
        await inspector.createChannel()
      ).checkQueue(client.names.queues.notificationEvents);
      await inspector.close();
      expect(messageCount).toBe(2);
    } finally {
      await client.close();
      await deleteAmqpNamespace(namespace, policy);
    }
  });
});

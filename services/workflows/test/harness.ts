import { randomUUID } from 'node:crypto';
import amqplib, { type Channel as AmqpChannel, type ChannelModel } from 'amqplib';
import {
  EventRoutingKeys,
  MessageTypes,
  createMessage,
  type ApiKeySnapshot,
  type Channel,
  type WorkflowSendMessage,
} from '@herald/contracts';
import { generateApiKey } from '@herald/runtime/http';
import {
  TestTokenIssuer,
  connectTestMongo,
  createTestAmqp,
  testAmqpUrl,
  testLogger,
  waitFor,
  type TestMongo,
} from '@herald/test-support';
import { buildApp } from '../src/app';
import { type ServiceSettings } from '../src/config';

/** Parsed JSON as tests read it: assertions, not the compiler, check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface HarnessOptions {
  settings?: Partial<ServiceSettings>;
  now?: () => Date;
}

/**
 * The real workflows app on the run's MongoDB and RabbitMQ, in a database
 * and an AMQP namespace of its own, plus what tests need to act as the
 * other services do over the broker: auth (API keys, tokens) and the
 * notification service (templates announced, `workflow.send` received,
 * notifications read).
 */
export async function startHarness(name: string, options: HarnessOptions = {}) {
  const mongo: TestMongo = await connectTestMongo(name);
  const broker = await createTestAmqp(name);
  const issuer = new TestTokenIssuer();
  const app = await buildApp({
    logger: testLogger(),
    mongo: mongo.connection,
    amqp: broker.client,
    verifier: issuer.verifier(),
    // the poller's own timer stays out of the way: tests move the clock and run passes themselves
    settings: { pollIntervalMs: 60_000, leaseMs: 5_000, ...options.settings },
    now: options.now,
  });
  await app.ready();
  const connection: ChannelModel = await amqplib.connect(testAmqpUrl());
  const channel: AmqpChannel = await connection.createChannel();
  const tapQueues: string[] = [];
  const workflowQueue = broker.client.names.durableQueues.workflowEvents;
  await waitFor(async () => (await channel.checkQueue(workflowQueue)).consumerCount > 0, {
    description: 'the events consumer',
    timeoutMs: 15_000,
    intervalMs: 100,
  });

  const harness = {
    app,
    mongo,
    broker,
    names: broker.client.names,
    issuer,
    models: app.context.models,

    token(sub: string, role: 'user' | 'admin' = 'user') {
      return issuer.sign({ sub, role });
    },

    async request(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      options: { token?: string; body?: unknown } = {},
    ) {
      return app.inject({
        method,
        url,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
    },

    async publishEvent(
      routingKey: string,
      message: { messageId: string; correlationId: string; type: string },
    ) {
      await broker.client.publish(broker.client.names.exchanges.events, routingKey, message);
    },

    /** Auth creating an API key (`apikey.upserted`); waits until the read model has it. */
    async createApiKey(scopes: ApiKeySnapshot['scopes']) {
      const generated = generateApiKey();
      const snapshot: ApiKeySnapshot = {
        keyId: generated.keyId,
        name: `key ${generated.keyId}`,
        scopes,
        secretHash: generated.secretHash,
        createdAt: new Date().toISOString(),
        revision: 1,
      };
      await harness.publishEvent(
        EventRoutingKeys.apiKeyUpserted,
        createMessage(MessageTypes.apiKeyUpserted, snapshot, { correlationId: 'test' }),
      );
      await waitFor(() => app.context.models.apiKeys.exists({ _id: snapshot.keyId }), {
        description: `key ${snapshot.keyId} in the read model`,
      });
      return { key: generated.key, snapshot };
    },

    /** The notification service announcing a template (`template.changed`); waits for the read model. */
    async announceTemplate(key: string, channels: Channel[], version = 1, deleted = false) {
      await harness.publishEvent(
        EventRoutingKeys.templateChanged,
        createMessage(
          MessageTypes.templateChanged,
          { key, version, channels, deleted, at: new Date().toISOString() },
          { correlationId: 'test' },
        ),
      );
      await waitFor(() => app.context.models.templates.exists({ _id: key, version, deleted }), {
        description: `template ${key} v${version} in the read model`,
      });
    },

    /** A queue of our own bound to `routingKey` on the events exchange. */
    async tap(routingKey: string) {
      const queue = `${broker.namespace}.tap.${randomUUID().slice(0, 8)}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: false });
      await channel.bindQueue(queue, broker.client.names.exchanges.events, routingKey);
      tapQueues.push(queue);
      return queue;
    },

    /** A queue of our own bound to `workflow.send`: what the notification service would receive. */
    async tapSends() {
      return harness.tap(EventRoutingKeys.workflowSend);
    },

    /** The broker's own channel, for tests that change bindings (a publish the broker cannot route). */
    channel,

    /** Takes every message waiting in a queue, parsed. */
    async drain<T = WorkflowSendMessage>(queue: string): Promise<T[]> {
      const messages: T[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (!message) return messages;
        messages.push(JSON.parse(message.content.toString('utf8')) as T);
      }
    },

    /** Lets the runs a trigger started finish their immediate steps, then runs one poller pass. */
    async advance() {
      await app.context.background.drain(15_000);
      return app.poller.runOnce();
    },

    /** The notification service telling that a run's notification was read (sent on under the runs' key, as it does). */
    async notificationRead(notificationId: string, userId: string, at: Date) {
      await harness.publishEvent(
        EventRoutingKeys.runNotificationUpdated,
        createMessage(
          MessageTypes.notificationUpdated,
          {
            userId,
            notificationId,
            change: { kind: 'read', read: true, at: at.toISOString() },
            unreadCount: 0,
          },
          { correlationId: 'test' },
        ),
      );
      await waitFor(
        () =>
          app.context.models.runs.exists({ engagement: { $elemMatch: { notificationId, kind: 'read' } } }),
        { description: `read of ${notificationId} on its run` },
      );
    },

    async run(id: string): Promise<Json> {
      const response = await harness.request('GET', `/api/v1/workflow-runs/${id}`, {
        token: harness.token('root', 'admin'),
      });
      return response.json();
    },

    async close() {
      await app.close().catch(() => undefined);
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await broker.cleanup(tapQueues);
      await mongo.dropAndClose();
    },
  };
  return harness;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

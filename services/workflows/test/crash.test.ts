import { randomUUID } from 'node:crypto';
import amqplib, { type Channel as AmqpChannel, type ChannelModel } from 'amqplib';
import { Types } from 'mongoose';
import { DEFAULT_RETRY_POLICY, delayQueueTtls } from '@herald/amqp';
import { EventRoutingKeys, MessageTypes, createMessage, type ApiKeySnapshot } from '@herald/contracts';
import { generateApiKey } from '@herald/runtime/http';
import {
  connectTestMongo,
  createTestAmqp,
  freePort,
  testAmqpUrl,
  waitFor,
  type TestMongo,
} from '@herald/test-support';
import { WorkflowsProcess, READY_TIMEOUT_MS } from './service-process';

/*
 * The process that owns the timers, killed (SIGKILL, a real child process)
 * in the middle of a delay: the timer is the run's `wakeAt` in MongoDB, so
 * the restarted process fires the step once it is due, and once only.
 */
describe('the workflows process killed during a delay', () => {
  let mongo: TestMongo;
  let broker: Awaited<ReturnType<typeof createTestAmqp>>;
  let connection: ChannelModel;
  let channel: AmqpChannel;
  let tap: string;
  const processes: WorkflowsProcess[] = [];

  beforeAll(async () => {
    mongo = await connectTestMongo('wf-crash');
    broker = await createTestAmqp('wf-crash');
    await broker.client.waitUntilReady();
    connection = await amqplib.connect(testAmqpUrl());
    channel = await connection.createChannel();
    tap = `${broker.namespace}.tap.${randomUUID().slice(0, 8)}`;
    await channel.assertQueue(tap, { durable: false });
    await channel.bindQueue(tap, broker.client.names.exchanges.events, EventRoutingKeys.workflowSend);
  });
  afterAll(async () => {
    await Promise.all(processes.map((one) => one.stop('SIGKILL')));
    await channel?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    // the child declared the default retry policy's delay queues in this namespace too
    await broker?.cleanup([
      tap,
      ...delayQueueTtls(DEFAULT_RETRY_POLICY).map((ttl) => broker.client.names.delayQueue(ttl)),
    ]);
    await mongo?.dropAndClose();
  });

  async function started(env: Record<string, string>): Promise<WorkflowsProcess> {
    const service = new WorkflowsProcess(env);
    processes.push(service);
    await service.start();
    return service;
  }

  const publish = (routingKey: string, message: { messageId: string; correlationId: string; type: string }) =>
    broker.client.publish(broker.client.names.exchanges.events, routingKey, message);

  async function drained(): Promise<
    { payload: { runId: string; stepId: string; notificationId: string } }[]
  > {
    const messages = [];
    for (;;) {
      const message = await channel.get(tap, { noAck: true });
      if (!message) return messages;
      messages.push(JSON.parse(message.content.toString('utf8')));
    }
  }

  it(
    'fires the delayed step once after a restart, never twice',
    async () => {
      const env = {
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        LOG_FORMAT: 'json',
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        MONGO_URL: mongo.url,
        AMQP_URL: testAmqpUrl(),
        AMQP_NAMESPACE: broker.namespace,
        // never asked: the test authenticates with an API key
        JWT_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
        WORKFLOW_POLL_INTERVAL_MS: '100',
        WORKFLOW_LEASE_MS: '2000',
      };
      const first = await started(env);

      const generated = generateApiKey();
      const snapshot: ApiKeySnapshot = {
        keyId: generated.keyId,
        name: 'crash test',
        scopes: ['admin'],
        secretHash: generated.secretHash,
        createdAt: new Date().toISOString(),
        revision: 1,
      };
      await publish(
        EventRoutingKeys.apiKeyUpserted,
        createMessage(MessageTypes.apiKeyUpserted, snapshot, { correlationId: 'test' }),
      );
      await publish(
        EventRoutingKeys.templateChanged,
        createMessage(
          MessageTypes.templateChanged,
          { key: 'later', version: 1, channels: ['email'], deleted: false, at: new Date().toISOString() },
          { correlationId: 'test' },
        ),
      );
      const db = mongo.connection;
      await waitFor(
        async () => (await db.collection('api_keys').countDocuments({ _id: snapshot.keyId } as object)) === 1,
      );
      await waitFor(
        async () => (await db.collection('known_templates').countDocuments({ _id: 'later' } as object)) === 1,
      );

      const call = (path: string, body: unknown) =>
        fetch(`${first.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${generated.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const defined = await call('/api/v1/workflows', {
        key: 'follow-up',
        steps: [
          { id: 'wait', type: 'delay', duration: '5s' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'later' },
        ],
      });
      expect(defined.status).toBe(201);
      const triggered = await call('/api/v1/workflows/follow-up/trigger', {
        recipients: [{ userId: 'kim' }],
      });
      expect(triggered.status).toBe(202);
      const runId = ((await triggered.json()) as { runs: { id: string }[] }).runs[0]!.id;
      const runs = db.collection('workflow_runs');
      await waitFor(
        async () =>
          (await runs.findOne({ _id: new Types.ObjectId(runId), 'waiting.stepId': 'wait' })) !== null,
        {
          description: 'the run waiting in its delay',
        },
      );

      expect(await first.stop('SIGKILL')).toBeNull();
      expect(await drained()).toEqual([]);

      await started(env);
      const ended = await waitFor(
        async () => {
          const run = await runs.findOne({ _id: new Types.ObjectId(runId) });
          return run?.status === 'completed' ? run : undefined;
        },
        { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, description: 'the run completed after the restart' },
      );
      const sends = await drained();
      expect(sends.map((one) => [one.payload.runId, one.payload.stepId])).toEqual([[runId, 'mail']]);
      expect(ended.sends).toHaveLength(1);
      expect(
        ended.history.map((entry: { stepId: string; outcome: string }) => [entry.stepId, entry.outcome]),
      ).toEqual([
        ['wait', 'waiting'],
        ['wait', 'resumed'],
        ['mail', 'sent'],
      ]);
    },
    3 * READY_TIMEOUT_MS,
  );
});

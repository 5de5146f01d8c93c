import pino from 'pino';
import { AmqpClient, delayQueueTtls, topologyNames, type RetryPolicy } from '@herald/amqp';
import amqplib from 'amqplib';
import { testAmqpUrl, uniqueNamespace } from './index';

/** Fast retries for tests: the same topology, with delays short enough to watch. */
export const TEST_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, delaysMs: [200, 400], jitter: 0 };

/** Logs for test suites: silent unless TEST_LOG_LEVEL says otherwise. */
export const testLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * An AmqpClient on the run's broker in a namespace of its own, and a cleanup
 * that closes it and deletes every exchange and queue of the namespace
 * (plus any extra queues the suite declared).
 */
export async function createTestAmqp(suiteName: string, retry: RetryPolicy = TEST_RETRY_POLICY) {
  const namespace = uniqueNamespace(suiteName);
  const client = new AmqpClient({
    url: testAmqpUrl(),
    logger: testLogger(),
    connectionName: `${namespace}-test`,
    namespace,
    retry,
  });
  await client.waitUntilReady();
  return {
    namespace,
    client,
    /** closes the client, then deletes the namespace's exchanges and queues */
    async cleanup(extraQueues: string[] = []) {
      await client.close(1000).catch(() => undefined);
      await deleteAmqpNamespace(namespace, retry, extraQueues);
    },
  };
}

export async function deleteAmqpNamespace(namespace: string, retry: RetryPolicy, extraQueues: string[] = []) {
  const names = topologyNames(namespace);
  const connection = await amqplib.connect(testAmqpUrl());
  try {
    const channel = await connection.createChannel();
    // every durable queue contracts declares (work, dead letters, each service's events queue)
    const queues = [
      ...Object.values(names.durableQueues),
      ...delayQueueTtls(retry).map((ttl) => names.delayQueue(ttl)),
      ...extraQueues,
    ];
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of Object.values(names.exchanges)) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

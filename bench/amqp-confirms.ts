/**
 * The ceiling every throughput target is measured against: how many
 * persistent, mandatory messages per second this machine's broker confirms
 * through our AmqpClient (one confirm channel, confirms pipelined).
 *
 *   pnpm bench:amqp [total=50000] [inFlight=2000]
 *
 * Runs in its own namespace on AMQP_URL (default the local broker) and
 * deletes what it declared. Prints a table and a JSON line.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import amqplib from 'amqplib';
import { AmqpClient, DEFAULT_RETRY_POLICY, delayQueueTtls } from '@herald/amqp';

const total = Number(process.argv[2] ?? 50_000);
const inFlight = Number(process.argv[3] ?? 2_000);
const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function main(): Promise<void> {
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const client = new AmqpClient({
    url,
    logger: pino({ level: 'warn' }),
    connectionName: namespace,
    namespace,
  });
  await client.waitUntilReady();
  const body = {
    messageId: '',
    correlationId: 'bench',
    type: 'delivery.job',
    payload: { text: 'x'.repeat(300) },
  };

  const started = process.hrtime.bigint();
  let sent = 0;
  // A window of concurrent publishes: each completes on its confirm and makes room for the next.
  async function lane(): Promise<void> {
    while (sent < total) {
      sent += 1;
      await client.publish(client.names.exchanges.work, 'email', { ...body, messageId: randomUUID() });
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const perSecond = Math.round(total / seconds);

  await client.close();
  await cleanup(namespace);

  console.table([
    {
      metric: 'broker publish-confirm rate',
      value: `${perSecond} msg/s`,
      total,
      inFlight,
      seconds: seconds.toFixed(2),
    },
  ]);
  console.log(JSON.stringify({ bench: 'amqp-confirms', perSecond, total, inFlight, seconds }));
}

async function cleanup(namespace: string): Promise<void> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  const { topologyNames } = await import('@herald/amqp');
  const names = topologyNames(namespace);
  for (const queue of [
    ...Object.values(names.queues.work),
    names.queues.deadLetter,
    ...delayQueueTtls(DEFAULT_RETRY_POLICY).map((ttl) => names.delayQueue(ttl)),
  ]) {
    await channel.deleteQueue(queue);
  }
  for (const exchange of Object.values(names.exchanges)) await channel.deleteExchange(exchange);
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

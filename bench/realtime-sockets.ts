/**
 * Sockets held by one realtime instance and what each one costs it: the
 * instance's RSS before and after N authenticated websocket clients (one
 * user each) connect, and how long connecting them took.
 *
 *   pnpm bench:sockets [sockets=10000] [batch=250]
 *
 * Target (the brief): 10,000 sockets on one instance at under 100 KB each.
 * The clients run in this process, on loopback, `batch` handshakes at a
 * time. RSS is read from /proc/<pid>/status; the instance is not forced to
 * collect garbage first (a GC cannot be triggered in another process without
 * an inspector session), so the figure includes whatever garbage the
 * handshakes left: an upper bound. The heap figures come from the instance's
 * own /metrics. Needs `ulimit -n` above sockets + 512 (both processes
 * inherit it). RabbitMQ: AMQP_URL, else the local broker; runs in its own
 * namespace and deletes it. Prints a table and a JSON line.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { AmqpClient, DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { EventRoutingKeys, MessageTypes, Queues, ServerEvents, createMessage } from '@herald/contracts';
import { freePort, stopProcess, waitUntilReady } from '@herald/local-infra';
import { TestTokenIssuer, deleteAmqpNamespace } from '@herald/test-support';
import { amqpUrl, connectSocket, sleep, spawnService, type Socket } from './lib/processes';

const sockets = Number(process.argv[2] ?? 10_000);
const batch = Number(process.argv[3] ?? 250);
const TARGET_KB_PER_SOCKET = 100;

async function main(): Promise<void> {
  if (!Number.isInteger(sockets) || sockets < 1 || !Number.isInteger(batch) || batch < 1) {
    throw new Error('usage: bench:sockets [sockets=10000] [batch=250]');
  }
  const fdLimit = openFilesLimit();
  if (fdLimit < sockets + 512) {
    throw new Error(
      `ulimit -n is ${fdLimit}: too low for ${sockets} sockets (each side holds one descriptor per socket, ` +
        `plus ~512 for everything else). Raise it (ulimit -n ${sockets + 1024}) or ask for fewer sockets.`,
    );
  }
  process.env.AMQP_URL = amqpUrl;
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const instanceId = `bench-sockets-${randomUUID().slice(0, 8)}`;
  const issuer = new TestTokenIssuer();
  const jwksUrl = await issuer.serveJwks();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  const realtime = spawnService('services/realtime/src/server.ts', {
    PORT: String(port),
    AMQP_NAMESPACE: namespace,
    INSTANCE_ID: instanceId,
    JWT_JWKS_URL: jwksUrl,
    // no client sends `since`, so catch-up never calls it
    NOTIFICATION_API_URL: 'http://127.0.0.1:9',
  });
  const publisher = new AmqpClient({
    url: amqpUrl,
    logger: pino({ level: 'warn' }),
    connectionName: namespace,
    namespace,
  });
  const clients: Socket[] = [];
  const received = new Map<string, number[]>(); // notification id → indexes of the sockets that got it
  try {
    await publisher.waitUntilReady();
    await waitUntilReady(`${base}/health/ready`, { child: realtime });
    await sleep(2_000);
    const before = { rssKb: rssKb(realtime.pid!), metrics: await scrape(base) };

    const failures = new Map<string, number>();
    const started = performance.now();
    for (let first = 0; first < sockets; first += batch) {
      const last = Math.min(first + batch, sockets);
      await Promise.all(
        Array.from({ length: last - first }, (_, k) => {
          const index = first + k;
          return connectSocket(base, issuer.sign({ sub: userId(index), expiresInSeconds: 3_600 }))
            .then((socket) => {
              clients[index] = socket;
              socket.on(ServerEvents.notificationNew, (event: { notification: { id: string } }) => {
                const got = received.get(event.notification.id) ?? [];
                got.push(index);
                received.set(event.notification.id, got);
              });
            })
            .catch((error: Error & { data?: { code?: string } }) => {
              const code = error.data?.code ?? error.message;
              failures.set(code, (failures.get(code) ?? 0) + 1);
            });
        }),
      );
    }
    const connectSeconds = (performance.now() - started) / 1000;
    const connected = clients.filter(Boolean).length;
    if (connected === 0)
      throw new Error(`no socket connected: ${JSON.stringify(Object.fromEntries(failures))}`);

    await sleep(5_000);
    const after = { rssKb: rssKb(realtime.pid!), metrics: await scrape(base) };
    const serverSockets = after.metrics['realtime_connected_sockets'];

    // Sanity: an event for one user reaches that user's socket, and no other.
    const target = clients.findIndex(Boolean);
    const notificationId = randomUUID().replace(/-/g, '').slice(0, 24);
    const publishedAt = performance.now();
    await publisher.publish(
      publisher.names.exchanges.events,
      EventRoutingKeys.notificationCreated,
      createMessage(
        MessageTypes.notificationCreated,
        {
          userId: userId(target),
          notification: {
            id: notificationId,
            title: 'Benchmark',
            body: 'sanity',
            channels: ['in_app'],
            createdAt: new Date().toISOString(),
            read: false,
            statuses: { in_app: 'delivered' },
          },
        },
        { correlationId: 'bench-sockets' },
      ),
    );
    const deadline = Date.now() + 10_000;
    while (!received.has(notificationId) && Date.now() < deadline) await sleep(5);
    const eventMs = performance.now() - publishedAt;
    await sleep(500); // time for a wrong socket to receive it too
    const reached = received.get(notificationId) ?? [];
    const sanity =
      reached.length === 1 && reached[0] === target ? 'ok' : `FAILED (reached ${reached.length})`;

    const perSocketKb = (after.rssKb - before.rssKb) / connected;
    const heapKb = (name: string) =>
      ((after.metrics[name] ?? NaN) - (before.metrics[name] ?? NaN)) / 1024 / connected;
    const result = {
      bench: 'realtime-sockets',
      sockets,
      connected,
      serverSockets,
      failures: Object.fromEntries(failures),
      connectSeconds: round(connectSeconds, 2),
      connectsPerSecond: Math.round(connected / connectSeconds),
      rssBeforeMb: round(before.rssKb / 1024, 1),
      rssAfterMb: round(after.rssKb / 1024, 1),
      perSocketKb: round(perSocketKb, 1),
      heapUsedPerSocketKb: round(heapKb('nodejs_heap_size_used_bytes'), 1),
      heapTotalPerSocketKb: round(heapKb('nodejs_heap_size_total_bytes'), 1),
      externalPerSocketKb: round(heapKb('nodejs_external_memory_bytes'), 1),
      targetKb: TARGET_KB_PER_SOCKET,
      withinTarget: perSocketKb < TARGET_KB_PER_SOCKET,
      sanity,
      sanityEventMs: round(eventMs, 1),
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
    console.table([
      {
        metric: 'sockets on one realtime instance',
        value: `${result.perSocketKb} KB/socket (RSS)`,
        target: `< ${TARGET_KB_PER_SOCKET} KB`,
        connected: `${connected}/${sockets}`,
        serverSockets,
        connectSeconds: result.connectSeconds,
        'connects/s': result.connectsPerSecond,
        rssMb: `${result.rssBeforeMb} → ${result.rssAfterMb}`,
        heapUsedKbPerSocket: result.heapUsedPerSocketKb,
        sanity: `${sanity} (${result.sanityEventMs} ms)`,
      },
    ]);
    console.log(JSON.stringify(result));
    if (sanity !== 'ok' || connected < sockets) process.exitCode = 1;
  } finally {
    for (const socket of clients) socket?.disconnect();
    await stopProcess(realtime);
    await publisher.close().catch(() => undefined);
    // The instance queue is exclusive and auto-delete, so it went with the process; deleting it again is a no-op.
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY, [
      publisher.names.scoped(`${Queues.realtimePrefix}${instanceId}`),
    ]);
    await issuer.close();
  }
}

const userId = (index: number) => `bench-user-${index}`;

/** The soft RLIMIT_NOFILE of this process, which the spawned service inherits. */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** The samples of the instance's Prometheus metrics that carry no label but `service`. */
async function scrape(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const samples: Record<string, number> = {};
  for (const match of text.matchAll(/^([a-z_]+)(?:\{service="[^"]*"\})? ([0-9.e+-]+)$/gm))
    samples[match[1]!] = Number(match[2]);
  return samples;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

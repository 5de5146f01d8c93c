/**
 * End-to-end latency of an in-app notification: from just before
 * `POST /api/v1/notifications` to the `notification:new` event on the
 * recipient's socket, through the real notification and realtime services
 * (each its own process), MongoDB and RabbitMQ.
 *
 *   pnpm bench:latency [rate=200] [seconds=10] [users=50]
 *
 * Target (the brief): p99 under 25 ms at moderate load. POSTs are sent
 * open-loop at `rate` per second (a slow response does not delay the next
 * one), for `seconds`, each by one of `users` users to themself, each user
 * with one socket; a warm-up (one POST per user, then BENCH_WARMUP_SECONDS,
 * default 30, at the rate, on the same schedule as the window) is not counted:
 * the window then sees the steady state, the outbox relay included (it looks
 * at each notification OUTBOX_GRACE_MS, 15 s, after it was accepted). With
 * 5 s the window had none of the relay's work; with 15 s it began just as the
 * relay's first due passes did, while the database's JIT compiled their reads
 * and deletes: its CPU per POST 0.16-0.20 ms, against 0.09-0.12 once the relay
 * had run for 15 s (0.10-0.13 with no relay work at all). Tokens
 * come from a TestTokenIssuer whose JWKS both services trust.
 *
 * MongoDB: MONGO_URL, else the embedded mongo-java-server (@herald/local-infra) as
 * `pnpm start` runs it (an H2 file in a scratch directory, the long-running JVM;
 * a Java stand-in, slower than a real mongod: the latency is a ceiling).
 * BENCH_LATENCY_TRACE=<file>: every counted POST as [ms into the window, POST → 202 ms,
 * POST → event ms, wall-clock ms], to line slow stretches up with GC logs and the like.
 * RabbitMQ: AMQP_URL, else the local broker. Runs in its own namespace and
 * database, on free loopback ports, and deletes what it made. Prints a table
 * and a JSON line, with each process's CPU per POST in the window (`cpuMsPerPost`).
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { DEFAULT_RETRY_POLICY, topologyNames } from '@herald/amqp';
import { Queues, ServerEvents } from '@herald/contracts';
import { freePort, startMongoJavaServer, stopProcess, waitUntilReady } from '@herald/local-infra';
// Test helpers with no better home: a token issuer standing in for auth, a scratch database, and
// the AMQP namespace clean-up (which belongs with @herald/amqp's topology).
import { TestTokenIssuer, connectTestMongo, deleteAmqpNamespace } from '@herald/test-support';
import { amqpUrl, connectSocket, sleep, spawnService, type Socket } from './lib/processes';
import { cpuMsPer, findRabbitMq, readCpu, type CpuReading, type CpuSubject } from './lib/proc-cpu';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 10);
const users = Number(process.argv[4] ?? 50);
const WARM_UP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 30);
const TARGET_P99_MS = 25;
/** how long after the last POST an event may still arrive */
const DRAIN_MS = 10_000;

interface Sample {
  userIndex: number;
  /** performance.now() just before the POST */
  sentAt: number;
  /** Date.now() at the same moment, to compare with the event's occurredAt */
  sentWall: number;
  respondedAt?: number;
  eventAt?: number;
  eventWall?: number;
  occurredAt?: string;
}

async function main(): Promise<void> {
  if (![rate, seconds, users].every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error('usage: bench:latency [rate=200] [seconds=10] [users=50]');
  }
  process.env.AMQP_URL = amqpUrl;
  // the embedded database as `pnpm start` runs it: an H2 file, the long-running JVM
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-latency-'));
  const mongo = process.env.MONGO_URL
    ? undefined
    : await startMongoJavaServer({ h2File: join(dataDir, 'mongo', 'herald.mv') });
  process.env.MONGO_URL ??= mongo!.url;
  const database = await connectTestMongo('bench latency');
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const instanceId = `bench-latency-${randomUUID().slice(0, 8)}`;
  const issuer = new TestTokenIssuer();
  const jwksUrl = await issuer.serveJwks();
  const notificationBase = `http://127.0.0.1:${await freePort()}`;
  const realtimeBase = `http://127.0.0.1:${await freePort()}`;

  const children: ChildProcess[] = [];
  const clients: Socket[] = [];
  try {
    children.push(
      spawnService('services/notification/src/server.ts', {
        PORT: new URL(notificationBase).port,
        MONGO_URL: database.url,
        AMQP_NAMESPACE: namespace,
        JWT_JWKS_URL: jwksUrl,
        // a benchmark's users send far past a person's quota on purpose
        QUOTA_IN_APP_PER_MINUTE: '0',
        QUOTA_IN_APP_PER_DAY: '0',
      }),
    );
    await waitUntilReady(`${notificationBase}/health/ready`, { child: children[0]! });
    children.push(
      spawnService('services/realtime/src/server.ts', {
        PORT: new URL(realtimeBase).port,
        AMQP_NAMESPACE: namespace,
        INSTANCE_ID: instanceId,
        JWT_JWKS_URL: jwksUrl,
        NOTIFICATION_API_URL: notificationBase,
      }),
    );
    await waitUntilReady(`${realtimeBase}/health/ready`, { child: children[1]! });

    const tokens = Array.from({ length: users }, (_, i) =>
      issuer.sign({ sub: `bench-user-${i}`, expiresInSeconds: 3_600 }),
    );
    const samples = new Map<string, Sample>(); // by notification id
    const early = new Map<
      string,
      { eventAt: number; eventWall: number; userIndex: number; occurredAt: string }
    >();
    let misrouted = 0;
    let duplicates = 0;
    for (let i = 0; i < users; i += 1) {
      const socket = await connectSocket(realtimeBase, tokens[i]!);
      clients.push(socket);
      socket.on(
        ServerEvents.notificationNew,
        (event: { notification: { id: string }; occurredAt: string }) => {
          const eventAt = performance.now();
          const eventWall = Date.now();
          const id = event.notification.id;
          const sample = samples.get(id);
          if (!sample) {
            // The event can beat the HTTP response: the service publishes in the background after the insert.
            if (early.has(id)) duplicates += 1;
            else early.set(id, { eventAt, eventWall, userIndex: i, occurredAt: event.occurredAt });
            return;
          }
          if (sample.eventAt !== undefined) duplicates += 1;
          else if (sample.userIndex !== i) misrouted += 1;
          else Object.assign(sample, { eventAt, eventWall, occurredAt: event.occurredAt });
        },
      );
    }

    // node:http on kept-alive sockets, not fetch: undici's fetch cost this process about as much CPU
    // per request as the service it measures, on the same two cores
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const target = new URL(`${notificationBase}/api/v1/notifications`);
    const postJson = (userIndex: number) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = JSON.stringify({
          recipient: { userId: `bench-user-${userIndex}` },
          channels: ['in_app'],
          title: 'Benchmark',
          body: `Notification for user ${userIndex}`,
        });
        const request = httpRequest(
          {
            agent,
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            headers: {
              authorization: `Bearer ${tokens[userIndex]}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
            );
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      });

    const rejected = new Map<string, number>();
    const post = async (userIndex: number, record: boolean): Promise<void> => {
      const sentWall = Date.now();
      const sentAt = performance.now();
      let status: string;
      try {
        const response = await postJson(userIndex);
        const respondedAt = performance.now();
        status = String(response.status);
        if (response.status === 202) {
          const { id } = JSON.parse(response.body) as { id: string };
          if (!record) return;
          const sample: Sample = { userIndex, sentAt, sentWall, respondedAt };
          const got = early.get(id);
          if (got) {
            early.delete(id);
            if (got.userIndex === userIndex) Object.assign(sample, got);
            else misrouted += 1;
          }
          samples.set(id, sample);
          return;
        }
      } catch (error) {
        status =
          (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      }
      rejected.set(status, (rejected.get(status) ?? 0) + 1);
    };

    const intervalMs = 1000 / rate;
    let maxScheduleLagMs = 0;
    /**
     * POSTs open-loop at `rate`: `warmUpPosts` not counted, then `countedPosts` counted, on one
     * schedule (a steady load has no idle second before its window); `onCounting` runs just before
     * the first counted POST. Returns when every answer is in.
     */
    const drive = async (warmUpPosts: number, countedPosts: number, onCounting: () => void) => {
      const inFlight: Promise<void>[] = [];
      const begun = performance.now();
      for (let i = 0; i < warmUpPosts + countedPosts; i += 1) {
        const due = begun + i * intervalMs;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const counted = i >= warmUpPosts;
        if (i === warmUpPosts) onCounting();
        if (counted) maxScheduleLagMs = Math.max(maxScheduleLagMs, performance.now() - due);
        inFlight.push(post(i % users, counted));
      }
      await Promise.all(inFlight);
    };

    // Warm-up, not counted: one POST per user, then WARM_UP_SECONDS at the rate, so that what is
    // measured is the services' (and the database's JIT-compiled) steady state, not their first seconds.
    // A warm-up notification's event arriving in the window stays in `early` (its id is never counted).
    await Promise.all(Array.from({ length: users }, (_, i) => post(i, false)));

    const total = Math.round(rate * seconds);
    let started = 0;
    let cpuBefore = process.cpuUsage();
    // every process's CPU in the window, per POST: where a moderate load's time goes
    const rabbit = findRabbitMq();
    const subjects: CpuSubject[] = [
      { name: 'notification', pids: () => [children[0]!.pid!] },
      { name: 'realtime', pids: () => [children[1]!.pid!] },
      mongo
        ? { name: 'mongodb', pids: () => [mongo.pid] }
        : { name: 'mongodb', pids: () => [], missing: 'MONGO_URL: not ours to measure' },
      rabbit
        ? { name: 'rabbitmq', pids: () => [rabbit] }
        : { name: 'rabbitmq', pids: () => [], missing: 'no beam.smp running rabbit on this machine' },
    ];
    let processesBefore: CpuReading | undefined;
    // how late this process's own event loop ran: an answer or event read late is counted late
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    await drive(Math.round(rate * WARM_UP_SECONDS), total, () => {
      started = performance.now();
      cpuBefore = process.cpuUsage();
      processesBefore = readCpu(subjects);
      loopDelay.enable();
    });
    const postsDone = performance.now();
    const benchCpu = process.cpuUsage(cpuBefore);
    const cpuMsPerPost = cpuMsPer(processesBefore!, readCpu(subjects), total);
    loopDelay.disable();
    const drainDeadline = postsDone + DRAIN_MS;
    const pending = () => [...samples.values()].some((s) => s.eventAt === undefined);
    while (pending() && performance.now() < drainDeadline) await sleep(10);

    const all = [...samples.values()];
    agent.destroy();
    if (process.env.BENCH_LATENCY_TRACE) {
      // [ms since the measured window began, POST → 202 ms, POST → event ms (null if none), wall-clock ms at the POST]
      const trace = all.map((s) => [
        s.sentAt - started,
        s.respondedAt! - s.sentAt,
        s.eventAt === undefined ? null : s.eventAt - s.sentAt,
        s.sentWall,
      ]);
      writeFileSync(process.env.BENCH_LATENCY_TRACE, JSON.stringify(trace));
    }
    const delivered = all.filter((s) => s.eventAt !== undefined);
    const e2e = sorted(delivered.map((s) => s.eventAt! - s.sentAt));
    const http = sorted(all.map((s) => s.respondedAt! - s.sentAt));
    // Wall clocks of one machine: POST → the service stamps the event, and the stamp → the socket.
    const toStamp = sorted(delivered.map((s) => Date.parse(s.occurredAt!) - s.sentWall));
    const stampToSocket = sorted(delivered.map((s) => s.eventWall! - Date.parse(s.occurredAt!)));
    const sendSeconds = (postsDone - started) / 1000;
    const stats = (values: number[]) => ({
      p50: round(quantile(values, 0.5), 1),
      p95: round(quantile(values, 0.95), 1),
      p99: round(quantile(values, 0.99), 1),
      max: round(values[values.length - 1] ?? NaN, 1),
    });
    const result = {
      bench: 'post-to-socket',
      rate,
      seconds,
      users,
      sent: total,
      accepted: all.length,
      acceptedPerSecond: round(all.length / sendSeconds, 1),
      rejected: Object.fromEntries(rejected),
      delivered: delivered.length,
      missing: all.length - delivered.length,
      misrouted,
      duplicates,
      maxScheduleLagMs: round(maxScheduleLagMs, 1),
      // this process's own CPU (sending, reading answers and socket events) per POST, in the window
      benchCpuMsPerPost: round((benchCpu.user + benchCpu.system) / 1000 / total, 3),
      // the services', the database's and the broker's, in the same window (from /proc)
      cpuMsPerPost,
      benchLoopDelayMs: {
        p50: round(loopDelay.percentile(50) / 1e6, 1),
        p99: round(loopDelay.percentile(99) / 1e6, 1),
        max: round(loopDelay.max / 1e6, 1),
      },
      e2eMs: stats(e2e),
      httpMs: stats(http),
      postToOccurredAtMs: stats(toStamp),
      occurredAtToSocketMs: stats(stampToSocket),
      targetP99Ms: TARGET_P99_MS,
      withinTarget: quantile(e2e, 0.99) < TARGET_P99_MS,
      mongo: mongo ? 'mongo-java-server' : 'MONGO_URL',
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
    console.table(
      (
        [
          [`POST → ${ServerEvents.notificationNew}`, result.e2eMs],
          ['POST → 202 response', result.httpMs],
          ['POST → event occurredAt (wall)', result.postToOccurredAtMs],
          ['occurredAt → socket (wall)', result.occurredAtToSocketMs],
        ] as const
      ).map(([metric, s]) => ({
        metric,
        'p50 ms': s.p50,
        'p95 ms': s.p95,
        'p99 ms': s.p99,
        'max ms': s.max,
      })),
    );
    console.table([
      {
        'rate/s': rate,
        'accepted/s': result.acceptedPerSecond,
        sent: total,
        accepted: result.accepted,
        delivered: result.delivered,
        missing: result.missing,
        misrouted,
        duplicates,
        target: `p99 < ${TARGET_P99_MS} ms`,
        within: result.withinTarget,
        mongo: result.mongo,
      },
    ]);
    console.log(JSON.stringify(result));
    if (result.missing > 0 || misrouted > 0 || rejected.size > 0) process.exitCode = 1;
  } finally {
    for (const socket of clients) socket.disconnect();
    for (const child of children.reverse()) await stopProcess(child);
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY, [
      topologyNames(namespace).scoped(`${Queues.realtimePrefix}${instanceId}`),
    ]).catch((error: unknown) => console.error('could not delete the AMQP namespace', error));
    await issuer.close();
    await database.dropAndClose().catch(() => undefined);
    await mongo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
/** Nearest-rank quantile of sorted values. */
const quantile = (values: number[], q: number) =>
  values.length === 0 ? NaN : values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

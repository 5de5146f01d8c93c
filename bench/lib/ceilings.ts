/**
 * The ceilings a notification's accept path is made of, each measured alone
 * on this machine: the gateway in front of an HTTP server that does nothing,
 * the broker's confirmed publishes, and the database's batched inserts.
 * Accepting one notification needs one of each, so together they bound what
 * any design can accept here (1/L = Σ 1/ceiling).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqplib from 'amqplib';
import pino from 'pino';
import { AmqpClient, DEFAULT_RETRY_POLICY, delayQueueTtls, topologyNames } from '@herald/amqp';
import { freePort, stopProcess } from '@herald/local-infra';
import { closeMongo, connectMongo } from '@herald/runtime/mongo';
import { writeGatewayConfig } from '../../scripts/gateway-config';
import { findNginx } from '../../scripts/stack';
import { closedLoop, type LoadRequest, type LoadResult } from './http-load';
import { cpuMsPer, readCpu, type CpuSubject } from './proc-cpu';

/** Runs a TypeScript file of the bench as its own process; resolves once it prints LISTENING. */
export function spawnListening(file: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=@herald/source', '--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`${file} exited during start-up (code ${code})`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('LISTENING')) {
        child.removeAllListeners('exit');
        child.stdout!.resume();
        resolve(child);
      }
    });
  });
}

/** Polls until a POST answers 202 (nginx and its upstream both up). */
async function waitForAccept(url: string, request: LoadRequest): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.body,
    }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 202) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 202 (last: ${status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * (a) The repository's gateway config with one nginx worker, every upstream
 * a bare Fastify answering 202: requests per second of that pair.
 */
export async function gatewayCeiling(options: {
  runDir: string;
  seconds: number;
  connections: number;
  request: (index: number) => LoadRequest;
}): Promise<LoadResult> {
  const nginx = findNginx();
  if (!nginx) throw new Error('the gateway ceiling needs nginx (apt-get install nginx)');
  const upstreamPort = await freePort();
  const upstream = await spawnListening(join(__dirname, 'bare-fastify.ts'), { PORT: String(upstreamPort) });
  let gateway: ChildProcess | undefined;
  try {
    const port = await freePort();
    const address = `127.0.0.1:${upstreamPort}`;
    const config = writeGatewayConfig({
      runDir: options.runDir,
      port,
      upstreams: { auth: address, notification: address, deliveryWorker: address, realtime: address },
    });
    // the same config, one worker: a ceiling per nginx worker, the figure the issue quotes
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^worker_processes\s+\S+;/m, 'worker_processes 1;'),
    );
    const check = spawnSync(nginx, ['-t', '-q', '-p', options.runDir, '-c', config], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx rejected ${config}: ${check.stderr}`);
    gateway = spawn(nginx, ['-p', options.runDir, '-c', config, '-g', 'daemon off;'], { stdio: 'inherit' });
    const url = `http://127.0.0.1:${port}`;
    await waitForAccept(`${url}/api/v1/notifications`, options.request(0));
    await closedLoop({
      url,
      path: '/api/v1/notifications',
      connections: options.connections,
      amount: 2_000,
      request: options.request,
    });
    return await closedLoop({
      url,
      path: '/api/v1/notifications',
      connections: options.connections,
      seconds: options.seconds,
      request: options.request,
    });
  } finally {
    if (gateway) await stopProcess(gateway);
    await stopProcess(upstream);
  }
}

export interface ConfirmResult {
  confirmed: number;
  seconds: number;
  perSecond: number;
}

/**
 * (b) Persistent, mandatory messages the broker confirms per second through
 * our AmqpClient: one confirm channel, `inFlight` publishes pipelined, each
 * completing on its confirm and making room for the next. Runs for `seconds`
 * or `total` messages in its own namespace, deleted afterwards.
 */
export async function confirmCeiling(options: {
  url: string;
  inFlight: number;
  seconds?: number;
  total?: number;
}): Promise<ConfirmResult> {
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const client = new AmqpClient({
    url: options.url,
    logger: pino({ level: 'warn' }),
    connectionName: namespace,
    namespace,
  });
  try {
    await client.waitUntilReady();
    const body = {
      messageId: '',
      correlationId: 'bench',
      type: 'delivery.job',
      payload: { text: 'x'.repeat(300) },
    };
    const started = performance.now();
    const deadline = options.seconds ? started + options.seconds * 1000 : Number.POSITIVE_INFINITY;
    const total = options.total ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    let confirmed = 0;
    const lane = async () => {
      while (sent < total && performance.now() < deadline) {
        sent += 1;
        await client.publish(client.names.exchanges.work, 'email', { ...body, messageId: randomUUID() });
        confirmed += 1;
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    const seconds = (performance.now() - started) / 1000;
    return { confirmed, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(confirmed / seconds) };
  } finally {
    await client.close();
    await deleteNamespace(options.url, namespace);
  }
}

async function deleteNamespace(url: string, namespace: string): Promise<void> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
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

/** An accepted in-app notification as the service stores it (the fields a fresh one has, since the one-write outbox). */
export function notificationLikeDocument(index: number, userId: string) {
  const now = new Date();
  return {
    dedupeKey: `${randomUUID()}`,
    userId,
    recipient: { userId },
    senderId: userId,
    channels: ['in_app'],
    title: 'Bench',
    body: `n${index}`,
    priority: 'normal',
    metadata: {},
    deliverAt: now,
    correlationId: randomUUID(),
    read: false,
    archived: false,
    deletedAt: null,
    deliveries: { in_app: { status: 'delivered', updatedAt: now } },
    // the accept path stores no outbox entries, lease or acceptance history (the views rebuild
    // those): only when the relay may pick it up, so the ceiling measures the document Herald writes
    outboxDueAt: new Date(now.getTime() + 15_000),
    createdAt: now,
    updatedAt: now,
  };
}

export interface InsertResult {
  documents: number;
  seconds: number;
  perSecond: number;
  /** CPU the database process spent per 1,000 documents (when its pid is known): steadier than the rate on a busy machine */
  serverCpuMsPer1000?: number;
}

/**
 * (c) Documents per second the database stores as `insertMany` batches of
 * `batch` notification-shaped documents, `inFlight` batches at a time, in a
 * scratch database with the unique indexes the notifications collection
 * has (the only ones mongo-java-server maintains); dropped afterwards.
 */
/** documents the insert ceiling's warm-up writes at least (within WARM_UP_CAP_MS past its 3 s) */
const WARM_UP_DOCUMENTS = 20_000;
const WARM_UP_CAP_MS = 60_000;

export async function insertCeiling(options: {
  mongoUrl: string;
  seconds: number;
  batch?: number;
  inFlight?: number;
  /** the database's process, to read its CPU time */
  serverPid?: number;
}): Promise<InsertResult> {
  const batch = options.batch ?? 100;
  const inFlight = options.inFlight ?? 4;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const connection = await connectMongo({
    url: options.mongoUrl,
    dbName: `bench_inserts_${randomUUID().slice(0, 6)}`,
    logger: silent,
    maxAttempts: 1,
  });
  try {
    const collection = connection.db!.collection('notifications');
    await collection.createIndex({ dedupeKey: 1 }, { unique: true });
    await collection.createIndex({ outboxLeaseOwner: 1 }, { unique: true, sparse: true });
    const userId = randomUUID();
    let index = 0;
    const insertBatches = async (deadline: number, atLeast = 0) => {
      let documents = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (
            performance.now() < deadline ||
            (documents < atLeast && performance.now() < deadline + WARM_UP_CAP_MS)
          ) {
            const docs = Array.from({ length: batch }, () => notificationLikeDocument(index++, userId));
            await collection.insertMany(docs, { ordered: false });
            documents += docs.length;
          }
        }),
      );
      return documents;
    };
    // Warm-up (JIT, pools), counted in work as well as time: on a busy machine 3 s of wall clock
    // are a fraction of a core-second for the server, and a JVM with C2 (the long-running profile)
    // would still be compiling in the measured window, its compiler threads' CPU counted as the
    // inserts'. WARM_UP_DOCUMENTS is past C2's thresholds for the per-document paths.
    await insertBatches(performance.now() + Math.min(3, options.seconds) * 1000, WARM_UP_DOCUMENTS);
    const server: CpuSubject[] = options.serverPid
      ? [{ name: 'server', pids: () => [options.serverPid!] }]
      : [];
    const cpuBefore = readCpu(server);
    const started = performance.now();
    const documents = await insertBatches(started + options.seconds * 1000);
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = cpuMsPer(cpuBefore, readCpu(server), documents / 1000).server;
    return {
      documents,
      seconds: Number(seconds.toFixed(2)),
      perSecond: Math.round(documents / seconds),
      ...(cpuMs === undefined ? {} : { serverCpuMsPer1000: Number(cpuMs.toFixed(1)) }),
    };
  } finally {
    await connection.db!.dropDatabase().catch(() => undefined);
    await closeMongo(connection);
  }
}

/**
 * Accepted notifications per second through the gateway: the whole platform
 * (scripts/stack.ts, behind the real nginx) and a closed-loop load of
 * `POST /api/v1/notifications` (in-app, each user to themself) over
 * keep-alive connections.
 *
 *   pnpm bench:gateway [seconds=15] [connections=64] [users=20]
 *
 * Target (the brief): 7,000 accepted/s on this 2-core machine. The load
 * generator runs on the same two cores, and MongoDB is MONGO_URL or else the
 * in-memory MongoDB-wire server (a Java stand-in much slower than mongod,
 * also on those cores): without MONGO_URL the number is a floor. Besides the
 * rate it prints the notification service's CPU time per accepted request
 * (its `process_cpu_seconds_total`), the figure that says how far one
 * instance could go on a core of its own. Prints a table and a JSON line.
 */
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startMongoJavaServer } from '@herald/local-infra';
import { findNginx, startStack, type Stack } from '../scripts/stack';
import { amqpUrl } from './lib/processes';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 64);
const users = Number(process.argv[4] ?? 20);
const TARGET_PER_SECOND = 7_000;

interface Response {
  status: number;
  body: string;
}

function send(
  agent: Agent,
  base: URL,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Response> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: {
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function cpuSeconds(serviceUrl: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total'));
  if (!line) throw new Error(`${serviceUrl}/metrics has no process_cpu_seconds_total`);
  return Number(line.split(' ')[1]);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  if (![seconds, connections, users].every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error('usage: bench:gateway [seconds=15] [connections=64] [users=20]');
  }
  if (!findNginx())
    throw new Error('this benchmark measures the gateway: install nginx (apt-get install nginx)');
  const basePort = 20_000 + Math.floor(Math.random() * 20_000);
  // Never the local platform's .data/ (its database file and nginx directory): a private one, and an
  // in-memory database unless MONGO_URL names one.
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const mongo = process.env.MONGO_URL ? undefined : await startMongoJavaServer();
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      dataDir,
      databasePrefix: `bench_${randomUUID().slice(0, 6)}`,
      runtime: 'source',
      basePort,
      gatewayPort: await freePort(),
      stdio: process.env.BENCH_VERBOSE ? 'inherit' : 'ignore',
      log: (line) => process.stderr.write(`${line}\n`),
      env: {
        ...process.env,
        // production would demand a configured signing key; the logs are quiet at warn either way
        NODE_ENV: 'development',
        MONGO_URL: process.env.MONGO_URL ?? mongo!.url,
        LOG_LEVEL: 'warn',
        AMQP_URL: amqpUrl,
        AMQP_NAMESPACE: `bench-${randomUUID().slice(0, 6)}`,
        BCRYPT_COST: '4',
        REGISTER_MAX_PER_IP: '1000',
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
      },
    });
    const gateway = new URL(stack.gatewayUrl!);
    const agent = new Agent({ keepAlive: true, maxSockets: connections });

    // Users sign up through auth directly: the gateway's credentials zone would (rightly) throttle a burst.
    const auth = new URL(stack.serviceUrls.auth!);
    const tokens: string[] = [];
    for (let i = 0; i < users; i += 1) {
      const email = `bench.${randomUUID().slice(0, 8)}@example.com`;
      const password = `bench-${randomUUID()}`;
      const registered = await send(agent, auth, 'POST', '/api/v1/auth/register', {
        email,
        password,
        name: `U${i}`,
      });
      if (registered.status !== 202) throw new Error(`register: ${registered.status} ${registered.body}`);
      const login = await send(agent, auth, 'POST', '/api/v1/auth/login', { email, password });
      if (login.status !== 200) throw new Error(`login: ${login.status} ${login.body}`);
      tokens.push((JSON.parse(login.body) as { accessToken: string }).accessToken);
    }
    const userIds = tokens.map(
      (token) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string,
    );

    const post = (index: number) =>
      send(
        agent,
        gateway,
        'POST',
        '/api/v1/notifications',
        {
          recipient: { userId: userIds[index % users] },
          channels: ['in_app'],
          title: 'Bench',
          body: `n${index}`,
        },
        tokens[index % users],
      );

    // warm-up: JIT, connection pools, mongoose models
    for (let i = 0; i < 200; i += 1) await post(i);

    const notificationUrl = stack.serviceUrls.notification!;
    const cpuBefore = await cpuSeconds(notificationUrl);
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    let next = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) {
          const at = performance.now();
          const response = await post(next++).catch(() => ({ status: 0, body: '' }));
          latencies.push(performance.now() - at);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = await cpuSeconds(notificationUrl);
    agent.destroy();

    const accepted = statuses.get(202) ?? 0;
    const perSecond = accepted / elapsed;
    const cpuMsPerRequest = accepted ? ((cpuAfter - cpuBefore) * 1000) / accepted : Number.NaN;
    latencies.sort((a, b) => a - b);
    const result = {
      benchmark: 'gateway-create',
      mongo: process.env.MONGO_URL ? 'MONGO_URL' : 'mongo-java-server (in memory)',
      seconds: Number(elapsed.toFixed(1)),
      connections,
      accepted,
      acceptedPerSecond: Math.round(perSecond),
      target: TARGET_PER_SECOND,
      notificationCpuMsPerRequest: Number(cpuMsPerRequest.toFixed(3)),
      latencyMs: {
        p50: Number(percentile(latencies, 50).toFixed(1)),
        p99: Number(percentile(latencies, 99).toFixed(1)),
      },
      statuses: Object.fromEntries(statuses),
    };
    console.table({
      'accepted/s': result.acceptedPerSecond,
      target: TARGET_PER_SECOND,
      'notification CPU ms/request': result.notificationCpuMsPerRequest,
      'latency p50 ms': result.latencyMs.p50,
      'latency p99 ms': result.latencyMs.p99,
    });
    console.log(JSON.stringify(result));
  } finally {
    await stack?.stop();
    await mongo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

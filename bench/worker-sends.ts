/**
 * Delivery-worker throughput: jobs published to the email work queue, sent
 * by one real worker process through mailgun.js to the local fake Mailgun.
 *
 *   pnpm bench:worker [jobs=5000] [prefetch=200] [workers=1]
 *
 * With workers > 1, that many worker processes compete for the queue, as
 * scaled-out instances do (each with the given prefetch).
 *
 * BENCH_WARMUP jobs (default 2,000) go first and are waited for; only the
 * `jobs` after them are measured, so the figure is the steady state's, not
 * the JIT's first seconds (the worker, the fake and the Java stand-in all
 * start cold). BENCH_WARMUP=0 measures from the cold start.
 *
 * MongoDB: MONGO_URL, else the embedded in-memory mongo-java-server (@herald/local-infra)
 * (a Java stand-in, slower than a real mongod: the number is a floor).
 * RabbitMQ: AMQP_URL, else the local broker. Runs in its own namespace and
 * cleans up. Prints a table and a JSON line.
 *
 * A run ends when the fake has accepted every job AND every job's `sent`
 * status has reached the events queue (the worker acks right after it): a
 * worker that only hands messages to the provider fast does not score.
 *
 * The machine is shared, so wall-clock rates are noisy; the CPU each process
 * spent per send (from /proc, over the measured span) is the steadier number:
 * the worker, this process (the fake Mailgun, in-process unless
 * BENCH_FAKE_PROCESS=1 puts it in a child), the Java MongoDB stand-in, and the
 * broker (shared with anything else using it).
 *
 * BENCH_WORKER_NODE_OPTIONS is passed to the worker's node, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/worker-prof` (the profile is written when it exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { AmqpClient, DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { createDeliveryJobMessage } from '@herald/contracts';
import { FakeMailgun } from '@herald/fake-providers';
import { freePort, startMongoJavaServer, stopProcess, waitUntilReady } from '@herald/local-infra';
// the AMQP namespace clean-up has no better home yet (it belongs with @herald/amqp's topology)
import { deleteAmqpNamespace } from '@herald/test-support';

const jobs = Number(process.argv[2] ?? 5000);
const prefetch = Number(process.argv[3] ?? 200);
const workerCount = Number(process.argv[4] ?? 1);
/** Jobs sent (and waited for) before the measured ones, so the rate is the steady state's, not the JIT's first seconds. */
const warmup = Number(process.env.BENCH_WARMUP ?? 2000);
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const root = resolve(__dirname, '..');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Where the fake Mailgun runs: here, or in a child process of its own (`fakeChild`). */
interface Fake {
  url: string;
  apiKey: string;
  pid: number;
  stats(): Promise<{ accepted: number }>;
  acceptedRecipients(): Promise<string[]>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const mongo = process.env.MONGO_URL ? undefined : await startMongoJavaServer();
  const mongoBase = new URL(process.env.MONGO_URL ?? mongo!.url);
  mongoBase.pathname = '/herald_bench_worker';
  const mongoUrl = mongoBase.toString();
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const fake = process.env.BENCH_FAKE_PROCESS === '1' ? await fakeChild() : await fakeHere();
  process.env.AMQP_URL = amqpUrl;
  const ports = await Promise.all(Array.from({ length: workerCount }, () => freePort()));

  const workers = ports.map((port) =>
    spawn(
      process.execPath,
      [
        ...(process.env.BENCH_WORKER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
        '--conditions=@herald/source',
        '--import',
        'tsx',
        'services/delivery-worker/src/server.ts',
      ],
      {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          // development: the local broker's guest account and the fakes' keys, which production refuses
          NODE_ENV: 'development',
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
          PORT: String(port),
          MONGO_URL: mongoUrl,
          AMQP_URL: amqpUrl,
          AMQP_NAMESPACE: namespace,
          EMAIL_PREFETCH: String(prefetch),
          EMAIL_RATE_PER_SECOND: '0',
          MAILGUN_API_KEY: fake.apiKey,
          MAILGUN_DOMAIN: 'mg.bench.test',
          MAILGUN_URL: fake.url,
          TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
          TWILIO_AUTH_TOKEN: 'bench',
          TWILIO_FROM: '+15005550001',
          TWILIO_API_URL: 'http://127.0.0.1:9',
        },
      },
    ),
  );

  const client = new AmqpClient({
    url: amqpUrl,
    logger: pino({ level: 'warn' }),
    connectionName: namespace,
    namespace,
  });
  try {
    await client.waitUntilReady();
    for (const [i, port] of ports.entries()) {
      await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, { child: workers[i]! });
    }

    const jobMessages = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) =>
        createDeliveryJobMessage(
          {
            notificationId: randomUUID().replace(/-/g, '').slice(0, 24),
            channel: 'email',
            jobId: randomUUID(),
            recipient: { email: `${prefix}${i}@bench.test` },
            content: { subject: 'Benchmark', text: 'Hello from the benchmark', html: '<p>Hello</p>' },
            metadata: {},
            createdAt: new Date().toISOString(),
          } as never,
          { correlationId: 'bench' },
        ),
      );
    // `sent` for each job (a first attempt reports no `sending`): the statuses land on the
    // notification service's queue. Waits until `total` jobs were accepted and reported.
    const untilDone = async (total: number, since: number) => {
      for (;;) {
        const accepted = (await fake.stats()).accepted;
        const statuses = await queueDepth(client, client.names.queues.notificationEvents);
        if (accepted >= total && statuses >= total) return statuses;
        if (Date.now() - since > 300_000) {
          throw new Error(`only ${accepted} of ${total} sent, ${statuses} of ${total} statuses`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    if (warmup > 0) {
      const warmupStarted = Date.now();
      await Promise.all(
        jobMessages(warmup, 'warmup').map((message) =>
          client.publish(client.names.exchanges.work, 'email', message),
        ),
      );
      await untilDone(warmup, warmupStarted);
    }
    const messages = jobMessages(jobs, 'user');
    const processes = {
      ...Object.fromEntries(workers.map((w, i) => [workerCount > 1 ? `worker${i + 1}` : 'worker', w.pid!])),
      bench: process.pid,
      ...(fake.pid !== process.pid ? { fake: fake.pid } : {}),
      ...(mongo ? { mongo: mongo.pid } : {}),
      ...(brokerPid() ? { broker: brokerPid()! } : {}),
    };
    const cpuBefore = cpuTicks(processes);
    const started = Date.now();
    await Promise.all(
      messages.map((message) => client.publish(client.names.exchanges.work, 'email', message)),
    );
    const published = Date.now();
    const statuses = (await untilDone(warmup + jobs, started)) - warmup;
    const seconds = (Date.now() - started) / 1000;
    const cpuAfter = cpuTicks(processes);
    const cpuMsPerSend = Object.fromEntries(
      Object.keys(processes).map((name) => [
        name,
        Number(
          ((((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0)) * 1000) / TICKS_PER_SECOND / jobs).toFixed(3),
        ),
      ]),
    );
    const perSecond = Math.round(jobs / seconds);
    const recipients = await fake.acceptedRecipients();
    const duplicates = recipients.length - new Set(recipients).size;
    console.table([
      {
        metric: 'worker sends to fake Mailgun',
        value: `${perSecond} sends/s`,
        jobs,
        warmup,
        prefetch,
        workers: workerCount,
        seconds: seconds.toFixed(2),
        publishSeconds: ((published - started) / 1000).toFixed(2),
        duplicates,
        statuses,
        mongo: process.env.MONGO_URL ? 'MONGO_URL' : 'mongo-java-server',
      },
    ]);
    console.table(Object.entries(cpuMsPerSend).map(([process, ms]) => ({ process, 'CPU ms per send': ms })));
    console.log(
      JSON.stringify({
        bench: 'worker-sends',
        perSecond,
        jobs,
        warmup,
        prefetch,
        workers: workerCount,
        seconds,
        duplicates,
        statuses,
        cpuMsPerSend,
        loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      }),
    );
  } finally {
    await Promise.all(workers.map((worker) => stopProcess(worker)));
    await client.close();
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY);
    await fake.close();
    await mongo?.stop();
  }
}

async function fakeHere(): Promise<Fake> {
  const mailgun = await FakeMailgun.start();
  return {
    url: mailgun.url,
    apiKey: mailgun.apiKey,
    pid: process.pid,
    stats: async () => mailgun.stats(),
    acceptedRecipients: async () => mailgun.accepted.map((r) => JSON.stringify(r.fields['to'])),
    close: () => mailgun.close(),
  };
}

/** The fake in its own process (the `@herald/fake-providers` CLI), read through its control API. */
async function fakeChild(): Promise<Fake> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@herald/source', '--import', 'tsx', 'packages/fake-providers/src/cli.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, FAKE_MAILGUN_PORT: String(port), FAKE_TWILIO_PORT: '0' },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/__fake/stats`, { child });
  return {
    url,
    apiKey: 'key-fake-mailgun',
    pid: child.pid!,
    stats: async () => (await (await fetch(`${url}/__fake/stats`)).json()) as { accepted: number },
    acceptedRecipients: async () => {
      const requests = (await (
        await fetch(`${url}/__fake/requests?limit=${(jobs + warmup) * 2}`)
      ).json()) as {
        outcome: string;
        fields: Record<string, string[]>;
      }[];
      return requests.filter((r) => r.outcome === 'accepted').map((r) => JSON.stringify(r.fields['to']));
    },
    close: () => stopProcess(child),
  };
}

async function queueDepth(client: AmqpClient, queue: string): Promise<number> {
  let depth = 0;
  const channel = client.createChannel({
    name: 'bench-depth',
    setup: async (c) => {
      depth = (await c.checkQueue(queue)).messageCount;
    },
  });
  await channel.waitForConnect();
  await channel.close();
  return depth;
}

/** utime + stime of each process, in clock ticks. */
function cpuTicks(pids: Record<string, number>): Record<string, number> {
  const ticks: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      // the fields after the command name, which may itself hold spaces
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks[name] = Number(fields[11]) + Number(fields[12]);
    } catch {
      // not on Linux, or the process is gone
    }
  }
  return ticks;
}

/** The local RabbitMQ's Erlang VM, if it runs on this machine. */
let broker: number | null | undefined;
function brokerPid(): number | undefined {
  if (broker === undefined) {
    broker = null;
    try {
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'beam.smp') broker = Number(entry);
        } catch {
          // gone meanwhile
        }
      }
    } catch {
      // no /proc
    }
  }
  return broker ?? undefined;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

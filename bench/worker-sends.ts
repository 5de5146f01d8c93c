/**
 * Delivery-worker throughput: jobs published to the email work queue, sent
 * by one real worker process through mailgun.js to the local fake Mailgun.
 *
 *   pnpm bench:worker [jobs=5000] [prefetch=200]
 *
 * MongoDB: MONGO_URL, else the in-memory MongoDB-wire server the tests use
 * (a Java stand-in, slower than a real mongod: the number is a floor).
 * RabbitMQ: AMQP_URL, else the local broker. Runs in its own namespace and
 * cleans up. Prints a table and a JSON line.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pino from 'pino';
import { AmqpClient, DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { createDeliveryJobMessage } from '@herald/contracts';
import { FakeMailgun } from '@herald/fake-providers';
import { deleteAmqpNamespace } from '@herald/test-support';
import { startMongoJavaServer } from '../packages/test-support/src/infra/mongo-java-server';

const jobs = Number(process.argv[2] ?? 5000);
const prefetch = Number(process.argv[3] ?? 200);
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const root = resolve(__dirname, '..');

async function main(): Promise<void> {
  const mongo = process.env.MONGO_URL ? undefined : await startMongoJavaServer();
  const mongoBase = new URL(process.env.MONGO_URL ?? mongo!.url);
  mongoBase.pathname = '/herald_bench_worker';
  const mongoUrl = mongoBase.toString();
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  const mailgun = await FakeMailgun.start();
  process.env.AMQP_URL = amqpUrl;

  const worker = spawn(
    process.execPath,
    ['--conditions=@herald/source', '--import', 'tsx', 'services/delivery-worker/src/server.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        PORT: '3993',
        MONGO_URL: mongoUrl,
        AMQP_URL: amqpUrl,
        AMQP_NAMESPACE: namespace,
        EMAIL_PREFETCH: String(prefetch),
        EMAIL_RATE_PER_SECOND: '0',
        MAILGUN_API_KEY: mailgun.apiKey,
        MAILGUN_DOMAIN: 'mg.bench.test',
        MAILGUN_URL: mailgun.url,
        TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
        TWILIO_AUTH_TOKEN: 'bench',
        TWILIO_FROM: '+15005550001',
        TWILIO_API_URL: 'http://127.0.0.1:9',
      },
    },
  );
  const client = new AmqpClient({
    url: amqpUrl,
    logger: pino({ level: 'warn' }),
    connectionName: namespace,
    namespace,
  });
  try {
    await client.waitUntilReady();
    await waitForReady('http://127.0.0.1:3993/health/ready');

    const messages = Array.from({ length: jobs }, (_, i) =>
      createDeliveryJobMessage(
        {
          notificationId: randomUUID().replace(/-/g, '').slice(0, 24),
          channel: 'email',
          jobId: randomUUID(),
          recipient: { email: `user${i}@bench.test` },
          content: { subject: 'Benchmark', text: 'Hello from the benchmark', html: '<p>Hello</p>' },
          metadata: {},
          createdAt: new Date().toISOString(),
        } as never,
        { correlationId: 'bench' },
      ),
    );
    const started = Date.now();
    await Promise.all(
      messages.map((message) => client.publish(client.names.exchanges.work, 'email', message)),
    );
    const published = Date.now();
    while (mailgun.accepted.length < jobs) {
      if (Date.now() - started > 300_000) throw new Error(`only ${mailgun.accepted.length} of ${jobs} sent`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    const perSecond = Math.round(jobs / seconds);
    const duplicates = jobs - new Set(mailgun.accepted.map((r) => JSON.stringify(r.fields['to']))).size;
    console.table([
      {
        metric: 'worker sends to fake Mailgun',
        value: `${perSecond} sends/s`,
        jobs,
        prefetch,
        seconds: seconds.toFixed(2),
        publishSeconds: ((published - started) / 1000).toFixed(2),
        duplicates,
        mongo: process.env.MONGO_URL ? 'MONGO_URL' : 'mongo-java-server',
      },
    ]);
    console.log(JSON.stringify({ bench: 'worker-sends', perSecond, jobs, prefetch, seconds, duplicates }));
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await client.close();
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY);
    await mailgun.close();
    await mongo?.stop();
  }
}

async function waitForReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never became ready`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * CPU per send of the delivery worker's Mailgun client alone (mailgun.js and its bundled axios,
 * as MailgunProvider configures them), against the fake Mailgun in a child process, so that this
 * process's CPU is the client's only:
 *
 *   tsx --conditions=@herald/source bench/mailgun-client.ts [sends=5000] [concurrency=200]
 *
 * Prints `cpuMsPerSend` (user + system, process.cpuUsage, after 2,000 warm-up sends). On a shared
 * machine compare runs interleaved, and trust the lower figures: contention only adds.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, stopProcess, waitUntilReady } from '@herald/local-infra';
import { MailgunProvider } from '../services/delivery-worker/src/providers/mailgun';

const sends = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 200);

async function main(): Promise<void> {
  const port = await freePort();
  const fake = spawn(
    process.execPath,
    ['--conditions=@herald/source', '--import', 'tsx', 'packages/fake-providers/src/cli.ts'],
    {
      cwd: resolve(__dirname, '..'),
      stdio: 'ignore',
      env: {
        ...process.env,
        FAKE_MAILGUN_PORT: String(port),
        FAKE_TWILIO_PORT: '0',
        FAKE_SENDGRID_PORT: '0',
        FAKE_SMTP_PORT: '0',
      },
    },
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(`${url}/__fake/stats`, { child: fake });
    const provider = new MailgunProvider({
      apiKey: 'key-fake-mailgun',
      domain: 'mg.bench.test',
      url,
      from: 'Herald <noreply@mg.bench.test>',
      timeoutMs: 10_000,
    });
    const run = async (count: number) => {
      let started = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (started < count) {
            started += 1;
            await provider.send({
              notificationId: 'a'.repeat(24),
              channel: 'email',
              jobId: `job-${started}`,
              recipient: { email: `user${started}@bench.test` },
              content: { subject: 'Benchmark', text: 'Hello from the benchmark', html: '<p>Hello</p>' },
              metadata: {},
              createdAt: new Date().toISOString(),
            } as never);
          }
        }),
      );
    };
    await run(2000);
    const before = process.cpuUsage();
    const startedAt = Date.now();
    await run(sends);
    const used = process.cpuUsage(before);
    console.log(
      JSON.stringify({
        bench: 'mailgun-client',
        sends,
        concurrency,
        cpuMsPerSend: Number(((used.user + used.system) / 1000 / sends).toFixed(3)),
        perSecond: Math.round(sends / ((Date.now() - startedAt) / 1000)),
      }),
    );
  } finally {
    await stopProcess(fake);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * The CSV import of issue #24 against a real auth process: time, and the
 * auth process's resident memory while it imports, for a small and a large
 * file, to show memory does not grow with the file:
 *
 *   pnpm bench:import [rows...]        (default: 10000 100000)
 *
 * Auth runs from source as its own process (services/auth/src/server.ts) on
 * MONGO_URL, or else an embedded mongo-java-server in memory (what tests and
 * `pnpm start` use), and the local broker (AMQP_URL) in a namespace of its
 * own, deleted at the end. Each file is generated while it is uploaded
 * (never held whole here either) and streamed as `text/csv` to
 * `POST /api/v1/topics/{key}/import`; one row in 500 is malformed on
 * purpose (a bad email, a field too many), so the report names them by line.
 *
 * RSS is sampled every 50 ms from /proc/<pid>/status (VmRSS) during each
 * import; "peak" is the highest sample, "before" the RSS just before it
 * started. VmHWM (the kernel's own high-water mark) closes the run. Writes
 * bench/results/import-<time>.json and import-latest.json.
 *
 * Auth's V8 old space is capped at BENCH_IMPORT_OLD_SPACE_MB (default 128;
 * 0: V8's own limit, a share of the machine's memory), as a deployment caps
 * a container. Uncapped, V8 lets garbage pile up far above what is live
 * before it collects, and the peak RSS then says how long the import ran,
 * not what it holds: 201 MB at 10,000 rows and 279 MB at 100,000 (the first
 * run of this bench), while heap snapshots of auth after 5,000 and 30,000
 * rows both held 70 MB. Under the cap an import that kept anything per row
 * would run out of heap; the peaks below stay level instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import amqplib from 'amqplib';
import { DEFAULT_RETRY_POLICY, delayQueueTtls, topologyNames } from '@herald/amqp';
import { freePort, startMongoJavaServer, stopProcess, waitUntilReady } from '@herald/local-infra';
import { withDatabase } from '@herald/runtime/mongo';
import { amqpUrl, root, spawnService } from './lib/processes';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const ROWS = sizes.length > 0 ? sizes : [10_000, 100_000];
const BAD_EVERY = 500;
const OLD_SPACE_MB = Number(process.env.BENCH_IMPORT_OLD_SPACE_MB ?? 128);

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** The CSV, produced as it is read: a header, then `rows` rows, one in BAD_EVERY malformed. */
function csvStream(rows: number, run: string): Readable {
  let line = 0;
  return Readable.from(
    (function* () {
      yield 'externalId,email,name,locale,phone,plan,team\n';
      const chunk: string[] = [];
      for (line = 1; line <= rows; line += 1) {
        const id = `${run}-${line}`;
        if (line % BAD_EVERY === 0) {
          chunk.push(
            line % (2 * BAD_EVERY) === 0
              ? `${id},not-an-email,X,en,,free,a\n`
              : `${id},${id}@example.com,X,en,,free,a,extra\n`,
          );
        } else {
          chunk.push(
            `${id},${id}@example.com,Member ${line},en,+1415555${String(line % 10_000).padStart(4, '0')},pro,team-${line % 7}\n`,
          );
        }
        if (chunk.length === 1_000) yield chunk.splice(0).join('');
      }
      if (chunk.length > 0) yield chunk.join('');
    })(),
    { objectMode: false },
  );
}

async function main(): Promise<void> {
  const mongo = process.env.MONGO_URL ? undefined : await startMongoJavaServer();
  const mongoBase = process.env.MONGO_URL ?? mongo!.url;
  const run = randomBytes(3).toString('hex');
  const namespace = `bench-import-${run}`;
  const port = await freePort();
  const admin = { email: `admin.${run}@example.com`, password: `bench-${randomBytes(8).toString('hex')}` };
  const auth = spawnService('services/auth/src/server.ts', {
    PORT: String(port),
    MONGO_URL: withDatabase(mongoBase, `herald_bench_import_${run}`),
    AMQP_NAMESPACE: namespace,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    BCRYPT_COST: '4',
    API_KEY_RATE_LIMIT_PER_SECOND: '1000',
    ...(OLD_SPACE_MB > 0
      ? {
          NODE_OPTIONS: [process.env.NODE_OPTIONS, `--max-old-space-size=${OLD_SPACE_MB}`]
            .filter(Boolean)
            .join(' '),
        }
      : {}),
  });
  const base = `http://127.0.0.1:${port}`;
  const results: Record<string, unknown>[] = [];
  try {
    await waitUntilReady(`${base}/health/ready`, { child: auth, timeoutMs: 120_000 });
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };

    for (const rows of ROWS) {
      const key = `bench-${rows}`;
      const rssBefore = statusKb(auth.pid!, 'VmRSS');
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, statusKb(auth.pid!, 'VmRSS'));
      }, 50);
      const started = process.hrtime.bigint();
      const response = await fetch(`${base}/api/v1/topics/${key}/import?createTopic=true`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'text/csv' },
        body: Readable.toWeb(csvStream(rows, `${run}${rows}`)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const report = (await response.json()) as Record<string, unknown> & {
        rejected?: { line: number; reason: string }[];
      };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      if (response.status !== 200)
        throw new Error(`import of ${rows} rows: ${response.status} ${JSON.stringify(report)}`);
      const result = {
        rows,
        seconds: Math.round(seconds * 10) / 10,
        rowsPerSecond: Math.round(rows / seconds),
        rssBeforeMb: Math.round(rssBefore / 1024),
        rssPeakMb: Math.round(peak / 1024),
        rssGrowthMb: Math.round((peak - rssBefore) / 1024),
        created: report.created,
        updated: report.updated,
        rejectedCount: report.rejectedCount,
        firstRejected: report.rejected?.slice(0, 2),
      };
      results.push(result);
      console.log(JSON.stringify(result));
    }
    const hwmMb = Math.round(statusKb(auth.pid!, 'VmHWM') / 1024);
    console.log('\n rows     seconds  rows/s  RSS before  RSS peak  growth   rejected');
    for (const r of results) {
      console.log(
        ` ${String(r.rows).padEnd(8)} ${String(r.seconds).padEnd(8)} ${String(r.rowsPerSecond).padEnd(7)} ${`${r.rssBeforeMb} MB`.padEnd(11)} ${`${r.rssPeakMb} MB`.padEnd(9)} ${`${r.rssGrowthMb} MB`.padEnd(8)} ${r.rejectedCount}`,
      );
    }
    console.log(
      ` auth VmHWM over the run: ${hwmMb} MB; old space cap: ${OLD_SPACE_MB > 0 ? `${OLD_SPACE_MB} MB` : 'V8 default'}; MongoDB: ${mongo ? mongo.label : 'MONGO_URL'}`,
    );
    const out = join(root, 'bench/results');
    mkdirSync(out, { recursive: true });
    const record = JSON.stringify(
      {
        at: new Date().toISOString(),
        mongo: mongo?.label ?? 'MONGO_URL',
        authOldSpaceMb: OLD_SPACE_MB > 0 ? OLD_SPACE_MB : null,
        results,
        authVmHwmMb: hwmMb,
      },
      null,
      2,
    );
    writeFileSync(
      join(out, `import-${new Date().toISOString().slice(0, 16).replace(':', '-')}.json`),
      `${record}\n`,
    );
    writeFileSync(join(out, 'import-latest.json'), `${record}\n`);
  } finally {
    await stopProcess(auth, { graceMs: 10_000 });
    await deleteNamespace(namespace).catch(() => undefined);
    await mongo?.stop();
  }
}

/** The namespace's queues (auth declares the shared topology, and its events wait in the notification queue). */
async function deleteNamespace(namespace: string): Promise<void> {
  const names = topologyNames(namespace);
  const connection = await amqplib.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const queues = [
      ...Object.values(names.queues.work),
      names.queues.deadLetter,
      names.queues.notificationEvents,
      ...delayQueueTtls(DEFAULT_RETRY_POLICY).map((ttl) => names.delayQueue(ttl)),
    ];
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of Object.values(names.exchanges)) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

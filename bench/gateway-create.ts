/**
 * Accepted notifications per second, against what this machine allows and
 * against a naive design, in one run on one database and one broker:
 *
 *   pnpm bench:gateway [seconds=15] [connections=50] [users=20]
 *
 * 1. Ceilings, each alone: (a) the repository's nginx config with one worker
 *    in front of a bare Fastify answering 202 to the same POST; (b) the
 *    broker's persistent, mandatory publishes with pipelined confirms
 *    through @herald/amqp; (c) the database's batched inserts (insertMany
 *    of 100 notification-shaped documents, 4 in flight). One accepted
 *    notification needs one of each, so they compose to the limit L with
 *    1/L = Σ 1/ceiling. Measured again after Herald, and each ceiling is
 *    the mean of its two runs: this machine's speed drifts over minutes (a
 *    neighbour on the host), and the ratio Herald / L compares a window
 *    taken minutes after the first ceilings; with the ceilings on both sides
 *    a steady drift cancels out. Both runs are printed and kept.
 * 2. The baseline: bench/baseline/seed-style-service.ts (Express, HS256 JWT,
 *    mongoose Model.create and one awaited confirmed publish per request,
 *    no gateway) at the same concurrency.
 * 3. Herald: the whole platform as scripts/stack.ts starts it, through its
 *    nginx, `POST /api/v1/notifications` in-app to oneself, closed loop.
 *
 * For 2 and 3 it also reads, over the measured window (plus a second for
 * work the requests left behind): the CPU milliseconds per accepted
 * notification of each process (/proc/<pid>/stat). For 3, the notification
 * service's database commands per accepted notification (and the
 * statements they carry: documents inserted, updates), as the service
 * itself counts them in /metrics (`herald_mongo_commands_total`: the
 * driver's command monitoring, `monitorCommands=true` in Herald's
 * MONGO_URL, whose cost counts against Herald). Prints a table and a JSON line,
 * and writes the result to bench/results/gateway-<time>.json and
 * bench/results/gateway-latest.json (the figures the README quotes).
 *
 * MongoDB is MONGO_URL, or else the embedded mongo-java-server started as
 * `pnpm start` starts it (H2 file, long-running JVM; in a scratch directory).
 * Environment: AMQP_URL (default the local broker); BENCH_MONGO_PROFILE
 * (short-lived | long-running: the embedded server's JVM flags, to compare
 * them); BENCH_ONLY (comma-separated phases: gateway, broker, inserts,
 * baseline, herald; a partial run writes no result file); BENCH_VERBOSE
 * (the services' output).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import amqplib from 'amqplib';
import jwt from 'jsonwebtoken';
import {
  freePort,
  freePortRange,
  startMongoJavaServer,
  stopProcess,
  type JvmProfile,
} from '@herald/local-infra';
import { DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { closeMongo, connectMongo, withDatabase } from '@herald/runtime/mongo';
import { deleteAmqpNamespace } from '@herald/test-support';
import { SERVICES, findNginx, startStack, type Stack } from '../scripts/stack';
import { amqpUrl, root } from './lib/processes';
import { confirmCeiling, gatewayCeiling, insertCeiling, spawnListening } from './lib/ceilings';
import { closedLoop, type LoadRequest, type LoadResult } from './lib/http-load';
import {
  allProcesses,
  cpuMsPer,
  findRabbitMq,
  readCpu,
  readJvmTicks,
  readMachineTicks,
  stealShare,
  whenQuiet,
  withDescendants,
  type CpuSubject,
} from './lib/proc-cpu';
import { commandsBetween, readCommandCounts, type CommandCounts, type Tally } from './lib/command-counts';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 20);
const PHASES = ['gateway', 'broker', 'inserts', 'baseline', 'herald'] as const;
type Phase = (typeof PHASES)[number];
const only = process.env.BENCH_ONLY?.split(',').map((phase) => phase.trim());
const runs = (phase: Phase) => !only || only.includes(phase);
const mongoProfile = process.env.BENCH_MONGO_PROFILE as JvmProfile | undefined;

const TARGETS = {
  heraldToLimit: 0.5,
  heraldToBaseline: 3,
  p99Ms: 50,
  dbOpsPerAccepted: 1.5,
};
/** after the load stops, the work it left (publishes, group commits) still counts */
const SETTLE_MS = 1_000;
/**
 * Each service phase first runs its load unmeasured for at least this long
 * (BENCH_WARMUP_SECONDS), then on in steps until the embedded MongoDB's JIT has been quiet
 * (its compiler threads at most JIT_QUIET_SHARE of the server's CPU) for two steps running.
 * A fresh JVM's C2 compiles the paths a phase exercises for tens of seconds, on the same two
 * cores (once 5.7 s of CPU in 17 s, against 2.2 s for the threads answering requests); a
 * long-running server has that behind it. At most WARM_UP_MAX_SECONDS; the JIT's share of
 * the measured window is reported either way.
 */
const WARM_UP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const WARM_UP_STEP_SECONDS = 5;
const WARM_UP_MAX_SECONDS = 90;
const JIT_QUIET_SHARE = 0.1;
const BROKER_IN_FLIGHT = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the same request everywhere: an in-app notification from a user to themself */
function notificationRequest(userIds: string[], tokens: string[]) {
  return (index: number): LoadRequest => ({
    headers: { authorization: `Bearer ${tokens[index % tokens.length]}` },
    body: JSON.stringify({
      recipient: { userId: userIds[index % userIds.length] },
      channels: ['in_app'],
      title: 'Bench',
      body: `n${index}`,
    }),
  });
}

/** MONGO_URL with the driver's command monitoring on: the services then count their commands in /metrics */
function monitoredUrl(mongoUrl: string): string {
  return `${mongoUrl}${mongoUrl.includes('?') ? '&' : '?'}monitorCommands=true`;
}

/** One run of the three ceilings (those BENCH_ONLY asks for). */
interface CeilingRun {
  gateway?: LoadResult;
  broker?: { perSecond: number };
  inserts?: { perSecond: number; serverCpuMsPer1000?: number };
  steal: Record<string, number | undefined>;
}

interface Measured {
  load: LoadResult;
  cpuMsPerAccepted: Record<string, number | undefined>;
  /** database commands (heartbeats aside) per accepted notification */
  dbOpsPerAccepted: number | undefined;
  /** what those commands carried: documents inserted, updates, deletes (1 for any other command) */
  dbStatementsPerAccepted: number | undefined;
  /** totals over the window by "command collection" */
  dbOpsByCommand: Record<string, Tally> | undefined;
  /** the processes whose CPU could not be read, and why */
  notMeasured: string[];
  /** how long the unmeasured load before the window ran */
  warmUpSeconds: number;
  /** the share of the machine's CPU time the hypervisor gave elsewhere during the window */
  steal: number | undefined;
  /** the embedded MongoDB's JIT compiler threads' share of its CPU in the window */
  mongodbJitShare: number | undefined;
}

/** The unmeasured load before a phase's window: see WARM_UP_SECONDS. */
async function warmUpUntilJitQuiet(
  common: Parameters<typeof closedLoop>[0],
  jvmPid: number | undefined,
): Promise<{ seconds: number }> {
  await closedLoop({ ...common, seconds: WARM_UP_SECONDS });
  let elapsed = WARM_UP_SECONDS;
  let quietSteps = 0;
  // quiet in two steps running: the compiler works in bursts (a method deoptimized, recompiled)
  while (jvmPid && elapsed < WARM_UP_MAX_SECONDS && quietSteps < 2) {
    const before = readJvmTicks(jvmPid);
    await closedLoop({ ...common, seconds: WARM_UP_STEP_SECONDS });
    elapsed += WARM_UP_STEP_SECONDS;
    const after = readJvmTicks(jvmPid);
    if (!before || !after || after.total <= before.total) break;
    const quiet = (after.jit - before.jit) / (after.total - before.total) <= JIT_QUIET_SHARE;
    quietSteps = quiet ? quietSteps + 1 : 0;
  }
  return { seconds: elapsed };
}

/** Warms up, then loads for `seconds` and reads CPU and database commands around it. */
async function measure(options: {
  url: string;
  subjects: CpuSubject[];
  /** the database commands counted so far, if the service counts them */
  commandCounts: (() => Promise<CommandCounts>) | undefined;
  request: (index: number) => LoadRequest;
  /** the embedded MongoDB's JVM, whose JIT the warm-up waits for; none with MONGO_URL */
  jvmPid: number | undefined;
}): Promise<Measured> {
  const common = { url: options.url, path: '/api/v1/notifications', connections, request: options.request };
  const warmUp = await warmUpUntilJitQuiet(common, options.jvmPid);
  const machineBefore = readMachineTicks();
  const countsBefore = await options.commandCounts?.();
  const cpuBefore = readCpu(options.subjects);
  const jvmBefore = options.jvmPid ? readJvmTicks(options.jvmPid) : undefined;
  const load = await closedLoop({ ...common, seconds });
  await sleep(SETTLE_MS);
  const cpuAfter = readCpu(options.subjects);
  const jvmAfter = options.jvmPid ? readJvmTicks(options.jvmPid) : undefined;
  const machineAfter = readMachineTicks();
  const countsAfter = await options.commandCounts?.();
  const commands = countsBefore && countsAfter ? commandsBetween(countsBefore, countsAfter) : undefined;
  return {
    load,
    cpuMsPerAccepted: cpuMsPer(cpuBefore, cpuAfter, load.accepted),
    dbOpsPerAccepted:
      commands && load.accepted ? Number((commands.commands / load.accepted).toFixed(2)) : undefined,
    dbStatementsPerAccepted:
      commands && load.accepted ? Number((commands.statements / load.accepted).toFixed(2)) : undefined,
    dbOpsByCommand: commands?.byCommand,
    warmUpSeconds: warmUp.seconds,
    steal: stealShare(machineBefore, machineAfter),
    mongodbJitShare:
      jvmBefore && jvmAfter && jvmAfter.total > jvmBefore.total
        ? Number(((jvmAfter.jit - jvmBefore.jit) / (jvmAfter.total - jvmBefore.total)).toFixed(2))
        : undefined,
    notMeasured: options.subjects
      .filter((subject) => subject.missing || cpuAfter.ticks.get(subject.name) === undefined)
      .map((subject) => `${subject.name}: ${subject.missing ?? 'its /proc entry could not be read'}`),
  };
}

function sharedSubjects(mongoPid: number | undefined): CpuSubject[] {
  const processes = allProcesses();
  const rabbit = findRabbitMq(processes);
  const mongod = mongoPid ?? processes.find((p) => p.comm === 'mongod')?.pid;
  return [
    mongod
      ? { name: 'mongodb', pids: () => [mongod] }
      : { name: 'mongodb', pids: () => [], missing: 'MONGO_URL names no mongod process on this machine' },
    rabbit
      ? { name: 'rabbitmq', pids: () => [rabbit] }
      : { name: 'rabbitmq', pids: () => [], missing: 'no beam.smp running rabbit on this machine' },
    { name: 'load generator', pids: () => [process.pid] },
  ];
}

/**
 * The baseline makes one `insert` per request by construction (a wire proxy
 * counted 1.01 while this was built, the 0.01 being requests still in flight
 * when the load stopped): its commands are not counted.
 */
async function runBaseline(
  mongoUrl: string,
  subjects: CpuSubject[],
  jvmPid: number | undefined,
): Promise<Measured> {
  const id = randomUUID().slice(0, 6);
  const database = `bench_baseline_${id}`;
  const queue = `bench-baseline-${id}`;
  const secret = randomUUID();
  const port = await freePort();
  const service = await spawnListening(join(__dirname, 'baseline', 'seed-style-service.ts'), {
    PORT: String(port),
    MONGO_URL: withDatabase(mongoUrl, database),
    AMQP_URL: amqpUrl,
    JWT_SECRET: secret,
    QUEUE: queue,
  });
  try {
    const userIds = Array.from({ length: users }, () => randomUUID());
    const tokens = userIds.map((sub) =>
      jwt.sign({ sub, role: 'user' }, secret, { algorithm: 'HS256', expiresIn: '1h' }),
    );
    return await measure({
      jvmPid,
      url: `http://127.0.0.1:${port}`,
      subjects: [{ name: 'service', pids: () => [service.pid!] }, ...subjects],
      commandCounts: undefined,
      request: notificationRequest(userIds, tokens),
    });
  } finally {
    await stopProcess(service);
    const connection = await amqplib.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await connection.close();
    await dropDatabases(mongoUrl, [database]);
  }
}

async function runHerald(
  dataDir: string,
  mongoUrl: string,
  subjects: CpuSubject[],
  jvmPid: number | undefined,
): Promise<Measured> {
  const prefix = `bench_${randomUUID().slice(0, 6)}`;
  const namespace = `bench-${randomUUID().slice(0, 6)}`;
  // consecutive ports that are free now (a random base once collided with a port in use: a service exited at start)
  const basePort = await freePortRange(SERVICES.length, { min: 20_000, max: 32_000 });
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      dataDir,
      databasePrefix: prefix,
      runtime: 'source',
      basePort,
      gatewayPort: await freePort(),
      stdio: process.env.BENCH_VERBOSE ? 'inherit' : 'ignore',
      log: (line) => process.stderr.write(`${line}\n`),
      env: {
        ...process.env,
        // production would demand a configured signing key; the logs are quiet at warn either way
        NODE_ENV: 'development',
        MONGO_URL: monitoredUrl(mongoUrl),
        LOG_LEVEL: 'warn',
        AMQP_URL: amqpUrl,
        AMQP_NAMESPACE: namespace,
        BCRYPT_COST: '4',
        REGISTER_MAX_PER_IP: '1000',
        // the load is 20 users sending thousands a minute: a benchmark, not abuse
        QUOTA_IN_APP_PER_MINUTE: '0',
        QUOTA_IN_APP_PER_DAY: '0',
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
      },
    });
    // Users sign up through auth directly: the gateway's credentials zone would (rightly) throttle a burst.
    const auth = stack.serviceUrls.auth!;
    const tokens: string[] = [];
    for (let i = 0; i < users; i += 1) {
      const credentials = { email: `bench.${randomUUID().slice(0, 8)}@example.com`, password: randomUUID() };
      const post = (path: string, body: unknown) =>
        fetch(`${auth}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const registered = await post('/api/v1/auth/register', { ...credentials, name: `U${i}` });
      if (registered.status !== 202)
        throw new Error(`register: ${registered.status} ${await registered.text()}`);
      const login = await post('/api/v1/auth/login', credentials);
      if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
      tokens.push(((await login.json()) as { accessToken: string }).accessToken);
    }
    const userIds = tokens.map(
      (token) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string,
    );

    // every instance of a service counts towards it
    const service = (name: string): CpuSubject => {
      const pids = stack!.instances.flatMap((instance) =>
        instance.service === name && instance.pid ? [instance.pid] : [],
      );
      return pids.length
        ? { name, pids: () => pids }
        : { name, pids: () => [], missing: `no ${name} process found` };
    };
    const nginxMaster = Number(readFileSync(join(dataDir, 'nginx', 'nginx.pid'), 'utf8').trim());
    return await measure({
      jvmPid,
      url: stack.gatewayUrl!,
      subjects: [
        service('notification'),
        service('auth'),
        service('realtime'),
        service('delivery-worker'),
        { name: 'nginx', pids: () => withDescendants(nginxMaster) },
        ...subjects,
      ],
      commandCounts: () => readCommandCounts(stack!.serviceUrls.notification!),
      request: notificationRequest(userIds, tokens),
    });
  } finally {
    await stack?.stop();
    await dropDatabases(
      mongoUrl,
      ['auth', 'notification', 'delivery_worker', 'realtime', 'workflows'].map((name) => `${prefix}_${name}`),
    );
    // every run declared the whole topology in a namespace of its own: left behind, they pile up on the broker
    process.env.AMQP_URL = amqpUrl;
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY).catch((error: unknown) =>
      console.error('could not delete the AMQP namespace', error),
    );
  }
}

async function dropDatabases(mongoUrl: string, names: string[]): Promise<void> {
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const connection = await connectMongo({ url: mongoUrl, logger: silent, maxAttempts: 1 });
  try {
    for (const name of names) await connection.useDb(name).dropDatabase();
  } finally {
    await closeMongo(connection);
  }
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b ? Number((a / b).toFixed(2)) : undefined;

async function main(): Promise<void> {
  if (![seconds, connections, users].every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error('usage: bench:gateway [seconds=15] [connections=50] [users=20]');
  }
  if (only?.some((phase) => !PHASES.includes(phase as Phase))) {
    throw new Error(`BENCH_ONLY: phases are ${PHASES.join(', ')}`);
  }
  if (!findNginx())
    throw new Error('this benchmark measures the gateway: install nginx (apt-get install nginx)');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // how busy the machine was before we started: a figure taken at a load average above the core count is noise
  const loadAtStart = Number(loadavg()[0]!.toFixed(2));

  // Never the local platform's .data/: a scratch directory for the H2 file and nginx's files.
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const mongo = process.env.MONGO_URL
    ? undefined
    : await startMongoJavaServer({
        h2File: join(dataDir, 'mongo', 'herald.mv'),
        ...(mongoProfile ? { jvmProfile: mongoProfile } : {}),
      });
  const mongoUrl = process.env.MONGO_URL ?? mongo!.url;
  const mongoLabel = mongo ? mongo.label : 'MONGO_URL';
  log(`MongoDB: ${mongoLabel}`);
  try {
    const sameRequest = notificationRequest([randomUUID()], ['bench']);

    let baseline: Measured | undefined;
    let herald: Measured | undefined;
    const measureCeilings = async (when: string): Promise<CeilingRun> => {
      const found: CeilingRun = { steal: {} };
      // what the phase before left running must not count against the ceilings
      const quiet = await whenQuiet();
      if (quiet.waitedSeconds > 1) {
        log(
          `waited ${quiet.waitedSeconds} s for the machine to go quiet (busy ${quiet.busy ?? '?'} at the end)`,
        );
      }
      // the share of the machine stolen by the hypervisor during each ceiling (warm-ups included)
      const stealDuring = async <T>(name: string, phase: () => Promise<T>): Promise<T> => {
        const before = readMachineTicks();
        const result = await phase();
        found.steal[name] = stealShare(before, readMachineTicks());
        return result;
      };
      if (runs('gateway')) {
        log(`(a${when}) nginx (1 worker) + bare Fastify, ${seconds} s at c=${connections}…`);
        const runDir = join(dataDir, when ? 'ceiling-nginx-again' : 'ceiling-nginx');
        found.gateway = await stealDuring('gateway', () =>
          gatewayCeiling({ runDir, seconds, connections, request: sameRequest }),
        );
      }
      if (runs('broker')) {
        log(`(b${when}) broker publish + confirm, ${seconds} s, ${BROKER_IN_FLIGHT} in flight…`);
        found.broker = await stealDuring('broker', () =>
          confirmCeiling({ url: amqpUrl, inFlight: BROKER_IN_FLIGHT, seconds }),
        );
      }
      if (runs('inserts')) {
        log(`(c${when}) insertMany of 100, 4 in flight, ${seconds} s…`);
        found.inserts = await stealDuring('inserts', () =>
          insertCeiling({ mongoUrl, seconds, serverPid: mongo?.pid }),
        );
      }
      return found;
    };
    const before = await measureCeilings('');
    const subjects = sharedSubjects(mongo?.pid);
    if (runs('baseline')) {
      await whenQuiet();
      log(`baseline (Express, HS256, Model.create, awaited publish), ${seconds} s at c=${connections}…`);
      baseline = await runBaseline(mongoUrl, subjects, mongo?.pid);
    }
    if (runs('herald')) {
      await whenQuiet();
      log(`Herald through the gateway, ${seconds} s at c=${connections}…`);
      herald = await runHerald(dataDir, mongoUrl, subjects, mongo?.pid);
    }
    // the ceilings again on the other side of Herald (a partial run measures them once)
    const after = only ? undefined : await measureCeilings(', again');

    const both = (pick: (run: CeilingRun) => number | undefined) => {
      const first = pick(before);
      const second = after && pick(after);
      return first === undefined || second === undefined ? first : Math.round((first + second) / 2);
    };
    const gateway = before.gateway && {
      acceptedPerSecond: both((run) => run.gateway?.acceptedPerSecond)!,
      non2xx: before.gateway.non2xx + (after?.gateway?.non2xx ?? 0),
      errors: before.gateway.errors + (after?.gateway?.errors ?? 0),
    };
    const broker = before.broker && { perSecond: both((run) => run.broker?.perSecond)! };
    const inserts = before.inserts && {
      perSecond: both((run) => run.inserts?.perSecond)!,
      serverCpuMsPer1000: before.inserts.serverCpuMsPer1000,
    };
    const limitOf = (run: CeilingRun | undefined) => {
      const rates = [run?.gateway?.acceptedPerSecond, run?.broker?.perSecond, run?.inserts?.perSecond];
      return rates.every((c) => c)
        ? Math.round(1 / rates.reduce<number>((sum, c) => sum + 1 / c!, 0))
        : undefined;
    };
    const ceilingSteal = before.steal;

    const ceilings = [gateway?.acceptedPerSecond, broker?.perSecond, inserts?.perSecond];
    const limit = ceilings.every((c) => c)
      ? Math.round(1 / ceilings.reduce<number>((sum, c) => sum + 1 / c!, 0))
      : undefined;
    const heraldRate = herald?.load.acceptedPerSecond;
    const toLimit = ratio(heraldRate, limit);
    const toBaseline = ratio(heraldRate, baseline?.load.acceptedPerSecond);
    const summary = (m: Measured | undefined) =>
      m && {
        acceptedPerSecond: m.load.acceptedPerSecond,
        accepted: m.load.accepted,
        seconds: m.load.seconds,
        latencyMs: m.load.latencyMs,
        non2xx: m.load.non2xx,
        errors: m.load.errors,
        statuses: m.load.statuses,
        cpuMsPerAccepted: m.cpuMsPerAccepted,
        dbOpsPerAccepted: m.dbOpsPerAccepted,
        dbStatementsPerAccepted: m.dbStatementsPerAccepted,
        dbOpsByCommand: m.dbOpsByCommand,
        warmUpSeconds: m.warmUpSeconds,
        mongodbJitShare: m.mongodbJitShare,
        steal: m.steal,
      };
    const notMeasured = [...new Set([...(baseline?.notMeasured ?? []), ...(herald?.notMeasured ?? [])])];
    const result = {
      benchmark: 'gateway',
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        loadAverage1mAtStart: loadAtStart,
      },
      mongo: mongoLabel,
      seconds,
      connections,
      users,
      ceilings: {
        gatewayPerSecond: gateway?.acceptedPerSecond,
        gatewayNon2xx: gateway && gateway.non2xx + gateway.errors,
        brokerConfirmsPerSecond: broker?.perSecond,
        insertDocsPerSecond: inserts?.perSecond,
        insertServerCpuMsPer1000Docs: inserts?.serverCpuMsPer1000,
        composedLimitPerSecond: limit,
        steal: ceilingSteal,
        // each ceiling above is the mean of these two runs, one before the baseline and Herald, one after
        runs:
          after &&
          [before, after].map((run) => ({
            gatewayPerSecond: run.gateway?.acceptedPerSecond,
            brokerConfirmsPerSecond: run.broker?.perSecond,
            insertDocsPerSecond: run.inserts?.perSecond,
            insertServerCpuMsPer1000Docs: run.inserts?.serverCpuMsPer1000,
            composedLimitPerSecond: limitOf(run),
            steal: run.steal,
          })),
      },
      baseline: summary(baseline),
      herald: summary(herald),
      ratios: {
        heraldToLimit: {
          value: toLimit,
          target: TARGETS.heraldToLimit,
          pass: (toLimit ?? 0) >= TARGETS.heraldToLimit,
        },
        heraldToBaseline: {
          value: toBaseline,
          target: TARGETS.heraldToBaseline,
          pass: (toBaseline ?? 0) >= TARGETS.heraldToBaseline,
        },
      },
      targets: herald && {
        p99UnderMs: {
          value: herald.load.latencyMs.p99,
          target: TARGETS.p99Ms,
          pass: herald.load.latencyMs.p99 < TARGETS.p99Ms,
        },
        zeroNon2xx: {
          value: herald.load.non2xx + herald.load.errors,
          pass: herald.load.non2xx + herald.load.errors === 0,
        },
        dbOpsPerAccepted: {
          value: herald.dbOpsPerAccepted,
          target: TARGETS.dbOpsPerAccepted,
          pass: herald.dbOpsPerAccepted !== undefined && herald.dbOpsPerAccepted <= TARGETS.dbOpsPerAccepted,
        },
      },
      notMeasured,
    };

    const fmt = (n: number | undefined, unit = '') =>
      n === undefined ? '—' : `${n.toLocaleString('en')}${unit}`;
    const run = (m: Measured | undefined) =>
      m &&
      `${fmt(m.load.acceptedPerSecond, '/s')}, p50 ${m.load.latencyMs.p50} ms, p99 ${m.load.latencyMs.p99} ms, ` +
        `non-2xx ${m.load.non2xx + m.load.errors}, ` +
        (m.dbOpsPerAccepted === undefined
          ? 'db ops not counted'
          : `db ops ${fmt(m.dbOpsPerAccepted)} (statements ${fmt(m.dbStatementsPerAccepted)})/accepted`);
    const { machine } = result;
    console.log(
      `${machine.cpus} cores, 1-minute load average ${machine.loadAverage1mAtStart} before the run` +
        (machine.loadAverage1mAtStart > machine.cpus / 2
          ? ': something else was running, read the ratios as noisy'
          : ''),
    );
    // a ceiling measured on both sides of Herald: the mean, then each run
    const sides = (pick: (run: CeilingRun) => number | undefined) =>
      after ? ` (before ${fmt(pick(before))}, after ${fmt(pick(after))})` : '';
    console.table([
      {
        what: '(a) nginx 1 worker + bare Fastify',
        figure: fmt(gateway?.acceptedPerSecond, ' req/s') + sides((run) => run.gateway?.acceptedPerSecond),
      },
      {
        what: '(b) broker publish + confirm',
        figure: fmt(broker?.perSecond, ' msg/s') + sides((run) => run.broker?.perSecond),
      },
      {
        what: '(c) batched inserts (100 a batch, 4 in flight)',
        figure: !inserts
          ? '—'
          : `${fmt(inserts.perSecond, ' docs/s')}` +
            sides((run) => run.inserts?.perSecond) +
            (inserts.serverCpuMsPer1000 === undefined
              ? ''
              : `, server CPU ${inserts.serverCpuMsPer1000} ms/1000 docs`),
      },
      {
        what: 'composed limit L (1/L = Σ 1/ceiling)',
        figure: fmt(limit, '/s') + sides((run) => limitOf(run)),
      },
      { what: 'baseline (seed-style, no gateway; 1 insert a request)', figure: run(baseline) ?? '—' },
      { what: 'Herald accepted (through the gateway)', figure: run(herald) ?? '—' },
      {
        what: `Herald / L (target ≥ ${TARGETS.heraldToLimit})`,
        figure: `${fmt(toLimit)} ${toLimit === undefined ? '' : pass(result.ratios.heraldToLimit.pass)}`,
      },
      {
        what: `Herald / baseline (target ≥ ${TARGETS.heraldToBaseline})`,
        figure: `${fmt(toBaseline)} ${toBaseline === undefined ? '' : pass(result.ratios.heraldToBaseline.pass)}`,
      },
      ...(result.targets
        ? [
            {
              what: `Herald p99 < ${TARGETS.p99Ms} ms, zero non-2xx, db ops ≤ ${TARGETS.dbOpsPerAccepted}`,
              figure: [result.targets.p99UnderMs, result.targets.zeroNon2xx, result.targets.dbOpsPerAccepted]
                .map((t) => pass(t.pass))
                .join(' / '),
            },
          ]
        : []),
    ]);
    const names = [
      ...new Set([
        ...Object.keys(herald?.cpuMsPerAccepted ?? {}),
        ...Object.keys(baseline?.cpuMsPerAccepted ?? {}),
      ]),
    ];
    if (names.length) {
      console.log('CPU ms per accepted notification');
      console.table(
        Object.fromEntries(
          names.map((name) => [
            name,
            { baseline: fmt(baseline?.cpuMsPerAccepted[name]), herald: fmt(herald?.cpuMsPerAccepted[name]) },
          ]),
        ),
      );
    }
    if (herald?.dbOpsByCommand || baseline?.dbOpsByCommand) {
      console.log('database commands (and the statements they carried) per accepted notification');
      const per = (m: Measured | undefined, key: string) => {
        const tally = m?.dbOpsByCommand?.[key];
        if (!tally || !m.load.accepted) return '';
        const each = (n: number) => Number((n / m.load.accepted).toFixed(3));
        return `${each(tally.commands)} (${each(tally.statements)})`;
      };
      const keys = [
        ...new Set([
          ...Object.keys(baseline?.dbOpsByCommand ?? {}),
          ...Object.keys(herald?.dbOpsByCommand ?? {}),
        ]),
      ];
      console.table(
        Object.fromEntries(
          keys.map((key) => [key, { baseline: per(baseline, key), herald: per(herald, key) }]),
        ),
      );
    }
    for (const [name, m] of [
      ['baseline', baseline],
      ['Herald', herald],
    ] as const) {
      if (!m) continue;
      const jit =
        m.mongodbJitShare === undefined
          ? ''
          : `; MongoDB's JIT ${Math.round(m.mongodbJitShare * 100)} % of its CPU in the window`;
      const steal = m.steal === undefined ? '' : `; steal ${Math.round(m.steal * 100)} %`;
      console.log(`${name}: warmed up ${m.warmUpSeconds} s${jit}${steal}`);
    }
    const stolen = Object.entries(ceilingSteal).filter(([, share]) => share !== undefined);
    if (stolen.length) {
      console.log(
        `steal during the ceilings: ${stolen.map(([name, share]) => `${name} ${Math.round(share! * 100)} %`).join(', ')}` +
          ([...stolen.map(([, share]) => share!), baseline?.steal ?? 0, herald?.steal ?? 0].some(
            (share) => share > 0.05,
          )
            ? ': over 5 % somewhere, the hypervisor took part of the machine, read the ratios as noisy'
            : ''),
      );
    }
    if (notMeasured.length) console.log(`not measured: ${notMeasured.join('; ')}`);
    console.log(JSON.stringify(result));

    if (!only) {
      const dir = join(root, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `gateway-${result.at.slice(0, 16).replace(':', '-')}.json`);
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      copyFileSync(file, join(dir, 'gateway-latest.json'));
      log(`written to ${file} and bench/results/gateway-latest.json`);
    }
  } finally {
    await mongo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

// Starts Herald on one machine: MongoDB (MONGO_URL or the embedded
// mongo-java-server keeping its data under the data directory), RabbitMQ
// (AMQP_URL or localhost), the fake providers when no provider credentials
// are set, the four services and nginx. Used by `pnpm start`; the end-to-end
// suite reuses it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeMailgun, FakePushService, FakeTwilio } from '@herald/fake-providers';
import { exitedEarly, startMongoJavaServer, stopProcess, waitUntilReady } from '@herald/local-infra';
import { withDatabase } from '@herald/runtime/mongo';
import { REPO_ROOT, gatewayVariables, writeGatewayConfig } from './gateway-config';
import { localCredentials, localSigningKey, removeRunningStack, writeRunningStack } from './local-state';

/** In port order: each service listens on the stack's base port plus its index. */
export const SERVICES = ['auth', 'notification', 'delivery-worker', 'realtime', 'workflows'] as const;
export type ServiceName = (typeof SERVICES)[number];
export const DEFAULT_BASE_PORT = 3001;
/** Instance k (0-based) of a service listens PORT_STRIDE × k above its first instance. */
export const PORT_STRIDE = 10;
export const MAX_INSTANCES = 8;

/** How many instances of each service run (`pnpm start --scale notification=2,delivery-worker=3`). */
export type Scale = Partial<Record<ServiceName, number>>;

export function parseScale(text: string): Scale {
  const scale: Scale = {};
  for (const part of text.split(',').filter((entry) => entry.trim() !== '')) {
    const match = /^\s*([a-z-]+)=(\d+)\s*$/.exec(part);
    if (!match) throw new Error(`--scale takes service=count pairs, e.g. notification=2; not: ${part}`);
    const [, name, count] = match;
    if (!(SERVICES as readonly string[]).includes(name!)) {
      throw new Error(`--scale: unknown service ${name} (known: ${SERVICES.join(', ')})`);
    }
    const instances = Number(count);
    if (!(instances >= 1 && instances <= MAX_INSTANCES)) {
      throw new Error(`--scale: ${name} takes 1 to ${MAX_INSTANCES} instances, not ${count}`);
    }
    scale[name as ServiceName] = instances;
  }
  return scale;
}

/** `pnpm start [--no-gateway] [--scale notification=2,delivery-worker=3,realtime=2]` */
export function parseStartArguments(args: string[]): { gateway: boolean; scale: Scale } {
  let gateway = true;
  let scale: Scale = {};
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--') continue;
    if (arg === '--no-gateway') gateway = false;
    else if (arg === '--scale') scale = parseScale(args[++index] ?? '');
    else if (arg.startsWith('--scale=')) scale = parseScale(arg.slice('--scale='.length));
    else throw new Error(`unknown option ${arg} (known: --no-gateway, --scale service=count,…)`);
  }
  return { gateway, scale };
}

export function instancePort(basePort: number, service: ServiceName, instance: number): number {
  return basePort + SERVICES.indexOf(service) + instance * PORT_STRIDE;
}

/** One running process of a service. */
export interface StackInstance {
  service: ServiceName;
  /** 0 for the first */
  instance: number;
  url: string;
  pid: number | undefined;
  /** SIGKILL, for tests of what a crash leaves behind; resolves once it has exited */
  kill(): Promise<void>;
}

const NGINX_CANDIDATES = [
  process.env.NGINX_BIN,
  '/usr/sbin/nginx',
  '/usr/local/sbin/nginx',
  '/usr/bin/nginx',
];

export interface Stack {
  /** where the stack keeps its files (MongoDB's, nginx's, the local credentials) */
  dataDir: string;
  gatewayUrl: string | undefined;
  /** each service's first instance */
  serviceUrls: Record<string, string>;
  /** every instance of every service */
  instances: StackInstance[];
  mailgun: FakeMailgun | undefined;
  twilio: FakeTwilio | undefined;
  /** the fake push service, when the stack made its own VAPID keys */
  push: FakePushService | undefined;
  stop(): Promise<void>;
}

export interface StackOptions {
  env?: NodeJS.ProcessEnv;
  gatewayPort?: number;
  /**
   * The stack's files (default .data/ in the repository): the embedded
   * MongoDB's data, nginx's config and temp files, the generated local
   * credentials and signing key, and stack.json, which tells `pnpm seed`
   * where the running stack listens. Two stacks never share one.
   */
  dataDir?: string;
  log?: (line: string) => void;
  /** child output goes here; defaults to inherited stdio */
  stdio?: 'inherit' | 'ignore';
  /** 'dist' runs the built services (pnpm start); 'source' runs their TypeScript through tsx (tests, no build) */
  runtime?: 'dist' | 'source';
  /** auth listens here, notification on the next port, and so on (default 3001) */
  basePort?: number;
  /** each service's database is `<prefix>_<service>` on MONGO_URL (default `herald`): tests use their own */
  databasePrefix?: string;
  /**
   * Run the services and nginx in process groups of their own, so a Ctrl-C
   * in the terminal reaches only us and stop() signals each of them once
   * (services read a second signal as "exit now, skip the drain").
   * For `pnpm start`, which stops them on SIGINT/SIGTERM/SIGHUP; a test run
   * keeps them in its group, so a Ctrl-C on Jest cannot leave them behind.
   */
  detachChildren?: boolean;
  /** false: no nginx, the services on their own ports only (`pnpm start --no-gateway`); default true */
  gateway?: boolean;
  /** instances per service (default 1 each); nginx balances over them */
  scale?: Scale;
  /** where to look for nginx (default: NGINX_BIN, then the usual paths) */
  nginxCandidates?: readonly (string | undefined)[];
}

/**
 * The environment of one service of the stack. It listens on loopback only,
 * whatever HOST the caller's environment holds: only nginx and the other
 * services call it, and on every interface anyone on the network could skip
 * the gateway (its rate limits, and the client address it vouches for).
 */
export function serviceEnv(
  env: NodeJS.ProcessEnv,
  service: { name: string; port: number },
  databasePrefix = 'herald',
): NodeJS.ProcessEnv {
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(service.port),
    // Each service owns its collections; one database each keeps their index names apart.
    ...(env.MONGO_URL
      ? { MONGO_URL: withDatabase(env.MONGO_URL, `${databasePrefix}_${service.name.replace('-', '_')}`) }
      : {}),
  };
}

export function findNginx(
  candidates: readonly (string | undefined)[] = NGINX_CANDIDATES,
): string | undefined {
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate));
}

/**
 * The nginx binary the stack runs, decided before anything starts: without the gateway the
 * README's `:8080` examples and the browser pages fail, so a missing nginx stops the start
 * (naming the fix) unless the caller asked for no gateway.
 */
export function gatewayBinary(
  options: Pick<StackOptions, 'gateway' | 'nginxCandidates'>,
): string | undefined {
  if (options.gateway === false) return undefined;
  const nginx = findNginx(options.nginxCandidates);
  if (!nginx) {
    throw new Error(
      'nginx not found (the gateway on :8080): install it with `bash scripts/setup.sh` ' +
        '(or your package manager; NGINX_BIN names another path), or run `pnpm start --no-gateway` ' +
        'to reach each service on its own port',
    );
  }
  return nginx;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const env = { ...(options.env ?? process.env) };
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = options.dataDir ?? join(REPO_ROOT, '.data');
  const nginx = gatewayBinary(options);
  mkdirSync(dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    stops.length = 0; // a second stop() has nothing left to do
  };

  try {
    if (!env.MONGO_URL) {
      const mongoDir = join(dataDir, 'mongo');
      const mongo = await startMongoJavaServer({ h2File: join(mongoDir, 'herald.mv') }).catch(
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(
            /locked/i.test(message)
              ? `the MongoDB data in ${mongoDir} is in use: is another \`pnpm start\` running? (${message})`
              : message,
          );
        },
      );
      stops.push(mongo.stop);
      env.MONGO_URL = mongo.url;
      log(`MongoDB: ${mongo.label}; data kept in ${mongoDir} (set MONGO_URL to use your own MongoDB)`);
    }
    env.AMQP_URL ??= 'amqp://guest:guest@127.0.0.1:5672';
    // Local defaults kept in dataDir rather than written in the repository: the first admin
    // (what `pnpm seed` logs in as) and a signing key that survives restarts like the data does.
    if (!env.ADMIN_EMAIL && !env.ADMIN_PASSWORD) {
      const { admin } = localCredentials(dataDir);
      env.ADMIN_EMAIL = admin.email;
      env.ADMIN_PASSWORD = admin.password;
    }
    env.JWT_PRIVATE_KEYS ||= localSigningKey(dataDir);
    // the development key of the unsubscribe links (refused in production, see DEVELOPMENT_SECRETS)
    env.UNSUBSCRIBE_SECRET ||= 'local-unsubscribe-secret';
    // the development key the event webhooks' signing secrets are encrypted with (refused in production too)
    env.WEBHOOK_SECRETS_KEY ||= 'aGVyYWxkLWxvY2FsLXdlYmhvb2stc2VjcmV0cy1rZXk=';

    let mailgun: FakeMailgun | undefined;
    let twilio: FakeTwilio | undefined;
    if (!env.MAILGUN_API_KEY && !env.TWILIO_ACCOUNT_SID) {
      Object.assign(env, {
        MAILGUN_API_KEY: 'local-mailgun-key',
        MAILGUN_DOMAIN: 'mg.herald.local',
        MAILGUN_WEBHOOK_SIGNING_KEY: 'local-mailgun-signing-key',
        // a fake's placeholder, built so it never reads as a real credential
        TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
        TWILIO_AUTH_TOKEN: 'local-twilio-token',
        TWILIO_FROM: '+15005550006',
      });
      mailgun = new FakeMailgun({
        apiKey: env.MAILGUN_API_KEY,
        webhookSigningKey: env.MAILGUN_WEBHOOK_SIGNING_KEY,
      });
      twilio = new FakeTwilio({ accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN });
      env.MAILGUN_URL = await mailgun.listen(0, '127.0.0.1');
      env.TWILIO_API_URL = await twilio.listen(0, '127.0.0.1');
      stops.push(() => Promise.all([mailgun!.close(), twilio!.close()]).then(() => undefined));
      log(`Fake providers: Mailgun ${env.MAILGUN_URL}, Twilio ${env.TWILIO_API_URL}`);
    }

    let push: FakePushService | undefined;
    if (!env.VAPID_PUBLIC_KEY && !env.VAPID_PRIVATE_KEY) {
      // Web Push against a local push service: a key pair of this run, the fake's self-signed
      // certificate trusted by the services (NODE_EXTRA_CA_CERTS), its loopback endpoints allowed.
      const vapid = createECDH('prime256v1');
      vapid.generateKeys();
      const privateKey = vapid.getPrivateKey();
      push = await FakePushService.start();
      push.expectedVapidPublicKey = vapid.getPublicKey().toString('base64url');
      const caFile = join(dataDir, 'fake-push-ca.pem');
      writeFileSync(caFile, push.ca);
      Object.assign(env, {
        VAPID_PUBLIC_KEY: push.expectedVapidPublicKey,
        VAPID_PRIVATE_KEY: Buffer.concat([Buffer.alloc(32 - privateKey.length), privateKey]).toString(
          'base64url',
        ),
        VAPID_SUBJECT: 'mailto:push@herald.local',
        PUSH_ALLOW_LOOPBACK_HTTP: 'true',
        // the worker connects to the fake on 127.0.0.1: an internal address it refuses otherwise
        PUSH_ALLOW_PRIVATE: 'true',
        NODE_EXTRA_CA_CERTS: caFile,
      });
      stops.push(() => push!.close());
      log(`Fake push service: ${push.url} (subscriptions made with its subscribe())`);
    }

    const basePort = options.basePort ?? DEFAULT_BASE_PORT;
    const ports = Object.fromEntries(SERVICES.map((name, index) => [name, basePort + index])) as Record<
      (typeof SERVICES)[number],
      number
    >;
    // The services find each other on this stack's ports, not their defaults.
    env.JWT_JWKS_URL = `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`;
    env.NOTIFICATION_API_URL = `http://127.0.0.1:${ports.notification}`;

    const serviceUrls: Record<string, string> = {};
    const instances: StackInstance[] = [];
    const exits: Array<Promise<never>> = [];
    const children: ChildProcess[] = [];
    // all at once: each drains its own work (SIGTERM, SIGKILL after 15 s), and none needs another to
    stops.push(() => Promise.all(children.map((child) => stopProcess(child))).then(() => undefined));
    // First instances first: each prepares its database (collections, indexes, migrations), which
    // two instances starting at once on a fresh database would race; the others join once it is ready.
    const maxCount = Math.max(1, ...SERVICES.map((name) => options.scale?.[name] ?? 1));
    for (let instance = 0; instance < maxCount; instance += 1) {
      const wave: StackInstance[] = [];
      for (const name of SERVICES) {
        const count = options.scale?.[name] ?? 1;
        if (instance >= count) continue;
        const service = { name, port: instancePort(basePort, name, instance) };
        // 'source' runs the TypeScript through tsx, resolving workspace packages to their sources,
        // so tests need no build; 'dist' runs what `pnpm build` produced.
        const entry =
          options.runtime === 'source'
            ? [
                '--conditions=@herald/source',
                '--import',
                'tsx',
                join(REPO_ROOT, 'services', service.name, 'src', 'server.ts'),
              ]
            : [join(REPO_ROOT, 'services', service.name, 'dist', 'server.js')];
        const childEnv = serviceEnv(env, service, options.databasePrefix);
        // each realtime instance consumes its own fan-out queue, named after its instance id
        if (count > 1) childEnv.INSTANCE_ID = `${name}-${instance + 1}-${process.pid}`;
        const child = spawn(process.execPath, entry, {
          cwd: join(REPO_ROOT, 'services', service.name),
          env: childEnv,
          stdio: options.stdio ?? 'inherit',
          detached: options.detachChildren ?? false,
        });
        children.push(child);
        const label = count > 1 ? `${service.name}#${instance + 1}` : service.name;
        exits.push(exitedEarly(child, label));
        const url = `http://127.0.0.1:${service.port}`;
        if (instance === 0) serviceUrls[service.name] = url;
        instances.push({
          service: name,
          instance,
          url,
          pid: child.pid,
          kill: () =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        });
        wave.push(instances.at(-1)!);
      }
      // A service that dies while starting (port taken, bad config) fails the start at once.
      await Promise.race([
        Promise.all(wave.map((one) => waitUntilReady(`${one.url}/health/ready`))),
        ...exits,
      ]);
    }

    const upstreamOf = (name: ServiceName) =>
      instances.filter((instance) => instance.service === name).map((instance) => new URL(instance.url).host);
    let gatewayUrl: string | undefined;
    if (nginx) {
      const port = options.gatewayPort ?? Number(env.GATEWAY_PORT ?? 8080);
      const runDir = join(dataDir, 'nginx');
      const config = writeGatewayConfig({
        runDir,
        port,
        trustedProxies: env.HERALD_TRUSTED_PROXIES,
        upstreams: {
          auth: upstreamOf('auth'),
          notification: upstreamOf('notification'),
          deliveryWorker: upstreamOf('delivery-worker'),
          realtime: upstreamOf('realtime'),
          workflows: upstreamOf('workflows'),
        },
      });
      const webDir = gatewayVariables({ runDir }).HERALD_WEB_DIR!;
      if (existsSync(join(webDir, 'index.html'))) makeWorldReadable(webDir);
      else log(`The web app is not built (${webDir}): run \`pnpm build\`; until then / answers 404`);
      const check = spawnSync(nginx, ['-t', '-q', '-p', runDir, '-c', config], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`nginx rejected ${config}: ${check.stderr}`);
      const child = spawn(nginx, ['-p', runDir, '-c', config, '-g', 'daemon off;'], {
        stdio: options.stdio ?? 'inherit',
        detached: options.detachChildren ?? false,
      });
      stops.push(() => stopProcess(child));
      gatewayUrl = `http://127.0.0.1:${port}`;
      await waitUntilReady(`${gatewayUrl}/docs/auth/json`);
    } else {
      log('--no-gateway: services are reachable on their own ports only');
    }
    writeRunningStack(dataDir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      gatewayUrl,
      serviceUrls,
      mailgunUrl: mailgun?.url,
      adminEmail: env.ADMIN_EMAIL ?? '',
    });
    // stopped first: while the record exists, what it names can be used
    stops.push(async () => removeRunningStack(dataDir));
    return { dataDir, gatewayUrl, serviceUrls, instances, mailgun, twilio, push, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * nginx started as root serves files with workers running as nobody: a build
 * made under a strict umask would answer 403, so its files are opened to all
 * readers (they are public pages anyway).
 */
export function makeWorldReadable(path: string): void {
  const stats = statSync(path);
  chmodSync(path, stats.mode | (stats.isDirectory() ? 0o555 : 0o444));
  if (stats.isDirectory()) for (const entry of readdirSync(path)) makeWorldReadable(join(path, entry));
}

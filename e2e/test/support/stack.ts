// Starts the whole platform for the end-to-end suite: the services from
// source on a random free port range, the fake providers, and the real nginx
// in front, with a first admin and the public URL pointed at this gateway.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { deleteAmqpNamespace, testAmqpUrl, testMongoUrl, uniqueNamespace } from '@herald/test-support';
import { type FakeMailgun, type FakePushService, type FakeTwilio } from '@herald/fake-providers';
import {
  MAX_INSTANCES,
  PORT_STRIDE,
  SERVICES,
  findNginx,
  startStack,
  type Scale,
  type Stack,
  type StackInstance,
} from '../../../scripts/stack';
import { freePortRange } from '@herald/local-infra';

export interface Credentials {
  email: string;
  password: string;
}

export interface E2eStack {
  gatewayUrl: string;
  /** each service's own address, behind the gateway */
  serviceUrls: Record<string, string>;
  /** every instance of every service (several with `scale`) */
  instances: StackInstance[];
  mailgun: FakeMailgun;
  twilio: FakeTwilio;
  push: FakePushService;
  /** the first admin, created by auth at start from ADMIN_EMAIL / ADMIN_PASSWORD */
  admin: Credentials;
  stop(): Promise<void>;
}

/** Never a silent skip: without nginx the suite fails and says how to get it. */
export function requireNginx(): void {
  if (!findNginx()) {
    throw new Error(
      'The end-to-end suite needs the nginx binary: apt-get install nginx (bash .ci/run does), or set NGINX_BIN',
    );
  }
}

export interface E2eStackOptions {
  /** instances per service (default one each) */
  scale?: Scale;
  /** settings on top of the suite's */
  env?: NodeJS.ProcessEnv;
}

export async function startE2eStack(options: E2eStackOptions = {}): Promise<E2eStack> {
  requireNginx();
  // the first instances on basePort..basePort+N-1, the gateway right after them, further
  // instances PORT_STRIDE apart above them
  const rows = Math.max(1, ...Object.values(options.scale ?? {}));
  if (rows > MAX_INSTANCES) throw new Error(`at most ${MAX_INSTANCES} instances per service`);
  const basePort = await freePortRange(rows === 1 ? SERVICES.length + 1 : PORT_STRIDE * rows);
  const gatewayPort = basePort + SERVICES.length;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  // nginx's config, pid and temp files stay out of .data/, which a running `pnpm start` uses
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  // unique per run: with a MONGO_URL that outlives runs, auth never promotes an existing account
  const suffix = randomBytes(4).toString('hex');
  const admin = {
    email: `admin.${suffix}@example.com`,
    password: `e2e-admin-${randomBytes(12).toString('hex')}`,
  };

  const namespace = uniqueNamespace('e2e');
  // the services declared the whole topology in it: left behind, every run's queues pile up on the broker
  const forgetNamespace = () => deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY).catch(() => undefined);
  let stack: Stack;
  try {
    stack = await startStack({
      runtime: 'source',
      stdio: 'ignore',
      basePort,
      gatewayPort,
      dataDir,
      // never the platform's own databases, should MONGO_URL be a MongoDB that `pnpm start` uses too
      databasePrefix: `e2e_${suffix}`,
      log: () => undefined,
      scale: options.scale,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MONGO_URL: testMongoUrl('e2e'),
        AMQP_URL: testAmqpUrl(),
        AMQP_NAMESPACE: namespace,
        BCRYPT_COST: '4',
        // empty: startStack runs the fake providers and aims the worker and the webhooks at them
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
        VAPID_PUBLIC_KEY: '',
        VAPID_PRIVATE_KEY: '',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        // what providers call back: Twilio signs this URL, so it must be this run's gateway
        PUBLIC_BASE_URL: gatewayUrl,
        // outgoing webhooks: the suite's receiver listens on 127.0.0.1 (tests only ever aim at loopback)
        EVENT_WEBHOOK_ALLOW_PRIVATE: 'true',
        // the links in auth's emails open this run's web app (apps/web handles both paths)
        VERIFY_EMAIL_URL_BASE: `${gatewayUrl}/verify-email?token=`,
        PASSWORD_RESET_URL_BASE: `${gatewayUrl}/reset-password?token=`,
        ...options.env,
      },
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    await forgetNamespace();
    throw error;
  }
  if (!stack.gatewayUrl || !stack.mailgun || !stack.twilio || !stack.push) {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await forgetNamespace();
    throw new Error('the stack started without the gateway or the fake providers');
  }
  return {
    gatewayUrl: stack.gatewayUrl,
    serviceUrls: stack.serviceUrls,
    instances: stack.instances,
    mailgun: stack.mailgun,
    twilio: stack.twilio,
    push: stack.push,
    admin,
    stop: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await forgetNamespace();
    },
  };
}

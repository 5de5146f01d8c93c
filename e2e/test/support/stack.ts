// Starts the whole platform for the end-to-end suite: the services from
// source on a random free port range, the fake providers, and the real nginx
// in front, with a first admin and the public URL pointed at this gateway.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testAmqpUrl, testMongoUrl, uniqueNamespace } from '@herald/test-support';
import { type FakeMailgun, type FakeTwilio } from '@herald/fake-providers';
import { SERVICES, findNginx, startStack, type Stack } from '../../../scripts/stack';
import { freePortRange } from '@herald/local-infra';

export interface Credentials {
  email: string;
  password: string;
}

export interface E2eStack {
  gatewayUrl: string;
  /** each service's own address, behind the gateway */
  serviceUrls: Record<string, string>;
  mailgun: FakeMailgun;
  twilio: FakeTwilio;
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

export async function startE2eStack(): Promise<E2eStack> {
  requireNginx();
  // the services on basePort..basePort+3, the gateway right after them
  const basePort = await freePortRange(SERVICES.length + 1);
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
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MONGO_URL: testMongoUrl('e2e'),
        AMQP_URL: testAmqpUrl(),
        AMQP_NAMESPACE: uniqueNamespace('e2e'),
        BCRYPT_COST: '4',
        // empty: startStack runs the fake providers and aims the worker and the webhooks at them
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        // what providers call back: Twilio signs this URL, so it must be this run's gateway
        PUBLIC_BASE_URL: gatewayUrl,
        // outgoing webhooks: the suite's receiver listens on 127.0.0.1 (tests only ever aim at loopback)
        EVENT_WEBHOOK_ALLOW_PRIVATE: 'true',
      },
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  if (!stack.gatewayUrl || !stack.mailgun || !stack.twilio) {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error('the stack started without the gateway or the fake providers');
  }
  return {
    gatewayUrl: stack.gatewayUrl,
    serviceUrls: stack.serviceUrls,
    mailgun: stack.mailgun,
    twilio: stack.twilio,
    admin,
    stop: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

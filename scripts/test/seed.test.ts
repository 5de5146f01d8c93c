// `pnpm seed` against a whole running stack (services from source, the fake
// providers, nginx when installed), as a user runs it after `pnpm start`.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange } from '@herald/local-infra';
import { DEFAULT_RETRY_POLICY } from '@herald/amqp';
import { deleteAmqpNamespace, testAmqpUrl, testMongoUrl, uniqueNamespace } from '@herald/test-support';
import { seedPlatform } from '../seed-platform';
import { SERVICES, startStack, type Stack } from '../stack';

jest.setTimeout(120_000);

describe('pnpm seed', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-seed-'));
  let stack: Stack;
  const namespace = uniqueNamespace('seed');

  beforeAll(async () => {
    // 40000–60000: apart from `pnpm start` and from the e2e suite's stacks (20000–40000)
    const basePort = await freePortRange(SERVICES.length + 1, { min: 40_000, max: 60_000 });
    stack = await startStack({
      runtime: 'source',
      stdio: 'ignore',
      basePort,
      gatewayPort: basePort + SERVICES.length,
      dataDir,
      databasePrefix: uniqueNamespace('seed'),
      log: () => undefined,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MONGO_URL: testMongoUrl('seed'),
        AMQP_URL: testAmqpUrl(),
        AMQP_NAMESPACE: namespace,
        BCRYPT_COST: '4',
        // no ADMIN_*: the stack's generated local admin, as with a plain `pnpm start`
        ADMIN_EMAIL: '',
        ADMIN_PASSWORD: '',
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    // the services declared the whole topology in it: left behind, every run's queues pile up on the broker
    await deleteAmqpNamespace(namespace, DEFAULT_RETRY_POLICY);
  });

  const login = async (email: string, password: string) => {
    const response = await fetch(`${stack.gatewayUrl ?? stack.serviceUrls.auth}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect({ email, status: response.status }).toEqual({ email, status: 200 });
    return ((await response.json()) as { accessToken: string }).accessToken;
  };
  const me = async (token: string) =>
    (await (
      await fetch(`${stack.gatewayUrl ?? stack.serviceUrls.auth}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { role: string; emailVerified: boolean };
  const inbox = async (token: string) =>
    (await (
      await fetch(`${stack.gatewayUrl ?? stack.serviceUrls.notification}/api/v1/notifications?limit=10`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { items: Array<{ title: string; category?: string }> };

  it('creates an admin and a verified demo user that both log in, and is the same the second time', async () => {
    const first = await seedPlatform({ dataDir, env: {} });
    expect(first.admin.email).not.toBe(first.demo.email);
    expect(first.welcomeSent).toBe(true);

    const adminToken = await login(first.admin.email, first.admin.password);
    expect(await me(adminToken)).toMatchObject({ role: 'admin' });
    const demoToken = await login(first.demo.email, first.demo.password);
    expect(await me(demoToken)).toMatchObject({ role: 'user', emailVerified: true });
    expect((await inbox(demoToken)).items).toEqual([
      expect.objectContaining({ category: 'welcome', title: 'Welcome to Herald' }),
    ]);

    const again = await seedPlatform({ dataDir, env: {} });
    expect(again).toEqual({ ...first, welcomeSent: false });
    expect((await inbox(demoToken)).items).toHaveLength(1);
  });

  it('keeps the generated passwords in the data directory, readable by their owner only', () => {
    const file = join(dataDir, 'local-credentials.json');
    expect(statSync(file).mode & 0o077).toBe(0);
    const credentials = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { password: string }>;
    expect(credentials.admin!.password.length).toBeGreaterThanOrEqual(16);
    expect(credentials.demo!.password).not.toBe(credentials.admin!.password);
  });

  it('says how to start the platform when none is running', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'herald-seed-none-'));
    try {
      await expect(seedPlatform({ dataDir: empty, env: {} })).rejects.toThrow(/pnpm start/);
      expect(existsSync(join(empty, 'stack.json'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

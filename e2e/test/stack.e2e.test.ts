// The whole platform behind the real nginx, driven only through the gateway
// port: what a client of Herald sees.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { testAmqpUrl, testMongoUrl, uniqueNamespace, waitFor } from '@herald/test-support';
import { findNginx, startStack, type Stack } from '../../scripts/stack';

jest.setTimeout(90_000);

function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }),
  );
}

// Never a silent skip: without nginx this suite fails and says how to get it.
if (!findNginx()) {
  throw new Error(
    'The end-to-end suite needs the nginx binary: apt-get install nginx (bash .ci/run does), or set NGINX_BIN',
  );
}

describe('Herald through the gateway', () => {
  let stack: Stack;
  let gateway: string;

  beforeAll(async () => {
    stack = await startStack({
      runtime: 'source',
      stdio: 'ignore',
      gatewayPort: await freePort(),
      log: () => undefined,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MONGO_URL: testMongoUrl('e2e'),
        AMQP_URL: testAmqpUrl(),
        AMQP_NAMESPACE: uniqueNamespace('e2e'),
        BCRYPT_COST: '4',
        MAILGUN_API_KEY: '',
        TWILIO_ACCOUNT_SID: '',
      },
    });
    gateway = stack.gatewayUrl!;
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${gateway}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('registers, verifies through the emailed link and logs in', async () => {
    const email = `ada.${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    const registered = await post('/api/v1/auth/register', { email, password, name: 'Ada' });
    expect(registered.status).toBe(201);

    const mail = await waitFor(() => stack.mailgun!.accepted.find((message) => message.recipient === email), {
      timeoutMs: 20_000,
      description: 'the verification email at the fake Mailgun',
    });
    const content = [...(mail.fields.text ?? []), ...(mail.fields.html ?? [])].join('\n');
    const token = decodeURIComponent(/token=([^\s"'<&]+)/.exec(content)![1]!);

    const verified = await post('/api/v1/auth/verify-email', { token });
    expect(verified.status).toBeLessThan(300);

    const login = await post('/api/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { accessToken: string; refreshToken: string };
    const me = await fetch(`${gateway}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email, emailVerified: true });

    // refresh rotation: the new pair works, the spent refresh token no longer does
    const rotated = await post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { refreshToken: string };
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect((await post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status).toBe(401);
  });

  it('serves the Swagger UI and every OpenAPI document', async () => {
    const page = await fetch(`${gateway}/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('SwaggerUIBundle');
    for (const name of ['auth', 'notification', 'realtime', 'delivery-worker']) {
      const document = await fetch(`${gateway}/docs/${name}/json`);
      expect({ name, status: document.status }).toEqual({ name, status: 200 });
      expect(((await document.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    }
  });

  it('answers a login flood with the gateway 429', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 25 }, () =>
        post('/api/v1/auth/login', { email: 'x@example.com', password: 'nope' }),
      ),
    );
    const bodies = await Promise.all(
      statuses
        .filter((response) => response.status === 429)
        .map((response) => response.json() as Promise<{ code: string }>),
    );
    // auth's own per-account limit may answer some; the gateway's zone must answer the rest
    expect(bodies.filter((body) => body.code === 'rate_limited').length).toBeGreaterThan(0);
  });
});

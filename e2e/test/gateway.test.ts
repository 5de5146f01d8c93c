// The real nginx with the rendered nginx.conf in front of one stub upstream
// that echoes what it received, so routing and gateway policies are checked
// without the whole stack.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOCKET_IO_PATH, WebhookPaths } from '@herald/contracts';
import { freePort } from '@herald/local-infra';
import { waitFor } from '@herald/test-support';
import { writeGatewayConfig, type GatewayConfigOptions } from '../../scripts/gateway-config';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

interface Echo {
  upstream: string;
  url: string;
  requestId: string | undefined;
  /** the X-Forwarded-For the service was given */
  forwardedFor: string | undefined;
}

function startUpstream(name: string): Promise<Server> {
  const server = createServer((request: IncomingMessage, response) => {
    const echo: Echo = {
      upstream: name,
      url: request.url ?? '',
      requestId: request.headers['x-request-id'] as string | undefined,
      forwardedFor: request.headers['x-forwarded-for'] as string | undefined,
    };
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(echo));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const address = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;

interface Gateway {
  base: string;
  stop(): Promise<void>;
}

/** The real nginx on the rendered nginx.conf, in front of the given stub upstreams. */
async function startGateway(
  upstreams: Record<string, Server>,
  options: Partial<GatewayConfigOptions> = {},
): Promise<Gateway> {
  const runDir = mkdtempSync(join(tmpdir(), 'herald-gateway-'));
  const port = await freePort();
  const config = writeGatewayConfig({
    runDir,
    port,
    accessLog: join(runDir, 'access.log'),
    upstreams: {
      auth: address(upstreams.auth!),
      notification: address(upstreams.notification!),
      realtime: address(upstreams.realtime!),
      deliveryWorker: address(upstreams.deliveryWorker!),
      workflows: address(upstreams.workflows!),
    },
    ...options,
  });
  const check = spawnSync(NGINX, ['-t', '-p', runDir, '-c', config], { encoding: 'utf8' });
  expect(check.stderr).toContain('test is successful');
  const nginx: ChildProcess = spawn(NGINX, ['-p', runDir, '-c', config, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => nginx.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/nope`).catch(() => undefined)) !== undefined, {
    timeoutMs: 10_000,
    description: 'nginx listening',
  });
  return {
    base,
    stop: async () => {
      nginx.kill('SIGTERM');
      await exited;
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

describe('gateway nginx.conf', () => {
  const servers: Record<string, Server> = {};
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    for (const name of ['auth', 'notification', 'realtime', 'deliveryWorker', 'workflows'])
      servers[name] = await startUpstream(name);
    gateway = await startGateway(servers, { credentialsRate: '1r/m', credentialsBurst: 2 });
    base = gateway.base;
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(
      Object.values(servers).map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });

  const echo = async (path: string, init?: RequestInit) =>
    (await (await fetch(`${base}${path}`, init)).json()) as Echo;

  it('routes each public prefix to its service', async () => {
    const routes: Array<[string, string]> = [
      ['/api/v1/auth/refresh', 'auth'],
      ['/api/v1/users/me', 'auth'],
      ['/api/v1/api-keys', 'auth'],
      ['/api/v1/subscribers/shop-42/inbox-token', 'auth'],
      ['/.well-known/jwks.json', 'auth'],
      ['/api/v1/notifications?limit=1', 'notification'],
      ['/api/v1/templates', 'notification'],
      ['/api/v1/categories', 'notification'],
      ['/api/v1/preferences', 'notification'],
      ['/api/v1/unsubscribe?token=x.y', 'notification'],
      [WebhookPaths.sendgrid, 'notification'],
      [WebhookPaths.mailgun, 'notification'],
      ['/api/v1/admin/dead-letters', 'notification'],
      ['/api/v1/workflows', 'workflows'],
      ['/api/v1/workflows/onboarding/trigger', 'workflows'],
      ['/api/v1/workflow-runs?recipient=ada', 'workflows'],
      [`${SOCKET_IO_PATH}?EIO=4&transport=polling`, 'realtime'],
      ['/docs/static/swagger-ui.css', 'auth'],
    ];
    for (const [path, upstream] of routes) {
      const received = await echo(path);
      expect({ path, upstream: received.upstream, url: received.url }).toEqual({ path, upstream, url: path });
    }
  });

  it('exposes each OpenAPI document under its own path', async () => {
    expect(await echo('/docs/auth/json')).toMatchObject({ upstream: 'auth', url: '/docs/json' });
    expect(await echo('/docs/notification/json')).toMatchObject({
      upstream: 'notification',
      url: '/docs/json',
    });
    expect(await echo('/docs/realtime/json')).toMatchObject({ upstream: 'realtime', url: '/docs/json' });
    expect(await echo('/docs/delivery-worker/json')).toMatchObject({
      upstream: 'deliveryWorker',
      url: '/docs/json',
    });
    expect(await echo('/docs/workflows/json')).toMatchObject({ upstream: 'workflows', url: '/docs/json' });
  });

  it('serves one Swagger UI listing every document', async () => {
    const response = await fetch(`${base}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('<script src="/docs/swagger-init.js"></script>');
    // its start-up is a file of its own (the page's policy allows no inline script)
    const init = await fetch(`${base}/docs/swagger-init.js`);
    expect(init.headers.get('content-type')).toContain('javascript');
    const script = await init.text();
    for (const name of ['auth', 'notification', 'realtime', 'delivery-worker', 'workflows'])
      expect(script).toContain(`/docs/${name}/json`);
  });

  it('serves the example inbox page from its own origin, and nothing outside examples/', async () => {
    const response = await fetch(`${base}/examples/inbox.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('/socket.io/socket.io.js');
    expect((await fetch(`${base}/examples/../package.json`)).status).not.toBe(200);
  });

  it('passes a caller request id through and generates one when absent', async () => {
    const kept = await fetch(`${base}/api/v1/templates`, { headers: { 'x-request-id': 'caller-id-1' } });
    expect(((await kept.json()) as Echo).requestId).toBe('caller-id-1');
    expect(kept.headers.get('x-request-id')).toBe('caller-id-1');
    const generated = (await echo('/api/v1/templates')).requestId;
    expect(generated).toMatch(/^[0-9a-f]{32}$/);
  });

  it('adds security headers and answers unknown paths with JSON 404', async () => {
    const response = await fetch(`${base}/not/a/route`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.json()).toMatchObject({ status: 404, code: 'route_not_found' });
  });

  it("gives the web app's page a strict Content-Security-Policy, Swagger UI and the preview frame their own", async () => {
    const policyOf = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      await response.arrayBuffer();
      return {
        csp: response.headers.get('content-security-policy'),
        frame: response.headers.get('x-frame-options'),
        nosniff: response.headers.get('x-content-type-options'),
        referrer: response.headers.get('referrer-policy'),
      };
    };
    const app =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    for (const path of ['/', '/?x=1', '/verify-email?token=x', '/reset-password?token=x']) {
      expect({ path, ...(await policyOf(path)) }).toEqual({
        path,
        csp: app,
        frame: 'DENY',
        nosniff: 'nosniff',
        referrer: 'no-referrer',
      });
    }
    const docs = await policyOf('/docs/');
    expect(docs.csp).toContain("script-src 'self';");
    expect(docs.csp).toContain("frame-ancestors 'none'");
    const preview = await policyOf('/email-preview.html');
    expect(preview.csp).toContain("default-src 'none'; script-src 'self';");
    expect(preview.csp).toContain("frame-ancestors 'self'");
    expect(preview.frame).toBe('SAMEORIGIN');
    // the API's JSON is no document: no policy there
    expect((await policyOf('/api/v1/templates')).csp).toBeNull();
  });

  it('rejects bodies over the limit with JSON 413', async () => {
    const response = await fetch(`${base}/api/v1/notifications`, {
      method: 'POST',
      body: 'x'.repeat(300 * 1024),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('rate-limits login with a JSON 429', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await fetch(`${base}/api/v1/auth/login`, { method: 'POST' });
      statuses.push(response.status);
      if (response.status === 429)
        expect(await response.json()).toMatchObject({ status: 429, code: 'rate_limited' });
      else await response.arrayBuffer();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });

  it("overwrites a client's own X-Forwarded-For with the address it connected from", async () => {
    const forged = await echo('/api/v1/auth/refresh', { headers: { 'x-forwarded-for': '1.2.3.4' } });
    expect(forged.forwardedFor).toBe('127.0.0.1');
    expect((await echo('/api/v1/notifications')).forwardedFor).toBe('127.0.0.1');
  });
});

// A load balancer in front of the gateway: its X-Forwarded-For is believed only when the
// connection really comes from it (here the test connects from 127.0.0.1, so that is the proxy).
describe('gateway behind trusted proxies (HERALD_TRUSTED_PROXIES)', () => {
  const servers: Record<string, Server> = {};
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    for (const name of ['auth', 'notification', 'realtime', 'deliveryWorker', 'workflows'])
      servers[name] = await startUpstream(name);
  });

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all(
      Object.values(servers).map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });

  const forwardedAs = async (gateway: Gateway, header: string) => {
    const response = await fetch(`${gateway.base}/api/v1/templates`, {
      headers: { 'x-forwarded-for': header },
    });
    return ((await response.json()) as Echo).forwardedFor;
  };

  it('takes the client address from a trusted proxy, the last untrusted hop from the right', async () => {
    const gateway = await startGateway(servers, { trustedProxies: '10.0.0.0/8, 127.0.0.1' });
    gateways.push(gateway);
    expect(await forwardedAs(gateway, '1.2.3.4')).toBe('1.2.3.4');
    // what the client itself claimed, left of the proxies' own entries, is not believed
    expect(await forwardedAs(gateway, '9.9.9.9, 1.2.3.4, 10.1.2.3')).toBe('1.2.3.4');
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy', async () => {
    const gateway = await startGateway(servers, { trustedProxies: '10.0.0.0/8' });
    gateways.push(gateway);
    expect(await forwardedAs(gateway, '1.2.3.4')).toBe('127.0.0.1');
  });

  it('limits credentials per real client, not per proxy', async () => {
    const gateway = await startGateway(servers, {
      trustedProxies: '127.0.0.1',
      credentialsRate: '1r/m',
      credentialsBurst: 1,
    });
    gateways.push(gateway);
    const login = async (client: string) =>
      (
        await fetch(`${gateway.base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'x-forwarded-for': client },
        })
      ).status;
    expect([await login('1.1.1.1'), await login('1.1.1.1'), await login('1.1.1.1')]).toEqual([200, 200, 429]);
    expect(await login('2.2.2.2')).toBe(200);
  });

  it('refuses a trusted-proxy entry that is not an address', () => {
    expect(() =>
      writeGatewayConfig({
        runDir: join(tmpdir(), 'herald-gateway-never-written'),
        trustedProxies: '1.2.3.4; include /etc/passwd',
      }),
    ).toThrow(/HERALD_TRUSTED_PROXIES.*include/);
  });
});

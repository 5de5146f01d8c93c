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
import { writeGatewayConfig } from '../../scripts/gateway-config';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

interface Echo {
  upstream: string;
  url: string;
  requestId: string | undefined;
}

function startUpstream(name: string): Promise<Server> {
  const server = createServer((request: IncomingMessage, response) => {
    const echo: Echo = {
      upstream: name,
      url: request.url ?? '',
      requestId: request.headers['x-request-id'] as string | undefined,
    };
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(echo));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const address = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('gateway nginx.conf', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'herald-gateway-'));
  const servers: Record<string, Server> = {};
  let nginx: ChildProcess;
  let base: string;

  beforeAll(async () => {
    for (const name of ['auth', 'notification', 'realtime', 'deliveryWorker'])
      servers[name] = await startUpstream(name);
    const port = await freePort();
    const config = writeGatewayConfig({
      runDir,
      port,
      accessLog: join(runDir, 'access.log'),
      credentialsRate: '1r/m',
      credentialsBurst: 2,
      upstreams: {
        auth: address(servers.auth!),
        notification: address(servers.notification!),
        realtime: address(servers.realtime!),
        deliveryWorker: address(servers.deliveryWorker!),
      },
    });
    const check = spawnSync(NGINX, ['-t', '-p', runDir, '-c', config], { encoding: 'utf8' });
    expect(check.stderr).toContain('test is successful');
    nginx = spawn(NGINX, ['-p', runDir, '-c', config, '-g', 'daemon off;'], { stdio: 'ignore' });
    base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/nope`).catch(() => undefined)) !== undefined, {
      timeoutMs: 10_000,
      description: 'nginx listening',
    });
  });

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await Promise.all(
      Object.values(servers).map((server) => new Promise((resolve) => server.close(resolve))),
    );
    rmSync(runDir, { recursive: true, force: true });
  });

  const echo = async (path: string, init?: RequestInit) =>
    (await (await fetch(`${base}${path}`, init)).json()) as Echo;

  it('routes each public prefix to its service', async () => {
    const routes: Array<[string, string]> = [
      ['/api/v1/auth/refresh', 'auth'],
      ['/api/v1/users/me', 'auth'],
      ['/.well-known/jwks.json', 'auth'],
      ['/api/v1/notifications?limit=1', 'notification'],
      ['/api/v1/templates', 'notification'],
      [WebhookPaths.mailgun, 'notification'],
      ['/api/v1/admin/dead-letters', 'notification'],
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
  });

  it('serves one Swagger UI listing every document', async () => {
    const response = await fetch(`${base}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const page = await response.text();
    for (const name of ['auth', 'notification', 'realtime', 'delivery-worker'])
      expect(page).toContain(`/docs/${name}/json`);
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
});

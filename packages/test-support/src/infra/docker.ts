import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as Testcontainers from 'testcontainers';

/**
 * Where a Docker (or Podman) engine could be listening, in the order
 * Testcontainers looks: DOCKER_HOST, ~/.testcontainers.properties, then the
 * usual sockets.
 */
function candidateEndpoints(): string[] {
  const endpoints: string[] = [];
  if (process.env.DOCKER_HOST) endpoints.push(process.env.DOCKER_HOST);
  const properties = join(homedir(), '.testcontainers.properties');
  if (existsSync(properties)) {
    const match = /^docker\.host\s*=\s*(.+)$/m.exec(readFileSync(properties, 'utf8'));
    if (match?.[1]) endpoints.push(match[1].trim());
  }
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  const sockets = [
    '/var/run/docker.sock',
    join(homedir(), '.docker/run/docker.sock'),
    join(homedir(), '.docker/desktop/docker.sock'),
    runtimeDir && join(runtimeDir, 'docker.sock'),
    runtimeDir && join(runtimeDir, 'podman/podman.sock'),
  ];
  for (const socket of sockets) if (socket && existsSync(socket)) endpoints.push(`unix://${socket}`);
  return endpoints;
}

/** GET /_ping; true on any 2xx answer within `timeoutMs`. */
function ping(endpoint: string, timeoutMs: number): Promise<boolean> {
  let target: { socketPath: string } | { host: string; port: number };
  if (endpoint.startsWith('unix://')) {
    target = { socketPath: endpoint.slice('unix://'.length) };
  } else if (endpoint.startsWith('tcp://')) {
    const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else {
    // npipe://, ssh:// …: cannot be pinged cheaply from here; let Testcontainers try.
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Whether a container engine answers, decided in at most ~timeoutMs per
 * endpoint and without loading Testcontainers (which is slow to import and,
 * in v12, does not load at all on Node < 22). With no socket and no
 * DOCKER_HOST this returns at once.
 */
export async function findDockerEngine(timeoutMs = 1500): Promise<string | undefined> {
  for (const endpoint of candidateEndpoints()) {
    if (await ping(endpoint, timeoutMs)) return endpoint;
  }
  return undefined;
}

/** Loads Testcontainers, turning a load failure into an explanation. */
export async function loadTestcontainers(): Promise<typeof Testcontainers> {
  try {
    return await import('testcontainers');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `a Docker engine answers but the testcontainers package failed to load on Node ${process.versions.node}: ${why}`,
    );
  }
}

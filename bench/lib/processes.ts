/**
 * What the benchmarks share: spawning Herald services from source, waiting
 * for them, stopping them, and connecting real socket.io clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type * as SocketIoClient from '../../services/realtime/node_modules/socket.io-client/build/cjs/index';

export type Socket = SocketIoClient.Socket;

export const root = resolve(__dirname, '../..');
export const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

// socket.io-client is a dependency of the realtime service, not of the root.
const { io } = require(
  require.resolve('socket.io-client', { paths: [resolve(root, 'services/realtime')] }),
) as typeof SocketIoClient;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A websocket-only client that resolves on connect and rejects on a refused handshake. */
export function connectSocket(base: string, token: string, timeoutMs?: number): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const socket = io(base, {
      path: '/socket.io',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      auth: { token },
      ...(timeoutMs ? { timeout: timeoutMs } : {}),
    });
    socket.once('connect', () => resolveSocket(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Runs a service's TypeScript entry through tsx, as production would run its build. */
export function spawnService(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--conditions=@herald/source', '--import', 'tsx', entry], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      AMQP_URL: amqpUrl,
      ...env,
    },
  });
}

/** SIGTERM (graceful shutdown), then SIGKILL if it has not exited in 20 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null)
      throw new Error(`the service exited (${child.exitCode}) before ${url} was ready`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${url} never became ready`);
}

/**
 * What the benchmarks share: spawning Herald services from source and
 * connecting real socket.io clients. Waiting for a service, stopping it and
 * free ports come from @herald/local-infra (waitUntilReady, stopProcess,
 * freePort), as they do for `pnpm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { SOCKET_IO_PATH } from '@herald/contracts';
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
      path: SOCKET_IO_PATH,
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
      // development: the local broker's guest account and the fakes' keys, which production refuses
      NODE_ENV: 'development',
      // BENCH_SERVICE_LOG_LEVEL=info: each request's `responseTime` as the service measured it
      LOG_LEVEL: process.env.BENCH_SERVICE_LOG_LEVEL ?? 'warn',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      AMQP_URL: amqpUrl,
      ...env,
    },
  });
}

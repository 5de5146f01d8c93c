import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { exitedEarly, freePort, stopProcess, waitUntilReady } from '../src';

/** A child node process running `script`; `PORT` in its environment. */
function node(script: string, port = 0): ChildProcess {
  return spawn(process.execPath, ['-e', script], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
}

const SERVER = `
  const server = require('node:http').createServer((req, res) => res.end('ok'));
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('child processes', () => {
  it('waits until a process answers, then stops it with SIGTERM', async () => {
    const port = await freePort();
    const child = node(SERVER, port);
    await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, { child, intervalMs: 50 });
    await stopProcess(child);
    expect(child.exitCode).toBe(0); // its own SIGTERM handler ran: a graceful stop
  });

  it('fails at once, naming the exit, when the process dies before it is ready', async () => {
    const port = await freePort();
    const child = node('process.exit(3)', port);
    await expect(
      waitUntilReady(`http://127.0.0.1:${port}/`, { child, intervalMs: 50, timeoutMs: 30_000 }),
    ).rejects.toThrow(/exited \(code 3\) before/);
  });

  it('gives up at the deadline when nothing answers', async () => {
    const port = await freePort();
    await expect(
      waitUntilReady(`http://127.0.0.1:${port}/`, { timeoutMs: 200, intervalMs: 50 }),
    ).rejects.toThrow(/not ready after 0.2 s/);
  });

  it('kills a process that ignores SIGTERM once the grace period is over', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('deaf')"],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await once(child.stdout!, 'data'); // its handler is installed
    await stopProcess(child, { graceMs: 200 });
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('rejects exitedEarly with the name of a process that exits', async () => {
    const child = node('process.exit(2)');
    await expect(exitedEarly(child, 'auth')).rejects.toThrow('auth exited while starting (code 2)');
  });
});

// Child processes of a local run (`pnpm start`, the benchmarks, a test's
// stack): waiting until one answers, noticing that it died while starting,
// and stopping it the way production does.
import { type ChildProcess } from 'node:child_process';

export interface WaitUntilReadyOptions {
  /** give up after this long (default 60 s: a service from source on a busy machine) */
  timeoutMs?: number;
  /** pause between attempts (default 250 ms) */
  intervalMs?: number;
  /** the process that should answer: if it exits first, fail at once instead of at the deadline */
  child?: ChildProcess;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Polls `url` until it answers 2xx (a service's /health/ready). */
export async function waitUntilReady(url: string, options: WaitUntilReadyOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, intervalMs = 250, child } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && hasExited(child)) {
      throw new Error(
        `the process exited (${child.signalCode ?? `code ${child.exitCode}`}) before ${url} was ready`,
      );
    }
    const ok = await fetch(url)
      .then(async (response) => {
        await response.arrayBuffer(); // release the connection
        return response.ok;
      })
      .catch(() => false);
    if (ok) return;
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s`);
}

/**
 * Rejects when `child` exits, naming it: race it against a start-up so a
 * service that dies while starting (port taken, bad config) fails the start
 * at once. After a clean start nobody needs to await it.
 */
export function exitedEarly(child: ChildProcess, name: string): Promise<never> {
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${name} exited while starting (${signal ?? `code ${code}`})`)),
    );
  });
  exited.catch(() => undefined); // after a clean start its rejection concerns nobody
  return exited;
}

/**
 * SIGTERM (a graceful shutdown: the service drains its work), then SIGKILL
 * if it has not exited within `graceMs`. Resolves once it has exited.
 */
export function stopProcess(
  child: ChildProcess,
  { graceMs = 15_000 }: { graceMs?: number } = {},
): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from '@herald/test-support';

const REPO_ROOT = resolve(__dirname, '../../..');

export { freePort } from '@herald/test-support';

/** How long a started worker process may take to answer /health/ready. */
export const READY_TIMEOUT_MS = 60_000;

/** The worker as production runs it: its own process, configured only through the environment. */
export class WorkerProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    // tsx runs the TypeScript sources directly; the condition resolves workspace packages to theirs.
    this.child = spawn(
      process.execPath,
      ['--conditions=@herald/source', '--import', 'tsx', 'services/delivery-worker/src/server.ts'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    const url = `http://127.0.0.1:${this.env.PORT}/health/ready`;
    // A generous wait, not a timing assertion: on a loaded 2-core machine, compiling the sources
    // with tsx and connecting once took a restarted worker past 20 s.
    await waitFor(async () => (await fetch(url)).status === 200, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      description: 'the worker to be ready',
    }).catch((error: unknown) => {
      // The output at the time of failure, not at the start of the wait, tells why.
      throw new Error(`${(error as Error).message}; its output: ${this.output.join('').slice(-2000)}`);
    });
  }

  /** SIGKILL at once, synchronously (from inside a fake's answer); `stop` then awaits the exit. */
  killNow(): void {
    this.child?.kill('SIGKILL');
  }

  /** Sends `signal` and resolves with the exit code (null when killed by the signal). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    if (!child.killed) child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}

/**
 * A TCP proxy in front of MongoDB that can freeze: from `freeze()` on, nothing
 * the worker writes reaches the server (answers to what already did still
 * come back), as when MongoDB stalls or the network drops. `close()` destroys
 * every connection without passing on what was held back.
 */
export async function startFreezableProxy(target: { host: string; port: number }) {
  const clients = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    clients.add(client);
    const upstream = connect(target.port, target.host);
    client.on('data', (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const drop = () => {
      client.destroy();
      upstream.destroy();
      clients.delete(client);
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    port,
    freeze() {
      frozen = true;
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

/**
 * A seeded pseudo-random source (mulberry32) for the crash tests' kill points: the seed comes from
 * CRASH_TEST_SEED when set, else from the clock, and the test prints it, so a failing run is
 * repeated exactly with `CRASH_TEST_SEED=<seed> pnpm jest …`.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of this run's randomness: CRASH_TEST_SEED, or a fresh one. */
export function crashTestSeed(): number {
  const given = process.env.CRASH_TEST_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`CRASH_TEST_SEED must be an integer ≥ 0`);
    return seed;
  }
  return Date.now() % 4_294_967_296;
}

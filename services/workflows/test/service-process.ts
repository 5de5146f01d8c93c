import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { waitFor } from '@herald/test-support';

const REPO_ROOT = resolve(__dirname, '../../..');

/** How long a started process may take to answer /health/ready (tsx compiles on a loaded machine). */
export const READY_TIMEOUT_MS = 60_000;

/** The workflows service as production runs it: its own process, configured only through the environment. */
export class WorkflowsProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;

  constructor(private readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      process.execPath,
      ['--conditions=@herald/source', '--import', 'tsx', 'services/workflows/src/server.ts'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    await waitFor(async () => (await fetch(`${this.url}/health/ready`)).status === 200, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      description: 'the workflows process to be ready',
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; its output: ${this.output.join('').slice(-2000)}`);
    });
  }

  /** Sends `signal` and resolves with the exit code (null when killed by the signal). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}

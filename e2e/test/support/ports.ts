// Free ports for a whole stack, so the suite never collides with a running
// `pnpm start` (3001–3004, 8080) or with another test run on this machine.
import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:`port` right now (we can bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface PortRangeOptions {
  /** lowest first port to try (default 20000) */
  min?: number;
  /** highest last port of the range (default 40000) */
  max?: number;
  /** random ranges tried before giving up (default 50) */
  attempts?: number;
}

/**
 * The first port of `count` consecutive free ports, picked at random in
 * [min, max] so two runs starting at the same moment rarely try the same
 * range. Between this check and the services binding, another process could
 * still take a port; a service that cannot bind fails the stack's start
 * loudly (startStack reports which one exited), never silently.
 */
export async function findFreePortRange(count: number, options: PortRangeOptions = {}): Promise<number> {
  const { min = 20_000, max = 40_000, attempts = 50 } = options;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const first = min + Math.floor(Math.random() * (max - min - count + 2));
    const free = await Promise.all(Array.from({ length: count }, (_, index) => isPortFree(first + index)));
    if (free.every(Boolean)) return first;
  }
  throw new Error(`no ${count} consecutive free ports found in ${min}–${max} after ${attempts} tries`);
}

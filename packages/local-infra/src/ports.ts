// Free loopback ports for what runs locally next to other things: a
// benchmark's services, a test's stack, a fake provider. Between the check
// and the bind another process could still take a port; whoever binds it then
// fails loudly (a service exits, startStack says which), never silently.
import { createServer, type AddressInfo } from 'node:net';

/** A port the OS considers free on 127.0.0.1 right now (it binds port 0 and lets go). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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
  /** a number in [0, 1), like Math.random (the default); a test passes its own */
  random?: () => number;
}

/**
 * The first of `count` consecutive free ports, for a stack whose services
 * sit on a base port plus their index. Picked at random in [min, max] so two
 * runs starting at the same moment rarely try the same range, and away from
 * `pnpm start`'s 3001–3004 and 8080 by default.
 */
export async function freePortRange(count: number, options: PortRangeOptions = {}): Promise<number> {
  const { min = 20_000, max = 40_000, attempts = 50, random = Math.random } = options;
  if (!(count >= 1 && max - min + 1 >= count)) {
    throw new Error(`cannot fit ${count} consecutive ports in ${min}–${max}`);
  }
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const first = min + Math.floor(random() * (max - min - count + 2));
    const ports = Array.from({ length: count }, (_, index) => first + index);
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return first;
  }
  throw new Error(`no ${count} consecutive free ports found in ${min}–${max} after ${attempts} tries`);
}

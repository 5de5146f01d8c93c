import { createServer, type Server } from 'node:net';
import { freePort, freePortRange, isPortFree } from '../src';

function listen(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('free ports', () => {
  it('hands out a port that can be bound, and tells a taken one from a free one', async () => {
    const port = await freePort();
    expect(await isPortFree(port)).toBe(true);
    const server = await listen(port);
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await close(server);
    }
  });

  it('finds consecutive free ports, passing over a range with a taken port', async () => {
    const taken = await listen(await freePort());
    const takenPort = (taken.address() as { port: number }).port;
    try {
      // the first try starts right at the taken port; the second at the top of [min, max]
      const min = takenPort;
      const max = Math.min(takenPort + 200, 65_535);
      const tries = [0, 0.9999];
      const first = await freePortRange(3, { min, max, random: () => tries.shift() ?? 0.5 });
      expect(first).toBeGreaterThan(takenPort);
      expect(first + 2).toBeLessThanOrEqual(max);
      for (const port of [first, first + 1, first + 2]) expect(await isPortFree(port)).toBe(true);
    } finally {
      await close(taken);
    }
  });

  it('says so when no range is free', async () => {
    const taken = await listen(await freePort());
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(freePortRange(1, { min: port, max: port, attempts: 3 })).rejects.toThrow(
        `no 1 consecutive free ports found in ${port}–${port} after 3 tries`,
      );
    } finally {
      await close(taken);
    }
  });
});

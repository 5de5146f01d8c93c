// What `pnpm start` hands each service (scripts/stack.ts), without starting one.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES, gatewayBinary, serviceEnv, startStack } from '../stack';

describe("the local stack's service environment", () => {
  it.each(SERVICES)('has %s listen on loopback only, whatever HOST the shell or .env holds', (name) => {
    const env = serviceEnv(
      { HOST: '0.0.0.0', MONGO_URL: 'mongodb://127.0.0.1:27017/herald' },
      { name, port: 3001 },
    );
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.PORT).toBe('3001');
  });

  it('gives each service a database of its own on MONGO_URL', () => {
    const env = serviceEnv(
      { MONGO_URL: 'mongodb://127.0.0.1:27017/ignored' },
      { name: 'delivery-worker', port: 3003 },
      'e2e_1',
    );
    expect(new URL(env.MONGO_URL!).pathname).toBe('/e2e_1_delivery_worker');
  });
});

describe('the gateway of the local stack', () => {
  const nowhere = ['/nonexistent/sbin/nginx', undefined];

  it('is required: a missing nginx stops the start before anything runs, naming the fix', async () => {
    expect(() => gatewayBinary({ nginxCandidates: nowhere })).toThrow(
      /bash scripts\/setup\.sh.*--no-gateway/,
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-stack-'));
    try {
      await expect(startStack({ dataDir, nginxCandidates: nowhere, stdio: 'ignore' })).rejects.toThrow(
        /nginx not found/,
      );
      // nothing was started: no database files, no stack record
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is left out only when asked (--no-gateway)', () => {
    expect(gatewayBinary({ gateway: false, nginxCandidates: nowhere })).toBeUndefined();
  });

  it('is the first nginx found', () => {
    expect(gatewayBinary({ nginxCandidates: [...nowhere, process.execPath] })).toBe(process.execPath);
  });
});

// What `pnpm start` hands each service (scripts/stack.ts), without starting one.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upstreamServers } from '../gateway-config';
import {
  SERVICES,
  gatewayBinary,
  instancePort,
  parseScale,
  parseStartArguments,
  serviceEnv,
  startStack,
} from '../stack';

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

describe('pnpm start arguments', () => {
  it('reads --scale and --no-gateway', () => {
    expect(parseStartArguments(['--', '--scale', 'notification=2,delivery-worker=3,realtime=2'])).toEqual({
      gateway: true,
      scale: { notification: 2, 'delivery-worker': 3, realtime: 2 },
    });
    expect(parseStartArguments(['--no-gateway', '--scale=realtime=2'])).toEqual({
      gateway: false,
      scale: { realtime: 2 },
    });
    expect(parseStartArguments([])).toEqual({ gateway: true, scale: {} });
  });

  it.each([
    [['--scale', 'mailer=2'], /unknown service mailer/],
    [['--scale', 'notification=0'], /1 to 8 instances, not 0/],
    [['--scale', 'notification=99'], /1 to 8 instances, not 99/],
    [['--scale', 'notification'], /service=count pairs/],
    [['--scael'], /unknown option --scael/],
  ])('refuses %j, naming what is wrong', (args, message) => {
    expect(() => parseStartArguments(args)).toThrow(message);
  });

  it('gives every instance of every service a port of its own', () => {
    const scale = parseScale('auth=8,notification=8,delivery-worker=8,realtime=8');
    const ports = SERVICES.flatMap((name) =>
      Array.from({ length: scale[name]! }, (_, k) => instancePort(3001, name, k)),
    );
    expect(new Set(ports).size).toBe(ports.length);
    expect(instancePort(3001, 'notification', 0)).toBe(3002);
  });
});

describe("the gateway's upstream servers", () => {
  it('are one host:port, or several that nginx balances over', () => {
    expect(upstreamServers(undefined, '127.0.0.1:3001')).toBe('127.0.0.1:3001');
    expect(upstreamServers('auth:3001', 'x:1')).toBe('auth:3001');
    expect(upstreamServers(['127.0.0.1:3002', '127.0.0.1:3012'], 'x:1')).toBe(
      '127.0.0.1:3002; server 127.0.0.1:3012',
    );
  });

  it('never carry more nginx config than a host and a port', () => {
    expect(() => upstreamServers(['127.0.0.1:3002; include /etc/passwd'], 'x:1')).toThrow(/host:port/);
    expect(() => upstreamServers([], 'x:1')).toThrow(/host:port/);
  });
});

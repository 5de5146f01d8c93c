// Each service's own config loader, as its server.ts calls it at start, in a
// process of its own (it exits 78 on a bad config): production refuses the
// credentials `pnpm start` and docker-compose hand out, naming each variable.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(__dirname, '../../..');

/** the loader server.ts calls, and the development secrets among the variables the service reads */
const SERVICES = {
  auth: { loader: 'loadConfigFromProcess', refused: ['AMQP_URL'] },
  notification: {
    loader: 'loadConfig',
    refused: ['AMQP_URL', 'MAILGUN_WEBHOOK_SIGNING_KEY', 'TWILIO_AUTH_TOKEN'],
  },
  'delivery-worker': { loader: 'loadConfig', refused: ['AMQP_URL', 'MAILGUN_API_KEY', 'TWILIO_AUTH_TOKEN'] },
  realtime: { loader: 'loadConfig', refused: ['AMQP_URL'] },
} as const;

const DEVELOPMENT_ENV = {
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  MAILGUN_WEBHOOK_SIGNING_KEY: 'local-mailgun-signing-key',
  MAILGUN_API_KEY: 'local-mailgun-key',
  TWILIO_AUTH_TOKEN: 'local-twilio-token',
};

function loadIn(service: keyof typeof SERVICES, env: Record<string, string>) {
  const module = pathToFileURL(join(REPO_ROOT, 'services', service, 'src', 'config.ts')).href;
  const loader = JSON.stringify(SERVICES[service].loader);
  // the service's TypeScript is CommonJS: its exports are the namespace's default
  const script = `import(${JSON.stringify(module)}).then((m) => { (m.default ?? m)[${loader}](); process.stdout.write('loaded'); })`;
  return spawnSync(process.execPath, ['--conditions=@herald/source', '--import', 'tsx', '--eval', script], {
    cwd: join(REPO_ROOT, 'services', service),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 60_000,
  });
}

jest.setTimeout(120_000);

describe.each(Object.keys(SERVICES) as Array<keyof typeof SERVICES>)('%s in production', (service) => {
  it('refuses to start with the development secrets, naming each', () => {
    const run = loadIn(service, { ...DEVELOPMENT_ENV, NODE_ENV: 'production' });
    expect(run.stdout).not.toContain('loaded');
    expect(run.status).toBe(78);
    const named = [...run.stderr.matchAll(/^\s+- ([A-Z_]+):/gm)].map((match) => match[1]);
    expect(named.sort()).toEqual([...SERVICES[service].refused].sort());
    expect(run.stderr).not.toContain('local-');
  });

  it('starts with real ones', () => {
    const run = loadIn(service, {
      NODE_ENV: 'production',
      AMQP_URL: 'amqps://herald:from-the-vault@broker.example.com',
      MAILGUN_WEBHOOK_SIGNING_KEY: 'key-8c1f7e0a',
      MAILGUN_API_KEY: 'key-3d2b1a',
      TWILIO_AUTH_TOKEN: '6f1b2c3d4e5f',
      // notification: required in production (32 bytes, base64)
      WEBHOOK_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('loaded');
  });
});

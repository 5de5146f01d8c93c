// docker-compose.yml, the Dockerfiles and the gateway's entrypoint checked
// against the code they run: each service's config schema, nginx.conf's
// placeholders and the real nginx. No Docker engine is needed; what `docker
// compose up` would get wrong in a container is asserted on the files.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYamlDocument } from 'yaml';
import { AuthEnv } from '../../services/auth/src/config';
import { DeliveryWorkerEnv } from '../../services/delivery-worker/src/config';
import { NotificationEnv } from '../../services/notification/src/config';
import { RealtimeEnv } from '../../services/realtime/src/config';
import { WorkflowsEnv } from '../../services/workflows/src/config';

const REPO_ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

interface ComposeService {
  build?: { context?: string; dockerfile?: string; args?: Record<string, string | number> };
  command?: string[];
  environment?: Record<string, string | number | null> | string[];
  ports?: string[];
  container_name?: string;
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }> | string[];
}

function parseYaml(text: string): unknown {
  // merge: compose files share blocks through `<<:` merge keys, a YAML 1.1 feature
  return parseYamlDocument(text, { merge: true });
}

/**
 * The Compose Specification's JSON schema, as the `docker-compose` package
 * (testcontainers uses it) ships it.
 */
function composeSchemaValidator(): (document: unknown) => string[] {
  const fromTestSupport = createRequire(join(REPO_ROOT, 'packages/test-support/package.json'));
  const fromTestcontainers = createRequire(fromTestSupport.resolve('testcontainers'));
  const schema = JSON.parse(
    readFileSync(
      join(dirname(fromTestcontainers.resolve('docker-compose/package.json')), 'schema/compose-spec.json'),
      'utf8',
    ),
  ) as object;
  // validateSchema off: ajv does not bundle the draft-07 meta-schema the file names
  const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
  return (document) =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;

/** The services' config schemas: what each Node service reads from its environment. */
const SCHEMAS: Record<string, Record<string, { default?: unknown }>> = {
  auth: AuthEnv,
  notification: NotificationEnv,
  'delivery-worker': DeliveryWorkerEnv,
  realtime: RealtimeEnv,
  workflows: WorkflowsEnv,
};
const NODE_SERVICES = Object.keys(SCHEMAS);
/** the fake providers' CLI reads process.env directly (packages/fake-providers/src/cli.ts) */
const FAKE_PROVIDERS_VARIABLES = [
  'FAKE_PROVIDERS_HOST',
  'FAKE_MAILGUN_PORT',
  'FAKE_TWILIO_PORT',
  'MAILGUN_API_KEY',
  'MAILGUN_WEBHOOK_SIGNING_KEY',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'FAKE_SENDGRID_PORT',
  'FAKE_SMTP_PORT',
  'FAKE_SENDGRID_WEBHOOK_PRIVATE_KEY',
  'SENDGRID_API_KEY',
  'SMTP_USER',
  'SMTP_PASS',
];
/** Variables deliberately not passed to a container, and why. */
const NOT_PASSED: Record<string, Record<string, string>> = {
  realtime: { INSTANCE_ID: 'each replica must name its own fan-out queue' },
};
/** Defaults on localhost that stay right in a container, and why. */
const LOCAL_ON_PURPOSE: Record<string, string> = {
  VERIFY_EMAIL_URL_BASE: "a link the user's browser opens, through the published gateway port",
  PASSWORD_RESET_URL_BASE: "a link the user's browser opens, through the published gateway port",
};
/** Addresses a service calls only later, never at start, so no depends_on is needed (or possible). */
const CALLED_LATER: Record<string, string> = {
  PUBLIC_BASE_URL: 'the providers call it with webhooks; the gateway itself starts last',
};

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR-default}`
 * against `env` (no `.env`: the defaults this file ships with).
 */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$\$|\$\{[^}]*\}/g,
    (match, ...groups) => {
      const [name, colon, fallback] = groups as [string | undefined, string | undefined, string | undefined];
      if (match === '$$') return '$';
      if (name === undefined) throw new Error(`compose interpolation this test does not model: ${match}`);
      const set = env[name];
      if (fallback === undefined) return set ?? '';
      if (colon ? set : set !== undefined) return set!;
      return fallback;
    },
  );
}

function environmentOf(name: string, env: Record<string, string> = {}): Record<string, string> {
  const raw = services[name]?.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)] as const)
    : Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value, env)]));
}

function dependenciesOf(name: string): Record<string, string | undefined> {
  const raw = services[name]?.depends_on ?? {};
  return Array.isArray(raw)
    ? Object.fromEntries(raw.map((dependency) => [dependency, undefined]))
    : Object.fromEntries(Object.entries(raw).map(([dependency, spec]) => [dependency, spec.condition]));
}

/** The compose services a value addresses: URLs' hosts and `host:port` pairs. */
function hostsIn(value: string): string[] {
  const hosts = [...value.matchAll(/(?:^|\/\/|@)([a-z][a-z0-9-]*):\d+/g)].map((match) => match[1]!);
  return hosts.filter((host) => host in services);
}

/** `ENV A=1 B=2` instructions of a Dockerfile, continuation lines joined. */
function dockerfileEnv(path: string): Record<string, string> {
  const instructions = read(path).replace(/\\\n/g, ' ').split('\n');
  const env: Record<string, string> = {};
  for (const line of instructions.filter((instruction) => /^ENV\s/.test(instruction))) {
    for (const [, key, value] of line.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[key!] = value!;
  }
  return env;
}

const placeholders = [
  ...new Set([...read('nginx.conf').matchAll(/\$\{(HERALD_[A-Z0-9_]+)\}/g)].map((m) => m[1]!)),
];
const gatewayImageEnv = dockerfileEnv('gateway/Dockerfile');
const gatewayEnv = { ...gatewayImageEnv, ...environmentOf('gateway') };

describe('docker-compose.yml', () => {
  it('is a valid Compose file', () => {
    expect(composeSchemaValidator()(compose)).toEqual([]);
  });

  it('has the engines, the five services, the fake providers and the gateway', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...NODE_SERVICES, 'mongo', 'rabbitmq', 'fake-providers', 'gateway'].sort(),
    );
  });

  it.each(Object.keys(compose.services))('gives %s a health check', (name) => {
    expect(services[name]!.healthcheck?.test).toBeDefined();
  });

  it.each(NODE_SERVICES)("checks %s's readiness on its own port", (name) => {
    const test = [services[name]!.healthcheck!.test].flat().join(' ');
    expect(test).toContain('/health/ready');
    expect(test).toContain('process.env.PORT');
    expect(environmentOf(name).PORT).toBe(String(SCHEMAS[name]!.PORT!.default));
  });

  it.each([...NODE_SERVICES, 'fake-providers', 'gateway'])(
    'starts %s only after everything it calls at start is healthy',
    (name) => {
      const environment = name === 'gateway' ? gatewayEnv : environmentOf(name);
      const called = new Set(
        Object.entries(environment)
          .filter(([key]) => !(key in CALLED_LATER))
          .flatMap(([, value]) => hostsIn(value)),
      );
      expect(called.size > 0 || name === 'fake-providers').toBe(true);
      const expected = Object.fromEntries([...called].map((host) => [host, 'service_healthy']));
      expect(dependenciesOf(name)).toEqual(expect.objectContaining(expected));
    },
  );

  it('lets every service scale: no host port and no container name but on the gateway and the dev-only tools', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, container_name: service.container_name }).toEqual({ name, container_name: undefined });
    }
    for (const name of NODE_SERVICES) expect({ name, ports: services[name]!.ports }).toEqual({ name });
    // the engines and the fakes are published for the host's own tools only
    for (const name of ['mongo', 'rabbitmq', 'fake-providers']) {
      for (const port of services[name]!.ports ?? []) expect(interpolate(port)).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('publishes the gateway on 8080, onto the port nginx listens on', () => {
    const ports = (services.gateway!.ports ?? []).map((port) => interpolate(port));
    expect(ports).toEqual([`8080:${gatewayEnv.HERALD_GATEWAY_PORT}`]);
  });

  describe.each(NODE_SERVICES)('%s environment', (name) => {
    const schema = SCHEMAS[name]!;
    const environment = environmentOf(name);

    it('sets only variables the service reads', () => {
      expect(Object.keys(environment).filter((key) => !(key in schema))).toEqual([]);
    });

    it('passes every variable the service reads, so `.env` reaches it', () => {
      const skipped = NOT_PASSED[name] ?? {};
      expect(Object.keys(schema).filter((key) => !(key in environment) && !(key in skipped))).toEqual([]);
      for (const key of Object.keys(skipped)) expect(environment).not.toHaveProperty(key);
    });

    it('points every address at a container, never at the container itself', () => {
      const local = /127\.0\.0\.1|localhost/;
      for (const [key, property] of Object.entries(schema)) {
        const fallback = String(property.default ?? '');
        if (!local.test(fallback) || key in LOCAL_ON_PURPOSE) continue;
        expect({ key, value: environment[key] }).toEqual({ key, value: expect.not.stringMatching(local) });
        expect({ key, value: environment[key] }).toEqual({ key, value: expect.stringMatching(/\S/) });
      }
      // `.env` may not move these: .env.example's values are 127.0.0.1
      const raw = services[name]!.environment as Record<string, unknown>;
      for (const key of ['HOST', 'MONGO_URL', 'JWT_JWKS_URL', 'NOTIFICATION_API_URL']) {
        if (key in raw)
          expect({ key, value: String(raw[key]) }).toEqual({ key, value: expect.not.stringContaining('$') });
      }
      // only the broker's account comes from `.env`, never its address
      if ('AMQP_URL' in raw) {
        const env = {
          AMQP_URL: 'amqp://x:y@127.0.0.1:5672',
          RABBITMQ_USER: 'herald',
          RABBITMQ_PASSWORD: 's3cret',
        };
        expect(environmentOf(name, env).AMQP_URL).toBe('amqp://herald:s3cret@rabbitmq:5672');
      }
      expect(environment.HOST).toBe('0.0.0.0');
    });

    it('gives the service a database of its own', () => {
      if (!('MONGO_URL' in schema)) return;
      expect(new URL(environment.MONGO_URL!).pathname).toBe(`/herald_${name.replace('-', '_')}`);
    });
  });

  it("creates the services' RabbitMQ account on the broker, guest:guest only by default", () => {
    const broker = environmentOf('rabbitmq', { RABBITMQ_USER: 'herald', RABBITMQ_PASSWORD: 's3cret' });
    expect(broker).toMatchObject({ RABBITMQ_DEFAULT_USER: 'herald', RABBITMQ_DEFAULT_PASS: 's3cret' });
    expect(new URL(environmentOf('auth').AMQP_URL!)).toMatchObject({ username: 'guest', password: 'guest' });
    expect(environmentOf('rabbitmq')).toMatchObject({
      RABBITMQ_DEFAULT_USER: 'guest',
      RABBITMQ_DEFAULT_PASS: 'guest',
    });
  });

  it('shares one AMQP namespace and one token issuer between the services', () => {
    for (const key of ['AMQP_URL', 'AMQP_NAMESPACE', 'JWT_ISSUER', 'JWT_AUDIENCE']) {
      const values = NODE_SERVICES.filter((name) => key in SCHEMAS[name]!).map(
        (name) => environmentOf(name)[key],
      );
      expect({ key, values: new Set(values).size }).toEqual({ key, values: 1 });
    }
    // and the same with a `.env` that sets them
    const env = { AMQP_NAMESPACE: 'blue', JWT_ISSUER: 'issuer', JWT_AUDIENCE: 'aud' };
    for (const name of NODE_SERVICES) {
      const environment = environmentOf(name, env);
      if ('AMQP_NAMESPACE' in SCHEMAS[name]!) expect(environment.AMQP_NAMESPACE).toBe('blue');
      if ('JWT_ISSUER' in SCHEMAS[name]!) expect(environment.JWT_ISSUER).toBe('issuer');
    }
  });

  describe('with no provider credentials', () => {
    const worker = environmentOf('delivery-worker');
    const notification = environmentOf('notification');
    const fakes = environmentOf('fake-providers');

    it('sends email and SMS to the fake providers', () => {
      expect(new URL(worker.MAILGUN_URL!)).toMatchObject({
        hostname: 'fake-providers',
        port: fakes.FAKE_MAILGUN_PORT,
      });
      expect(new URL(worker.TWILIO_API_URL!)).toMatchObject({
        hostname: 'fake-providers',
        port: fakes.FAKE_TWILIO_PORT,
      });
      expect(worker.MAILGUN_DOMAIN).toBeTruthy();
      expect(worker.TWILIO_FROM).toBeTruthy();
      // the fakes listen where the other containers can reach them
      expect(fakes.FAKE_PROVIDERS_HOST).toBe('0.0.0.0');
      expect(services['fake-providers']!.command).toEqual(['node', 'dist/cli.js']);
      expect(Object.keys(fakes).filter((key) => !FAKE_PROVIDERS_VARIABLES.includes(key))).toEqual([]);
    });

    it('gives the worker, the fakes and the webhook checks the same credentials', () => {
      expect(fakes.MAILGUN_API_KEY).toBe(worker.MAILGUN_API_KEY);
      expect(fakes.TWILIO_ACCOUNT_SID).toBe(worker.TWILIO_ACCOUNT_SID);
      expect(fakes.TWILIO_AUTH_TOKEN).toBe(worker.TWILIO_AUTH_TOKEN);
      expect(notification.TWILIO_AUTH_TOKEN).toBe(worker.TWILIO_AUTH_TOKEN);
      expect(notification.MAILGUN_WEBHOOK_SIGNING_KEY).toBe(fakes.MAILGUN_WEBHOOK_SIGNING_KEY);
      expect(notification.MAILGUN_WEBHOOK_SIGNING_KEY).toBeTruthy();
      // the twilio client refuses an account sid that does not start with AC
      expect(worker.TWILIO_ACCOUNT_SID).toMatch(/^AC/);
    });

    it('signs and checks Twilio callbacks against one gateway URL the fake can reach', () => {
      expect(worker.PUBLIC_BASE_URL).toBe(notification.PUBLIC_BASE_URL);
      expect(new URL(worker.PUBLIC_BASE_URL!)).toMatchObject({
        hostname: 'gateway',
        port: gatewayEnv.HERALD_GATEWAY_PORT,
      });
    });
  });

  it('sends to the real providers when `.env` names them', () => {
    const env = {
      MAILGUN_API_KEY: 'key-from-env',
      MAILGUN_URL: 'https://api.mailgun.net',
      TWILIO_API_URL: 'https://api.twilio.com',
      PUBLIC_BASE_URL: 'https://herald.example.com',
    };
    const worker = environmentOf('delivery-worker', env);
    expect(worker).toMatchObject(env);
    expect(environmentOf('notification', env).PUBLIC_BASE_URL).toBe(env.PUBLIC_BASE_URL);
  });

  it.each([...NODE_SERVICES, 'fake-providers'])('builds %s from the root Dockerfile', (name) => {
    const build = services[name]!.build!;
    expect(build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    const manifest = JSON.parse(
      read(`${name === 'fake-providers' ? 'packages' : 'services'}/${build.args!.SERVICE}/package.json`),
    ) as { name: string };
    expect(manifest.name).toBe(`@herald/${name}`);
    if (name !== 'fake-providers') expect(String(build.args!.PORT)).toBe(environmentOf(name).PORT);
  });
});

describe('the gateway image', () => {
  it('has a value for every placeholder nginx.conf uses', () => {
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((name) => !gatewayEnv[name])).toEqual([]);
  });

  it('serves the Swagger UI page from where nginx.conf looks for it', () => {
    const copy = /^COPY gateway\/docs (\S+)$/m.exec(read('gateway/Dockerfile'));
    expect(copy?.[1]).toBe(`${gatewayEnv.HERALD_GATEWAY_STATIC_DIR}/docs`);
    expect(read('nginx.conf')).toContain('try_files /docs/index.html');
    expect(existsSync(join(REPO_ROOT, 'gateway/docs/index.html'))).toBe(true);
  });

  it('serves the example pages from where nginx.conf looks for them', () => {
    const copy = /^COPY examples (\S+)$/m.exec(read('gateway/Dockerfile'));
    expect(copy?.[1]).toBe(gatewayEnv.HERALD_EXAMPLES_DIR);
    expect(existsSync(join(REPO_ROOT, 'examples/inbox.html'))).toBe(true);
  });

  it('serves the web app from where nginx.conf looks for it, built in the image', () => {
    const copy = /^COPY --from=web \/repo\/apps\/web\/dist (\S+)$/m.exec(read('gateway/Dockerfile'));
    expect(copy?.[1]).toBe(gatewayEnv.HERALD_WEB_DIR);
    expect(read('gateway/Dockerfile')).toMatch(/pnpm --filter "@herald\/web\.\.\." run build/);
    expect(read('nginx.conf')).toContain('root ${HERALD_WEB_DIR};');
  });

  describe('entrypoint', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'herald-gateway-image-'));
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    function render(environment: Record<string, string>) {
      const output = join(workDir, 'nginx.conf');
      const run = spawnSync('sh', [join(REPO_ROOT, 'gateway/docker-entrypoint.sh'), 'cat', output], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          GATEWAY_TEMPLATE: join(REPO_ROOT, 'nginx.conf'),
          GATEWAY_CONF: output,
          ...environment,
        },
      });
      return { ...run, output };
    }

    it('renders the compose values into a config the real nginx accepts', () => {
      const nginx = [
        process.env.NGINX_BIN,
        '/usr/sbin/nginx',
        '/usr/local/sbin/nginx',
        '/usr/bin/nginx',
      ].find((candidate) => candidate && existsSync(candidate));
      if (!nginx)
        throw new Error('nginx is needed to check the rendered config (Debian: apt-get install nginx)');
      // Compose's service names resolve only inside compose: the same ports on this machine instead.
      const local = Object.fromEntries(
        Object.entries(gatewayEnv).map(([key, value]) => [
          key,
          value.replace(/^[a-z][a-z0-9-]*:(\d+)$/, '127.0.0.1:$1'),
        ]),
      );
      const runDir = join(workDir, 'run');
      const run = render({ ...local, HERALD_NGINX_RUN_DIR: runDir });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).not.toMatch(/\$\{HERALD_[A-Z0-9_]+\}/);
      // nginx's own variables are left alone
      expect(run.stdout).toContain('$herald_request_id');
      expect(run.stdout).toContain('server 127.0.0.1:3004;');

      // The image logs to /dev/stdout, a pipe under Docker; Node's child pipes are sockets, which
      // /dev/stdout cannot reopen, so nginx gets a file as its stdout here.
      const stdout = openSync(join(workDir, 'nginx.stdout'), 'w');
      const check = spawnSync(nginx, ['-t', '-p', runDir, '-c', run.output], {
        encoding: 'utf8',
        stdio: ['ignore', stdout, 'pipe'],
      });
      closeSync(stdout);
      expect(check.stderr).toContain('test is successful');
      expect(check.status).toBe(0);
    });

    it('writes one set_real_ip_from per trusted proxy, none by default, and refuses anything else', () => {
      const runDir = join(workDir, 'proxies');
      const file = join(runDir, 'trusted-proxies.conf');
      expect(render({ ...gatewayEnv, HERALD_NGINX_RUN_DIR: runDir }).status).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe('');
      const listed = render({
        ...gatewayEnv,
        HERALD_NGINX_RUN_DIR: runDir,
        HERALD_TRUSTED_PROXIES: '10.0.0.0/8, 2001:db8::1',
      });
      expect(listed.status).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(
        'set_real_ip_from 10.0.0.0/8;\nset_real_ip_from 2001:db8::1;\n',
      );
      const injected = render({
        ...gatewayEnv,
        HERALD_NGINX_RUN_DIR: runDir,
        HERALD_TRUSTED_PROXIES: '10.0.0.1;include',
      });
      expect(injected.status).toBe(78);
      expect(injected.stderr).toContain('10.0.0.1;include');
    });

    it('refuses to start, naming each placeholder without a value', () => {
      const { HERALD_REALTIME_UPSTREAM: _realtime, HERALD_WEBHOOKS_RATE: _rate, ...rest } = gatewayEnv;
      const run = render({ ...rest, HERALD_NGINX_RUN_DIR: join(workDir, 'run') });
      expect(run.status).toBe(78);
      expect(run.stderr).toContain('HERALD_REALTIME_UPSTREAM');
      expect(run.stderr).toContain('HERALD_WEBHOOKS_RATE');
    });
  });
});

describe('.env.example', () => {
  // the README promises every variable is documented there; a new config key
  // without a line in .env.example is a variable nobody can find
  const documented = new Set(
    read('.env.example')
      .split('\n')
      .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((key): key is string => key !== undefined),
  );

  it.each(NODE_SERVICES)('documents every variable %s reads', (name) => {
    expect(Object.keys(SCHEMAS[name] ?? {}).filter((key) => !documented.has(key))).toEqual([]);
  });

  it('documents every variable the fake providers read', () => {
    expect(FAKE_PROVIDERS_VARIABLES.filter((key) => !documented.has(key))).toEqual([]);
  });
});

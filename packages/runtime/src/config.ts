import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Configuration is read once, from environment variables, and validated
 * against a TypeBox schema. A bad or missing variable stops the service at
 * start with one message naming every problem, not the first one only.
 */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables every service reads. Services spread these into their own schema. */
export const CommonEnv = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  /** `pretty` for a person at a terminal, `json` for log shippers. Defaults per NODE_ENV in `loadConfig`. */
  LOG_FORMAT: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('pretty')])),
  HOST: Type.String({ default: '0.0.0.0' }),
  /** seconds a shutdown may take before in-flight work is abandoned (and requeued by the broker) */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10000 }),
};

export const MongoEnv = {
  MONGO_URL: Type.String({ minLength: 1, default: 'mongodb://127.0.0.1:27017/herald' }),
};

export const AmqpEnv = {
  AMQP_URL: Type.String({ minLength: 1, default: 'amqp://guest:guest@127.0.0.1:5672' }),
  /** prefix for every exchange and queue name; isolates side-by-side stacks on one broker */
  AMQP_NAMESPACE: Type.String({ default: '', pattern: '^[a-z0-9_-]*$' }),
};

export const JwtVerifyEnv = {
  /** where auth publishes its public keys */
  JWT_JWKS_URL: Type.String({ default: 'http://127.0.0.1:3001/.well-known/jwks.json' }),
  JWT_ISSUER: Type.String({ default: 'herald-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'herald' }),
};

/** For a service behind the gateway: who may tell it the client's address. */
export const ProxyEnv = {
  /**
   * Proxies whose X-Forwarded-For entry is believed (addresses, CIDRs or
   * proxy-addr's `loopback`/`linklocal`/`uniquelocal`): the gateway's address,
   * and nothing else. The gateway overwrites the header with the client's
   * address, so believing it from anyone else would let a client name its own.
   */
  TRUSTED_PROXIES: Type.String({ default: 'loopback' }),
};

export type CommonConfig = Static<TObject<typeof CommonEnv>> & { LOG_FORMAT: 'json' | 'pretty' };

/** A rule over the whole validated config, run by `loadConfig`; it throws a `ConfigError` to refuse it. */
export type ConfigCheck = (service: string, values: Record<string, unknown>) => void;

/**
 * Credentials this repository hands out for local runs, by variable: what
 * `pnpm start` (scripts/stack.ts) and docker-compose.yml fill in when
 * nothing is set, and the fake providers' own defaults. Anyone who has read
 * the repository knows them, so a production service holding one accepts
 * forged webhooks (the signing keys) or sends with a stranger's account.
 * No JWT key is listed: none is committed; a local run generates its own
 * into its data directory, and auth refuses to start in production without
 * JWT_PRIVATE_KEYS.
 */
export const DEVELOPMENT_SECRETS: Readonly<Record<string, readonly string[]>> = {
  MAILGUN_WEBHOOK_SIGNING_KEY: ['local-mailgun-signing-key', 'fake-mailgun-webhook-signing-key'],
  MAILGUN_API_KEY: ['local-mailgun-key', 'key-fake-mailgun'],
  TWILIO_AUTH_TOKEN: ['local-twilio-token', 'fake-twilio-auth-token'],
  SENDGRID_API_KEY: ['SG.local-sendgrid-key', 'SG.fake-sendgrid-key'],
  SMTP_PASS: ['local-smtp-password', 'fake-smtp-password'],
  // the Web Push key pair of .env.example and docker-compose.yml (its public half is VAPID_PUBLIC_KEY)
  VAPID_PRIVATE_KEY: ['iDG_YYhQcxmhgNDjnNqqyPiFF5bzByYi5onYZ-PiQKo'],
  VAPID_PUBLIC_KEY: [
    'BP8sjP9ENT28pcr8qRD4CJKx_xLYZtrrCRyVsnHoFj_AtdeYSGpLI3PLpLDzkXAcVjTp_9twb5U64UMMU3k1GQw',
  ],
  UNSUBSCRIBE_SECRET: ['local-unsubscribe-secret'],
  // base64 of `herald-local-webhook-secrets-key`: encrypts the event webhooks' signing secrets
  WEBHOOK_SECRETS_KEY: ['aGVyYWxkLWxvY2FsLXdlYmhvb2stc2VjcmV0cy1rZXk='],
};

/**
 * Refuses, in production, every known development secret among `values`:
 * the credentials in `DEVELOPMENT_SECRETS`, and an AMQP_URL logging in as
 * RabbitMQ's `guest:guest` (its default account, and this repository's
 * default URL). One `ConfigError` names every offending variable, never its
 * value. Production is what the config says: NODE_ENV=production, unless
 * `options.production` decides. Every service's `loadConfig` runs it.
 */
export function refuseDevelopmentSecrets(
  service: string,
  values: Record<string, unknown>,
  options: { production: boolean } = { production: values.NODE_ENV === 'production' },
): void {
  if (!options.production) return;
  const problems: string[] = [];
  for (const [variable, known] of Object.entries(DEVELOPMENT_SECRETS)) {
    const value = values[variable];
    if (typeof value === 'string' && known.includes(value.trim())) {
      problems.push(
        `${variable}: is a development default this repository publishes (pnpm start, docker-compose); set the real one`,
      );
    }
  }
  if (typeof values.AMQP_URL === 'string' && logsInAsGuest(values.AMQP_URL)) {
    problems.push(
      "AMQP_URL: logs in as RabbitMQ's default guest:guest account; give the broker a user and password of its own",
    );
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
}

function logsInAsGuest(url: string): boolean {
  try {
    const { username, password } = new URL(url);
    return decodeURIComponent(username) === 'guest' && decodeURIComponent(password) === 'guest';
  } catch {
    return false; // not a URL: the schema or the client says so
  }
}

/**
 * Builds the typed config for `schema` from `env`. Strings are converted to
 * the declared types ("8080" → 8080, "true" → true), defaults are applied,
 * and every violation is collected into one `ConfigError`. Then `check`, when
 * given (e.g. `refuseDevelopmentSecrets`), judges the whole config.
 */
export function loadConfig<P extends TProperties>(
  service: string,
  properties: P,
  env: Record<string, string | undefined> = process.env,
  check?: ConfigCheck,
): Static<TObject<P>> & { LOG_FORMAT: 'json' | 'pretty' } {
  const schema = Type.Object(properties);
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const raw = env[key];
    // An empty variable means "unset", as docker-compose and .env files write it.
    if (raw !== undefined && raw !== '') input[key] = raw;
  }
  const withDefaults = Value.Default(schema, input);
  const converted = Value.Convert(schema, withDefaults);
  // One line per variable: a union reports each failed branch, the first says enough.
  const problemsByVariable = new Map<string, string>();
  for (const error of Value.Errors(schema, converted)) {
    const variable = error.path.slice(1).split('/')[0] || '(root)';
    if (!problemsByVariable.has(variable)) {
      problemsByVariable.set(variable, `${variable}: ${error.message}${describeValue(error.value)}`);
    }
  }
  if (problemsByVariable.size > 0) throw new ConfigError(service, [...problemsByVariable.values()]);

  const config = converted as Static<TObject<P>> & { LOG_FORMAT?: 'json' | 'pretty'; NODE_ENV?: string };
  check?.(service, config as Record<string, unknown>);
  return {
    ...config,
    LOG_FORMAT: config.LOG_FORMAT ?? (config.NODE_ENV === 'development' ? 'pretty' : 'json'),
  };
}

/**
 * `loadConfig` for `server.ts`: prints the problems and exits, so a
 * misconfigured container fails fast and visibly instead of half-starting.
 */
export function loadConfigOrExit<P extends TProperties>(
  service: string,
  properties: P,
  env: Record<string, string | undefined> = process.env,
  check?: ConfigCheck,
): Static<TObject<P>> & { LOG_FORMAT: 'json' | 'pretty' } {
  try {
    return loadConfig(service, properties, env, check);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}

function describeValue(value: unknown): string {
  // Never echo a value back: it may be a secret. Only say whether it was present.
  return value === undefined ? ' (missing)' : '';
}

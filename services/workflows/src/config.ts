import { Type } from '@sinclair/typebox';
import {
  AmqpEnv,
  CommonEnv,
  JwtVerifyEnv,
  MongoEnv,
  ProxyEnv,
  loadConfigOrExit,
  refuseDevelopmentSecrets,
} from '@herald/runtime';

export const WorkflowsEnv = {
  ...CommonEnv,
  ...MongoEnv,
  ...AmqpEnv,
  ...JwtVerifyEnv,
  ...ProxyEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3005 }),
  /** unacked events in flight on the workflows service's own queue */
  AMQP_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** a publish not confirmed within this time fails; the run's step is fired again later */
  AMQP_PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** how often the timer poller looks for runs whose time has come (a cadence, not business time) */
  WORKFLOW_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1_000 }),
  /**
   * How long a poller's claim on a run lasts: another instance (or this one
   * after a restart) takes the run over once it lapses. Longer than a step takes.
   */
  WORKFLOW_LEASE_MS: Type.Integer({ minimum: 500, maximum: 600_000, default: 30_000 }),
  /** runs one poller pass claims at most */
  WORKFLOW_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** requests per second per API key, per instance (token bucket); past it 429 + Retry-After */
  API_KEY_RATE_LIMIT_PER_SECOND: Type.Integer({ minimum: 1, maximum: 100_000, default: 50 }),
  /** how long an instance trusts a key it read from its API-key read model (0–2000 ms) */
  API_KEY_CACHE_MS: Type.Integer({ minimum: 0, maximum: 2_000, default: 2_000 }),
};

export const loadConfig = () =>
  loadConfigOrExit('workflows', WorkflowsEnv, process.env, refuseDevelopmentSecrets);
export type Config = ReturnType<typeof loadConfig>;

/** The knobs of the service's own behaviour. */
export interface ServiceSettings {
  prefetch: number;
  pollIntervalMs: number;
  leaseMs: number;
  batchSize: number;
  drainTimeoutMs: number;
  trustedProxies: string;
  apiKeyRateLimitPerSecond: number;
  apiKeyCacheMs: number;
}

export function settingsFrom(config: Config): ServiceSettings {
  return {
    prefetch: config.AMQP_PREFETCH,
    pollIntervalMs: config.WORKFLOW_POLL_INTERVAL_MS,
    leaseMs: config.WORKFLOW_LEASE_MS,
    batchSize: config.WORKFLOW_BATCH_SIZE,
    drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    trustedProxies: config.TRUSTED_PROXIES,
    apiKeyRateLimitPerSecond: config.API_KEY_RATE_LIMIT_PER_SECOND,
    apiKeyCacheMs: config.API_KEY_CACHE_MS,
  };
}

export const defaultSettings: ServiceSettings = {
  prefetch: 100,
  pollIntervalMs: 1_000,
  leaseMs: 30_000,
  batchSize: 100,
  drainTimeoutMs: 10_000,
  trustedProxies: 'loopback',
  apiKeyRateLimitPerSecond: 50,
  apiKeyCacheMs: 2_000,
};

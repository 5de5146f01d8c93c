import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { type Config } from './config';
import { createDummyHash, type Passwords } from './accounts/domain/passwords';
import { type AccessTokenSettings } from './keys/domain/access-tokens';
import { type SigningKeyRing } from './keys/domain/signing-keys';
import { authMetrics, type AuthMetrics } from './metrics';
import { type AuthModels } from './models';
import { EventOutbox } from './outbox/domain/outbox';

/** What the domain functions need; built once in `buildApp`. */
export interface AuthContext {
  config: Config;
  models: AuthModels;
  tokens: AccessTokenSettings;
  outbox: EventOutbox;
  passwords: Passwords;
  /** see `createDummyHash` */
  dummyHash: string;
  logger: Logger;
  metrics: AuthMetrics;
  /** every expiry and window (tokens, verification links, throttles) is measured on this clock */
  now: () => Date;
}

export interface AuthContextParts {
  config: Config;
  logger: Logger;
  models: AuthModels;
  amqp: AmqpClient;
  keys: SigningKeyRing;
  passwords: Passwords;
  now: () => Date;
  metricsRegistry: HttpApp['metrics'];
}

export async function createAuthContext(parts: AuthContextParts): Promise<AuthContext> {
  const { config, logger, models, keys, passwords, now } = parts;
  return {
    config,
    models,
    logger,
    passwords,
    now,
    outbox: new EventOutbox(
      models.users,
      parts.amqp,
      logger.child({ component: 'outbox' }),
      config.OUTBOX_RELAY_INTERVAL_MS,
      now,
    ),
    metrics: authMetrics(parts.metricsRegistry, models.users, now),
    dummyHash: await createDummyHash(passwords),
    tokens: {
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    },
  };
}

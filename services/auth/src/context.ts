import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { type CachedApiKeyDirectory, type HttpApp } from '@herald/runtime/http';
import { createApiKeyDirectory } from './api-keys/domain/key-directory';
import { type Config } from './config';
import { createDummyHash, type Passwords } from './accounts/domain/passwords';
import { type AccessTokenSettings } from './keys/domain/access-tokens';
import { type SigningKeyRing } from './keys/domain/signing-keys';
import { authMetrics, type AuthMetrics } from './metrics';
import { type AuthModels } from './models';
import { EventOutbox, type OutboxCollection as EventOutboxCollection } from './outbox/domain/outbox';

/** What the domain functions need; built once in `buildApp`. */
export interface AuthContext {
  config: Config;
  models: AuthModels;
  tokens: AccessTokenSettings;
  /** the users' outbox (user.* events) */
  outbox: EventOutbox;
  /** apikey.upserted, stored in each key's document */
  apiKeyOutbox: EventOutbox;
  /** subscriber.upserted / subscriber.deleted, stored in each subscriber's document */
  subscriberOutbox: EventOutbox;
  /** topic.* events, stored in each topic's document */
  topicOutbox: EventOutbox;
  /** the keys auth accepts: its own collection behind a ≤ 2 s cache */
  apiKeyDirectory: CachedApiKeyDirectory;
  /** lifetime of inbox tokens, seconds */
  inboxTokenTtlSeconds: number;
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
  const outboxOf = (collection: EventOutboxCollection, component: string) =>
    new EventOutbox(
      collection,
      parts.amqp,
      logger.child({ component }),
      config.OUTBOX_RELAY_INTERVAL_MS,
      now,
    );
  return {
    config,
    models,
    logger,
    passwords,
    now,
    outbox: outboxOf(models.users, 'outbox'),
    apiKeyOutbox: outboxOf(models.apiKeys, 'api-key-outbox'),
    subscriberOutbox: outboxOf(models.subscribers, 'subscriber-outbox'),
    topicOutbox: outboxOf(models.topics, 'topic-outbox'),
    apiKeyDirectory: createApiKeyDirectory(models.apiKeys, { cacheMs: config.API_KEY_CACHE_MS, now }),
    inboxTokenTtlSeconds: config.INBOX_TOKEN_TTL_SECONDS,
    metrics: authMetrics(parts.metricsRegistry, models, now),
    dummyHash: await createDummyHash(passwords),
    tokens: {
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    },
  };
}

import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope';
import { LiteralUnion } from './literal-union';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EmailAddress, Locale, PhoneNumber } from './primitives';

/*
 * Applications as senders (docs/applications.md): auth owns API keys and
 * subscribers and tells every other service about them with these events.
 * Each carries the whole entity and its `revision`, so a read model replaces
 * its copy and ignores a snapshot older than the one it holds.
 */

/** The scopes an API key can be created with; `admin` means all of them. */
export const ApiKeyScopes = [
  'notifications:send',
  'notifications:read',
  'subscribers:write',
  'templates:read',
  'templates:write',
  /** registers and manages the application's own outgoing webhook endpoints */
  'webhooks:write',
  'admin',
] as const;
export const ApiKeyScope = LiteralUnion(ApiKeyScopes);
export type ApiKeyScope = Static<typeof ApiKeyScope>;

/** The key id inside `hk_<keyId>_<secret>`: 16 lowercase hex characters. */
export const ApiKeyId = Type.String({ pattern: '^[0-9a-f]{16}$' });

/** sha256 of a key's secret, lowercase hex: what a service compares a presented key against. */
export const SecretHash = Type.String({ pattern: '^[0-9a-f]{64}$' });

/**
 * An application's own id for one of its users: 1–128 of `[A-Za-z0-9._:@-]`.
 * Its principal and inbox-owner id is `sub:<externalId>`.
 */
export const SubscriberExternalId = Type.String({ pattern: '^[A-Za-z0-9._:@-]{1,128}$' });

/** An IANA time zone name such as `Europe/Paris`; producers check it with `Intl`. */
export const TimeZone = Type.String({ minLength: 1, maxLength: 64 });

/**
 * The whole key, on every change (created, rotated, revoked). A consumer keeps
 * it in its key directory and checks presented keys against `secretHash`; it
 * never sees the secret. `expiresAt` / `revokedAt` absent: not expiring / not revoked.
 */
export const ApiKeySnapshot = Type.Object({
  keyId: ApiKeyId,
  name: Type.String({ minLength: 1, maxLength: 100 }),
  scopes: Type.Array(ApiKeyScope, { minItems: 1, uniqueItems: true }),
  secretHash: SecretHash,
  /** after a rotation with a grace period: the old secret, valid until `previousSecretExpiresAt` */
  previousSecretHash: Type.Optional(SecretHash),
  previousSecretExpiresAt: Type.Optional(DateTime),
  createdAt: DateTime,
  expiresAt: Type.Optional(DateTime),
  revokedAt: Type.Optional(DateTime),
  revision: Type.Integer({ minimum: 1 }),
});
export type ApiKeySnapshot = Static<typeof ApiKeySnapshot>;

export const ApiKeyUpsertedMessage = Envelope(
  MessageTypes.apiKeyUpserted,
  MessageVersions[MessageTypes.apiKeyUpserted],
  ApiKeySnapshot,
);
export type ApiKeyUpsertedMessage = Static<typeof ApiKeyUpsertedMessage>;

/**
 * The whole subscriber. Email and phone were given by a trusted application:
 * they count as verified for this subscriber (send to them as is).
 */
export const SubscriberSnapshot = Type.Object({
  externalId: SubscriberExternalId,
  /** `sub:<externalId>`: the recipient and inbox-owner id */
  subscriberId: Type.String({ pattern: '^sub:[A-Za-z0-9._:@-]{1,128}$' }),
  email: Type.Optional(EmailAddress),
  phone: Type.Optional(PhoneNumber),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  locale: Type.Optional(Locale),
  timezone: Type.Optional(TimeZone),
  /** the application's own JSON, at most 16 KB, for templates */
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  createdAt: DateTime,
  updatedAt: DateTime,
  revision: Type.Integer({ minimum: 1 }),
});
export type SubscriberSnapshot = Static<typeof SubscriberSnapshot>;

export const SubscriberUpsertedMessage = Envelope(
  MessageTypes.subscriberUpserted,
  MessageVersions[MessageTypes.subscriberUpserted],
  SubscriberSnapshot,
);
export type SubscriberUpsertedMessage = Static<typeof SubscriberUpsertedMessage>;

/**
 * The subscriber's personal data was erased at auth: drop it from read
 * models, and replace its addresses in delivery records with their hash.
 * `revision` orders it against `subscriber.upserted` (a later upsert with a
 * higher revision creates the subscriber again).
 */
export const SubscriberDeletedPayload = Type.Object({
  externalId: SubscriberExternalId,
  subscriberId: Type.String({ pattern: '^sub:[A-Za-z0-9._:@-]{1,128}$' }),
  deletedAt: DateTime,
  revision: Type.Integer({ minimum: 1 }),
});
export type SubscriberDeletedPayload = Static<typeof SubscriberDeletedPayload>;

export const SubscriberDeletedMessage = Envelope(
  MessageTypes.subscriberDeleted,
  MessageVersions[MessageTypes.subscriberDeleted],
  SubscriberDeletedPayload,
);
export type SubscriberDeletedMessage = Static<typeof SubscriberDeletedMessage>;

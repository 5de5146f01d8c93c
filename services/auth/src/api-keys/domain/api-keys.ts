import { type ApiKeyScope, type ApiKeySnapshot } from '@herald/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@herald/runtime';
import { apiKeyPrefix, generateApiKey } from '@herald/runtime/http';
import { decodeCursor, encodeCursor } from '@herald/runtime/mongo';
import { type UpdateQuery } from 'mongoose';
import { type AuthContext } from '../../context';
import { type ApiKey } from '../data/api-key-model';
import { type OutboxEntry } from '../../outbox/data/outbox-entry';

type StoredKey = Omit<ApiKey, 'outbox'> & { _id: string; outbox?: OutboxEntry[] };

export interface NewApiKeyInput {
  name: string;
  scopes: ApiKeyScope[];
  expiresAt?: string;
}

export interface RotateApiKeyInput {
  /** how long the old secret keeps working; 0 or absent: it stops at once */
  gracePeriodSeconds?: number;
}

/** A key as the API shows it: never its secret nor its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Only in the answer to a create or a rotate: the whole key, this once. */
export interface ApiKeyWithSecret extends ApiKeyView {
  key: string;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export function apiKeyView(key: StoredKey): ApiKeyView {
  return {
    id: key._id,
    name: key.name,
    prefix: apiKeyPrefix(key._id),
    scopes: [...key.scopes],
    createdAt: key.createdAt.toISOString(),
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
  };
}

/** The whole key as `apikey.upserted` carries it (the hash, never the secret). */
export function apiKeySnapshot(key: StoredKey): ApiKeySnapshot {
  return {
    keyId: key._id,
    name: key.name,
    scopes: key.scopes as ApiKeyScope[],
    secretHash: key.secretHash,
    ...(key.previousSecretHash && key.previousSecretExpiresAt
      ? {
          previousSecretHash: key.previousSecretHash,
          previousSecretExpiresAt: key.previousSecretExpiresAt.toISOString(),
        }
      : {}),
    createdAt: key.createdAt.toISOString(),
    ...(key.expiresAt ? { expiresAt: key.expiresAt.toISOString() } : {}),
    ...(key.revokedAt ? { revokedAt: key.revokedAt.toISOString() } : {}),
    revision: key.revision,
  };
}

export async function createApiKey(
  ctx: AuthContext,
  createdBy: string,
  input: NewApiKeyInput,
  correlationId: string,
): Promise<ApiKeyWithSecret> {
  const now = ctx.now();
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : undefined;
  if (expiresAt && expiresAt <= now) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/expiresAt', message: 'must be in the future' },
    ]);
  }
  const fresh = generateApiKey();
  const key: StoredKey = {
    _id: fresh.keyId,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    secretHash: fresh.secretHash,
    expiresAt,
    createdBy,
    createdAt: now,
    updatedAt: now,
    revision: 1,
    outbox: [],
  };
  key.outbox = [ctx.apiKeyOutbox.entry('apikey.upserted', apiKeySnapshot(key), correlationId)];
  await ctx.models.apiKeys.create(key);
  ctx.apiKeyOutbox.publishSoon(key._id);
  ctx.logger.info({ keyId: key._id, scopes: key.scopes, createdBy }, 'api key created');
  return { ...apiKeyView(key), key: fresh.key };
}

export async function listApiKeys(
  ctx: AuthContext,
  query: { limit: number; cursor?: string },
): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
  const filter: Record<string, unknown> = {};
  if (query.cursor) {
    const [time, id] = decodeCursor(query.cursor, ['number', 'string']);
    const at = new Date(time);
    filter.$or = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }];
  }
  const keys = await ctx.models.apiKeys
    .find(filter, { secretHash: 0, previousSecretHash: 0, outbox: 0 })
    .sort({ createdAt: -1, _id: -1 })
    .limit(query.limit + 1)
    .lean<StoredKey[]>();
  const page = keys.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(apiKeyView),
    nextCursor: keys.length > query.limit && last ? encodeCursor([last.createdAt.getTime(), last._id]) : null,
  };
}

export async function getApiKey(ctx: AuthContext, keyId: string): Promise<ApiKeyView> {
  return apiKeyView(await findKey(ctx, keyId));
}

async function findKey(ctx: AuthContext, keyId: string): Promise<StoredKey> {
  const key = await ctx.models.apiKeys.findById(keyId).lean<StoredKey>();
  if (!key) throw new NotFoundError('api_key_not_found', 'No such API key');
  return key;
}

/** A new secret for the same key id and scopes; the old one stops at once or after the grace period. */
export async function rotateApiKey(
  ctx: AuthContext,
  keyId: string,
  input: RotateApiKeyInput,
  correlationId: string,
): Promise<ApiKeyWithSecret> {
  const fresh = generateApiKey(keyId);
  const saved = await changeApiKey(ctx, keyId, correlationId, (key, now) => {
    if (key.revokedAt) throw new ConflictError('api_key_revoked', 'A revoked key cannot be rotated');
    const grace = input.gracePeriodSeconds ?? 0;
    return grace > 0
      ? {
          secretHash: fresh.secretHash,
          previousSecretHash: key.secretHash,
          previousSecretExpiresAt: new Date(now.getTime() + grace * 1000),
        }
      : { secretHash: fresh.secretHash, previousSecretHash: undefined, previousSecretExpiresAt: undefined };
  });
  ctx.logger.info({ keyId, gracePeriodSeconds: input.gracePeriodSeconds ?? 0 }, 'api key rotated');
  return { ...apiKeyView(saved!), key: fresh.key };
}

/** Revoked at once here; elsewhere within the read model's lag plus its ≤ 2 s cache. Revoking twice changes nothing. */
export async function revokeApiKey(ctx: AuthContext, keyId: string, correlationId: string): Promise<void> {
  await changeApiKey(ctx, keyId, correlationId, (key, now) =>
    key.revokedAt
      ? null
      : { revokedAt: now, previousSecretHash: undefined, previousSecretExpiresAt: undefined },
  );
  ctx.logger.info({ keyId }, 'api key revoked');
}

type KeyChange = Partial<
  Pick<StoredKey, 'secretHash' | 'previousSecretHash' | 'previousSecretExpiresAt' | 'revokedAt'>
>;

const MAX_ATTEMPTS = 5;

/**
 * One change with its `apikey.upserted` in the same update, conditional on
 * the revision it was computed from (as `changeUser` does for users).
 * Fields set to undefined are removed.
 */
async function changeApiKey(
  ctx: AuthContext,
  keyId: string,
  correlationId: string,
  decide: (key: StoredKey, now: Date) => KeyChange | null,
): Promise<StoredKey | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await findKey(ctx, keyId);
    const now = ctx.now();
    const change = decide(current, now);
    if (!change) return current;
    const after: StoredKey = { ...current, ...change, updatedAt: now, revision: current.revision + 1 };
    const set = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined));
    const unset = Object.keys(change).filter((field) => change[field as keyof KeyChange] === undefined);
    const update: UpdateQuery<ApiKey> = {
      $set: { ...set, updatedAt: now, revision: after.revision },
      $push: { outbox: ctx.apiKeyOutbox.entry('apikey.upserted', apiKeySnapshot(after), correlationId) },
    };
    if (unset.length) update.$unset = Object.fromEntries(unset.map((field) => [field, 1]));
    const saved = await ctx.models.apiKeys
      .findOneAndUpdate({ _id: keyId, revision: current.revision }, update, { returnDocument: 'after' })
      .lean<StoredKey>();
    if (saved) {
      ctx.apiKeyDirectory.invalidate(keyId);
      ctx.apiKeyOutbox.publishSoon(keyId);
      return saved;
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`api key ${keyId} kept changing under us`);
  }
}

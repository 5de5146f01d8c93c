import { Schema, type Connection, type Model } from 'mongoose';
import { type ApiKeySnapshot } from '@herald/contracts';
import type { ApiKeyDirectory, ApiKeyRecord } from '@herald/runtime/http';
import { isDuplicateKeyError } from '@herald/runtime/mongo';

/*
 * The read model of auth's API keys (`apikey.upserted`: created, rotated,
 * revoked), kept by every service an application's key may call (the
 * notification service's sends, the workflows service's triggers), each in
 * its own database, so a key works everywhere without a call to auth.
 * Never the secret: only its SHA-256, which a presented key is compared
 * against.
 */

/** A service's copy of one key, replaced whole by each snapshot with a higher `revision`. */
export interface ApiKeyDocument {
  /** the key id of `hk_<keyId>_<secret>` */
  _id: string;
  name: string;
  scopes: string[];
  secretHash: string;
  previousSecretHash?: string;
  previousSecretExpiresAt?: Date;
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
  revision: number;
}

const apiKeySchema = new Schema<ApiKeyDocument>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    scopes: { type: [String], required: true },
    secretHash: { type: String, required: true },
    previousSecretHash: String,
    previousSecretExpiresAt: Date,
    createdAt: { type: Date, required: true },
    expiresAt: Date,
    revokedAt: Date,
    revision: { type: Number, required: true },
  },
  { collection: 'api_keys', versionKey: false },
);

export type ApiKeyModel = Model<ApiKeyDocument>;

/** The model on a service's connection (registered once). */
export function apiKeyModel(connection: Connection): ApiKeyModel {
  return (
    (connection.models.ApiKey as ApiKeyModel | undefined) ??
    connection.model<ApiKeyDocument>('ApiKey', apiKeySchema)
  );
}

/** The read model as `authenticationPlugin` looks keys up (behind `cachedApiKeyDirectory`). */
export class ApiKeyReadModel implements ApiKeyDirectory {
  constructor(private readonly keys: ApiKeyModel) {}

  async lookup(keyId: string): Promise<ApiKeyRecord | undefined> {
    const key = await this.keys.findById(keyId).lean<ApiKeyDocument>();
    if (!key) return undefined;
    return {
      keyId: key._id,
      secretHash: key.secretHash,
      scopes: key.scopes,
      expiresAt: key.expiresAt ?? null,
      revokedAt: key.revokedAt ?? null,
      previousSecretHash: key.previousSecretHash ?? null,
      previousSecretExpiresAt: key.previousSecretExpiresAt ?? null,
    };
  }
}

const optionalDates = ['previousSecretExpiresAt', 'expiresAt', 'revokedAt'] as const;

/**
 * Replaces the copy of a key with auth's snapshot, unless the copy held is as
 * new or newer (`revision`): events may arrive late, twice or out of order.
 * The filter only matches an older copy; for a newer one the upsert tries to
 * insert, meets the _id, and that duplicate means "keep what we have". Dates
 * are stored as dates, so expiry and revocation compare against the clock;
 * a field the snapshot no longer has is removed. Answers whether the
 * snapshot was applied (false: an older or the same revision, ignored).
 */
export async function applyApiKeySnapshot(keys: ApiKeyModel, snapshot: ApiKeySnapshot): Promise<boolean> {
  const set: Record<string, unknown> = {
    name: snapshot.name,
    scopes: snapshot.scopes,
    secretHash: snapshot.secretHash,
    createdAt: new Date(snapshot.createdAt),
    revision: snapshot.revision,
  };
  const unset: Record<string, ''> = {};
  for (const field of optionalDates) {
    const value = snapshot[field];
    if (value) set[field] = new Date(value);
    else unset[field] = '';
  }
  if (snapshot.previousSecretHash) set.previousSecretHash = snapshot.previousSecretHash;
  else unset.previousSecretHash = '';
  try {
    await keys.updateOne(
      { _id: snapshot.keyId, revision: { $lt: snapshot.revision } },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
    return true;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return false;
  }
}

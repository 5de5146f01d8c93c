import { Schema, type Connection, type Model } from 'mongoose';
import { type ApiKeyRecord, type ApiKeyDirectory } from '@herald/runtime/http';

/**
 * This service's copy of auth's API keys (`apikey.upserted`), so an
 * application's key triggers workflows here as it sends notifications
 * there. Never the secret: only its SHA-256.
 */
export interface ApiKeyDocument {
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

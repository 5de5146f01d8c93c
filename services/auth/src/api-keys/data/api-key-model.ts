import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { OutboxEntrySchema } from '../../outbox/data/outbox-entry';

/**
 * An API key: `_id` is the key id inside `hk_<keyId>_<secret>`. Only the
 * SHA-256 of the secret is stored; the secret is shown once, at creation or
 * rotation. Every change pushes `apikey.upserted` into `outbox` in the same
 * update (see outbox/domain/outbox.ts).
 */
const ApiKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    scopes: { type: [String], required: true },
    secretHash: { type: String, required: true },
    /** after a rotation with a grace period, the old secret's hash and until when it still works */
    previousSecretHash: { type: String },
    previousSecretExpiresAt: { type: Date },
    expiresAt: { type: Date },
    revokedAt: { type: Date },
    /** recorded at most once a minute per key, not per request */
    lastUsedAt: { type: Date },
    /** the principal (admin user or admin key) that created it */
    createdBy: { type: String, required: true },
    // Set from the service's clock, not mongoose timestamps, so tests that move the clock see them move.
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    /** bumped by every change in `apikey.upserted`; read models keep the highest */
    revision: { type: Number, required: true },
    outbox: { type: [OutboxEntrySchema], default: [] },
  },
  { collection: 'api_keys', minimize: true },
);

// the list: newest first, then id
ApiKeySchema.index({ createdAt: -1, _id: -1 });
// the outbox relay looks for keys holding events older than a grace period
ApiKeySchema.index({ 'outbox.createdAt': 1 }, { sparse: true });

export type ApiKey = InferSchemaType<typeof ApiKeySchema>;

export function apiKeyModel(connection: Connection) {
  return connection.model('ApiKey', ApiKeySchema);
}
export type ApiKeyModel = ReturnType<typeof apiKeyModel>;

import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One refresh token, stored only as its SHA-256 hash. Every rotation adds a
 * token to the same family (one login = one family = one session); a token
 * used twice means it was stolen, and the whole family is revoked.
 */
const RefreshTokenSchema = new Schema(
  {
    tokenHash: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    familyId: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
    revokedAt: { type: Date },
  },
  { collection: 'refresh_tokens', timestamps: { createdAt: true, updatedAt: false } },
);

RefreshTokenSchema.index({ tokenHash: 1 }, { unique: true });
RefreshTokenSchema.index({ familyId: 1 });
RefreshTokenSchema.index({ userId: 1, revokedAt: 1 });
// Cleanup only: expiry is always checked explicitly, TTL deletion may lag or not exist.
RefreshTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 7 * 86_400 });

export type RefreshToken = InferSchemaType<typeof RefreshTokenSchema>;

export function refreshTokenModel(connection: Connection) {
  return connection.model('RefreshToken', RefreshTokenSchema);
}
export type RefreshTokenModel = ReturnType<typeof refreshTokenModel>;

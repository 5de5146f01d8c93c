import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One session (one login = one refresh-token family), `_id` = the family id.
 * Revoking a session is one atomic write here, and every refresh checks it
 * AFTER writing the next token, so a refresh in flight cannot outlive a
 * revocation (see `refresh` in sessions.ts).
 */
const SessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    revokedAt: { type: Date },
    /** the expiry of its newest refresh token, for cleanup only */
    expiresAt: { type: Date, required: true },
  },
  { collection: 'sessions', timestamps: { createdAt: true, updatedAt: false } },
);

SessionSchema.index({ userId: 1, revokedAt: 1 });
// Cleanup only: a session is only ever used through a token whose expiry is checked explicitly.
SessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 7 * 86_400 });

export type Session = InferSchemaType<typeof SessionSchema>;

export function sessionModel(connection: Connection) {
  return connection.model('Session', SessionSchema);
}
export type SessionModel = ReturnType<typeof sessionModel>;

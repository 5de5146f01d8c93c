import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Recent failed attempts for one key (`login:<email>|<address>`): how many,
 * the last one, and until when the next one is refused. In MongoDB so that
 * every instance sees the same state.
 */
const FailureBackoffSchema = new Schema(
  {
    key: { type: String, required: true },
    attempts: { type: Number, required: true },
    lastAttemptAt: { type: Date, required: true },
    blockedUntil: { type: Date },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'failure_backoffs' },
);

FailureBackoffSchema.index({ key: 1 }, { unique: true });
// Cleanup only: staleness is always decided from lastAttemptAt.
FailureBackoffSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type FailureBackoffRecord = InferSchemaType<typeof FailureBackoffSchema>;

export function failureBackoffModel(connection: Connection) {
  return connection.model('FailureBackoff', FailureBackoffSchema);
}
export type FailureBackoffModel = ReturnType<typeof failureBackoffModel>;

import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Failed-login counter for one key (`account:<email>` or `ip:<address>`), in
 * a fixed window. Kept in MongoDB so every instance sees the same count.
 */
const LoginFailureSchema = new Schema(
  {
    key: { type: String, required: true },
    failures: { type: Number, required: true, default: 0 },
    windowStartedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'login_failures' },
);

LoginFailureSchema.index({ key: 1 }, { unique: true });
// Cleanup only: the window is always checked explicitly.
LoginFailureSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type LoginFailure = InferSchemaType<typeof LoginFailureSchema>;

export function loginFailureModel(connection: Connection) {
  return connection.model('LoginFailure', LoginFailureSchema);
}
export type LoginFailureModel = ReturnType<typeof loginFailureModel>;

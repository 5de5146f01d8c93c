import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Attempts counted for one key (`login-account:<email>`, `login-ip:<address>`,
 * `register-ip:<address>`) in a fixed window. Kept in MongoDB so that every
 * instance sees the same count.
 */
const ThrottleCounterSchema = new Schema(
  {
    key: { type: String, required: true },
    count: { type: Number, required: true, default: 0 },
    windowStartedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'throttle_counters' },
);

ThrottleCounterSchema.index({ key: 1 }, { unique: true });
// Cleanup only: the window is always checked explicitly.
ThrottleCounterSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type ThrottleCounter = InferSchemaType<typeof ThrottleCounterSchema>;

export function throttleCounterModel(connection: Connection) {
  return connection.model('ThrottleCounter', ThrottleCounterSchema);
}
export type ThrottleCounterModel = ReturnType<typeof throttleCounterModel>;

import { Schema, type Connection, type Model } from 'mongoose';

/** The first answer to a request made with an Idempotency-Key, per user and key. */
export interface IdempotencyRecord {
  userId: string;
  key: string;
  requestHash: string;
  /** decided before the notification is created, so a retry after a crash creates the same one */
  notificationId: string;
  response?: unknown;
  createdAt: Date;
  /** for the TTL index only; the window is checked explicitly against `createdAt` */
  expiresAt: Date;
}

const idempotencySchema = new Schema<IdempotencyRecord>(
  {
    userId: { type: String, required: true },
    key: { type: String, required: true },
    requestHash: { type: String, required: true },
    notificationId: { type: String, required: true },
    response: Schema.Types.Mixed,
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false },
);

idempotencySchema.index({ userId: 1, key: 1 }, { unique: true });
// Clean-up only: a MongoDB without TTL deletion keeps old keys, and the window check still holds.
idempotencySchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type IdempotencyModel = Model<IdempotencyRecord>;

export function idempotencyModel(connection: Connection): IdempotencyModel {
  return (
    (connection.models.IdempotencyKey as IdempotencyModel | undefined) ??
    connection.model<IdempotencyRecord>('IdempotencyKey', idempotencySchema)
  );
}

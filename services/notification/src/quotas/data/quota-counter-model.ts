import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One fixed window's count of one sender's sends on one channel, shared by
 * every instance. `_id` is `<sender>|<channel>|<window>|<window start, ms>`,
 * so a window's counter is found and created by its key alone.
 */
export interface QuotaCounterRecord {
  _id: string;
  /** `user:<id>` (and, later, `apikey:<id>`) */
  sender: string;
  channel: string;
  window: string;
  start: Date;
  count: number;
  /** the window's end: MongoDB's TTL monitor removes the counter after it */
  expiresAt: Date;
}

const quotaCounterSchema = new Schema<QuotaCounterRecord>(
  {
    _id: { type: String, required: true },
    sender: { type: String, required: true },
    channel: { type: String, required: true },
    window: { type: String, required: true },
    start: { type: Date, required: true },
    count: { type: Number, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'quota_counters', versionKey: false },
);

// A past window is never written again (the next one has its own key): drop it once it ends.
quotaCounterSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type QuotaCounterModel = Model<QuotaCounterRecord>;

export function quotaCounterModel(connection: Connection): QuotaCounterModel {
  return (
    (connection.models.QuotaCounter as QuotaCounterModel | undefined) ??
    connection.model<QuotaCounterRecord>('QuotaCounter', quotaCounterSchema)
  );
}

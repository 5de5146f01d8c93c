import { Schema, type Connection, type Model } from 'mongoose';
import { type DeliveryChannel, type DeliveryError } from '@herald/contracts';
import { prepareModels } from '@herald/runtime/mongo';

export const DeliveryStates = ['sending', 'retrying', 'sent', 'failed', 'dead'] as const;
export type DeliveryState = (typeof DeliveryStates)[number];

export interface Delivery {
  notificationId: string;
  channel: DeliveryChannel;
  jobId: string;
  state: DeliveryState;
  attempts: number;
  leaseUntil: Date | null;
  provider?: string;
  providerMessageId?: string;
  sentAt?: Date;
  lastError?: DeliveryError;
  /**
   * Providers whose call for this delivery started and has no known end (name → when it started):
   * a provider is added before it is called and removed once it definitely refused; the record
   * becoming `sent` clears them all. A record that still names one when the next attempt claims it
   * (the worker died mid-send, a call timed out) is reconciled: that provider is asked before any
   * resend.
   */
  unclear?: Record<string, Date>;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One document per notification and channel: the worker's idempotency
 * record. `sending` with `leaseUntil` in the future means some worker is
 * calling the provider right now; `sent` means never again.
 */
const deliverySchema = new Schema<Delivery>(
  {
    notificationId: { type: String, required: true },
    channel: { type: String, required: true, enum: ['email', 'sms'] },
    /** the job that last claimed it (a replayed job keeps its id) */
    jobId: { type: String, required: true },
    state: { type: String, required: true, enum: DeliveryStates },
    /** provider calls started, across retries, redeliveries and replays */
    attempts: { type: Number, required: true, default: 0 },
    leaseUntil: { type: Date, default: null },
    provider: { type: String },
    providerMessageId: { type: String },
    sentAt: { type: Date },
    unclear: { type: Schema.Types.Mixed, default: undefined },
    lastError: {
      type: new Schema(
        { code: String, message: String, providerCode: String, permanent: Boolean },
        { _id: false },
      ),
      default: undefined,
    },
  },
  { collection: 'deliveries', timestamps: true, autoIndex: false, versionKey: false },
);

// Every query the worker runs is by (notificationId, channel); unique, so two workers can never both own one.
deliverySchema.index({ notificationId: 1, channel: 1 }, { unique: true });

export type DeliveryModel = Model<Delivery>;

export function deliveryModel(connection: Connection): DeliveryModel {
  return (
    (connection.models.Delivery as DeliveryModel | undefined) ??
    connection.model<Delivery>('Delivery', deliverySchema)
  );
}

/**
 * The collection, then its unique index, both awaited: the first claim must meet the index, or
 * two workers could both insert a record for one delivery. `autoIndex: false` keeps mongoose
 * from building it in the background, where nothing waits for it.
 */
export async function prepareDeliveries(model: DeliveryModel): Promise<void> {
  await prepareModels([model]);
  await model.createIndexes();
}

import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A browser's Web Push subscription, for the inbox owner who made it (a user
 * id, or `sub:<externalId>` for an application's subscriber). The endpoint is
 * unique: it names one browser profile, so a subscription made again by
 * another account there moves to that account.
 */
export interface PushSubscriptionDocument {
  _id: Types.ObjectId;
  owner: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  createdAt: Date;
}

const pushSubscriptionSchema = new Schema<PushSubscriptionDocument>(
  {
    owner: { type: String, required: true },
    endpoint: { type: String, required: true },
    keys: {
      p256dh: { type: String, required: true },
      auth: { type: String, required: true },
    },
    createdAt: { type: Date, required: true },
  },
  { collection: 'push_subscriptions', versionKey: false },
);
pushSubscriptionSchema.index({ endpoint: 1 }, { unique: true });
pushSubscriptionSchema.index({ owner: 1, createdAt: 1 });

export type PushSubscriptionModel = Model<PushSubscriptionDocument>;

export function pushSubscriptionModel(connection: Connection): PushSubscriptionModel {
  return (
    (connection.models.PushSubscription as PushSubscriptionModel | undefined) ??
    connection.model<PushSubscriptionDocument>('PushSubscription', pushSubscriptionSchema)
  );
}

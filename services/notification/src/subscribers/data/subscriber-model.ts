import { Schema, type Connection, type Model } from 'mongoose';

/**
 * This service's copy of auth's subscribers (an application's own users,
 * docs/applications.md), replaced whole by each `subscriber.upserted` with a
 * higher `revision`. `subscriber.deleted` leaves a tombstone: the id, the
 * revision and when, no personal data.
 */
export interface SubscriberDocument {
  /** the application's external id */
  _id: string;
  /** `sub:<externalId>`: the inbox owner of its notifications */
  subscriberId: string;
  email?: string;
  phone?: string;
  name?: string;
  locale?: string;
  timezone?: string;
  /** the application's JSON as text, so keys with dots or a leading `$` are stored as given */
  dataJson?: string;
  revision: number;
  /** set by `subscriber.deleted`: the tombstone of an erased subscriber */
  deletedAt?: Date;
}

const subscriberSchema = new Schema<SubscriberDocument>(
  {
    _id: { type: String, required: true },
    subscriberId: { type: String, required: true },
    email: String,
    phone: String,
    name: String,
    locale: String,
    timezone: String,
    dataJson: String,
    revision: { type: Number, required: true },
    deletedAt: Date,
  },
  { collection: 'subscribers', versionKey: false },
);

export type SubscriberModel = Model<SubscriberDocument>;

export function subscriberModel(connection: Connection): SubscriberModel {
  return (
    (connection.models.Subscriber as SubscriberModel | undefined) ??
    connection.model<SubscriberDocument>('Subscriber', subscriberSchema)
  );
}

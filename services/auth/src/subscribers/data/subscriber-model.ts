import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { OutboxEntrySchema } from '../../outbox/data/outbox-entry';

/**
 * A subscriber: a recipient an application names by its own id (`_id` is
 * that external id). Deleting one erases its personal data and leaves a
 * tombstone (`deletedAt`, `revision`) so the revision keeps counting up if the
 * application creates it again, and read models can order the events.
 */
const SubscriberSchema = new Schema(
  {
    _id: { type: String, required: true },
    email: { type: String },
    phone: { type: String },
    name: { type: String },
    locale: { type: String },
    timezone: { type: String },
    /**
     * The application's JSON, stored as text: any key is allowed in it
     * (dots, a leading `$`), which MongoDB would refuse or misread as operators.
     */
    dataJson: { type: String },
    /** set when deleted: every field above is gone */
    deletedAt: { type: Date },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    revision: { type: Number, required: true },
    outbox: { type: [OutboxEntrySchema], default: [] },
  },
  { collection: 'subscribers', minimize: true },
);

// the list skips tombstones and pages in _id order
SubscriberSchema.index({ deletedAt: 1, _id: 1 });
// the outbox relay looks for subscribers holding events older than a grace period
SubscriberSchema.index({ 'outbox.createdAt': 1 }, { sparse: true });

export type Subscriber = InferSchemaType<typeof SubscriberSchema>;

export function subscriberModel(connection: Connection) {
  return connection.model('Subscriber', SubscriberSchema);
}
export type SubscriberModel = ReturnType<typeof subscriberModel>;

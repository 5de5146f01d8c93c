import { Schema, type InferSchemaType } from 'mongoose';

/**
 * An event waiting to be published, stored in the document it is about (a
 * user, an API key, a subscriber). The write that changes the document and
 * the push of its event are one single-document update — atomic without
 * transactions — so a change can never be saved without its event. See
 * `outbox/domain/outbox.ts` for the relay.
 */
export const OutboxEntrySchema = new Schema(
  {
    messageId: { type: String, required: true },
    routingKey: { type: String, required: true },
    /** the full envelope, published as is (a verification link inside: removed once published) */
    message: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { _id: false },
);

export type OutboxEntry = InferSchemaType<typeof OutboxEntrySchema>;

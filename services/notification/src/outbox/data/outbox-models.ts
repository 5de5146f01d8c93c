import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One document per group of notifications whose every message the broker
 * confirmed: written once per batch of confirmations (never once per
 * notification), read by the relay to skip what needs no republishing, and
 * deleted by the relay once its watermark has passed them all.
 */
export interface OutboxConfirmationRecord {
  _id: Types.ObjectId;
  /** the notifications whose owed messages were all confirmed */
  ids: Types.ObjectId[];
  /**
   * the earliest `outboxDueAt` among them: the relay reads, once a pass, the first records with one
   * due by then (absent in records written before it existed; the relay asks for those by id)
   */
  dueFrom?: Date;
  /** the latest `outboxDueAt` among them: once the watermark is past it, the record is spent */
  dueUntil: Date;
  at: Date;
}

const confirmationSchema = new Schema<OutboxConfirmationRecord>(
  {
    ids: { type: [Schema.Types.ObjectId], required: true },
    dueFrom: { type: Date },
    dueUntil: { type: Date, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'outbox_confirmations', versionKey: false },
);
confirmationSchema.index({ ids: 1 });
confirmationSchema.index({ dueFrom: 1 });
confirmationSchema.index({ dueUntil: 1 });

export type OutboxConfirmationModel = Model<OutboxConfirmationRecord>;

export function outboxConfirmationModel(connection: Connection): OutboxConfirmationModel {
  return (
    (connection.models.OutboxConfirmation as OutboxConfirmationModel | undefined) ??
    connection.model<OutboxConfirmationRecord>('OutboxConfirmation', confirmationSchema)
  );
}

/**
 * The relay's one document (`_id: 'notifications'`): who is relaying (a
 * lease, so one instance scans at a time) and how far it has settled. Every
 * notification whose (`outboxDueAt`, `_id`) is at or before the watermark
 * had its messages confirmed, or was re-dated past it.
 */
export interface OutboxRelayState {
  _id: string;
  owner?: string;
  leaseUntil?: Date;
  settledDueAt?: Date;
  settledId?: Types.ObjectId;
}

const relayStateSchema = new Schema<OutboxRelayState>(
  {
    _id: { type: String, required: true },
    owner: String,
    leaseUntil: Date,
    settledDueAt: Date,
    settledId: Schema.Types.ObjectId,
  },
  { collection: 'outbox_relay', versionKey: false },
);

export type OutboxRelayModel = Model<OutboxRelayState>;

export function outboxRelayModel(connection: Connection): OutboxRelayModel {
  return (
    (connection.models.OutboxRelay as OutboxRelayModel | undefined) ??
    connection.model<OutboxRelayState>('OutboxRelay', relayStateSchema)
  );
}

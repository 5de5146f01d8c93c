import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const DeadLetterStates = ['pending', 'replaying', 'replayed'] as const;
export type DeadLetterState = (typeof DeadLetterStates)[number];

/** One AMQP header; a list, not an object, because header names may hold `.` or start with `$`. */
export interface StoredHeader {
  name: string;
  value: unknown;
}

export interface ReplayRecord {
  by: string;
  startedAt: Date;
  /** a replay that crashed midway may be taken over after this */
  leaseUntil: Date;
  /** when the broker confirmed the replayed message */
  at?: Date;
  exchange?: string;
  routingKey?: string;
}

export interface DeadLetterRecord {
  _id: Types.ObjectId;
  /** one per dead-lettering of one message: a redelivered DLQ message finds its first copy */
  dedupeKey: string;
  state: DeadLetterState;
  messageId: string | null;
  correlationId: string | null;
  /** the envelope's `type` when the body has one, else the AMQP `type` property */
  messageType: string | null;
  contentType: string | null;
  /** the exact bytes, so a replay sends what was dead-lettered, JSON or not */
  content: Buffer;
  /** the body parsed and checked against the contracts' schema for its `type` */
  validEnvelope: boolean;
  headers: StoredHeader[];
  reason: string;
  errorCode: string | null;
  lastError: string | null;
  /** attempts made before it was dead-lettered */
  attempts: number;
  originalQueue: string | null;
  originalExchange: string | null;
  originalRoutingKey: string | null;
  notificationId: string | null;
  channel: string | null;
  firstFailedAt: Date | null;
  deadLetteredAt: Date;
  receivedAt: Date;
  replay?: ReplayRecord;
}

const replayRecord = new Schema<ReplayRecord>(
  {
    by: { type: String, required: true },
    startedAt: { type: Date, required: true },
    leaseUntil: { type: Date, required: true },
    at: Date,
    exchange: String,
    routingKey: String,
  },
  { _id: false },
);

const deadLetterSchema = new Schema<DeadLetterRecord>(
  {
    dedupeKey: { type: String, required: true },
    state: { type: String, required: true, enum: DeadLetterStates },
    messageId: { type: String, default: null },
    correlationId: { type: String, default: null },
    messageType: { type: String, default: null },
    contentType: { type: String, default: null },
    content: { type: Buffer, required: true },
    validEnvelope: { type: Boolean, required: true },
    headers: {
      type: [new Schema<StoredHeader>({ name: String, value: Schema.Types.Mixed }, { _id: false })],
      default: [],
    },
    reason: { type: String, required: true },
    errorCode: { type: String, default: null },
    lastError: { type: String, default: null },
    attempts: { type: Number, required: true },
    originalQueue: { type: String, default: null },
    originalExchange: { type: String, default: null },
    originalRoutingKey: { type: String, default: null },
    notificationId: { type: String, default: null },
    channel: { type: String, default: null },
    firstFailedAt: { type: Date, default: null },
    deadLetteredAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    replay: replayRecord,
  },
  { collection: 'dead_letters', versionKey: false, minimize: false },
);

deadLetterSchema.index({ dedupeKey: 1 }, { unique: true });
// The list, newest first, with the cursor's tie-break on _id; one index per filter.
deadLetterSchema.index({ deadLetteredAt: -1, _id: -1 });
deadLetterSchema.index({ reason: 1, deadLetteredAt: -1, _id: -1 });
deadLetterSchema.index({ channel: 1, deadLetteredAt: -1, _id: -1 });
deadLetterSchema.index({ notificationId: 1, deadLetteredAt: -1, _id: -1 });
deadLetterSchema.index({ state: 1, deadLetteredAt: -1, _id: -1 });

export type DeadLetterModel = Model<DeadLetterRecord>;

export function deadLetterModel(connection: Connection): DeadLetterModel {
  return (
    (connection.models.DeadLetter as DeadLetterModel | undefined) ??
    connection.model<DeadLetterRecord>('DeadLetter', deadLetterSchema)
  );
}

import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { OutboxEntrySchema } from '../../outbox/data/outbox-entry';

/**
 * A topic: a named list of subscribers (`_id` is the application's key).
 * Deleting one removes its memberships and leaves a tombstone, so the
 * revision keeps counting up if the key is created again, and the read
 * models can tell changes made before the deletion from those after it.
 * Every change to the topic or its members bumps `revision` and pushes its
 * events onto `outbox` in the same update.
 */
const TopicSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String },
    deletedAt: { type: Date },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    revision: { type: Number, required: true },
    outbox: { type: [OutboxEntrySchema], default: [] },
  },
  { collection: 'topics', minimize: true },
);

// the list skips tombstones and pages in _id order
TopicSchema.index({ deletedAt: 1, _id: 1 });
// the outbox relay looks for topics holding events older than a grace period
TopicSchema.index({ 'outbox.createdAt': 1 }, { sparse: true });

export type Topic = InferSchemaType<typeof TopicSchema>;

export function topicModel(connection: Connection) {
  return connection.model('Topic', TopicSchema);
}
export type TopicModel = ReturnType<typeof topicModel>;

/** One subscriber in one topic. Membership is a row of its own: a topic may hold millions. */
const TopicMemberSchema = new Schema(
  {
    topic: { type: String, required: true },
    externalId: { type: String, required: true },
    addedAt: { type: Date, required: true },
  },
  { collection: 'topic_members', versionKey: false },
);

// one row per member; the member list pages on it in externalId order
TopicMemberSchema.index({ topic: 1, externalId: 1 }, { unique: true });
// a subscriber's topics
TopicMemberSchema.index({ externalId: 1, topic: 1 });

export type TopicMember = InferSchemaType<typeof TopicMemberSchema>;

export function topicMemberModel(connection: Connection) {
  return connection.model('TopicMember', TopicMemberSchema);
}
export type TopicMemberModel = ReturnType<typeof topicMemberModel>;

/** What an import did, kept so a half-finished one (the upload cut, the process gone) still has its report. */
const TopicImportSchema = new Schema(
  {
    topic: { type: String, required: true },
    state: { type: String, required: true, enum: ['running', 'completed', 'failed'] },
    created: { type: Number, default: 0 },
    updated: { type: Number, default: 0 },
    unchanged: { type: Number, default: 0 },
    rejectedCount: { type: Number, default: 0 },
    /** the first rejections, with their line (bounded: a file of bad rows must not grow the document) */
    rejected: {
      type: [{ line: Number, reason: String, _id: false }],
      default: [],
    },
    lastLine: { type: Number, default: 0 },
    error: { type: String },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date },
  },
  { collection: 'topic_imports', versionKey: false },
);

TopicImportSchema.index({ topic: 1, startedAt: -1 });

export type TopicImport = InferSchemaType<typeof TopicImportSchema>;

export function topicImportModel(connection: Connection) {
  return connection.model('TopicImport', TopicImportSchema);
}
export type TopicImportModel = ReturnType<typeof topicImportModel>;

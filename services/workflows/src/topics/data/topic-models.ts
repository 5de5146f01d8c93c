import { Schema, type Connection, type Model } from 'mongoose';

/** This service's copy of auth's topics (`topic.upserted` / `topic.deleted`), by key. */
export interface TopicRecord {
  _id: string;
  name?: string;
  revision: number;
  /** a tombstone: membership changes up to `revision` are void */
  deletedAt?: Date;
}

const topicSchema = new Schema<TopicRecord>(
  {
    _id: { type: String, required: true },
    name: String,
    revision: { type: Number, required: true },
    deletedAt: Date,
  },
  { collection: 'topics', versionKey: false },
);

/** One member of one topic, as the newest `topic.members_changed` naming it says. */
export interface TopicMemberRecord {
  topic: string;
  externalId: string;
  /** false: a member; true: removed at `revision` (kept, so an older "added" cannot bring it back) */
  removed: boolean;
  revision: number;
}

const topicMemberSchema = new Schema<TopicMemberRecord>(
  {
    topic: { type: String, required: true },
    externalId: { type: String, required: true },
    removed: { type: Boolean, required: true },
    revision: { type: Number, required: true },
  },
  { collection: 'topic_members', versionKey: false },
);
// one row per (topic, member): the unique key the revision guard relies on
topicMemberSchema.index({ topic: 1, externalId: 1 }, { unique: true });
// a trigger to a topic: its live members in externalId order
topicMemberSchema.index({ topic: 1, removed: 1, externalId: 1 });

export type TopicModel = Model<TopicRecord>;
export type TopicMemberModel = Model<TopicMemberRecord>;

export function topicModel(connection: Connection): TopicModel {
  return (
    (connection.models.Topic as TopicModel | undefined) ?? connection.model<TopicRecord>('Topic', topicSchema)
  );
}

export function topicMemberModel(connection: Connection): TopicMemberModel {
  return (
    (connection.models.TopicMember as TopicMemberModel | undefined) ??
    connection.model<TopicMemberRecord>('TopicMember', topicMemberSchema)
  );
}

import { Schema, type Connection, type Model } from 'mongoose';
import {
  type TopicDeletedPayload,
  type TopicMembersChangedPayload,
  type TopicSnapshot,
} from '@herald/contracts';
import { isDuplicateKeyError } from '@herald/runtime/mongo';

/*
 * The read model of auth's topics and their members (`topic.upserted`,
 * `topic.deleted`, `topic.members_changed`), kept by every service that
 * sends to a topic (the notification service's topic sends, the workflows
 * service's triggers), each in its own database. Every event carries the
 * topic's revision; a member takes the state of the newest revision naming
 * it, and changes older than the topic's deletion are void.
 */

/** A service's copy of auth's topics (`topic.upserted` / `topic.deleted`), by key. */
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
// a topic's live members in externalId order (a send's fan-out from its checkpoint, a trigger's runs)
topicMemberSchema.index({ topic: 1, removed: 1, externalId: 1 });

export type TopicModel = Model<TopicRecord>;
export type TopicMemberModel = Model<TopicMemberRecord>;
export interface TopicReadModels {
  topics: TopicModel;
  topicMembers: TopicMemberModel;
}

/** The two models on a service's connection (registered once). */
export function topicReadModels(connection: Connection): TopicReadModels {
  return {
    topics:
      (connection.models.Topic as TopicModel | undefined) ??
      connection.model<TopicRecord>('Topic', topicSchema),
    topicMembers:
      (connection.models.TopicMember as TopicMemberModel | undefined) ??
      connection.model<TopicMemberRecord>('TopicMember', topicMemberSchema),
  };
}

/** `topic.upserted`: the name and revision, unless a newer copy (or tombstone) is held. */
export async function applyTopicSnapshot(models: TopicReadModels, topic: TopicSnapshot): Promise<void> {
  try {
    await models.topics.updateOne(
      { _id: topic.key, revision: { $lt: topic.revision } },
      { $set: { name: topic.name, revision: topic.revision }, $unset: { deletedAt: '' } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** `topic.deleted`: a tombstone at its revision, and every membership older than it gone. */
export async function applyTopicDeleted(
  models: TopicReadModels,
  deleted: TopicDeletedPayload,
): Promise<void> {
  try {
    await models.topics.updateOne(
      { _id: deleted.key, revision: { $lt: deleted.revision } },
      { $set: { revision: deleted.revision, deletedAt: new Date(deleted.deletedAt) }, $unset: { name: '' } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  await models.topicMembers.deleteMany({ topic: deleted.key, revision: { $lt: deleted.revision } });
}

/**
 * `topic.members_changed`: each member named takes the state this revision
 * says, unless the copy already holds a newer revision for it (the filter
 * misses, the upsert hits the unique key: "keep ours"). Changes older than
 * the topic's deletion are void. Redelivered, it writes the same again.
 */
export async function applyMembersChanged(
  models: TopicReadModels,
  change: TopicMembersChangedPayload,
): Promise<void> {
  const topic = await models.topics.findById(change.key, { revision: 1, deletedAt: 1 }).lean();
  if (topic?.deletedAt && topic.revision >= change.revision) return;
  const operations = [
    ...change.added.map((externalId) => ({ externalId, removed: false })),
    ...change.removed.map((externalId) => ({ externalId, removed: true })),
  ].map(({ externalId, removed }) => ({
    updateOne: {
      filter: { topic: change.key, externalId, revision: { $lt: change.revision } },
      update: { $set: { topic: change.key, externalId, removed, revision: change.revision } },
      upsert: true,
    },
  }));
  if (operations.length === 0) return;
  try {
    await models.topicMembers.collection.bulkWrite(operations, { ordered: false });
  } catch (error) {
    // duplicates are members we hold at a newer revision: kept; anything else is a real failure
    const writeErrors = (error as { writeErrors?: { code: number }[] }).writeErrors;
    if (!writeErrors || writeErrors.some((writeError) => writeError.code !== 11000)) throw error;
  }
}

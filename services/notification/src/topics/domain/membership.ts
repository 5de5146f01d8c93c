import {
  type TopicDeletedPayload,
  type TopicMembersChangedPayload,
  type TopicSnapshot,
} from '@herald/contracts';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ServiceContext } from '../../kernel/context';

/** `topic.upserted`: the name and revision, unless a newer copy (or tombstone) is held. */
export async function applyTopicSnapshot(ctx: ServiceContext, topic: TopicSnapshot): Promise<void> {
  try {
    await ctx.models.topics.updateOne(
      { _id: topic.key, revision: { $lt: topic.revision } },
      { $set: { name: topic.name, revision: topic.revision }, $unset: { deletedAt: '' } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** `topic.deleted`: a tombstone at its revision, and every membership older than it gone. */
export async function applyTopicDeleted(ctx: ServiceContext, deleted: TopicDeletedPayload): Promise<void> {
  try {
    await ctx.models.topics.updateOne(
      { _id: deleted.key, revision: { $lt: deleted.revision } },
      { $set: { revision: deleted.revision, deletedAt: new Date(deleted.deletedAt) }, $unset: { name: '' } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  await ctx.models.topicMembers.deleteMany({ topic: deleted.key, revision: { $lt: deleted.revision } });
}

/**
 * `topic.members_changed`: each member named takes the state this revision
 * says, unless the copy already holds a newer revision for it (the filter
 * misses, the upsert hits the unique key: "keep ours"). Changes older than
 * the topic's deletion are void. Redelivered, it writes the same again.
 */
export async function applyMembersChanged(
  ctx: ServiceContext,
  change: TopicMembersChangedPayload,
): Promise<void> {
  const topic = await ctx.models.topics.findById(change.key, { revision: 1, deletedAt: 1 }).lean();
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
    await ctx.models.topicMembers.collection.bulkWrite(operations, { ordered: false });
  } catch (error) {
    // duplicates are members we hold at a newer revision: kept; anything else is a real failure
    const writeErrors = (error as { writeErrors?: { code: number }[] }).writeErrors;
    if (!writeErrors || writeErrors.some((writeError) => writeError.code !== 11000)) throw error;
  }
}

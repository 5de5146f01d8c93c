import {
  type TopicDeletedPayload,
  type TopicMembersChangedPayload,
  type TopicSnapshot,
} from '@herald/contracts';
import { NotFoundError, UnprocessableError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ServiceContext } from '../../kernel/context';

/*
 * The read model of auth's topics and their members (`topic.upserted`,
 * `topic.deleted`, `topic.members_changed`), for triggers to a topic. The
 * same rules as the notification service's copy (each service keeps its
 * own; contracts are the only thing shared): every event carries the
 * topic's revision, a member takes the state of the newest revision naming
 * it, and changes older than the topic's deletion are void.
 */

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

/** `topic.members_changed`: each member named takes this revision's state unless a newer one is held. */
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
    // duplicates are members held at a newer revision: kept; anything else is a real failure
    const writeErrors = (error as { writeErrors?: { code: number }[] }).writeErrors;
    if (!writeErrors || writeErrors.some((writeError) => writeError.code !== 11000)) throw error;
  }
}

/** The most members a trigger to a topic starts runs for (one run each, started in the request). */
export const MAX_TOPIC_MEMBERS = 10_000;

/**
 * A topic's live members' external ids, in order: 404 for a topic this
 * service does not know (or that was deleted), 422 past `MAX_TOPIC_MEMBERS`.
 */
export async function topicMembers(ctx: ServiceContext, key: string): Promise<string[]> {
  const topic = await ctx.models.topics.findById(key, { deletedAt: 1 }).lean();
  if (!topic || topic.deletedAt) throw new NotFoundError('topic_not_found', `No topic "${key}"`);
  const members = await ctx.models.topicMembers
    .find({ topic: key, removed: false }, { externalId: 1, _id: 0 })
    .sort({ externalId: 1 })
    .limit(MAX_TOPIC_MEMBERS + 1)
    .lean<{ externalId: string }[]>();
  if (members.length > MAX_TOPIC_MEMBERS) {
    throw new UnprocessableError(
      'topic_too_large',
      `Topic "${key}" has more than ${MAX_TOPIC_MEMBERS} members: a workflow trigger starts one run each, in the request`,
    );
  }
  return members.map((member) => member.externalId);
}

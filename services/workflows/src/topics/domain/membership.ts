import { NotFoundError, UnprocessableError } from '@herald/runtime';
import { type ServiceContext } from '../../kernel/context';

/*
 * Who a trigger to a topic starts runs for, from this service's copy of
 * auth's topics and members (@herald/read-models, kept by ../consumers.ts).
 */

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

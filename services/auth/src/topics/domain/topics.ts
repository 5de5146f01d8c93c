import { type TopicSnapshot } from '@herald/contracts';
import { ConflictError, NotFoundError } from '@herald/runtime';
import { decodeCursor, encodeCursor, isDuplicateKeyError } from '@herald/runtime/mongo';
import { type AuthContext } from '../../context';
import { type OutboxEntry } from '../../outbox/data/outbox-entry';
import { type Topic } from '../data/topic-model';

export type StoredTopic = Omit<Topic, 'outbox'> & { _id: string; outbox?: OutboxEntry[] };

export interface TopicView {
  key: string;
  name: string;
  /** live members (auth's count; subscribers deleted since they were added still count) */
  memberCount?: number;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

export function topicView(topic: StoredTopic, memberCount?: number): TopicView {
  return {
    key: topic._id,
    name: topic.name ?? '',
    ...(memberCount === undefined ? {} : { memberCount }),
    createdAt: topic.createdAt.toISOString(),
    updatedAt: topic.updatedAt.toISOString(),
    revision: topic.revision,
  };
}

const snapshotOf = (topic: StoredTopic): TopicSnapshot => ({
  key: topic._id,
  name: topic.name ?? '',
  createdAt: topic.createdAt.toISOString(),
  updatedAt: topic.updatedAt.toISOString(),
  revision: topic.revision,
});

const MAX_ATTEMPTS = 5;

/** The live topic, or 404 `topic_not_found` (a deleted one too). */
export async function findLiveTopic(ctx: AuthContext, key: string): Promise<StoredTopic> {
  const topic = await ctx.models.topics
    .findOne({ _id: key, deletedAt: { $exists: false } }, { outbox: 0 })
    .lean<StoredTopic>();
  if (!topic) throw new NotFoundError('topic_not_found', `No topic with the key ${key}`);
  return topic;
}

/** 201 with the topic; 409 `topic_exists` when the key is live. A deleted key is created again (its revision continues). */
export async function createTopic(
  ctx: AuthContext,
  input: { key: string; name: string },
  correlationId: string,
): Promise<TopicView> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await ctx.models.topics.findById(input.key, { outbox: 0 }).lean<StoredTopic>();
    if (current && !current.deletedAt) {
      throw new ConflictError('topic_exists', `A topic with the key ${input.key} exists`);
    }
    const now = ctx.now();
    const after: StoredTopic = {
      _id: input.key,
      name: input.name,
      createdAt: now,
      updatedAt: now,
      revision: (current?.revision ?? 0) + 1,
    };
    const entry = ctx.topicOutbox.entry('topic.upserted', snapshotOf(after), correlationId);
    try {
      if (!current) {
        await ctx.models.topics.create({ ...after, outbox: [entry] });
      } else {
        // a deletion that stopped before removing every membership must not hand them to the new topic
        await ctx.models.topicMembers.deleteMany({ topic: input.key });
        const saved = await ctx.models.topics.updateOne(
          { _id: input.key, revision: current.revision },
          {
            $set: { name: input.name, createdAt: now, updatedAt: now, revision: after.revision },
            $unset: { deletedAt: 1 },
            $push: { outbox: entry },
          },
        );
        if (saved.matchedCount === 0) throw new ConcurrentChange();
      }
    } catch (error) {
      if ((error instanceof ConcurrentChange || isDuplicateKeyError(error)) && attempt < MAX_ATTEMPTS)
        continue;
      throw error;
    }
    ctx.topicOutbox.publishSoon(input.key);
    return topicView(after, 0);
  }
}

class ConcurrentChange extends Error {}

/**
 * Applies `change` to the live topic at its next revision, with the events
 * `eventsOf` makes for that revision, in one update; retried when another
 * change got in first. Returns the topic as written.
 */
export async function changeTopic(
  ctx: AuthContext,
  key: string,
  change: (topic: StoredTopic, now: Date) => Record<string, unknown>,
  eventsOf: (topic: StoredTopic, revision: number, now: Date) => OutboxEntry[],
): Promise<StoredTopic> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await findLiveTopic(ctx, key);
    const now = ctx.now();
    const revision = current.revision + 1;
    const set = change(current, now);
    const saved = await ctx.models.topics.updateOne(
      { _id: key, revision: current.revision, deletedAt: { $exists: false } },
      {
        $set: { ...set, updatedAt: now, revision },
        $push: { outbox: { $each: eventsOf({ ...current, ...set }, revision, now) } },
      },
    );
    if (saved.matchedCount === 1) {
      ctx.topicOutbox.publishSoon(key);
      return { ...current, ...set, updatedAt: now, revision };
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`topic ${key} kept changing under us`);
  }
}

export async function renameTopic(
  ctx: AuthContext,
  key: string,
  name: string,
  correlationId: string,
): Promise<TopicView> {
  const topic = await changeTopic(
    ctx,
    key,
    () => ({ name }),
    (current, revision, now) => [
      ctx.topicOutbox.entry(
        'topic.upserted',
        snapshotOf({ ...current, name, updatedAt: now, revision }),
        correlationId,
      ),
    ],
  );
  return topicView(topic, await ctx.models.topicMembers.countDocuments({ topic: key }));
}

/**
 * Deletes the topic and its memberships. The tombstone (and `topic.deleted`
 * at its revision) is written first: from then on no member can be added,
 * and the read models drop every membership older than that revision.
 */
export async function deleteTopic(ctx: AuthContext, key: string, correlationId: string): Promise<void> {
  await changeTopic(
    ctx,
    key,
    (_, now) => ({ deletedAt: now }),
    (_, revision, now) => [
      ctx.topicOutbox.entry('topic.deleted', { key, deletedAt: now.toISOString(), revision }, correlationId),
    ],
  );
  await ctx.models.topics.updateOne({ _id: key }, { $unset: { name: 1 } });
  await ctx.models.topicMembers.deleteMany({ topic: key });
}

export async function getTopic(ctx: AuthContext, key: string): Promise<TopicView> {
  const topic = await findLiveTopic(ctx, key);
  return topicView(topic, await ctx.models.topicMembers.countDocuments({ topic: key }));
}

/** In key order: the cursor is the last key seen. */
export async function listTopics(
  ctx: AuthContext,
  query: { limit: number; cursor?: string },
): Promise<{ items: TopicView[]; nextCursor: string | null }> {
  const filter: Record<string, unknown> = { deletedAt: { $exists: false } };
  if (query.cursor) filter._id = { $gt: decodeCursor(query.cursor, ['string'])[0] };
  const found = await ctx.models.topics
    .find(filter, { outbox: 0 })
    .sort({ _id: 1 })
    .limit(query.limit + 1)
    .lean<StoredTopic[]>();
  const page = found.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((topic) => topicView(topic)),
    nextCursor: found.length > query.limit && last ? encodeCursor([last._id]) : null,
  };
}

import { MAX_MEMBERS_PER_EVENT } from '@herald/contracts';
import { NotFoundError } from '@herald/runtime';
import { decodeCursor, encodeCursor } from '@herald/runtime/mongo';
import { type AuthContext } from '../../context';
import { type OutboxEntry } from '../../outbox/data/outbox-entry';
import { liveSubscriberIds } from '../../subscribers/domain/subscribers';
import { changeTopic, findLiveTopic } from './topics';

/** The most subscribers one call may add or remove. */
export const MAX_MEMBERS_PER_CALL = 10_000;

/** Membership writes sent to the database at once. */
const WRITE_CHUNK = 1_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** `topic.members_changed` events for one change: at most MAX_MEMBERS_PER_EVENT members each. */
function membershipEvents(
  ctx: AuthContext,
  key: string,
  revision: number,
  change: { added?: string[]; removed?: string[] },
  correlationId: string,
): OutboxEntry[] {
  const events: OutboxEntry[] = [];
  for (const added of chunks(change.added ?? [], MAX_MEMBERS_PER_EVENT)) {
    events.push(
      ctx.topicOutbox.entry('topic.members_changed', { key, revision, added, removed: [] }, correlationId),
    );
  }
  for (const removed of chunks(change.removed ?? [], MAX_MEMBERS_PER_EVENT)) {
    events.push(
      ctx.topicOutbox.entry('topic.members_changed', { key, revision, added: [], removed }, correlationId),
    );
  }
  return events;
}

/**
 * Adds subscribers that exist to the topic, idempotently. The membership
 * rows are written first, then the topic's next revision with its events:
 * a call cut in between answered 5xx and is safe to repeat, and the events
 * name every member of the call (new or already there), so the repeat
 * brings the read models level whatever the first attempt got to.
 */
export async function addMembers(
  ctx: AuthContext,
  key: string,
  externalIds: string[],
  correlationId: string,
): Promise<{ added: number; alreadyMembers: number; unknown: string[] }> {
  await findLiveTopic(ctx, key);
  const wanted = [...new Set(externalIds)];
  const known = await liveSubscriberIds(ctx, wanted);
  const unknown = wanted.filter((id) => !known.has(id));
  const members = wanted.filter((id) => known.has(id));
  const added = await addKnownMembers(ctx, key, members, correlationId);
  return { added, alreadyMembers: members.length - added, unknown };
}

/**
 * Adds subscribers the caller knows exist (an import just wrote them) to a
 * live topic: the rows, then the topic's revision with its events.
 */
export async function addKnownMembers(
  ctx: AuthContext,
  key: string,
  members: string[],
  correlationId: string,
): Promise<number> {
  const now = ctx.now();
  let added = 0;
  for (const chunk of chunks(members, WRITE_CHUNK)) {
    const result = await ctx.models.topicMembers.bulkWrite(
      chunk.map((externalId) => ({
        updateOne: {
          filter: { topic: key, externalId },
          update: { $setOnInsert: { topic: key, externalId, addedAt: now } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    added += result.upsertedCount;
  }
  if (members.length > 0) {
    await changeTopic(
      ctx,
      key,
      () => ({}),
      (_, revision) => membershipEvents(ctx, key, revision, { added: members }, correlationId),
    );
  }
  return added;
}

/** Removes subscribers from the topic; ids that were not members are named in `notMembers`. */
export async function removeMembers(
  ctx: AuthContext,
  key: string,
  externalIds: string[],
  correlationId: string,
): Promise<{ removed: number; notMembers: string[] }> {
  await findLiveTopic(ctx, key);
  const wanted = [...new Set(externalIds)];
  const present = new Set<string>();
  for (const chunk of chunks(wanted, WRITE_CHUNK)) {
    const found = await ctx.models.topicMembers
      .find({ topic: key, externalId: { $in: chunk } }, { externalId: 1 })
      .lean<{ externalId: string }[]>();
    found.forEach((member) => present.add(member.externalId));
    await ctx.models.topicMembers.deleteMany({ topic: key, externalId: { $in: chunk } });
  }
  // every id of the call is announced removed, as additions are: a repeated call re-syncs the read models
  if (wanted.length > 0) {
    await changeTopic(
      ctx,
      key,
      () => ({}),
      (_, revision) => membershipEvents(ctx, key, revision, { removed: wanted }, correlationId),
    );
  }
  return { removed: present.size, notMembers: wanted.filter((id) => !present.has(id)) };
}

/**
 * A deleted subscriber leaves every topic (with the usual events), so that
 * creating the id again does not silently bring back old memberships. Run
 * after the deletion; a crash in between leaves memberships the fan-out
 * skips anyway (it sends only to live subscribers), and deleting again is 404.
 */
export async function leaveAllTopics(
  ctx: AuthContext,
  externalId: string,
  correlationId: string,
): Promise<void> {
  const memberships = await ctx.models.topicMembers
    .find({ externalId }, { topic: 1 })
    .lean<{ topic: string }[]>();
  for (const { topic } of memberships) {
    await ctx.models.topicMembers.deleteOne({ topic, externalId });
    await changeTopic(
      ctx,
      topic,
      () => ({}),
      (_, revision) => membershipEvents(ctx, topic, revision, { removed: [externalId] }, correlationId),
    ).catch((error: unknown) => {
      // the topic was deleted meanwhile: its memberships are gone with it
      if (!(error instanceof NotFoundError)) throw error;
    });
  }
}

/** Members in external-id order; the cursor is the last id seen. */
export async function listMembers(
  ctx: AuthContext,
  key: string,
  query: { limit: number; cursor?: string },
): Promise<{ items: { externalId: string; addedAt: string }[]; nextCursor: string | null }> {
  await findLiveTopic(ctx, key);
  const filter: Record<string, unknown> = { topic: key };
  if (query.cursor) filter.externalId = { $gt: decodeCursor(query.cursor, ['string'])[0] };
  const found = await ctx.models.topicMembers
    .find(filter)
    .sort({ externalId: 1 })
    .limit(query.limit + 1)
    .lean<{ externalId: string; addedAt: Date }[]>();
  const page = found.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((member) => ({ externalId: member.externalId, addedAt: member.addedAt.toISOString() })),
    nextCursor: found.length > query.limit && last ? encodeCursor([last.externalId]) : null,
  };
}

/** The topics a subscriber is in, in key order; 404 for an unknown subscriber. */
export async function subscriberTopics(
  ctx: AuthContext,
  externalId: string,
  query: { limit: number; cursor?: string },
): Promise<{ items: { key: string; name: string; addedAt: string }[]; nextCursor: string | null }> {
  const known = await liveSubscriberIds(ctx, [externalId]);
  if (!known.has(externalId)) throw new NotFoundError('subscriber_not_found', 'No such subscriber');
  const filter: Record<string, unknown> = { externalId };
  if (query.cursor) filter.topic = { $gt: decodeCursor(query.cursor, ['string'])[0] };
  const found = await ctx.models.topicMembers
    .find(filter)
    .sort({ topic: 1 })
    .limit(query.limit + 1)
    .lean<{ topic: string; addedAt: Date }[]>();
  const page = found.slice(0, query.limit);
  const topics = await ctx.models.topics
    .find({ _id: { $in: page.map((member) => member.topic) } }, { name: 1 })
    .lean<{ _id: string; name?: string }[]>();
  const names = new Map(topics.map((topic) => [topic._id, topic.name ?? '']));
  const last = page[page.length - 1];
  return {
    items: page.map((member) => ({
      key: member.topic,
      name: names.get(member.topic) ?? '',
      addedAt: member.addedAt.toISOString(),
    })),
    nextCursor: found.length > query.limit && last ? encodeCursor([last.topic]) : null,
  };
}

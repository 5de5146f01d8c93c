import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { ConflictError, ForbiddenError, NotFoundError } from '@herald/runtime';
import { hasScope, Scopes, SUBSCRIBER_ID_PREFIX, type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { type NotificationRecord } from '../../notifications/data/notification-model';
import { parseSendAt } from '../../notifications/domain/create-notification';
import { storeNotificationBatch } from '../../notifications/domain/store-batch';
import { smsDestinationVerdict } from '../../notifications/domain/sms-destination';
import {
  assertOneContentSource,
  recipientContent,
  renderFanOutContent,
} from '../../notifications/domain/templated-content';
import { type SendRequestInput } from '../../notifications/domain/types';
import { publishBatchNow } from '../../outbox/domain/outbox';
import { type SubscriberDocument } from '../../subscribers/data/subscriber-model';
import { type TopicSendRecord } from '../data/topic-models';

/*
 * A send to a topic fans out as a broadcast does: the topic's members are
 * walked in externalId order over the membership read model, one batch in
 * memory at a time; after each batch the send records its checkpoint
 * (`lastExternalId`) under a lease, and if the instance dies the relay on
 * any instance claims the lapsed lease and resumes from the checkpoint.
 * Each member's notification has the dedupe key `topic-send:<id>:<member>`,
 * so a batch redone after a crash stores nobody's notification twice; its
 * delivery job keeps the job id stored with it, which the worker's delivery
 * record deduplicates, so nobody is emailed twice either. The notifications
 * carry the send's id as `broadcastId`: the stats count on that index.
 *
 * A send with `sendAt` is stored `scheduled` with its lease ending at
 * `sendAt` and no owner: nothing waits in memory, and when it is due the
 * relay on any instance (one that started since, too) claims it, counts the
 * members again and fans out as above. Until then it can be cancelled.
 * Quiet hours are applied per member as the fan-out reaches them, as a
 * single send applies them when it is accepted (or due).
 */

export interface TopicSendAccepted {
  topicSendId: string;
  topic: string;
  state: 'scheduled' | 'running' | 'completed' | 'cancelled';
  recipientCount: number;
  processedCount: number;
  createdAt: string;
  sendAt?: string;
  completedAt?: string;
  cancelledAt?: string;
}

export function topicSendProgress(record: TopicSendRecord): TopicSendAccepted {
  return {
    topicSendId: record._id.toHexString(),
    topic: record.topic,
    state: record.state,
    recipientCount: record.recipientCount,
    processedCount: record.processedCount,
    createdAt: record.createdAt.toISOString(),
    ...(record.sendAt ? { sendAt: record.sendAt.toISOString() } : {}),
    ...(record.completedAt ? { completedAt: record.completedAt.toISOString() } : {}),
    ...(record.cancelledAt ? { cancelledAt: record.cancelledAt.toISOString() } : {}),
  };
}

/** An admin, or an application's key with `notifications:send`: the same senders who may notify anyone. */
function assertMayNotifyTopic(sender: AuthenticatedUser): void {
  if (sender.role === 'admin' || (sender.kind === 'apikey' && hasScope(sender, Scopes.notificationsSend)))
    return;
  throw new ForbiddenError(
    'forbidden_recipient',
    'Only applications (API keys) and admins may send to a topic',
  );
}

const liveMembers = (topic: string, after: string | null) => ({
  topic,
  removed: false,
  ...(after ? { externalId: { $gt: after } } : {}),
});

/** The topic's live members now (0 for a topic this service does not know). */
export function topicMemberCount(ctx: ServiceContext, topic: string): Promise<number> {
  return ctx.models.topicMembers.countDocuments(liveMembers(topic, null));
}

/**
 * `POST /notifications` with `recipient: { topic }`: the content is checked
 * and rendered (once per locale of a template) before it is accepted, then
 * the fan-out runs in the background. With `id` (from the Idempotency-Key)
 * a retried request finds the send it started.
 */
export async function startTopicSend(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  topic: string,
  input: Omit<SendRequestInput, 'recipient' | 'recipients'>,
  options: { correlationId: string; id?: Types.ObjectId },
): Promise<TopicSendAccepted> {
  assertMayNotifyTopic(sender);
  assertOneContentSource(input);
  const sendAt = parseSendAt(ctx, input.sendAt);
  const known = await ctx.models.topics.findOne({ _id: topic, deletedAt: { $exists: false } }).lean();
  if (!known) throw new NotFoundError('topic_not_found', `No topic with the key ${topic}`);
  if (options.id) {
    const existing = await ctx.models.topicSends.findById(options.id).lean<TopicSendRecord>();
    if (existing) return topicSendProgress(existing);
  }
  const category = await ctx.categories.forSend(input.category);
  const content = await renderFanOutContent(ctx, input);
  const recipientCount = await topicMemberCount(ctx, topic);
  const owner = randomUUID();
  const [created] = await ctx.models.topicSends.insertMany([
    {
      ...(options.id ? { _id: options.id } : {}),
      topic,
      senderId: sender.id,
      channels: input.channels,
      ...content,
      category: category._id,
      priority: input.priority ?? 'normal',
      metadata: input.metadata ?? {},
      actor: input.actor,
      tenant: input.tenant,
      dataJson: input.data === undefined ? undefined : JSON.stringify(input.data),
      correlationId: options.correlationId,
      recipientCount,
      processedCount: 0,
      notifiedCount: 0,
      lastExternalId: null,
      // scheduled: the relay claims it when its lease (no owner) ends at sendAt
      ...(sendAt
        ? { state: 'scheduled', sendAt, leaseUntil: sendAt }
        : {
            state: 'running',
            leaseUntil: new Date(ctx.now().getTime() + ctx.settings.outboxLeaseMs),
            leaseOwner: owner,
          }),
    },
  ]);
  const record = created!.toObject() as TopicSendRecord;
  if (!sendAt) ctx.background.run('topic send fan-out', () => fanOut(ctx, record, owner));
  return topicSendProgress(record);
}

/** The channels a member can be reached on: email with an address, SMS with an allowed number. */
function reachableChannels(ctx: ServiceContext, channels: Channel[], member: SubscriberDocument): Channel[] {
  return channels.filter((channel) => {
    if (channel === 'email') return Boolean(member.email);
    if (channel === 'sms') {
      return (
        Boolean(member.phone) && smsDestinationVerdict(member.phone!, ctx.settings.smsAllowList) === 'allowed'
      );
    }
    return true;
  });
}

/** Pages of member ids read ahead per query (a page is a few hundred kB of ids at most). */
const MEMBER_PAGES_PER_READ = 8;

/**
 * The live members after `after`, in externalId order, in batches of
 * `BROADCAST_BATCH_SIZE`, read MEMBER_PAGES_PER_READ batches per query: a
 * range read on MongoDB's index costs the same in one query as in eight,
 * and a scan (the test database) costs one instead of eight.
 */
async function* memberBatches(ctx: ServiceContext, topic: string, after: string | null) {
  const size = ctx.settings.broadcastBatchSize;
  let last = after;
  for (;;) {
    const page = await ctx.models.topicMembers
      .find(liveMembers(topic, last), { externalId: 1 })
      .sort({ externalId: 1 })
      .limit(size * MEMBER_PAGES_PER_READ)
      .lean<{ externalId: string }[]>();
    for (let start = 0; start < page.length; start += size) yield page.slice(start, start + size);
    if (page.length < size * MEMBER_PAGES_PER_READ) return;
    last = page[page.length - 1]!.externalId;
  }
}

/**
 * The walk. A batch's messages are published while the next batch is read
 * and stored (one batch's publishes in flight at most, so memory stays one
 * batch deep): the checkpoint may pass notifications whose jobs are not
 * confirmed yet, which is what the outbox is for — stored with their due
 * time, the relay publishes any a crash left behind.
 */
async function fanOut(ctx: ServiceContext, send: TopicSendRecord, owner: string): Promise<void> {
  const sendId = send._id.toHexString();
  let last = send.lastExternalId;
  let publishing: Promise<void> = Promise.resolve();
  let publishFailure: { error: unknown } | undefined;
  const published = async () => {
    await publishing;
    if (publishFailure) throw publishFailure.error;
  };
  for await (const members of memberBatches(ctx, send.topic, last)) {
    const inserted = await storeBatch(
      ctx,
      send,
      sendId,
      members.map((member) => member.externalId),
    );
    await published();
    publishing = publishBatchNow(ctx, inserted).then(
      () => undefined,
      (error: unknown) => {
        publishFailure = { error };
      },
    );
    last = members[members.length - 1]!.externalId;
    const kept = await ctx.models.topicSends.updateOne(
      { _id: send._id, leaseOwner: owner },
      {
        $set: {
          lastExternalId: last,
          leaseUntil: new Date(ctx.now().getTime() + ctx.settings.outboxLeaseMs),
        },
        $inc: { processedCount: members.length, notifiedCount: inserted.length },
      },
    );
    // our lease lapsed and another instance resumed the send: it carries on from the checkpoint
    if (kept.matchedCount === 0) return published();
  }
  await published();
  await ctx.models.topicSends.updateOne(
    { _id: send._id, leaseOwner: owner },
    { $set: { state: 'completed', completedAt: ctx.now(), leaseUntil: null } },
  );
  ctx.log.info({ topicSendId: sendId, topic: send.topic }, 'topic send fanned out');
}

/** Stores one batch's notifications; returns the new ones, whose messages the caller publishes. */
async function storeBatch(
  ctx: ServiceContext,
  send: TopicSendRecord,
  sendId: string,
  externalIds: string[],
): Promise<NotificationRecord[]> {
  // by _id alone, the tombstones dropped here: the same rows, and a query on the key only is an index
  // lookup even where nothing else is indexed (the test database, mongo-java-server, scanned every
  // subscriber for each batch with the tombstone condition in the filter)
  const found = await ctx.models.subscribers.find({ _id: { $in: externalIds } }).lean<SubscriberDocument[]>();
  const subscribers = found.filter((member) => !member.deletedAt);
  const drafts = subscribers.flatMap((member) => {
    const channels = reachableChannels(ctx, send.channels, member);
    if (channels.length === 0) return [];
    return [
      {
        dedupeKey: `topic-send:${sendId}:${member._id}`,
        recipient: {
          userId: `${SUBSCRIBER_ID_PREFIX}${member._id}`,
          ...(member.email ? { email: member.email } : {}),
          ...(member.phone ? { phone: member.phone } : {}),
          ...(member.name ? { name: member.name } : {}),
          ...(member.locale ? { locale: member.locale } : {}),
        },
        senderId: send.senderId,
        channels,
        ...recipientContent(send, member.locale, channels),
        category: send.category,
        priority: send.priority,
        metadata: send.metadata,
        actor: send.actor,
        tenant: send.tenant,
        dataJson: send.dataJson,
        broadcastId: sendId,
        correlationId: send.correlationId,
      },
    ];
  });
  return storeNotificationBatch(ctx, drafts);
}

/**
 * Relay pass: starts the scheduled sends now due, then resumes sends whose
 * instance stopped before finishing. A scheduled send is claimed by moving
 * it to `running` under this pass's lease (one instance wins); its
 * recipients are counted again, as members came and went since.
 */
export async function resumeTopicSends(ctx: ServiceContext): Promise<void> {
  for (;;) {
    const now = ctx.now();
    const owner = randomUUID();
    const due = await ctx.models.topicSends
      .findOneAndUpdate(
        { state: 'scheduled', leaseUntil: { $lte: now } },
        {
          $set: {
            state: 'running',
            leaseUntil: new Date(now.getTime() + ctx.settings.outboxLeaseMs),
            leaseOwner: owner,
          },
        },
        { returnDocument: 'after' },
      )
      .lean<TopicSendRecord>();
    if (!due) break;
    const recipientCount = await topicMemberCount(ctx, due.topic);
    await ctx.models.topicSends.updateOne({ _id: due._id, leaseOwner: owner }, { $set: { recipientCount } });
    ctx.log.info({ topicSendId: due._id, topic: due.topic }, 'starting a scheduled topic send');
    await fanOut(ctx, { ...due, recipientCount }, owner);
  }
  for (;;) {
    const now = ctx.now();
    const owner = randomUUID();
    const claimed = await ctx.models.topicSends
      .findOneAndUpdate(
        { state: 'running', leaseUntil: { $lte: now } },
        { $set: { leaseUntil: new Date(now.getTime() + ctx.settings.outboxLeaseMs), leaseOwner: owner } },
        { returnDocument: 'after' },
      )
      .lean<TopicSendRecord>();
    if (!claimed) return;
    ctx.log.warn({ topicSendId: claimed._id }, 'resuming an unfinished topic send');
    await fanOut(ctx, claimed, owner);
  }
}

export async function findTopicSend(ctx: ServiceContext, id: string): Promise<TopicSendRecord> {
  const record =
    Types.ObjectId.isValid(id) && /^[0-9a-f]{24}$/.test(id)
      ? await ctx.models.topicSends.findById(id).lean<TopicSendRecord>()
      : null;
  if (!record) throw new NotFoundError('topic_send_not_found', 'No such send to a topic');
  return record;
}

/**
 * Whose sends a caller sees: an admin's and a key with `notifications:read`
 * (which reads any notification) every send; any other caller (a key that
 * only sends) its own. Another application's send is a 404, as if absent.
 */
function seesEverySend(caller: AuthenticatedUser): boolean {
  return caller.role === 'admin' || hasScope(caller, Scopes.notificationsRead);
}

/** A send the caller may see (see `seesEverySend`); 404 `topic_send_not_found` otherwise. */
export async function findVisibleTopicSend(
  ctx: ServiceContext,
  caller: AuthenticatedUser,
  id: string,
): Promise<TopicSendRecord> {
  const send = await findTopicSend(ctx, id);
  if (!seesEverySend(caller) && send.senderId !== caller.id) {
    throw new NotFoundError('topic_send_not_found', 'No such send to a topic');
  }
  return send;
}

export interface TopicSendListQuery {
  topic?: string;
  state?: TopicSendRecord['state'];
  limit: number;
  /** the last send of the previous page (its id): this page starts after it */
  cursor?: string;
}

/**
 * `GET /topic-sends`: the sends the caller may see, newest first, a page at a
 * time (keyset on `_id`: a page is stable while sends are added), optionally
 * of one topic or in one state. Indexed: `{ senderId, _id }` for a key's own,
 * `{ topic, _id }` for a topic's, `_id` for all; the state is filtered along.
 */
export async function listTopicSends(
  ctx: ServiceContext,
  caller: AuthenticatedUser,
  query: TopicSendListQuery,
): Promise<{ items: TopicSendAccepted[]; nextCursor: string | null }> {
  const records = await ctx.models.topicSends
    .find({
      ...(seesEverySend(caller) ? {} : { senderId: caller.id }),
      ...(query.topic ? { topic: query.topic } : {}),
      ...(query.state ? { state: query.state } : {}),
      ...(query.cursor ? { _id: { $lt: new Types.ObjectId(query.cursor) } } : {}),
    })
    .sort({ _id: -1 })
    .limit(query.limit + 1)
    .select({ renderedByLocale: 0, html: 0, body: 0, metadata: 0, dataJson: 0 })
    .lean<TopicSendRecord[]>();
  const items = records.slice(0, query.limit);
  return {
    items: items.map(topicSendProgress),
    nextCursor: records.length > query.limit ? items[items.length - 1]!._id.toHexString() : null,
  };
}

/**
 * `POST /topic-sends/:id/cancel`: a scheduled send that has not started
 * never starts. Its sender (the same key or user) or an admin; 409
 * `topic_send_not_cancellable` once it runs, completed or was cancelled.
 */
export async function cancelTopicSend(
  ctx: ServiceContext,
  caller: AuthenticatedUser,
  id: string,
): Promise<TopicSendAccepted> {
  const send = await findTopicSend(ctx, id);
  // its sender or an admin (a key that reads every send may not cancel another's): 404 as if absent
  if (caller.role !== 'admin' && send.senderId !== caller.id) {
    throw new NotFoundError('topic_send_not_found', 'No such send to a topic');
  }
  const cancelled = await ctx.models.topicSends
    .findOneAndUpdate(
      { _id: send._id, state: 'scheduled' },
      { $set: { state: 'cancelled', cancelledAt: ctx.now(), leaseUntil: null } },
      { returnDocument: 'after' },
    )
    .lean<TopicSendRecord>();
  if (!cancelled) {
    throw new ConflictError(
      'topic_send_not_cancellable',
      `This send is ${(await findTopicSend(ctx, id)).state}: only a scheduled send that has not started can be cancelled`,
    );
  }
  ctx.log.info({ topicSendId: id, topic: send.topic }, 'scheduled topic send cancelled');
  return topicSendProgress(cancelled);
}

import { hash, randomUUID } from 'node:crypto';
import { type Types } from 'mongoose';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import {
  EventRoutingKeys,
  MessageTypes,
  createDeliveryJobMessage,
  createMessage,
  isDeliveryChannel,
  type Channel,
  type DeliveryJobPayload,
  type PushTarget,
  type RenderedContent,
} from '@herald/contracts';
import { type NotificationRecord } from '../../notifications/data/notification-model';
import { publishEvent } from './publish-event';
import { deferHeld, isHeld } from './quiet-hold';
import { withListUnsubscribe } from '../../unsubscribe/domain/links';
import { type ServiceContext } from '../../kernel/context';
import { notificationSummary } from '../../notifications/domain/summaries';
import { applyStatusChange } from '../../delivery-status/domain/apply-status';
import { pushTargetsOf } from '../../push-subscriptions/domain/push-subscriptions';
import { inAppDeliveredEvent, subjectOf } from '../../event-webhooks/domain/notification-events';

/**
 * Every subscription the recipient had when the push was accepted went away before it was
 * published (unsubscribed, or gone at the push service): nothing to send; the channel ends
 * `failed` (`no_push_subscription`), reported as the worker would, once (the report's id is the job's).
 */
async function noPushSubscriptionLeft(ctx: ServiceContext, record: NotificationRecord, entry: OwedJob) {
  await applyStatusChange(
    ctx,
    {
      notificationId: record._id.toHexString(),
      channel: 'push',
      status: 'failed',
      attempt: 1,
      at: ctx.now().toISOString(),
      error: {
        code: 'no_push_subscription',
        message: 'The recipient has no push subscription any more',
        permanent: true,
      },
    },
    { messageId: entry.messageId, source: 'notification', correlationId: record.correlationId },
  );
}

/*
 * The transactional outbox, without a second write per notification.
 *
 * A notification is stored with `outboxDueAt` when it owes messages (its
 * delivery jobs, its `notification.created`), so accepting it and promising
 * to publish are one insert. Which messages it owes follows from the document
 * itself (a job per channel still `queued` with its job id, the created event
 * when it has an inbox owner), with message ids that never change.
 *
 * The accepting request publishes them with confirms; once the broker has
 * confirmed them all, the notification's id goes into the confirmation log,
 * group-committed: one `outbox_confirmations` document per batch. Nothing
 * writes the notification again.
 *
 * The relay (one instance at a time, under a lease on `outbox_relay`) walks
 * the notifications past its watermark in (`outboxDueAt`, `_id`) order, up
 * to now: those the log names are done; the others it (re)publishes, logs the
 * confirmed ones, and re-dates the failed ones past the watermark
 * (`$max`, so a re-date never moves one back); then it moves the watermark to
 * the last one it looked at. The accepting request's notification is due
 * `OUTBOX_GRACE_MS` after it was accepted, a scheduled one at its `sendAt`,
 * so the relay looks at each one once, when it is due. A republish carries
 * the same message id: the worker (job id) and the clients (notification
 * id) drop a duplicate. The README's outbox section walks through the crash
 * points.
 */

/**
 * A message a notification owes: a delivery job, or the in-app `notification.created` event.
 * The created event's id is derived when it is needed (`createdMessageId`): the batched event of
 * the accept path carries none of its own, and deriving it was 1 % of this service's CPU.
 */
export type OwedMessage = OwedJob | { kind: 'created'; messageId?: string; channel: Channel };
export interface OwedJob {
  kind: 'job';
  messageId: string;
  channel: Channel;
}

/**
 * The id of a notification's `notification.created` event, the same on
 * every publish: a UUID (the envelope's format) derived from the
 * notification's id, so it need not be stored.
 */
export function createdEventId(id: Types.ObjectId): string {
  // one-shot: half the CPU of a Hash object (0.7 against 1.6 µs), same digest
  const hex = hash('sha1', `notification.created:${id.toHexString()}`, 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * What a notification still owes, from the document itself: the job of each
 * delivery channel still `queued` (a later status means the worker has it),
 * and the created event of one with an inbox owner. Documents stored before
 * the confirmation log carry their `outbox` with what was marked published.
 */
export function owedMessages(record: NotificationRecord, now: Date): OwedMessage[] {
  // Deleted or cancelled before it went out: it owes nothing any more (its pending channels ended cancelled).
  if (record.deletedAt || record.cancelledAt) return [];
  if (record.outbox) {
    return record.outbox
      .filter((entry) => !entry.publishedAt && entry.publishAfter <= now)
      .map(({ messageId, kind, channel }): OwedMessage => ({ messageId, kind, channel }));
  }
  const owed: OwedMessage[] = [];
  for (const channel of record.channels) {
    const delivery = record.deliveries[channel];
    if (isDeliveryChannel(channel) && delivery?.jobId && delivery.status === 'queued') {
      if (!isHeld(delivery, now)) owed.push({ messageId: delivery.jobId, kind: 'job', channel });
    }
  }
  if (record.userId && !record.createdPublishedAt) owed.push({ kind: 'created', channel: 'in_app' });
  return owed;
}

/**
 * What the worker sends, as it is. A templated notification carries the
 * content rendered for each channel (the worker reads `subject`, `text`,
 * `html` for email and `sms`, else `text`, for SMS); a literal one its
 * title, body and html, as before templates.
 */
function jobContent(record: NotificationRecord, channel: Channel): RenderedContent {
  const { rendered } = record;
  if (channel === 'sms' && rendered?.sms !== undefined) return { text: rendered.sms, sms: rendered.sms };
  if (channel === 'email' && rendered?.email) {
    const { subject, text, html } = rendered.email;
    return { subject, text, ...(html ? { html } : {}) };
  }
  return { subject: record.title, text: record.body, ...(record.html ? { html: record.html } : {}) };
}

/**
 * `pushTargets`: for a push job, the recipient's subscriptions as they are when it is published
 * (a browser subscribed since gets it too, one that went away does not).
 */
export function deliveryJobPayload(
  record: NotificationRecord,
  entry: OwedJob,
  pushTargets: PushTarget[] = [],
): DeliveryJobPayload {
  const { recipient } = record;
  const identity = {
    ...(recipient.userId ? { userId: recipient.userId } : {}),
    ...(recipient.name ? { name: recipient.name } : {}),
    ...(record.locale ? { locale: record.locale } : {}),
  };
  const common = {
    notificationId: record._id.toHexString(),
    jobId: entry.messageId,
    content: jobContent(record, entry.channel),
    ...(record.template ? { template: record.template } : {}),
    metadata: record.metadata,
    ...(record.category ? { category: record.category } : {}),
    priority: record.priority,
    createdAt: record.createdAt.toISOString(),
  };
  if (entry.channel === 'push') {
    return {
      ...common,
      content: { subject: record.title, text: record.body },
      channel: 'push',
      recipient: { ...identity, userId: recipient.userId!, subscriptions: pushTargets },
    };
  }
  if (entry.channel === 'sms') {
    return {
      ...common,
      channel: 'sms',
      recipient: {
        ...identity,
        phone: recipient.phone!,
        ...(recipient.email ? { email: recipient.email } : {}),
      },
    };
  }
  return {
    ...common,
    channel: 'email',
    recipient: {
      ...identity,
      email: recipient.email!,
      ...(recipient.phone ? { phone: recipient.phone } : {}),
    },
  };
}

async function publishEntry(ctx: ServiceContext, record: NotificationRecord, entry: OwedMessage) {
  const { exchanges } = ctx.amqp.names;
  const options = { correlationId: record.correlationId };
  if (entry.kind === 'job') {
    const targets = entry.channel === 'push' ? await pushTargetsOf(ctx, record.recipient.userId!) : [];
    if (entry.channel === 'push' && targets.length === 0) {
      await noPushSubscriptionLeft(ctx, record, entry);
      return;
    }
    const payload = await withListUnsubscribe(ctx, record, deliveryJobPayload(record, entry, targets));
    await ctx.amqp.publish(exchanges.work, payload.channel, createDeliveryJobMessage(payload, options));
    return;
  }
  const created = { userId: record.userId!, notification: notificationSummary(record) };
  if (!record.workflowRunId) {
    // the inboxes' (realtime's) event, with the other notifications owed at the same moment
    await ctx.createdEvents.submit({ ...created, correlationId: record.correlationId });
    return;
  }
  // a workflow run's notification: on its own, so its run learns too that it reached the inbox
  const message = createMessage(MessageTypes.notificationCreated, created, {
    ...options,
    messageId: entry.messageId ?? createdEventId(record._id),
  });
  await publishEvent(ctx, EventRoutingKeys.notificationCreated, message, [
    EventRoutingKeys.runNotificationCreated,
  ]);
}

export interface PublishOutcome {
  /** messages the broker confirmed */
  published: number;
  /** every message owed was confirmed: the notification may go into the confirmation log */
  confirmed: boolean;
}

/**
 * Publishes everything a notification owes, all confirms awaited together,
 * and records nothing: what a crash right after publishing leaves behind.
 */
export async function publishOwed(ctx: ServiceContext, record: NotificationRecord): Promise<PublishOutcome> {
  const owed = owedMessages(record, ctx.now());
  const results = await Promise.allSettled(owed.map((entry) => publishEntry(ctx, record, entry)));
  let published = 0;
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') {
      published += 1;
      return;
    }
    ctx.log.warn(
      {
        err: result.reason,
        notificationId: record._id,
        channel: owed[index]!.channel,
        correlationId: record.correlationId,
      },
      'publish failed; the relay retries it',
    );
  });
  return { published, confirmed: published === owed.length };
}

/**
 * The accepting side's publish (a request, a broadcast batch): publishes what
 * the notification owes and, once the broker confirmed it all, records it in
 * the confirmation log (one document per batch of notifications). A failure
 * is left to the relay, which looks at the notification when it is due.
 * Returns how many messages were published. (`_owner` is what older callers
 * passed when this held a per-document lease; it is not needed any more.)
 */
export async function publishDueEntries(ctx: ServiceContext, record: NotificationRecord): Promise<number> {
  const outcome = await publishOwed(ctx, record);
  if (outcome.confirmed && record.outboxDueAt) {
    const [settled] = await deferHeld(ctx, [record], ctx.now());
    if (settled) await ctx.confirmations.record({ id: record._id, dueAt: record.outboxDueAt });
  }
  return outcome.published;
}

/**
 * A batch's publish (a broadcast's, a topic send's): each notification publishes what it owes, and
 * the confirmed ones go into one confirmation record at once, not into the accepting requests'
 * lingering group commit (a batch would wait out its linger, and a broadcast's batches follow one
 * another). Returns how many messages were published; a failure is left to the relay, as there.
 */
export async function publishBatchNow(ctx: ServiceContext, records: NotificationRecord[]): Promise<number> {
  const outcomes = await Promise.all(
    records.map(async (record) => ({ record, ...(await publishOwed(ctx, record)) })),
  );
  const confirmed = outcomes
    .filter((one) => one.confirmed && one.record.outboxDueAt)
    .map((one) => one.record);
  const settled = await deferHeld(ctx, confirmed, ctx.now());
  await ctx.confirmations.recordNow(
    settled.map((record) => ({ id: record._id, dueAt: record.outboxDueAt! })),
  );
  return outcomes.reduce((sum, one) => sum + one.published, 0);
}

const RELAY_STATE_ID = 'notifications';
/**
 * batches of `OUTBOX_BATCH_SIZE` whose ids one read of the relay takes: the read holds the
 * notifications while it runs, and inserts wait (2,000 at a time held them for 15–50 ms on the
 * embedded database)
 */
const SCAN_BATCHES = 5;
/**
 * confirmation records one pass reads at once (see ConfirmationLog.confirmedDueBy): at 890
 * notifications/s a record holds 5–25 of them and a pass every 500 ms looks at ~450
 */
const LOGGED_RECORDS_PER_PASS = 200;

interface Watermark {
  dueAt: Date;
  id: Types.ObjectId | null;
}

interface Due {
  _id: Types.ObjectId;
  outboxDueAt: Date;
}

/**
 * Takes the relay's lease if nobody holds it: one instance relays at a time
 * (two would only publish duplicates, which consumers drop, but a pass does
 * the work once). The first pass ever creates the document.
 */
async function claimRelay(ctx: ServiceContext, owner: string) {
  const now = ctx.now();
  try {
    return await ctx.models.outboxRelay
      .findOneAndUpdate(
        { _id: RELAY_STATE_ID, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] },
        { $set: { owner, leaseUntil: new Date(now.getTime() + ctx.settings.outboxLeaseMs) } },
        { upsert: true, returnDocument: 'after' },
      )
      .lean();
  } catch (error) {
    // the document exists and its lease is held: the upsert's insert met the _id
    if (isDuplicateKeyError(error)) return null;
    throw error;
  }
}

/** Extends the relay's lease if `owner` still holds it (with the watermark, when given); false if not. */
async function renew(
  ctx: ServiceContext,
  owner: string,
  watermark: { settledDueAt: Date; settledId: Types.ObjectId | null } | Record<string, never> = {},
  release = false,
): Promise<boolean> {
  const leaseUntil = release ? null : new Date(ctx.now().getTime() + ctx.settings.outboxLeaseMs);
  const kept = await ctx.models.outboxRelay.updateOne(
    { _id: RELAY_STATE_ID, owner },
    { $set: { ...watermark, leaseUntil } },
  );
  return kept.matchedCount === 1;
}

/** The next notifications past the watermark that are due, in (outboxDueAt, _id) order. */
async function duePast(ctx: ServiceContext, mark: Watermark, now: Date, limit: number): Promise<Due[]> {
  const past = mark.id
    ? [{ outboxDueAt: { $gt: mark.dueAt } }, { outboxDueAt: mark.dueAt, _id: { $gt: mark.id } }]
    : [{ outboxDueAt: { $gte: mark.dueAt } }];
  return ctx.models.notifications.collection
    .find<Due>(
      { outboxDueAt: { $lte: now }, $or: past },
      { projection: { _id: 1, outboxDueAt: 1 }, sort: { outboxDueAt: 1, _id: 1 } },
    )
    .limit(limit)
    .toArray();
}

/**
 * The due notifications no confirmation record names: those `logged` (the
 * pass's one read of the log) does not name are asked for by id, in case
 * their record came after that read or carries no `dueFrom`.
 */
async function unconfirmed(ctx: ServiceContext, due: Due[], logged: Set<string>): Promise<Due[]> {
  const unknown = due.filter((one) => !logged.has(one._id.toHexString()));
  if (unknown.length === 0) return unknown;
  const found = await ctx.confirmations.confirmedAmong(unknown.map((one) => one._id));
  return unknown.filter((one) => !found.has(String(one._id)));
}

/**
 * Settles due notifications that no record names: they are published
 * (again), the confirmed ones logged in one record, a scheduled in-app one
 * marked delivered (it reached the inbox), and the failed ones re-dated past
 * the watermark. Everything is acknowledged before the caller moves the
 * watermark.
 */
async function settle(ctx: ServiceContext, open: Due[], now: Date): Promise<number> {
  const records = await ctx.models.notifications
    .find({ _id: { $in: open.map((one) => one._id) } }, { history: 0 })
    .lean<NotificationRecord[]>();
  const outcomes = await Promise.all(
    records.map(async (record) => ({ record, ...(await publishOwed(ctx, record)) })),
  );
  const confirmed = outcomes.filter((one) => one.confirmed).map((one) => one.record);
  const failed = outcomes.filter((one) => !one.confirmed).map((one) => one.record._id);

  const reachedInbox = confirmed.filter(
    (record) => record.userId && record.deliveries.in_app?.status === 'queued',
  );
  if (reachedInbox.length > 0) {
    await ctx.models.notifications.collection.updateMany(
      { _id: { $in: reachedInbox.map((record) => record._id) }, 'deliveries.in_app.status': 'queued' },
      {
        $set: { 'deliveries.in_app.status': 'delivered', 'deliveries.in_app.updatedAt': now, updatedAt: now },
        $push: { history: { channel: 'in_app', status: 'delivered', at: now, source: 'outbox' } },
      } as object,
    );
    // their outgoing webhooks' in-app delivered, as an immediate one records it when stored (a pass
    // redone after a crash records it again under the same id: nothing more)
    await ctx.eventWebhooks.recordAll(
      reachedInbox.map((record) => ({
        subject: subjectOf(record),
        events: [inAppDeliveredEvent(now.toISOString())],
      })),
    );
  }
  const settled = await deferHeld(ctx, confirmed, now);
  await ctx.confirmations.recordNow(
    settled.map((record) => ({ id: record._id, dueAt: record.outboxDueAt ?? now })),
  );
  if (failed.length > 0) {
    await ctx.models.notifications.collection.updateMany(
      { _id: { $in: failed } },
      { $max: { outboxDueAt: new Date(now.getTime() + ctx.settings.outboxGraceMs) } },
    );
  }
  return outcomes.reduce((sum, one) => sum + one.published, 0);
}

/**
 * One relay pass: under the relay's lease, reads the ids of the due
 * notifications past the watermark and, once, the confirmation records of
 * those due by now; settles the ones no record names a batch
 * (`OUTBOX_BATCH_SIZE`) at a time, storing the watermark (only while the
 * lease is still ours, which it checks after each read before publishing
 * anything) before and after each batch it publishes and between reads;
 * stores the final watermark with the lease's release, in one write; then
 * forgets the confirmation records the stored watermark has passed.
 * Returns how many messages it published.
 *
 * In the common case every due notification was confirmed by its accepting
 * request: a pass then makes the same few reads and writes however many it
 * looks at (the lease, the ids, the records, the watermark, the forgetting),
 * where it made two more per batch, and each was a stall for the requests
 * arriving meanwhile.
 */
export async function relayOutbox(ctx: ServiceContext): Promise<number> {
  const owner = randomUUID();
  const state = await claimRelay(ctx, owner);
  if (!state) return 0;
  const relay = ctx.models.outboxRelay;
  const batchSize = ctx.settings.outboxBatchSize;
  let mark: Watermark = { dueAt: state.settledDueAt ?? new Date(0), id: state.settledId ?? null };
  let published = 0;
  // due by the pass's start: what falls due meanwhile is the next pass's
  const now = ctx.now();
  let logged: Set<string> | undefined;
  const startMark = mark;
  // whether the stored watermark is `mark` (it is the state's at first)
  let stored = true;
  /** Stores the watermark (and with `release` gives the lease up); false if another instance took the lease. */
  const store = async (release = false) => {
    stored = await renew(ctx, owner, { settledDueAt: mark.dueAt, settledId: mark.id }, release);
    return stored;
  };
  let released = false;
  try {
    for (;;) {
      // ids only, a few batches at a time
      const due = await duePast(ctx, mark, now, batchSize * SCAN_BATCHES);
      if (due.length === 0) break;
      if (!logged) {
        // what this instance confirmed and has not logged yet (lingering for company) goes first
        await ctx.confirmations.flush();
        logged = await ctx.confirmations.confirmedDueBy(now, LOGGED_RECORDS_PER_PASS);
      }
      // Nothing is published before the lease is found still ours after this read (one that lapsed
      // while we read was perhaps taken over); most reads publish nothing, and check nothing.
      let checked = false;
      for (let first = 0; first < due.length; first += batchSize) {
        const batch = due.slice(first, first + batchSize);
        const open = await unconfirmed(ctx, batch, logged);
        if (open.length > 0) {
          // the progress so far, and whether the lease is still ours, before publishing anything
          if ((!stored || !checked) && !(await store())) return published;
          checked = true;
          published += await settle(ctx, open, now);
        }
        const last = batch[batch.length - 1]!;
        mark = { dueAt: last.outboxDueAt, id: last._id };
        stored = false;
        if (open.length > 0 && !(await store())) return published;
      }
      if (due.length < batchSize * SCAN_BATCHES) break;
      // more to read: the progress so far first
      if (!stored && !(await store())) return published;
    }
    if (!stored) {
      // the watermark and the release in one write (every pass that moved it and ended on a
      // batch with nothing to publish: the common one)
      const kept = await store(true);
      released = true;
      if (!kept) return published;
    }
  } finally {
    if (!released) await relay.updateOne({ _id: RELAY_STATE_ID, owner }, { $set: { leaseUntil: null } });
  }
  // Records the stored watermark has passed; nothing to forget when it did not move (an idle pass).
  if (mark !== startMark) await ctx.confirmations.forgetBefore(mark.dueAt);
  return published;
}

import { randomUUID } from 'node:crypto';
import {
  EventRoutingKeys,
  MessageTypes,
  createDeliveryJobMessage,
  createMessage,
  type Channel,
  type DeliveryJobPayload,
  type RenderedContent,
} from '@herald/contracts';
import { type NotificationRecord, type OutboxEntry } from '../../notifications/data/notification-model';
import { publishEvent } from './publish-event';
import { type ServiceContext } from '../../kernel/context';
import { notificationSummary } from '../../notifications/domain/summaries';

/*
 * The transactional outbox. A notification is stored together with the
 * messages it owes (its delivery jobs and its `notification.created`), so
 * accepting it and promising to publish are one write. Whoever holds the
 * document's lease publishes the due entries with confirms, then marks them
 * published. The accepting request holds the lease for the grace period;
 * after that, or for a scheduled entry once it is due, the relay claims it.
 * A crash between confirm and mark republishes with the same message id,
 * which the worker drops as a duplicate.
 */

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

export function deliveryJobPayload(record: NotificationRecord, entry: OutboxEntry): DeliveryJobPayload {
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

async function publishEntry(ctx: ServiceContext, record: NotificationRecord, entry: OutboxEntry) {
  const { exchanges } = ctx.amqp.names;
  const options = { correlationId: record.correlationId };
  if (entry.kind === 'job') {
    const payload = deliveryJobPayload(record, entry);
    await ctx.amqp.publish(exchanges.work, payload.channel, createDeliveryJobMessage(payload, options));
    return;
  }
  const message = createMessage(
    MessageTypes.notificationCreated,
    { userId: record.userId!, notification: notificationSummary(record) },
    { ...options, messageId: entry.messageId },
  );
  await publishEvent(ctx, EventRoutingKeys.notificationCreated, message);
}

/**
 * Publishes every due, unpublished entry of a notification whose lease
 * `owner` holds, all confirms awaited together; records what the broker
 * confirmed and releases the lease. Returns how many were published.
 */
export async function publishDueEntries(
  ctx: ServiceContext,
  record: NotificationRecord,
  owner: string,
): Promise<number> {
  const now = ctx.now();
  const due = record.outbox.filter((entry) => !entry.publishedAt && entry.publishAfter <= now);
  const results = await Promise.allSettled(due.map((entry) => publishEntry(ctx, record, entry)));
  const published = new Set<string>();
  results.forEach((result, index) => {
    const entry = due[index]!;
    if (result.status === 'fulfilled') published.add(entry.messageId);
    else
      ctx.log.warn(
        {
          err: result.reason,
          notificationId: record._id,
          channel: entry.channel,
          correlationId: record.correlationId,
        },
        'publish failed; the relay retries it',
      );
  });
  await markPublished(ctx, record, owner, published);
  return published.size;
}

async function markPublished(
  ctx: ServiceContext,
  record: NotificationRecord,
  owner: string,
  published: Set<string>,
): Promise<void> {
  const now = ctx.now();
  const outbox = record.outbox.map((entry) =>
    published.has(entry.messageId) ? { ...entry, publishedAt: now } : entry,
  );
  const pending = outbox.filter((entry) => !entry.publishedAt);
  const dueAt = pending.length
    ? new Date(Math.min(...pending.map((entry) => entry.publishAfter.getTime())))
    : null;
  // updatedAt by hand: the batched write goes through the driver, without mongoose's timestamps
  const set: Record<string, unknown> = { outbox, outboxDueAt: dueAt, outboxLeaseUntil: null, updatedAt: now };
  // unset, not null: the owner's sparse unique index must not hold the released documents
  const update: Record<string, unknown> = { $set: set, $unset: { outboxLeaseOwner: '' } };

  // A scheduled in-app notification is delivered when it reaches the inbox, i.e. now.
  const createdPublished = record.outbox.some(
    (entry) => entry.kind === 'created' && published.has(entry.messageId),
  );
  if (createdPublished && record.deliveries.in_app?.status === 'queued') {
    set['deliveries.in_app.status'] = 'delivered';
    set['deliveries.in_app.updatedAt'] = now;
    update.$push = { history: { channel: 'in_app', status: 'delivered', at: now, source: 'outbox' } };
  }
  // Only the lease holder writes the outbox: if our lease was taken over, the new holder's view wins.
  await ctx.writes.releaseLease({ owner, update });
}

/**
 * Claims one notification with due, unpublished entries whose lease has
 * lapsed. findOneAndUpdate makes the claim atomic, so relays on several
 * instances never publish the same document at the same time.
 */
async function claimDue(ctx: ServiceContext): Promise<{ record: NotificationRecord; owner: string } | null> {
  const now = ctx.now();
  const owner = randomUUID();
  const record = await ctx.models.notifications
    .findOneAndUpdate(
      {
        outboxDueAt: { $lte: now },
        $or: [{ outboxLeaseUntil: null }, { outboxLeaseUntil: { $lte: now } }],
      },
      {
        $set: {
          outboxLeaseUntil: new Date(now.getTime() + ctx.settings.outboxLeaseMs),
          outboxLeaseOwner: owner,
        },
      },
      { returnDocument: 'after', sort: { outboxDueAt: 1 } },
    )
    .lean<NotificationRecord>();
  return record ? { record, owner } : null;
}

/** One relay pass: claims up to a batch of due notifications, then publishes them all at once. */
export async function relayOutbox(ctx: ServiceContext): Promise<number> {
  const claimed: { record: NotificationRecord; owner: string }[] = [];
  while (claimed.length < ctx.settings.outboxBatchSize) {
    const next = await claimDue(ctx);
    if (!next) break;
    claimed.push(next);
  }
  const counts = await Promise.all(claimed.map(({ record, owner }) => publishDueEntries(ctx, record, owner)));
  return counts.reduce((sum, count) => sum + count, 0);
}

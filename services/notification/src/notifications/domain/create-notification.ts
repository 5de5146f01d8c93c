import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { ValidationError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { mapMongoError } from '@herald/runtime/mongo';
import { isDeliveryChannel, type Channel } from '@herald/contracts';
import {
  type ChannelDelivery,
  type HistoryEntry,
  type NotificationRecord,
  type Recipient,
} from '../data/notification-model';
import { renderForSend } from '../../templates/domain/render';
import { type CreateNotificationInput, type NotificationAccepted } from './types';
import { type ServiceContext } from '../../kernel/context';
import { singleLine } from '../../kernel/single-line';
import { LINK_PLACEHOLDERS, fillLinks } from '../../unsubscribe/domain/links';
import { publishDueEntries } from '../../outbox/domain/outbox';
import { resolveRecipient } from './recipients';
import { acceptedEvents, subjectOf } from '../../event-webhooks/domain/notification-events';
import { assertMaySendContent } from './sender-rules';
import { suppressedChannels } from './suppression';
import { mutedChannels, quietHold, type QuietHold } from '../../preferences/domain/preferences';
import { channelStatuses } from './summaries';
import { assertOneContentSource, summaryOf } from './templated-content';

/** Everything needed to store one notification, whoever asked for it (API, broadcast, verification). */
export interface NotificationDraft
  extends
    Pick<
      NotificationRecord,
      | 'recipient'
      | 'senderId'
      | 'channels'
      | 'title'
      | 'body'
      | 'html'
      | 'template'
      | 'rendered'
      | 'locale'
      | 'category'
    >,
    Partial<
      Pick<
        NotificationRecord,
        | 'priority'
        | 'metadata'
        | 'sendAt'
        | 'broadcastId'
        | 'dedupeKey'
        | 'actor'
        | 'tenant'
        | 'dataJson'
        | 'transactionId'
        | 'workflowRunId'
      >
    > {
  id?: Types.ObjectId;
  correlationId: string;
  /** false: a recipient user, but no inbox entry (account emails) */
  inbox?: boolean;
}

/** What the suppression list and the recipient's preferences decided about a draft's channels. */
export interface ChannelDecisions {
  /** channels whose address is on the suppression list: they end `suppressed`, and no job is published */
  suppressed?: Channel[];
  /** channels the recipient muted (preferences): they end `skipped`, reason `preference`, and no job is published */
  muted?: Channel[];
  /** channels the recipient's quiet hours hold back: queued, their jobs published at `until` */
  held?: QuietHold;
}

/**
 * The draft with every value that becomes a header on one line: the title
 * (the email subject of literal content), a rendered subject or in-app
 * title, the recipient's name (the display name in `To:`). Done here, where
 * every notification (API, broadcast, verification email) becomes its
 * document, so what is stored is exactly what the jobs carry.
 */
function withSingleLineHeaders(draft: NotificationDraft): NotificationDraft {
  const { rendered, recipient } = draft;
  const title = singleLine(draft.title);
  // the common case, literal content already on one line: the draft as it is, not a copy
  if (title === draft.title && !rendered && recipient.name === undefined) return draft;
  return {
    ...draft,
    title,
    recipient: recipient.name === undefined ? recipient : { ...recipient, name: singleLine(recipient.name) },
    ...(rendered
      ? {
          rendered: {
            ...rendered,
            ...(rendered.email
              ? { email: { ...rendered.email, subject: singleLine(rendered.email.subject) } }
              : {}),
            ...(rendered.inApp
              ? { inApp: { ...rendered.inApp, title: singleLine(rendered.inApp.title) } }
              : {}),
          },
        }
      : {}),
  };
}

/**
 * The document for a draft, as light as it can be: each channel queued
 * (in-app delivered at once unless scheduled, decided here, never by a
 * second write), and `outboxDueAt` when it owes messages. The acceptance is
 * not written as history (the views derive it), except for a suppressed
 * channel, whose history is stored whole as before.
 *
 * `leaseOwner` non-null says the caller publishes at once (a request, a
 * broadcast batch): the relay leaves it alone for the grace period. Null:
 * it is scheduled, and the relay publishes it at its `sendAt`. (A string
 * for the callers of the per-document lease this replaced; it is not stored.)
 */
export function buildNotification(
  ctx: ServiceContext,
  unsafeDraft: NotificationDraft,
  leaseOwner: string | null,
  // apart from the draft: a copy of the draft to carry them cost more than the rest of the build
  decisions: ChannelDecisions = {},
  now: Date = ctx.now(),
): NotificationRecord {
  const draft = withSingleLineHeaders(unsafeDraft);
  const { suppressed, muted, held } = decisions;
  const id = draft.id ?? new Types.ObjectId();
  const deliverAt = draft.sendAt ?? now;
  const deliveries: Partial<Record<Channel, ChannelDelivery>> = {};
  const history: HistoryEntry[] = [];
  let owesJob = false;
  for (const channel of draft.channels) {
    history.push({ channel, status: 'queued', at: now, source: 'api' });
    if (suppressed?.includes(channel)) {
      deliveries[channel] = {
        status: 'suppressed',
        reason: 'The address is on the suppression list',
        updatedAt: now,
      };
      history.push({ channel, status: 'suppressed', at: now, source: 'suppression' });
      continue;
    }
    if (muted?.includes(channel)) {
      deliveries[channel] = { status: 'skipped', reason: 'preference', updatedAt: now };
      history.push({ channel, status: 'skipped', at: now, source: 'preference', reason: 'preference' });
      continue;
    }
    if (held?.channels.includes(channel)) {
      const { until } = held;
      deliveries[channel] = { status: 'queued', jobId: randomUUID(), heldUntil: until, updatedAt: now };
      history.push({ channel, status: 'queued', at: now, source: 'quiet_hours', nextAttemptAt: until });
      owesJob = true;
      continue;
    }
    const status = channel === 'in_app' && !draft.sendAt ? 'delivered' : 'queued';
    const jobId = isDeliveryChannel(channel) ? randomUUID() : undefined;
    deliveries[channel] = { status, ...(jobId ? { jobId } : {}), updatedAt: now };
    if (status === 'delivered') history.push({ channel, status, at: now, source: 'api' });
    if (jobId) owesJob = true;
  }
  const userId = draft.inbox === false ? null : (draft.recipient.userId ?? null);
  const owes = owesJob || userId !== null;
  const publishesNow = leaseOwner !== null && !draft.sendAt;
  const decided = draft.channels.some(
    (channel) =>
      suppressed?.includes(channel) || muted?.includes(channel) || held?.channels.includes(channel),
  );

  return {
    _id: id,
    dedupeKey: draft.dedupeKey ?? id.toHexString(),
    userId,
    recipient: draft.recipient,
    senderId: draft.senderId,
    channels: draft.channels,
    title: draft.title,
    body: draft.body,
    html: draft.html,
    template: draft.template,
    rendered: draft.rendered,
    locale: draft.locale ?? draft.recipient.locale,
    category: draft.category,
    actor: draft.actor,
    tenant: draft.tenant,
    dataJson: draft.dataJson,
    priority: draft.priority ?? 'normal',
    metadata: draft.metadata ?? {},
    sendAt: draft.sendAt,
    deliverAt,
    broadcastId: draft.broadcastId,
    transactionId: draft.transactionId,
    workflowRunId: draft.workflowRunId,
    correlationId: draft.correlationId,
    read: false,
    archived: false,
    deletedAt: null,
    deliveries,
    // derived by the views unless a channel was suppressed at once (see NotificationRecord.history)
    history: decided ? history : undefined,
    outboxDueAt: owes
      ? publishesNow
        ? new Date(now.getTime() + ctx.settings.outboxGraceMs)
        : deliverAt
      : undefined,
    createdAt: now,
    updatedAt: now,
  } satisfies NotificationRecord;
}

/**
 * How long before its `outboxDueAt` a notification's insert must have been
 * acknowledged, on this instance's clock, for the relay to be sure to see it
 * when it is due: it covers the clocks of the instances disagreeing. An
 * insert acknowledged later (a stalled database) is re-dated first.
 */
function relayMarginMs(ctx: ServiceContext): number {
  return Math.min(ctx.settings.outboxGraceMs / 2, 1_000);
}

/**
 * The relay looks at each notification once, when it is due, and then moves
 * its watermark past it. One whose insert was acknowledged too close to (or
 * after) its due time might have landed behind a watermark already moved:
 * it is re-dated (`$max`, one more write, only then) before the caller gets
 * its answer, and so before anything is published.
 */
export async function keepAheadOfRelay(ctx: ServiceContext, record: NotificationRecord): Promise<void> {
  const margin = relayMarginMs(ctx);
  let dueAt = record.outboxDueAt;
  while (dueAt && ctx.now().getTime() > dueAt.getTime() - margin) {
    dueAt = new Date(ctx.now().getTime() + 2 * margin);
    await ctx.models.notifications.collection.updateOne(
      { _id: record._id },
      { $max: { outboxDueAt: dueAt } },
    );
    record.outboxDueAt = dueAt;
  }
}

/** A hold on the channels that are still sent: a muted channel is skipped, not held. */
export function withoutMuted(held: QuietHold | undefined, muted: readonly Channel[]): QuietHold | undefined {
  const channels = held?.channels.filter((channel) => !muted.includes(channel)) ?? [];
  return held && channels.length > 0 ? { ...held, channels } : undefined;
}

/**
 * Stores a draft and, unless it is scheduled, publishes what it owes after
 * the caller has its answer. Returns the stored record, or the one already
 * stored under the same dedupe key (a retried request, a redelivered event).
 */
export async function storeNotification(
  ctx: ServiceContext,
  draft: NotificationDraft,
): Promise<NotificationRecord> {
  const publishesNow = !draft.sendAt;
  const [[suppressed], muted, held] = await Promise.all([
    suppressedChannels(ctx, [draft]),
    mutedChannels(ctx, draft),
    quietHold(ctx, draft, draft.sendAt ?? ctx.now()),
  ]);
  const record = buildNotification(ctx, draft, publishesNow ? 'accepting' : null, {
    suppressed,
    muted,
    held: withoutMuted(held, muted),
  });
  try {
    // Through the driver, not a mongoose document: `buildNotification` gives every field its final
    // shape, and hydrating, casting and validating it was a third of the CPU of accepting one. What
    // is stored is the record, but for its undefined fields, which the insert leaves out (as
    // mongoose would; see NotificationWrites).
    await ctx.writes.insert(record);
    await keepAheadOfRelay(ctx, record);
    await recordAccepted(ctx, record);
    if (publishesNow && record.outboxDueAt) {
      ctx.background.run('publish new notification', () => publishDueEntries(ctx, record));
    }
    return record;
  } catch (error) {
    const mapped = mapMongoError(error);
    if (mapped === error) throw error;
    const existing = await ctx.models.notifications
      .findOne({ dedupeKey: record.dedupeKey })
      .lean<NotificationRecord>();
    if (!existing) throw error;
    // A retry of a request that stopped between its insert and its events records them (same ids).
    await recordAccepted(ctx, existing);
    return existing;
  }
}

/**
 * The outgoing webhook events of an accepted notification, recorded before
 * the caller is answered (nothing is written when no endpoint wants them).
 */
function recordAccepted(ctx: ServiceContext, record: NotificationRecord): Promise<void> {
  return ctx.eventWebhooks.recordBuilt(() => ({
    subject: subjectOf(record),
    events: acceptedEvents(record),
  }));
}

export function acceptedResponse(record: NotificationRecord): NotificationAccepted {
  return {
    id: record._id.toHexString(),
    statuses: channelStatuses(record),
    ...(record.sendAt ? { sendAt: record.sendAt.toISOString() } : {}),
  };
}

export function parseSendAt(ctx: ServiceContext, sendAt: string | undefined): Date | undefined {
  if (sendAt === undefined) return undefined;
  const at = new Date(sendAt);
  if (Number.isNaN(at.getTime()) || at <= ctx.now()) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/sendAt', message: 'must be a time in the future' },
    ]);
  }
  return at;
}

/**
 * What the notification says: the literal title/body/html, or every
 * requested channel rendered from the template, in the locale the chain
 * picks (request → recipient → template default). The rendered content is
 * stored with the template's key, version and locale: the audit of what
 * was sent, and what the delivery jobs carry.
 */
export async function contentOf(
  ctx: ServiceContext,
  input: CreateNotificationInput,
  recipient: Recipient,
): Promise<Pick<NotificationDraft, 'title' | 'body' | 'html' | 'template' | 'rendered' | 'locale'>> {
  if (!input.template)
    return { title: input.title!, body: input.body!, html: input.html, locale: input.locale };
  const rendered = await renderForSend(ctx.templates, {
    key: input.template.key,
    data: input.template.data,
    preferences: [input.locale, recipient.locale],
    channels: input.channels,
    pointers: { data: '/body/template/data', key: '/body/template/key', channels: '/body/channels' },
    // each recipient's copy gets its own links (fillLinks)
    provided: LINK_PLACEHOLDERS,
  });
  return {
    ...summaryOf(rendered.content),
    template: rendered.template,
    rendered: rendered.content,
    locale: rendered.template.locale,
  };
}

/**
 * The context for resolving a request's recipient, in which the sender's own
 * account is the one the account check of this same request read (cached
 * per instance for `USER_CACHE_TTL_MS`, dropped at once by a user event
 * handled here) rather than a second lookup: a user notifying themself (the
 * common case) costs the database no read per request. Any other user is
 * looked up afresh, in batches.
 */
export function withSenderAccount(ctx: ServiceContext, sender: AuthenticatedUser): ServiceContext {
  const { userDirectory, currentUsers } = ctx;
  return {
    ...ctx,
    userDirectory: {
      byId: (userId) => (userId === sender.id ? currentUsers.byId(userId) : userDirectory.byId(userId)),
    },
  };
}

/** POST /notifications without the idempotency wrapper. */
export async function createNotification(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: CreateNotificationInput,
  options: { correlationId: string; id?: Types.ObjectId; workflowRunId?: string },
): Promise<NotificationAccepted> {
  assertOneContentSource(input);
  assertMaySendContent(sender, input);
  const sendAt = parseSendAt(ctx, input.sendAt);
  const category = await ctx.categories.forSend(input.category);
  const recipient = await resolveRecipient(
    withSenderAccount(ctx, sender),
    sender,
    input.recipient,
    input.channels,
  );
  const content = await fillLinks(ctx, await contentOf(ctx, input, recipient), {
    recipientId: recipient.userId,
    category: category._id,
  });
  const record = await storeNotification(ctx, {
    id: options.id,
    recipient,
    senderId: sender.id,
    channels: input.channels,
    ...content,
    category: category._id,
    priority: input.priority,
    metadata: input.metadata,
    sendAt,
    transactionId: input.transactionId,
    workflowRunId: options.workflowRunId,
    correlationId: options.correlationId,
  });
  return acceptedResponse(record);
}

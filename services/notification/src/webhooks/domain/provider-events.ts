import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { type DeliveryStatus, type ProviderEngagementKind } from '@herald/contracts';
import {
  type ChannelDelivery,
  type NotificationRecord,
  type Recipient,
} from '../../notifications/data/notification-model';
import { suppressionKey, type SuppressionRecord } from '../data/webhook-models';
import { type ServiceContext } from '../../kernel/context';
import { applyStatusChange } from '../../delivery-status/domain/apply-status';
import { publishNotificationUpdated } from '../../notifications/domain/events';
import { normaliseProviderMessageId } from '../../notifications/data/provider-message-id';
import { DEFAULT_CATEGORY } from '../../categories/domain/categories';
import { muteCategoryEmail } from '../../preferences/domain/preferences';
import { webhookTypeOfEngagement } from '../../event-webhooks/domain/event-types';
import { subjectOf } from '../../event-webhooks/domain/notification-events';

/** One provider event, whichever provider sent it, in our terms. */
export interface ProviderEvent {
  provider: 'mailgun' | 'twilio' | 'sendgrid';
  /** unique per event at the provider: dedupes redelivered webhooks */
  eventId: string;
  channel: 'email' | 'sms';
  providerMessageId: string;
  /** our notification id when the provider echoes it back (Mailgun's user variables, SendGrid's custom args) */
  notificationId?: string;
  at: Date;
  status?: DeliveryStatus;
  engagement?: ProviderEngagementKind;
  /** set when the event means "never send here again" */
  suppress?: SuppressionRecord['reason'];
  /**
   * The recipient unsubscribed from this email (Mailgun's `unsubscribed`,
   * SendGrid's `group_unsubscribe`): a recipient with preferences has the
   * notification's category muted by email, as the one-click link does; an
   * outside address (no preferences) is suppressed, so `suppress` is set too.
   */
  unsubscribe?: true;
  recipient?: string;
  errorCode?: string;
  reason?: string;
}

export type EventOutcome = 'applied' | 'ignored' | 'unknown_message' | 'pending';

const engagementField: Record<ProviderEngagementKind, string> = {
  opened: 'engagement.openedAt',
  clicked: 'engagement.clickedAt',
  complained: 'engagement.complainedAt',
  unsubscribed: 'engagement.unsubscribedAt',
};

/** A stable report id per provider event, so a redelivered webhook finds its own history entry. */
function eventMessageId(event: ProviderEvent): string {
  const hex = createHash('sha256').update(`${event.provider}:${event.eventId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

type Found = {
  _id: Types.ObjectId;
  senderId: string;
  category?: string;
  tenant?: string;
  recipient: Pick<Recipient, 'email' | 'phone' | 'userId'>;
  deliveries: Partial<Record<'email' | 'sms', ChannelDelivery>>;
};

/**
 * Our notification the event is about: by the provider message id our
 * worker reported for it, else (Mailgun) by the notification id it echoes
 * back. `byProviderId` says which: only the first proves we sent that message.
 */
async function findNotification(
  ctx: ServiceContext,
  event: ProviderEvent,
): Promise<{ record: Found; byProviderId: boolean } | null> {
  const projection = { deliveries: 1, recipient: 1, senderId: 1, category: 1, tenant: 1 };
  const byProviderId = await ctx.models.notifications
    .findOne({ providerMessageIds: normaliseProviderMessageId(event.providerMessageId) }, projection)
    .lean<Found>();
  if (byProviderId) return { record: byProviderId, byProviderId: true };
  if (!event.notificationId || !Types.ObjectId.isValid(event.notificationId)) return null;
  const byEcho = await ctx.models.notifications.findById(event.notificationId, projection).lean<Found>();
  return byEcho ? { record: byEcho, byProviderId: false } : null;
}

/** The address a channel of this notification went to. */
function addressOf(record: Found, channel: ProviderEvent['channel']): string | undefined {
  return channel === 'email' ? record.recipient.email : record.recipient.phone;
}

/**
 * Applies a verified provider event: a status through the same forward-only
 * path as the worker's reports, an engagement as a first-seen timestamp, and
 * a hard bounce, complaint or unsubscribe onto the suppression list.
 *
 * Suppression only follows a message we sent: the event's provider message
 * id must be one our worker reported for this notification, and what is
 * suppressed is that notification's own address, never the address the
 * event names. A suppressing event matched only by the echoed notification
 * id (or not at all) is `unknown_message`: kept pending, and applied whole
 * when the `sent` report with its provider id arrives.
 */
export async function applyProviderEvent(ctx: ServiceContext, event: ProviderEvent): Promise<EventOutcome> {
  const found = await findNotification(ctx, event);
  if (!found?.record.deliveries[event.channel]) return 'unknown_message';
  const { record } = found;
  if (event.suppress || event.unsubscribe) {
    if (!found.byProviderId) return 'unknown_message';
    const handled = event.unsubscribe ? await unsubscribeRecipient(ctx, event, record) : false;
    const address = addressOf(record, event.channel);
    if (!handled && address) await suppress(ctx, event, address, record._id.toHexString());
  }

  if (event.engagement) await recordEngagement(ctx, record, event);
  if (!event.status) return event.engagement ? 'applied' : 'ignored';

  const delivery = record.deliveries[event.channel]!;
  // Applied directly, not as a made-up `delivery.status` message: the history names the
  // provider, and `notification.updated` carries the notification's own correlation id.
  const applied = await applyStatusChange(
    ctx,
    {
      notificationId: record._id.toHexString(),
      channel: event.channel,
      status: event.status,
      attempt: Math.max(delivery.attempt ?? 1, 1),
      at: event.at.toISOString(),
      provider: event.provider,
      providerMessageId: event.providerMessageId,
      ...(event.errorCode || event.reason
        ? {
            error: {
              code: event.status === 'bounced' ? 'bounced' : 'provider_reported',
              message: event.reason ?? 'reported by the provider',
              permanent: event.status === 'bounced',
              ...(event.errorCode ? { providerCode: event.errorCode } : {}),
            },
          }
        : {}),
    },
    { messageId: eventMessageId(event), source: `webhook:${event.provider}` },
  );
  return applied ? 'applied' : 'ignored';
}

type EngagementBefore = Pick<NotificationRecord, 'userId' | 'correlationId' | 'engagement' | 'workflowRunId'>;

/**
 * Keeps the earliest time of each engagement kind (reports arrive out of
 * order) and tells the recipient's live views the first time a kind is
 * seen. One atomic write that returns the document as it was: of two
 * concurrent first opens only one finds the field absent, and a repeated
 * open or click publishes nothing.
 */
async function recordEngagement(ctx: ServiceContext, found: Found, event: ProviderEvent) {
  const { _id } = found;
  const engagement = event.engagement!;
  const field = engagementField[engagement];
  // The outgoing webhook event first, before the provider gets its 200: one per notification and
  // kind (its id derives from the kind, so a repeated open records nothing new), and a crash
  // anywhere after it leaves it recorded; a crash before it brings the provider's webhook back.
  await ctx.eventWebhooks.record(subjectOf(found), [
    {
      type: webhookTypeOfEngagement(engagement),
      key: engagement,
      at: event.at.toISOString(),
      data: { channel: event.channel, provider: event.provider },
    },
  ]);
  const before = await ctx.models.notifications
    .findOneAndUpdate(
      { _id },
      { $min: { [field]: event.at } },
      { returnDocument: 'before', projection: { userId: 1, correlationId: 1, workflowRunId: 1, [field]: 1 } },
    )
    .lean<EngagementBefore>();
  if (!before || before.engagement?.[`${engagement}At` as const] != null) return;
  // Only an inbox owner has a live view to update; an address-only notification has none.
  if (!before.userId) return;
  const update = {
    userId: before.userId,
    notificationId: _id.toHexString(),
    correlationId: before.correlationId,
    workflowRunId: before.workflowRunId,
    change: { kind: 'engagement', channel: event.channel, engagement, at: event.at.toISOString() },
  } as const;
  try {
    await publishNotificationUpdated(ctx, update);
  } catch (error) {
    // Failing the webhook would not bring the event back: the provider's retry finds the
    // engagement recorded and publishes nothing. The API shows it; only the live update is lost.
    ctx.log.warn(
      { err: error, notificationId: update.notificationId, engagement },
      'engagement recorded; notification.updated not published',
    );
  }
}

/**
 * A provider's unsubscribe, as the one-click link: the notification's
 * category muted by email for its recipient (audited as `provider`). False
 * when the recipient has no preferences (an outside address: the caller
 * suppresses it). A critical category cannot be muted, and suppressing the
 * address would also stop its password resets: only logged.
 */
async function unsubscribeRecipient(ctx: ServiceContext, event: ProviderEvent, record: Found) {
  const recipientId = record.recipient.userId;
  if (!recipientId || event.channel !== 'email') return false;
  const category = record.category ?? DEFAULT_CATEGORY;
  if ((await ctx.categories.find(category))?.critical) {
    ctx.log.info(
      { notificationId: record._id, provider: event.provider, category },
      'unsubscribe from a critical category: nothing muted',
    );
    return true;
  }
  await muteCategoryEmail(ctx, recipientId, category, { by: event.provider, byKind: 'provider' });
  return true;
}

async function suppress(ctx: ServiceContext, event: ProviderEvent, address: string, notificationId: string) {
  if (event.recipient && suppressionKey(event.recipient) !== suppressionKey(address)) {
    ctx.log.warn(
      { notificationId, provider: event.provider, event: event.eventId },
      "a suppressing event names another address than the notification's; suppressing the notification's",
    );
  }
  try {
    await ctx.models.suppressions.updateOne(
      { _id: suppressionKey(address) },
      {
        $setOnInsert: {
          channel: event.channel,
          reason: event.suppress!,
          provider: event.provider,
          notificationId,
          createdAt: ctx.now(),
        },
      },
      { upsert: true },
    );
  } catch (error) {
    // Two events suppressing one address at once: the other upsert inserted it.
    if (!isDuplicateKeyError(error)) throw error;
  }
}

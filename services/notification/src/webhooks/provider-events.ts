import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { MessageTypes, createMessage, type DeliveryStatus } from '@herald/contracts';
import { type ChannelDelivery } from '../data/notification-model';
import { suppressionKey, type SuppressionRecord } from '../data/webhook-models';
import { type ServiceContext } from '../domain/context';
import { applyDeliveryStatus } from '../domain/delivery-status';
import { normaliseProviderMessageId } from './signatures';

export type EngagementKind = 'opened' | 'clicked' | 'complained' | 'unsubscribed';

/** One provider event, whichever provider sent it, in our terms. */
export interface ProviderEvent {
  provider: 'mailgun' | 'twilio';
  /** unique per event at the provider: dedupes redelivered webhooks */
  eventId: string;
  channel: 'email' | 'sms';
  providerMessageId: string;
  /** our notification id when the provider echoes it back (Mailgun's user variables) */
  notificationId?: string;
  at: Date;
  status?: DeliveryStatus;
  engagement?: EngagementKind;
  /** set when the event means "never send here again" */
  suppress?: SuppressionRecord['reason'];
  recipient?: string;
  errorCode?: string;
  reason?: string;
}

export type EventOutcome = 'applied' | 'ignored' | 'unknown_message' | 'pending';

const engagementField: Record<EngagementKind, string> = {
  opened: 'engagement.openedAt',
  clicked: 'engagement.clickedAt',
  complained: 'engagement.complainedAt',
  unsubscribed: 'engagement.unsubscribedAt',
};

/** A stable envelope id per provider event, so a redelivered webhook finds its own history entry. */
function eventMessageId(event: ProviderEvent): string {
  const hex = createHash('sha256').update(`${event.provider}:${event.eventId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

type Found = { _id: Types.ObjectId; deliveries: Partial<Record<'email' | 'sms', ChannelDelivery>> };

async function findNotification(ctx: ServiceContext, event: ProviderEvent): Promise<Found | null> {
  const byProviderId = await ctx.models.notifications
    .findOne({ providerMessageIds: normaliseProviderMessageId(event.providerMessageId) }, { deliveries: 1 })
    .lean<Found>();
  if (byProviderId) return byProviderId;
  if (!event.notificationId || !Types.ObjectId.isValid(event.notificationId)) return null;
  return ctx.models.notifications.findById(event.notificationId, { deliveries: 1 }).lean<Found>();
}

/**
 * Applies a verified provider event: a status through the same forward-only
 * path as the worker's reports, an engagement as a first-seen timestamp, and
 * a hard bounce, complaint or unsubscribe onto the suppression list.
 */
export async function applyProviderEvent(ctx: ServiceContext, event: ProviderEvent): Promise<EventOutcome> {
  if (event.suppress && event.recipient) await suppress(ctx, event);
  const record = await findNotification(ctx, event);
  if (!record?.deliveries[event.channel]) return 'unknown_message';

  if (event.engagement) {
    const field = engagementField[event.engagement];
    await ctx.models.notifications.updateOne({ _id: record._id }, { $min: { [field]: event.at } });
  }
  if (!event.status) return event.engagement ? 'applied' : 'ignored';

  const delivery = record.deliveries[event.channel]!;
  const message = createMessage(
    MessageTypes.deliveryStatus,
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
    { correlationId: `webhook:${event.provider}`, messageId: eventMessageId(event) },
  );
  const applied = await applyDeliveryStatus(ctx, message, `webhook:${event.provider}`);
  return applied ? 'applied' : 'ignored';
}

async function suppress(ctx: ServiceContext, event: ProviderEvent) {
  try {
    await ctx.models.suppressions.updateOne(
      { _id: suppressionKey(event.recipient!) },
      {
        $setOnInsert: {
          channel: event.channel,
          reason: event.suppress!,
          provider: event.provider,
          ...(event.notificationId ? { notificationId: event.notificationId } : {}),
          createdAt: ctx.now(),
        },
      },
      { upsert: true },
    );
  } catch (error) {
    // Two events suppressing one address at once: the other upsert inserted it.
    if ((error as { code?: number }).code !== 11000) throw error;
  }
}

import { type ChannelDelivery, type HistoryEntry, type NotificationRecord } from '../data/notification-model';
import { type InboxItem, type NotificationDetail, type NotificationStatus } from './types';
import { applicationFieldsOf, channelStatuses } from './summaries';

export function inboxItem(record: NotificationRecord): InboxItem {
  return {
    id: record._id.toHexString(),
    title: record.title,
    body: record.body,
    ...(record.category ? { category: record.category } : {}),
    ...applicationFieldsOf(record),
    priority: record.priority,
    channels: record.channels,
    statuses: channelStatuses(record),
    read: record.read,
    ...(record.readAt ? { readAt: record.readAt.toISOString() } : {}),
    archived: record.archived,
    createdAt: record.createdAt.toISOString(),
    ...(record.sendAt ? { sendAt: record.sendAt.toISOString() } : {}),
  };
}

function deliveryView(delivery: ChannelDelivery) {
  return {
    status: delivery.status,
    ...(delivery.attempt !== undefined ? { attempt: delivery.attempt } : {}),
    ...(delivery.nextAttemptAt ? { nextAttemptAt: delivery.nextAttemptAt!.toISOString() } : {}),
    ...(delivery.provider ? { provider: delivery.provider } : {}),
    ...(delivery.providerMessageId ? { providerMessageId: delivery.providerMessageId } : {}),
    ...(delivery.errorCode ? { errorCode: delivery.errorCode } : {}),
    ...(delivery.reason ? { reason: delivery.reason } : {}),
    ...(delivery.heldUntil ? { heldUntil: delivery.heldUntil.toISOString() } : {}),
    updatedAt: delivery.updatedAt.toISOString(),
  };
}

function deliveriesView(record: NotificationRecord): NotificationStatus['channels'] {
  const view: NotificationStatus['channels'] = {};
  for (const channel of record.channels) {
    const delivery = record.deliveries[channel];
    if (delivery) view[channel] = deliveryView(delivery);
  }
  return view;
}

function historyView(entry: HistoryEntry): NotificationDetail['history'][number] {
  return {
    channel: entry.channel,
    status: entry.status,
    at: entry.at.toISOString(),
    source: entry.source,
    detail: {
      ...(entry.attempt !== undefined ? { attempt: entry.attempt } : {}),
      ...(entry.nextAttemptAt ? { nextAttemptAt: entry.nextAttemptAt.toISOString() } : {}),
      ...(entry.provider ? { provider: entry.provider } : {}),
      ...(entry.providerMessageId ? { providerMessageId: entry.providerMessageId } : {}),
      ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
      ...(entry.reason ? { reason: entry.reason } : {}),
    },
  };
}

/**
 * The acceptance, as it was: each channel `queued` by the API, and an
 * immediate in-app one `delivered` at once. Not stored (it follows from the
 * notification itself), except in documents that store their history whole.
 */
function acceptance(record: NotificationRecord): HistoryEntry[] {
  return record.channels.flatMap((channel): HistoryEntry[] => [
    { channel, status: 'queued', at: record.createdAt, source: 'api' },
    ...(channel === 'in_app' && !record.sendAt
      ? [{ channel, status: 'delivered' as const, at: record.createdAt, source: 'api' }]
      : []),
  ]);
}

/** Stored whole (older documents, a channel suppressed at once) when it starts with the acceptance. */
export function fullHistory(record: NotificationRecord): HistoryEntry[] {
  const stored = record.history ?? [];
  const first = stored[0];
  if (first?.source === 'api' && first.status === 'queued') return stored;
  return [...acceptance(record), ...stored];
}

export function notificationDetail(record: NotificationRecord): NotificationDetail {
  const { recipient } = record;
  return {
    ...inboxItem(record),
    userId: record.userId,
    recipient: {
      ...(recipient.userId ? { userId: recipient.userId } : {}),
      ...(recipient.email ? { email: recipient.email } : {}),
      ...(recipient.phone ? { phone: recipient.phone } : {}),
    },
    senderId: record.senderId,
    ...(record.html ? { html: record.html } : {}),
    ...(record.locale ? { locale: record.locale } : {}),
    metadata: record.metadata,
    ...(record.template
      ? {
          template: {
            key: record.template.key,
            ...(record.template.version !== undefined ? { version: record.template.version } : {}),
            ...(record.template.locale ? { locale: record.template.locale } : {}),
          },
        }
      : {}),
    ...(record.rendered ? { rendered: record.rendered } : {}),
    ...(record.broadcastId ? { broadcastId: record.broadcastId } : {}),
    deleted: record.deletedAt !== null,
    ...(record.cancelledAt ? { cancelledAt: record.cancelledAt.toISOString() } : {}),
    ...(record.transactionId ? { transactionId: record.transactionId } : {}),
    deliveries: deliveriesView(record),
    history: fullHistory(record).map(historyView),
  };
}

export function notificationStatus(record: NotificationRecord): NotificationStatus {
  return { id: record._id.toHexString(), channels: deliveriesView(record) };
}

import { type ChannelStatuses, type NotificationSummary } from '@herald/contracts';
import { type NotificationRecord } from '../data/notification-model';

export function channelStatuses(
  record: Pick<NotificationRecord, 'channels' | 'deliveries'>,
): ChannelStatuses {
  const statuses: ChannelStatuses = {};
  for (const channel of record.channels) {
    const delivery = record.deliveries[channel];
    if (delivery) statuses[channel] = delivery.status;
  }
  return statuses;
}

export function notificationSummary(record: NotificationRecord): NotificationSummary {
  return {
    id: record._id.toHexString(),
    title: record.title,
    body: record.body,
    ...(record.category ? { category: record.category } : {}),
    channels: record.channels,
    createdAt: record.createdAt.toISOString(),
    read: false,
    statuses: channelStatuses(record),
  };
}

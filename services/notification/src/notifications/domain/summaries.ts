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

/** What the sending application attached (actor, tenant, data), for inbox views and events. */
export function applicationFieldsOf(record: Pick<NotificationRecord, 'actor' | 'tenant' | 'dataJson'>): {
  actor?: string;
  tenant?: string;
  data?: Record<string, unknown>;
} {
  return {
    ...(record.actor ? { actor: record.actor } : {}),
    ...(record.tenant ? { tenant: record.tenant } : {}),
    ...(record.dataJson ? { data: JSON.parse(record.dataJson) as Record<string, unknown> } : {}),
  };
}

export function notificationSummary(record: NotificationRecord): NotificationSummary {
  // Built field by field, not from conditional spreads: this runs for every notification accepted.
  const summary: NotificationSummary = {
    id: record._id.toHexString(),
    title: record.title,
    body: record.body,
    channels: record.channels,
    createdAt: record.createdAt.toISOString(),
    read: false,
    statuses: channelStatuses(record),
  };
  if (record.category) summary.category = record.category;
  if (record.actor) summary.actor = record.actor;
  if (record.tenant) summary.tenant = record.tenant;
  if (record.dataJson) summary.data = JSON.parse(record.dataJson) as Record<string, unknown>;
  return summary;
}

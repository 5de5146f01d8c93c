import { type Channel, type DeliveryStatus } from '@herald/contracts';
import { type EventSubject, type OutgoingEvent } from './recorder';

/** What the events of a notification are built from: the fields of its stored record they read. */
export interface NotificationFacts {
  _id: { toHexString(): string };
  senderId: string;
  category?: string;
  tenant?: string;
  userId?: string | null;
  channels?: Channel[];
  deliveries?: Partial<Record<Channel, { status: DeliveryStatus }>>;
  createdAt?: Date;
}

export function subjectOf(record: NotificationFacts): EventSubject {
  return {
    notificationId: record._id.toHexString(),
    senderId: record.senderId,
    ...(record.category ? { category: record.category } : {}),
    ...(record.tenant ? { tenant: record.tenant } : {}),
  };
}

/**
 * `notification.created` for a stored notification, and `notification.delivered`
 * for its in-app channel when storing it delivered it (an immediate one).
 */
export function acceptedEvents(record: NotificationFacts): OutgoingEvent[] {
  const at = (record.createdAt ?? new Date()).toISOString();
  const statuses = Object.fromEntries(
    Object.entries(record.deliveries ?? {}).map(([channel, delivery]) => [channel, delivery.status]),
  );
  const events: OutgoingEvent[] = [
    {
      type: 'notification.created',
      key: 'created',
      at,
      data: {
        channels: record.channels ?? [],
        statuses,
        ...(record.userId ? { recipient: { inbox: record.userId } } : {}),
      },
    },
  ];
  if (record.deliveries?.in_app?.status === 'delivered') events.push(inAppDeliveredEvent(at));
  return events;
}

/**
 * `notification.delivered` for the in-app channel: when it is stored (an
 * immediate one) or when a scheduled one reaches the inbox at its time. One
 * key either way: a notification reaches its inbox once.
 */
export function inAppDeliveredEvent(at: string): OutgoingEvent {
  return {
    type: 'notification.delivered',
    key: 'delivered:in_app',
    at,
    data: { channel: 'in_app', status: 'delivered' },
  };
}

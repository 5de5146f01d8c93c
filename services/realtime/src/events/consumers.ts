import { Type } from '@sinclair/typebox';
import { type AmqpClient, type Consumer } from '@herald/amqp';
import {
  EventRoutingKeys,
  MessageTypes,
  NotificationCreatedMessage,
  NotificationStatusMessage,
  type NotificationCreatedPayload,
  NotificationUpdatedMessage,
  NotificationsCreatedMessage,
  Queues,
  ServerEvents,
  UserUpdatedMessage,
} from '@herald/contracts';
import { type AccountChanges } from '../sockets/account-changes';
import { type Pusher } from '../sockets/pusher';

export const RealtimeEventMessage = Type.Union([
  NotificationCreatedMessage,
  NotificationsCreatedMessage,
  NotificationStatusMessage,
  NotificationUpdatedMessage,
  UserUpdatedMessage,
]);

export interface NotificationEventsOptions {
  instanceId: string;
  prefetch: number;
  queueMaxLength: number;
  /** how many recent `notification.created` ids are remembered to drop a re-published copy (default 50,000) */
  recentCreatedIds?: number;
}

/**
 * The ids of the most recent notifications pushed, oldest dropped first. The notification
 * service's outbox publishes at least once: a relay that dies after the broker confirmed an event
 * but before recording it leaves another instance to publish it again. A notification is created
 * once, so a second `notification.created` for the same id is that copy, and is not pushed twice.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  /**
   * The same ids in the order they came, overwritten oldest first. (Dropping the Set's first id
   * instead, through a new iterator each time, walks past every id deleted before it until the
   * Set is rehashed: once full, 33 µs per id at 50,000, half of this service's CPU under load.)
   */
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity: number) {
    this.order = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** true the first time an id is seen (within the last `capacity` ids) */
  firstSighting(id: string): boolean {
    if (this.ids.has(id)) return false;
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.order[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
    return true;
  }
}

/** This instance's own fan-out queue: every instance sees every event and acts on its own sockets. */
export function instanceQueueName(amqp: AmqpClient, instanceId: string): string {
  return amqp.names.scoped(`${Queues.realtimePrefix}${instanceId}`);
}

/**
 * Consumes notification events through a classic, exclusive, auto-delete
 * queue that lives exactly as long as this instance's connection. Nothing
 * in it outlives the instance, so it is neither durable nor replicated:
 * what an instance misses while it is down, its clients recover through
 * catch-up when they reconnect, which reads the notification store.
 *
 * `retry: false`: emitting to local sockets has no transient failure worth
 * waiting for, and a push delayed by a backoff step is worse than the
 * catch-up that covers it; a retried message would also have to find this
 * exclusive queue again, which is gone after a restart. An invalid message
 * still goes to the dead-letter queue (once per instance, as each has its
 * own copy).
 */
export function consumeNotificationEvents(
  amqp: AmqpClient,
  targets: { pusher: Pusher; accounts: AccountChanges },
  options: NotificationEventsOptions,
): Consumer<typeof RealtimeEventMessage> {
  const events = amqp.names.exchanges.events;
  const pushed = new RecentIds(options.recentCreatedIds ?? 50_000);
  const { pusher } = targets;
  /** A new notification to its owner's sockets, once per notification id. */
  const pushCreated = (created: NotificationCreatedPayload, correlationId: string, occurredAt: string) => {
    const { userId, notification, unreadCount } = created;
    if (!pushed.firstSighting(notification.id)) return;
    pusher.toUser(
      userId,
      ServerEvents.notificationNew,
      { notification, occurredAt, correlationId },
      occurredAt,
    );
    // The notification service leaves the count out (a count per create costs too much at
    // its rate): with nothing true to push, clients count `notification:new` themselves.
    if (unreadCount !== undefined) {
      pusher.toUser(userId, ServerEvents.unreadCount, { count: unreadCount }, occurredAt);
    }
  };
  return amqp.consume({
    queue: instanceQueueName(amqp, options.instanceId),
    declare: {
      options: {
        exclusive: true,
        autoDelete: true,
        durable: false,
        arguments: {
          'x-queue-type': 'classic',
          // A stalled instance drops its oldest events rather than filling the broker's memory.
          'x-max-length': options.queueMaxLength,
          'x-overflow': 'drop-head',
        },
      },
      bindings: [
        { exchange: events, routingKey: EventRoutingKeys.notificationCreated },
        // the accept path's: many notifications' created events in one message
        { exchange: events, routingKey: EventRoutingKeys.notificationsCreated },
        { exchange: events, routingKey: EventRoutingKeys.notificationUpdated },
        // status for whoever sent a notification, to the sender's own sockets
        { exchange: events, routingKey: EventRoutingKeys.notificationStatus },
        // auth's user changes: a disabled account or a new role outdates the sockets' tokens
        { exchange: events, routingKey: EventRoutingKeys.userUpdated },
      ],
    },
    schema: RealtimeEventMessage,
    prefetch: options.prefetch,
    retry: false,
    handler: async (message) => {
      const { accounts } = targets;
      if (message.type === MessageTypes.userUpdated) {
        accounts.apply(message.payload, message.occurredAt);
        return;
      }
      if (message.type === MessageTypes.notificationStatus) {
        const { senderId, ...status } = message.payload;
        pusher.toUser(
          senderId,
          ServerEvents.notificationStatus,
          { ...status, occurredAt: message.occurredAt, correlationId: message.correlationId },
          message.occurredAt,
        );
        return;
      }
      if (message.type === MessageTypes.notificationsCreated) {
        for (const item of message.payload.items) pushCreated(item, item.correlationId, message.occurredAt);
        return;
      }
      if (message.type === MessageTypes.notificationCreated) {
        pushCreated(message.payload, message.correlationId, message.occurredAt);
        return;
      }
      const { userId, notificationId, change, unreadCount } = message.payload;
      pusher.toUser(
        userId,
        ServerEvents.notificationUpdated,
        {
          notificationId,
          change,
          ...(unreadCount === undefined ? {} : { unreadCount }),
          occurredAt: message.occurredAt,
          correlationId: message.correlationId,
        },
        message.occurredAt,
      );
      // a delivery status or an engagement leaves the count as it was: nothing to push
      if (unreadCount !== undefined) {
        pusher.toUser(userId, ServerEvents.unreadCount, { count: unreadCount }, message.occurredAt);
      }
    },
  });
}

import {
  CHANGES_KEEPING_UNREAD_COUNT,
  EventRoutingKeys,
  MessageTypes,
  createMessage,
  type NotificationChange,
  type NotificationStatusPayload,
} from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { publishEvent } from '../../outbox/domain/publish-event';
import { unreadCount } from './unread-count';

export interface NotificationUpdate {
  userId: string;
  notificationId: string;
  change: NotificationChange;
  correlationId: string;
  /** set when a workflow run made the notification: the change is sent on to the workflows service */
  workflowRunId?: string | undefined;
}

/**
 * Publishes `notification.updated` with the recipient's unread count after
 * the change (counted now unless given), so realtime never has to ask; none
 * for a change that cannot move it (a delivery status, an engagement).
 */
export async function publishNotificationUpdated(
  ctx: ServiceContext,
  update: NotificationUpdate,
  knownUnreadCount?: number,
): Promise<void> {
  const count = CHANGES_KEEPING_UNREAD_COUNT.has(update.change.kind)
    ? undefined
    : (knownUnreadCount ?? (await unreadCount(ctx, update.userId)));
  const message = createMessage(
    MessageTypes.notificationUpdated,
    {
      userId: update.userId,
      notificationId: update.notificationId,
      change: update.change,
      ...(count === undefined ? {} : { unreadCount: count }),
    },
    { correlationId: update.correlationId },
  );
  const bcc = update.workflowRunId ? [EventRoutingKeys.runNotificationUpdated] : [];
  await publishEvent(ctx, EventRoutingKeys.notificationUpdated, message, bcc);
}

/**
 * For request handlers: publishes after the response, never delaying or
 * failing it. The change is already stored; if the event is lost to a
 * broker outage, the next update carries a fresh unread count.
 */
export function publishUpdatedLater(
  ctx: ServiceContext,
  updates: NotificationUpdate[],
  knownUnreadCount?: number,
): void {
  if (updates.length === 0) return;
  ctx.background.run('publish notification.updated', () =>
    Promise.all(updates.map((update) => publishNotificationUpdated(ctx, update, knownUnreadCount))),
  );
}

/** Senders that are Herald itself (account messages): nobody's socket to tell. */
const SYSTEM_SENDERS = new Set(['system']);

/**
 * Publishes `notification.status` for whoever sent the notification, so
 * their own sockets see it go (realtime emits `notification:status` to the
 * sender's room), whoever the recipient is: an outside address has no
 * inbox and no `notification.updated`. A redelivered report publishes it
 * again, as it does `notification.updated`.
 */
export async function publishSenderStatus(
  ctx: ServiceContext,
  status: NotificationStatusPayload & { correlationId: string },
): Promise<void> {
  const { correlationId, ...payload } = status;
  if (SYSTEM_SENDERS.has(payload.senderId)) return;
  const message = createMessage(MessageTypes.notificationStatus, payload, { correlationId });
  await publishEvent(ctx, EventRoutingKeys.notificationStatus, message);
}

import { Type, type Static } from '@sinclair/typebox';
import { Channel } from './channels';
import { Envelope } from './envelope';
import { MessageTypes, MessageVersions } from './message-types';
import { StatusDetail } from './notification-messages';
import { DateTime, EntityId } from './primitives';
import { DeliveryStatus } from './status';

/*
 * Live status for whoever sent a notification (issue 25). `notification.updated`
 * speaks to the recipient's inbox; a notification to an outside address has
 * no inbox, and its sender (an admin, a user) still wants to watch it go.
 * This event names the sender, so realtime can push it to the sender's room.
 */

export const NotificationStatusPayload = Type.Object({
  /** who sent it: a user id (or an API key id, which has no socket): realtime emits to this room */
  senderId: Type.String({ minLength: 1, maxLength: 132 }),
  notificationId: EntityId,
  channel: Channel,
  status: DeliveryStatus,
  /** when the status was reached, as reported */
  at: DateTime,
  detail: Type.Optional(StatusDetail),
});
export type NotificationStatusPayload = Static<typeof NotificationStatusPayload>;

export const NotificationStatusMessage = Envelope(
  MessageTypes.notificationStatus,
  MessageVersions[MessageTypes.notificationStatus],
  NotificationStatusPayload,
);
export type NotificationStatusMessage = Static<typeof NotificationStatusMessage>;

import { Type } from '@sinclair/typebox';
import { quorumQueueArguments } from '@herald/amqp';
import {
  DeliveryStatusMessage,
  EventRoutingKeys,
  MessageTypes,
  UserRegisteredMessage,
  UserUpdatedMessage,
  VerificationRequestedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyDeliveryStatus } from '../delivery-status/domain/apply-status';
import { applyPendingEvents } from '../webhooks/domain/pending-events';
import { applyUserSnapshot } from '../users/domain/users';
import { sendVerificationEmail } from '../users/domain/verification-email';

/** Every message type this queue carries; anything else is dead-lettered unseen by the consumer. */
export const NotificationEventsMessage = Type.Union([
  DeliveryStatusMessage,
  UserRegisteredMessage,
  UserUpdatedMessage,
  VerificationRequestedMessage,
]);

/** The broker's second guard against a message that crashes the process before we can dead-letter it. */
const DELIVERY_LIMIT = 20;

/**
 * The service's own durable queue: delivery status from the worker and
 * user events from auth. A quorum queue shared by all instances (competing
 * consumers), dead-lettering to Herald's DLQ.
 */
export function startNotificationEventsConsumer(ctx: ServiceContext) {
  const { names } = ctx.amqp;
  return ctx.amqp.consume({
    queue: names.queues.notificationEvents,
    declare: {
      options: { durable: true, arguments: quorumQueueArguments(names, DELIVERY_LIMIT) },
      bindings: [
        { exchange: names.exchanges.events, routingKey: EventRoutingKeys.deliveryStatus },
        { exchange: names.exchanges.events, routingKey: 'user.*' },
      ],
    },
    schema: NotificationEventsMessage,
    prefetch: ctx.settings.prefetch,
    handler: async (message) => {
      switch (message.type) {
        case MessageTypes.deliveryStatus:
          await applyDeliveryStatus(ctx, message);
          // Provider events that beat this report were kept for it.
          if (message.payload.providerMessageId && message.payload.status === 'sent')
            await applyPendingEvents(ctx, message.payload.providerMessageId);
          return;
        case MessageTypes.userRegistered:
        case MessageTypes.userUpdated:
          return applyUserSnapshot(ctx, message.payload, message.occurredAt);
        case MessageTypes.userVerificationRequested:
          return sendVerificationEmail(ctx, message);
      }
    },
  });
}

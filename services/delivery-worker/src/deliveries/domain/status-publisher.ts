import {
  createMessage,
  EventRoutingKeys,
  MessageTypes,
  type DeliveryStatusPayload,
  type PushSubscriptionGonePayload,
} from '@herald/contracts';
import { type AmqpClient } from '@herald/amqp';

/** Publishes `delivery.status` events for the notification service (and, through it, realtime). */
export class StatusPublisher {
  constructor(private readonly amqp: AmqpClient) {}

  async publish(
    payload: Omit<DeliveryStatusPayload, 'at'> & { at?: string },
    correlationId: string,
  ): Promise<void> {
    const message = createMessage(
      MessageTypes.deliveryStatus,
      { ...payload, at: payload.at ?? new Date().toISOString() },
      { correlationId },
    );
    await this.amqp.publish(this.amqp.names.exchanges.events, EventRoutingKeys.deliveryStatus, message);
  }
}

/** Publishes `push.subscription_gone`: a push service said a subscription will never work again. */
export class GoneSubscriptionPublisher {
  constructor(private readonly amqp: AmqpClient) {}

  async publish(
    payload: Omit<PushSubscriptionGonePayload, 'at'> & { at?: string },
    correlationId: string,
  ): Promise<void> {
    const message = createMessage(
      MessageTypes.pushSubscriptionGone,
      { ...payload, at: payload.at ?? new Date().toISOString() },
      { correlationId },
    );
    await this.amqp.publish(this.amqp.names.exchanges.events, EventRoutingKeys.pushSubscriptionGone, message);
  }
}

import { UnroutableError, type AmqpClient, type PublishableMessage } from '@herald/amqp';
import { type Logger } from '@herald/runtime';

/**
 * Publishes a domain event on the events exchange. Realtime's fan-out
 * queues exist only while an instance runs: with none running, an event has
 * nobody to reach and the broker returns it as unroutable. That is "nobody
 * listening", not a failure to retry (the outbox would loop on it forever).
 * Delivery jobs never go through here: their queues always exist, so for
 * them unroutable stays an error.
 */
export async function publishEvent(
  /** the service context, or the part of it this needs (the context itself is built with it) */
  ctx: { amqp: AmqpClient; log: Logger },
  routingKey: string,
  message: PublishableMessage,
  bcc: readonly string[] = [],
) {
  try {
    await ctx.amqp.publish(ctx.amqp.names.exchanges.events, routingKey, message, { bcc });
  } catch (error) {
    if (!(error instanceof UnroutableError)) throw error;
    ctx.log.debug({ routingKey, messageId: message.messageId }, 'event has no subscriber');
  }
}

import { DeliveryChannels, DeliveryJobMessage } from '@herald/contracts';
import { type AmqpClient, type Consumer } from '@herald/amqp';
import { type DeliveryService } from '../domain/deliver';

/**
 * One consumer per delivery channel on its work queue, each with its own
 * prefetch: a slow SMS provider never holds up email. Retries and dead
 * letters go through the shared consumer; the service reports each outcome.
 */
export function startDeliveryConsumers(
  amqp: AmqpClient,
  service: DeliveryService,
  prefetch: { email: number; sms: number },
): Consumer<typeof DeliveryJobMessage>[] {
  return DeliveryChannels.map((channel) =>
    amqp.consume({
      queue: amqp.names.queues.work[channel],
      schema: DeliveryJobMessage,
      prefetch: prefetch[channel],
      handler: (message, context) => service.handle(message, context),
      onRetryScheduled: (outcome, message, context) => service.onRetryScheduled(outcome, message, context),
      onDeadLettered: (outcome, message, context) => service.onDeadLettered(outcome, message, context),
    }),
  );
}

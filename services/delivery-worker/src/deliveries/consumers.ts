import { DeliveryChannels, DeliveryJobMessage } from '@herald/contracts';
import { type AmqpClient, type Consumer } from '@herald/amqp';
import { type HttpApp } from '@herald/runtime/http';
import { type DeliveryService } from './domain/deliver';

export interface DeliveryConsumerOptions {
  prefetch: { email: number; sms: number; push: number };
  /** on close, how long in-flight sends may finish before their jobs go back to the queue */
  drainTimeoutMs: number;
}

/**
 * One consumer per delivery channel on its work queue, each with its own
 * prefetch: a slow SMS provider never holds up email. Retries and dead
 * letters go through the shared consumer; the service reports each outcome.
 * They start once the app is ready and drain when it closes.
 */
export function registerDeliveryConsumers(
  app: HttpApp,
  amqp: AmqpClient,
  service: DeliveryService,
  options: DeliveryConsumerOptions,
): void {
  let consumers: Consumer<typeof DeliveryJobMessage>[] = [];
  app.addHook('onReady', async () => {
    consumers = DeliveryChannels.map((channel) =>
      amqp.consume({
        queue: amqp.names.queues.work[channel],
        schema: DeliveryJobMessage,
        prefetch: options.prefetch[channel],
        handler: (message, context) => service.handle(message, context),
        onRetryScheduled: (outcome, message, context) => service.onRetryScheduled(outcome, message, context),
        onDeadLettered: (outcome, message, context) => service.onDeadLettered(outcome, message, context),
      }),
    );
  });
  app.addHook('onClose', async () => {
    // Stop taking jobs, let in-flight sends finish within the bound; the rest go back to the queue.
    // A consumer still setting up its channel is stopped safely too (Consumer.stop waits for it).
    await Promise.all(consumers.map((consumer) => consumer.stop(options.drainTimeoutMs)));
  });
}

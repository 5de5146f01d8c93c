import { type AmqpConnectionManager } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type Logger } from 'pino';
import { type AmqpClient } from './client';
import { ackSafely, QueueConsumer, type QueueConsumerOptions } from './queue-consumer';

export interface RawMessageContext {
  /** Acks the message; call it only once what the message asked for is durable. */
  ack(): void;
  /** True once the consumer is stopping: give up, without acking, what can wait for a redelivery. */
  isStopping(): boolean;
  /** Waits `ms` (a backoff), cut short when the consumer stops. */
  pause(ms: number): Promise<void>;
  log: Logger;
}

export interface RawConsumeOptions extends QueueConsumerOptions {
  /** names the channel and the log lines, e.g. `dead-letter-drain` */
  name: string;
  /** the consuming service's logger for this consumer's lines (default: the client's) */
  logger?: Logger;
  /**
   * Sees the message as delivered: bytes, properties and headers, nothing
   * parsed or validated. It acks through the context when it is done; a
   * message it returns without acking (or throws on) stays unacked, and goes
   * back to the queue when the channel closes (stop, reconnect).
   */
  handler: (message: ConsumeMessage, context: RawMessageContext) => Promise<void>;
}

/**
 * A consumer that hands over raw messages, for the few that must not be
 * parsed, retried or dead-lettered by the shared rules — the DLQ drain above
 * all: the shared consumer would dead-letter a non-JSON dead letter back onto
 * the DLQ itself. Same channel life as `Consumer`: re-declared and resumed
 * after each reconnect, and a stop that waits for a setup in progress,
 * cancels, drains in-flight handlers (bounded) and closes the channel.
 */
export class RawConsumer extends QueueConsumer {
  constructor(
    client: AmqpClient,
    connection: AmqpConnectionManager,
    private readonly options: RawConsumeOptions,
    logger: Logger,
  ) {
    super(
      client,
      connection,
      options,
      (options.logger ?? logger).child({ consumer: options.name }),
      `${options.name}:${options.queue}`,
    );
  }

  protected async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const log = this.log;
    await this.options.handler(message, {
      ack: () => ackSafely(channel, message, log),
      isStopping: () => this.isStopping(),
      pause: (ms) => this.pause(ms),
      log,
    });
  }
}

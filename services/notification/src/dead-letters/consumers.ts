import { type ConsumeMessage } from 'amqplib';
import { type AmqpClient, type RawConsumer, type RawMessageContext } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { captureDeadLetter } from './domain/capture';
import { type DeadLetterModel } from './data/model';

/*
 * The shared consumer parses every message as JSON and dead-letters what is
 * not: on the DLQ itself that would send a non-JSON poison message round the
 * DLX and back for ever, and its handler never sees the raw bytes or headers.
 * So the drain is a raw consumer: same channel life and stop, no parsing.
 */

export interface DrainOptions {
  amqp: AmqpClient;
  deadLetters: DeadLetterModel;
  log: Logger;
  prefetch: number;
  now: () => Date;
}

/** How long the drain waits before trying a failed insert again, growing to the cap. */
const INSERT_RETRY_BASE_MS = 200;
const INSERT_RETRY_MAX_MS = 5_000;

/**
 * Moves every message of the DLQ into the dead-letters collection, acking
 * only after the insert is durable (at-least-once; the insert is idempotent
 * through the record's unique `dedupeKey`). While MongoDB is unreachable a
 * message stays unacked and its insert is retried with backoff, so nothing
 * is dropped and nothing spins; on stop the unacked ones go back to the DLQ.
 */
export class DeadLetterDrain {
  private readonly consumer: RawConsumer;

  constructor(private readonly options: DrainOptions) {
    this.consumer = options.amqp.consumeRaw({
      name: 'dead-letter-drain',
      queue: options.amqp.names.queues.deadLetter,
      prefetch: options.prefetch,
      logger: options.log,
      handler: (message, context) => this.store(message, context),
    });
  }

  async waitUntilConsuming(): Promise<void> {
    await this.consumer.waitUntilConsuming();
  }

  /** Stops taking messages, lets in-flight inserts finish (bounded), then closes the channel. */
  async stop(timeoutMs: number): Promise<void> {
    await this.consumer.stop(timeoutMs);
  }

  private async store(message: ConsumeMessage, context: RawMessageContext): Promise<void> {
    const record = captureDeadLetter(message, this.options.now());
    const log = context.log.child({ messageId: record.messageId, correlationId: record.correlationId });
    for (let failures = 0; ; failures += 1) {
      try {
        await this.options.deadLetters.create(record);
        log.warn(
          {
            reason: record.reason,
            errorCode: record.errorCode,
            notificationId: record.notificationId,
            channel: record.channel,
            attempts: record.attempts,
          },
          'dead letter stored',
        );
        break;
      } catch (error) {
        if (isDuplicateKeyError(error)) {
          log.info('dead letter already stored (redelivered)');
          break;
        }
        if (context.isStopping()) return; // unacked: closing the channel hands it back to the DLQ
        const delayMs = Math.min(INSERT_RETRY_BASE_MS * 2 ** failures, INSERT_RETRY_MAX_MS);
        log.error({ err: error, delayMs }, 'could not store a dead letter; trying again');
        await context.pause(delayMs);
        if (context.isStopping()) return;
      }
    }
    // a failed ack (channel closed under us) means a redelivery, which the unique key absorbs
    context.ack();
  }
}

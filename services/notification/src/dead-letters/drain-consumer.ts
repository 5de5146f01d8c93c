import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { captureDeadLetter } from './capture';
import { type DeadLetterModel } from './model';

/*
 * The shared consumer parses every message as JSON and dead-letters what is
 * not: on the DLQ itself that would send a non-JSON poison message round the
 * DLX and back for ever, and its handler never sees the raw bytes or headers.
 * So the drain consumes on a raw channel of the client's own self-recovering
 * connection.
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
  private readonly channel: ReturnType<AmqpClient['createChannel']>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: Logger;
  private current?: { channel: ConfirmChannel; consumerTag: string };
  private stopping = false;
  /** pending backoff waits, cut short when the drain stops */
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: DrainOptions) {
    const queue = options.amqp.names.queues.deadLetter;
    this.log = options.log.child({ queue, component: 'dead-letter-drain' });
    this.channel = options.amqp.createChannel({
      name: `dead-letter-drain:${queue}`,
      setup: (channel) => this.setup(channel, queue),
    });
  }

  async waitUntilConsuming(): Promise<void> {
    await this.channel.waitForConnect();
  }

  /** Stops taking messages, lets in-flight inserts finish (bounded), then closes the channel. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    const current = this.current;
    if (current) await current.channel.cancel(current.consumerTag).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (this.inFlight.size > 0) {
      this.log.warn(
        { inFlight: this.inFlight.size },
        'drain timed out; unacked dead letters stay in the DLQ',
      );
    }
    await this.channel.close();
  }

  private async setup(channel: ConfirmChannel, queue: string): Promise<void> {
    if (this.stopping) return;
    await this.options.amqp.declare(channel);
    await channel.prefetch(this.options.prefetch);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) {
        this.log.warn('the broker cancelled the DLQ drain (queue deleted?)');
        return;
      }
      const work = this.store(channel, message);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    this.current = { channel, consumerTag };
    this.log.info({ prefetch: this.options.prefetch }, 'draining the DLQ');
  }

  private async store(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const record = captureDeadLetter(message, this.options.now());
    const log = this.log.child({ messageId: record.messageId, correlationId: record.correlationId });
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
        if (isDuplicateKey(error)) {
          log.info('dead letter already stored (redelivered)');
          break;
        }
        if (this.stopping) return; // unacked: closing the channel hands it back to the DLQ
        const delayMs = Math.min(INSERT_RETRY_BASE_MS * 2 ** failures, INSERT_RETRY_MAX_MS);
        log.error({ err: error, delayMs }, 'could not store a dead letter; trying again');
        await this.pause(delayMs);
        if (this.stopping) return;
      }
    }
    try {
      channel.ack(message);
    } catch (error) {
      // The channel closed under us: the broker redelivers and the unique key absorbs it.
      log.warn({ err: error }, 'could not ack a stored dead letter; it will be redelivered');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

import { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { type Logger } from 'pino';
import { settleWithin } from '@herald/runtime';
import { type AmqpClient } from './client';

export interface QueueDeclaration {
  options: Options.AssertQueue;
  bindings?: { exchange: string; routingKey: string }[];
}

export interface QueueConsumerOptions {
  queue: string;
  /** for a queue the consuming service owns; Herald's shared queues are declared by the client */
  declare?: QueueDeclaration;
  /** unacked messages in flight */
  prefetch: number;
}

/**
 * What every consumer of a queue shares, whatever it does with a message: its
 * own channel on the client's self-recovering connection, re-declared and
 * re-consumed after each reconnect, and a stop that is safe at any moment.
 * Subclasses say what happens to one message (`handle`).
 */
export abstract class QueueConsumer {
  protected readonly log: Logger;
  private readonly channel: ChannelWrapper;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private current?: { channel: ConfirmChannel; consumerTag: string };
  /** the setup running on a (re)connected channel, if any: stop() lets it finish first */
  private settingUp?: Promise<void>;
  private stopping = false;
  /** the channel wrapper is closed: a channel it opens from now on is closed by our setup */
  private closed = false;

  constructor(
    protected readonly client: AmqpClient,
    connection: AmqpConnectionManager,
    private readonly queueOptions: QueueConsumerOptions,
    logger: Logger,
    channelName = `consumer:${queueOptions.queue}`,
  ) {
    this.log = logger.child({ queue: queueOptions.queue });
    this.channel = connection.createChannel({
      name: channelName,
      confirm: true,
      setup: (channel: ConfirmChannel) => this.setup(channel),
    });
    this.channel.on('error', (err) =>
      this.log.warn({ err: err.message }, 'consumer channel failed; retrying'),
    );
  }

  /** Resolves once the consumer is registered with the broker (never, if it was stopped first). */
  async waitUntilConsuming(): Promise<void> {
    await this.channel.waitForConnect();
  }

  /**
   * Stops taking messages, waits (bounded) for in-flight ones, then closes the
   * channel. Safe at any moment, even while the channel is still being set
   * up: a setup in progress is let finish (it registers no consumer once
   * stopping, or its consumer is cancelled here), so the channel is never
   * closed under a half-done setup and no delivery escapes the drain.
   * `timeoutMs` bounds the wait for the setup and the drain together.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    const deadline = Date.now() + timeoutMs;
    if (this.settingUp) {
      // its failure is the setup's to report; stop only waits for it to end
      await settleWithin(
        this.settingUp.catch(() => undefined),
        timeoutMs,
        undefined,
      );
    }
    const current = this.current;
    if (current) {
      await current.channel.cancel(current.consumerTag).catch(() => undefined);
    }
    await settleWithin(Promise.allSettled([...this.inFlight]), Math.max(0, deadline - Date.now()), undefined);
    if (this.inFlight.size > 0) {
      this.log.warn(
        { inFlight: this.inFlight.size },
        'drain timed out; unacked messages return to the queue',
      );
    }
    // Closing the channel hands every unacked message back to the broker.
    this.closed = true;
    await this.channel.close().catch((error: unknown) => {
      // The broker or the connection went away first: its unacked messages are requeued all the same.
      this.log.warn({ err: error }, 'could not close the consumer channel cleanly');
    });
  }

  /** One delivered message; the returned promise is what stop() drains. */
  protected abstract handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void>;

  protected isStopping(): boolean {
    return this.stopping;
  }

  /** Waits `ms`, or less if the consumer stops meanwhile (a handler's backoff must not hold a stop). */
  protected pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
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

  private setup(channel: ConfirmChannel): Promise<void> {
    const work = this.register(channel);
    this.settingUp = work;
    return work.finally(() => {
      if (this.settingUp === work) this.settingUp = undefined;
    });
  }

  /** Declares, then starts consuming — unless a stop began meanwhile (checked after every await). */
  private async register(channel: ConfirmChannel): Promise<void> {
    if (await this.stopInstead(channel)) return;
    await this.client.declare(channel);
    const { declare, queue, prefetch } = this.queueOptions;
    if (declare) {
      await channel.assertQueue(queue, declare.options);
      for (const binding of declare.bindings ?? []) {
        await channel.bindQueue(queue, binding.exchange, binding.routingKey);
      }
    }
    await channel.prefetch(prefetch);
    if (await this.stopInstead(channel)) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) {
        this.log.warn('the broker cancelled this consumer (queue deleted?)');
        return;
      }
      this.track(this.handle(channel, message));
    });
    this.current = { channel, consumerTag };
    this.log.info({ prefetch }, 'consuming');
  }

  /**
   * True once stopping: the setup must not start consuming. A channel that
   * opened after stop() closed the wrapper (the connection manager was still
   * creating it) belongs to nobody, so it is closed here instead of staying
   * open until the connection closes.
   */
  private async stopInstead(channel: ConfirmChannel): Promise<boolean> {
    if (!this.stopping) return false;
    if (this.closed) await channel.close().catch(() => undefined);
    return true;
  }

  private track(work: Promise<void>): void {
    // A handler that fails unexpectedly leaves its message unacked (redelivered when the channel
    // closes or reconnects); the failure is logged here, never left as an unhandled rejection.
    const tracked = work.catch((error: unknown) =>
      this.log.error({ err: error }, 'a message handler failed; the message stays unacked'),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }
}

/** Acks, unless the channel already closed: then the broker redelivers, and idempotent handlers absorb it. */
export function ackSafely(channel: ConfirmChannel, message: ConsumeMessage, log: Logger): void {
  try {
    channel.ack(message);
  } catch (error) {
    log.warn({ err: error }, 'could not ack; the message will be redelivered');
  }
}

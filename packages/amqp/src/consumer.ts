import { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { type Logger } from 'pino';
import { type Static, type TSchema } from '@sinclair/typebox';
import { Headers, validateMessage } from '@herald/contracts';
import { type AmqpClient } from './client';
import { classifyFailure, describeError, readRetryAttempts } from './failure';
import { retryDelayMs, type RetryPolicy } from './topology';

export interface MessageContext {
  messageId: string | undefined;
  correlationId: string | undefined;
  /** 1 for the first delivery, n after n-1 failed attempts */
  attempt: number;
  /** true when a transient failure now will dead-letter instead of retrying */
  isLastAttempt: boolean;
  headers: Record<string, unknown>;
  log: Logger;
}

export type DeadLetterReason = 'invalid_message' | 'permanent_error' | 'retries_exhausted';

export interface RetryScheduled {
  attempt: number;
  delayMs: number;
  nextAttemptAt: Date;
  error: { code: string; message: string };
}

export interface DeadLettered {
  reason: DeadLetterReason;
  attempt: number;
  error: { code: string; message: string };
}

export interface QueueDeclaration {
  options: Options.AssertQueue;
  bindings?: { exchange: string; routingKey: string }[];
}

export interface ConsumeOptions<S extends TSchema> {
  queue: string;
  /** for a queue the consuming service owns; Herald's shared queues are declared by the client */
  declare?: QueueDeclaration;
  /** the message's schema (an envelope from contracts); anything else is dead-lettered unseen */
  schema: S;
  /** unacked messages in flight; throughput needs ~100+ */
  prefetch: number;
  /** false: a failed message is dead-lettered at once, never retried (the default is the client's policy) */
  retry?: RetryPolicy | false;
  handler: (message: Static<S>, context: MessageContext) => Promise<void>;
  /** runs before the failed message is acked; a throw here requeues it instead */
  onRetryScheduled?: (outcome: RetryScheduled, message: Static<S>, context: MessageContext) => Promise<void>;
  onDeadLettered?: (
    outcome: DeadLettered,
    message: Static<S> | undefined,
    context: MessageContext,
  ) => Promise<void>;
}

/**
 * One queue's consumer on its own channel. For each message: parse and
 * validate (invalid → DLQ, handler never sees it), run the handler, and ack
 * only after it succeeded. A failure is republished — with confirms — to the
 * delay queue for the next backoff step with `x-retry-attempts` + 1, or to
 * the DLQ with headers naming the error; only then is the original acked.
 * A crash at any point leaves the message unacked, and the broker redelivers
 * it: at-least-once, so handlers must be idempotent.
 */
export class Consumer<S extends TSchema> {
  private readonly channel: ChannelWrapper;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly retry: RetryPolicy | false;
  private current?: { channel: ConfirmChannel; consumerTag: string };
  /** the setup running on a (re)connected channel, if any: stop() lets it finish first */
  private settingUp?: Promise<void>;
  private stopping = false;
  /** the channel wrapper is closed: a channel it opens from now on is closed by our setup */
  private closed = false;

  constructor(
    private readonly client: AmqpClient,
    connection: AmqpConnectionManager,
    private readonly options: ConsumeOptions<S>,
    logger: Logger,
  ) {
    this.log = logger.child({ queue: options.queue });
    this.retry = options.retry === undefined ? client.retryPolicy : options.retry;
    this.channel = connection.createChannel({
      name: `consumer:${options.queue}`,
      confirm: true,
      setup: (channel: ConfirmChannel) => this.setup(channel),
    });
    this.channel.on('error', (err) =>
      this.log.warn({ err: err.message }, 'consumer channel failed; retrying'),
    );
  }

  /** Resolves once the consumer is registered with the broker. */
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
    const deadline = Date.now() + timeoutMs;
    if (this.settingUp) {
      await settleWithin(this.settingUp, timeoutMs);
    }
    const current = this.current;
    if (current) {
      await current.channel.cancel(current.consumerTag).catch(() => undefined);
    }
    await settleWithin(Promise.allSettled([...this.inFlight]), Math.max(0, deadline - Date.now()));
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
    const { declare, queue } = this.options;
    if (declare) {
      await channel.assertQueue(queue, declare.options);
      for (const binding of declare.bindings ?? []) {
        await channel.bindQueue(queue, binding.exchange, binding.routingKey);
      }
    }
    await channel.prefetch(this.options.prefetch);
    if (await this.stopInstead(channel)) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) {
        this.log.warn('the broker cancelled this consumer (queue deleted?)');
        return;
      }
      this.track(this.handle(channel, message));
    });
    this.current = { channel, consumerTag };
    this.log.info({ prefetch: this.options.prefetch }, 'consuming');
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
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const headers = { ...(message.properties.headers ?? {}) } as Record<string, unknown>;
    const retriesSoFar = readRetryAttempts(headers[Headers.retryAttempts]);
    const attempt = retriesSoFar + 1;
    const maxAttempts = this.retry ? this.retry.maxAttempts : 1;
    const context: MessageContext = {
      messageId: message.properties.messageId as string | undefined,
      correlationId: message.properties.correlationId as string | undefined,
      attempt,
      isLastAttempt: attempt >= maxAttempts,
      headers,
      log: this.log.child({
        messageId: message.properties.messageId,
        correlationId: message.properties.correlationId,
        attempt,
      }),
    };

    const parsed = parseMessage(message.content, this.options.schema);
    if (!parsed.ok) {
      context.log.error({ problems: parsed.problems }, 'invalid message; dead-lettering it unseen');
      const error = { code: 'invalid_message', message: parsed.problems.join('; ').slice(0, 1000) };
      await this.settle(channel, message, context, () =>
        this.deadLetter(message, headers, { reason: 'invalid_message', attempt, error }, undefined, context),
      );
      return;
    }
    const body = parsed.value as Static<S>;

    try {
      await this.options.handler(body, context);
    } catch (failure) {
      const error = describeError(failure);
      const kind = classifyFailure(failure);
      if (kind === 'transient' && !context.isLastAttempt && this.retry) {
        const retry = this.retry;
        const delayMs = retryDelayMs(retry, attempt, {
          retryAfterMs: (failure as { retryAfterMs?: number }).retryAfterMs,
        });
        context.log.warn({ err: failure, delayMs }, 'attempt failed; retrying later');
        await this.settle(channel, message, context, async () => {
          const outcome = { attempt, delayMs, nextAttemptAt: new Date(Date.now() + delayMs), error };
          await this.options.onRetryScheduled?.(outcome, body, context);
          await this.client.republish(
            this.client.names.exchanges.delay,
            this.options.queue,
            message.content,
            message.properties,
            {
              ...headers,
              [Headers.retryAttempts]: attempt,
              [Headers.delay]: String(delayMs),
              [Headers.lastError]: error.message.slice(0, 1000),
              [Headers.errorCode]: error.code,
              [Headers.firstFailedAt]: headers[Headers.firstFailedAt] ?? new Date().toISOString(),
            },
          );
        });
        return;
      }
      const reason: DeadLetterReason = kind === 'permanent' ? 'permanent_error' : 'retries_exhausted';
      context.log.error({ err: failure, reason }, 'message failed for good; dead-lettering it');
      await this.settle(channel, message, context, () =>
        this.deadLetter(message, headers, { reason, attempt, error }, body, context),
      );
      return;
    }
    ack(channel, message, context.log);
  }

  /** Republishes elsewhere, then acks; if republishing fails, requeues so nothing is lost. */
  private async settle(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    context: MessageContext,
    republish: () => Promise<void>,
  ): Promise<void> {
    try {
      await republish();
    } catch (error) {
      context.log.error({ err: error }, 'could not move the message; requeueing it');
      try {
        channel.nack(message, false, true);
      } catch {
        // The channel is gone; the broker requeues every unacked message by itself.
      }
      return;
    }
    ack(channel, message, context.log);
  }

  private async deadLetter(
    message: ConsumeMessage,
    headers: Record<string, unknown>,
    outcome: DeadLettered,
    body: Static<S> | undefined,
    context: MessageContext,
  ): Promise<void> {
    await this.options.onDeadLettered?.(outcome, body, context);
    await this.client.republish(
      this.client.names.exchanges.deadLetter,
      this.options.queue,
      message.content,
      message.properties,
      {
        ...headers,
        [Headers.retryAttempts]: outcome.attempt - 1,
        [Headers.deadLetterReason]: outcome.reason,
        [Headers.lastError]: outcome.error.message.slice(0, 1000),
        [Headers.errorCode]: outcome.error.code,
        [Headers.originalQueue]: this.options.queue,
        [Headers.originalExchange]: message.fields.exchange,
        [Headers.originalRoutingKey]: message.fields.routingKey,
        [Headers.firstFailedAt]: headers[Headers.firstFailedAt] ?? new Date().toISOString(),
        [Headers.deadLetteredAt]: new Date().toISOString(),
      },
    );
  }
}

/** Waits for `work` at most `ms`, whatever its outcome. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function ack(channel: ConfirmChannel, message: ConsumeMessage, log: Logger): void {
  try {
    channel.ack(message);
  } catch (error) {
    // The channel closed under us: the broker will redeliver, and idempotent handlers absorb it.
    log.warn({ err: error }, 'could not ack; the message will be redelivered');
  }
}

function parseMessage(
  content: Buffer,
  schema: TSchema,
): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, problems: ['the body is not JSON'] };
  }
  const result = validateMessage(schema, json);
  if (result.ok) return { ok: true, value: result.value };
  return { ok: false, problems: result.errors.map((error) => `${error.path || '/'}: ${error.message}`) };
}

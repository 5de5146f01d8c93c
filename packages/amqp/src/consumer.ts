import { type AmqpConnectionManager } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type Logger } from 'pino';
import { type Static, type TSchema } from '@sinclair/typebox';
import { Headers, validateMessage } from '@herald/contracts';
import { lazyChild } from '@herald/runtime';
import { type AmqpClient } from './client';
import { classifyFailure, describeError, readRetryAttempts } from './failure';
import { ackSafely, QueueConsumer, type QueueDeclaration } from './queue-consumer';
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
export class Consumer<S extends TSchema> extends QueueConsumer {
  private readonly retry: RetryPolicy | false;

  constructor(
    client: AmqpClient,
    connection: AmqpConnectionManager,
    private readonly options: ConsumeOptions<S>,
    logger: Logger,
  ) {
    super(client, connection, options, logger);
    this.retry = options.retry === undefined ? client.retryPolicy : options.retry;
  }

  protected async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
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
      // made on first use: most messages log nothing at the configured level
      log: lazyChild(this.log, {
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
    ackSafely(channel, message, context.log);
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
    ackSafely(channel, message, context.log);
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

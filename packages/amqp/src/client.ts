import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type Logger } from 'pino';
import { type TSchema } from '@sinclair/typebox';
import { withTimeout } from '@herald/runtime';
import { Consumer, type ConsumeOptions } from './consumer';
import { type QueueConsumer } from './queue-consumer';
import { RawConsumer, type RawConsumeOptions } from './raw-consumer';
import {
  DEFAULT_RETRY_POLICY,
  declareTopology,
  topologyNames,
  type RetryPolicy,
  type TopologyNames,
} from './topology';

export interface AmqpClientOptions {
  url: string;
  logger: Logger;
  /** shown in the broker's connection list; one per service instance */
  connectionName: string;
  /** prefix for every name, to isolate stacks (or test suites) on one broker */
  namespace?: string;
  retry?: RetryPolicy;
  /** quorum queues' redelivery limit: the guard against poison loops that our code never sees */
  deliveryLimit?: number;
  /** a publish not confirmed within this time fails; the outbox publishes it again later */
  publishTimeoutMs?: number;
  heartbeatSeconds?: number;
  reconnectSeconds?: number;
}

/** The minimum of an envelope the client needs to publish it. */
export interface PublishableMessage {
  messageId: string;
  correlationId: string;
  type: string;
}

export interface PublishOptions {
  headers?: Record<string, unknown>;
  /** false only for fire-and-forget events that may have no subscriber yet (none in Herald) */
  mandatory?: boolean;
  /**
   * More routing keys the same message goes to (RabbitMQ's sender-selected
   * distribution, the `BCC` header, which the broker strips before delivery):
   * one publish and one confirm, however many keys.
   */
  bcc?: readonly string[];
}

/** The broker accepted the message but no queue was bound to take it. */
export class UnroutableError extends Error {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
  ) {
    super(`No queue is bound for ${exchange} / ${routingKey}`);
    this.name = 'UnroutableError';
  }
}

/**
 * One AMQP connection per service instance, recovering by itself: after the
 * broker drops it, it reconnects with backoff, re-declares the topology on
 * every channel and resumes every consumer. Publishing goes through one
 * confirm channel; each publish resolves only when the broker has the
 * message (persisted, routed), so many can be in flight at once.
 */
export class AmqpClient {
  readonly names: TopologyNames;
  readonly retryPolicy: RetryPolicy;
  private readonly connection: AmqpConnectionManager;
  private readonly publisher: ChannelWrapper;
  private readonly consumers = new Set<QueueConsumer>();
  /** message ids the broker returned as unroutable; their confirm follows the return */
  private readonly returned = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly options: AmqpClientOptions) {
    this.log = options.logger.child({ component: 'amqp' });
    this.names = topologyNames(options.namespace);
    this.retryPolicy = options.retry ?? DEFAULT_RETRY_POLICY;

    this.connection = amqp.connect([options.url], {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 10,
      reconnectTimeInSeconds: options.reconnectSeconds ?? 1,
      connectionOptions: { clientProperties: { connection_name: options.connectionName } },
    });
    this.connection.on('connect', ({ connection }) => {
      coalesceFrameWrites(connection);
      this.log.info('connected to the broker');
    });
    this.connection.on('disconnect', ({ err }) =>
      this.log.warn({ err: err?.message }, 'disconnected from the broker; reconnecting'),
    );
    this.connection.on('connectFailed', ({ err }) =>
      this.log.warn({ err: err?.message }, 'cannot reach the broker; retrying'),
    );
    this.connection.on('blocked', ({ reason }) => this.log.warn({ reason }, 'broker blocked publishing'));
    this.connection.on('unblocked', () => this.log.info('broker unblocked publishing'));

    this.publisher = this.connection.createChannel({
      name: 'publisher',
      confirm: true,
      json: false,
      publishTimeout: options.publishTimeoutMs ?? 10_000,
      setup: async (channel: ConfirmChannel) => {
        channel.on('return', (message: ConsumeMessage) => this.onReturn(message));
        await this.declare(channel);
      },
    });
    // A channel that fails while (re)declaring the topology is retried by the connection
    // manager; without a listener its 'error' event would crash the process.
    this.publisher.on('error', (err) =>
      this.log.warn({ err: err.message }, 'publisher channel failed; retrying'),
    );
  }

  /** Resolves once connected and the topology is declared (rejects after `timeoutMs`). */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    await withTimeout(
      this.publisher.waitForConnect(),
      timeoutMs,
      `The broker did not answer within ${timeoutMs} ms`,
    );
  }

  isConnected(): boolean {
    return this.connection.isConnected();
  }

  /**
   * Publishes one message, persistent and mandatory, and resolves when the
   * broker confirms it. Rejects when it is nacked, unroutable, or not
   * confirmed in time. Call it for many messages at once and await them
   * together: confirms are pipelined, never one round trip per message.
   */
  async publish(
    exchange: string,
    routingKey: string,
    message: PublishableMessage,
    options: PublishOptions = {},
  ): Promise<void> {
    const mandatory = options.mandatory ?? true;
    await this.publisher.publish(exchange, routingKey, Buffer.from(JSON.stringify(message)), {
      persistent: true,
      mandatory,
      contentType: 'application/json',
      messageId: message.messageId,
      correlationId: message.correlationId,
      type: message.type,
      timestamp: Math.floor(Date.now() / 1000),
      headers: options.headers ?? {},
      ...(options.bcc?.length ? { BCC: [...options.bcc] } : {}),
    });
    if (mandatory && this.returned.delete(message.messageId)) {
      throw new UnroutableError(exchange, routingKey);
    }
  }

  /** Publishes raw bytes (a dead letter being retried or replayed) with their original properties. */
  async republish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: ConsumeMessage['properties'],
    headers: Record<string, unknown>,
  ): Promise<void> {
    const messageId = typeof properties.messageId === 'string' ? properties.messageId : undefined;
    await this.publisher.publish(exchange, routingKey, content, {
      persistent: true,
      mandatory: true,
      contentType: properties.contentType ?? 'application/json',
      messageId,
      correlationId: properties.correlationId,
      type: properties.type,
      timestamp: properties.timestamp ?? Math.floor(Date.now() / 1000),
      headers,
    });
    if (messageId && this.returned.delete(messageId)) throw new UnroutableError(exchange, routingKey);
  }

  /** Starts a consumer; it resumes by itself after reconnects and stops on `close()`. */
  consume<S extends TSchema>(options: ConsumeOptions<S>): Consumer<S> {
    const consumer = new Consumer<S>(this, this.connection, options, this.log);
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Starts a consumer of raw messages (bytes and headers as delivered, acked by
   * its handler), with the same recovery and stop as `consume`; it stops on
   * `close()` too. For consumers the shared parsing must not touch: the DLQ drain.
   */
  consumeRaw(options: RawConsumeOptions): RawConsumer {
    const consumer = new RawConsumer(this, this.connection, options, this.log);
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * A raw channel on this client's self-recovering connection, for consumers
   * that must see bytes and headers as they are — the DLQ drain, which cannot
   * use `consume` (it would dead-letter a non-JSON dead letter back onto itself).
   * `setup` runs on every (re)connect; declare and consume there.
   */
  createChannel(options: {
    name: string;
    setup: (channel: ConfirmChannel) => Promise<void>;
  }): ChannelWrapper {
    const wrapper = this.connection.createChannel({
      name: options.name,
      confirm: true,
      setup: options.setup,
    });
    wrapper.on('error', (err) =>
      this.log.warn({ err: err.message, channel: options.name }, 'channel failed; retrying'),
    );
    return wrapper;
  }

  /** Runs Herald's topology declaration on a channel; every consumer channel calls it too. */
  async declare(channel: ConfirmChannel): Promise<void> {
    await declareTopology(channel, this.names, {
      retry: this.retryPolicy,
      deliveryLimit: this.options.deliveryLimit ?? 20,
    });
  }

  /**
   * Stops consumers first (finishing their in-flight messages), then waits
   * for pending publishes, then closes the connection.
   */
  async close(drainTimeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop(drainTimeoutMs)));
    this.consumers.clear();
    await this.publisher.close();
    await this.connection.close();
  }

  private onReturn(message: ConsumeMessage): void {
    const messageId = message.properties.messageId;
    // The publisher decides how bad this is (a job nobody takes, or an event with no live
    // subscriber), and gets an UnroutableError to act on; here it is only worth a warning.
    this.log.warn(
      { messageId, exchange: message.fields.exchange, routingKey: message.fields.routingKey },
      'message was unroutable',
    );
    if (typeof messageId === 'string') this.returned.add(messageId);
  }
}

/**
 * amqplib's Mux moves the frames its channels queued to the socket one
 * `write` at a time, each its own system call when the socket is idle
 * (a publish is two or three frames; at a few thousand publishes a second
 * that was over half of the notification service's socket writes). Corked
 * for the length of one pass, the frames of that pass leave in one writev.
 * Nothing else changes: the same frames in the same order, the same
 * back-pressure (a write past the socket's high-water mark still returns
 * false and the Mux waits for 'drain'). An amqplib without this internal
 * shape is left as it is.
 */
export function coalesceFrameWrites(model: unknown): void {
  const muxer = (model as { connection?: { muxer?: Muxer } } | undefined)?.connection?.muxer;
  if (!muxer || muxer.heraldCorked || typeof muxer._readIncoming !== 'function') return;
  const cork = muxer.out?.cork?.bind(muxer.out);
  const uncork = muxer.out?.uncork?.bind(muxer.out);
  if (!cork || !uncork) return;
  const readIncoming = muxer._readIncoming.bind(muxer);
  muxer._readIncoming = () => {
    cork();
    try {
      readIncoming();
    } finally {
      uncork();
    }
  };
  muxer.heraldCorked = true;
}

interface Muxer {
  out?: { cork?: () => void; uncork?: () => void };
  _readIncoming?: () => void;
  heraldCorked?: boolean;
}

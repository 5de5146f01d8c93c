import { type ConfirmChannel } from 'amqplib';
import {
  DurableQueues,
  ExchangeTypes,
  RetiredBindings,
  Exchanges,
  Headers,
  Queues,
  WorkQueueByRoutingKey,
  type DurableQueueDeclaration,
  type DurableQueueKey,
  type ExchangeKey,
  type WorkRoutingKey,
} from '@herald/contracts';

/** Every name Herald declares, with an optional namespace prefix for isolation. */
export interface TopologyNames {
  namespace: string;
  exchanges: Record<ExchangeKey, string>;
  queues: {
    work: Record<WorkRoutingKey, string>;
    deadLetter: string;
    notificationEvents: string;
  };
  /** every durable queue of `DurableQueues` (contracts), by its key */
  durableQueues: Record<DurableQueueKey, string>;
  delayQueue(ttlMs: number): string;
  /** a name inside this namespace, for queues a service owns (e.g. realtime's per-instance queue) */
  scoped(name: string): string;
}

export function topologyNames(namespace = ''): TopologyNames {
  const scoped = (name: string) => (namespace ? `${namespace}.${name}` : name);
  return {
    namespace,
    exchanges: {
      work: scoped(Exchanges.work),
      delay: scoped(Exchanges.delay),
      deadLetter: scoped(Exchanges.deadLetter),
      events: scoped(Exchanges.events),
    },
    queues: {
      work: {
        email: scoped(WorkQueueByRoutingKey.email),
        sms: scoped(WorkQueueByRoutingKey.sms),
        push: scoped(WorkQueueByRoutingKey.push),
      },
      deadLetter: scoped(Queues.deadLetter),
      notificationEvents: scoped(Queues.notificationEvents),
    },
    durableQueues: Object.fromEntries(
      Object.entries(DurableQueues).map(([key, queue]) => [key, scoped(queue.name)]),
    ) as Record<DurableQueueKey, string>,
    delayQueue: (ttlMs) => scoped(`${Queues.delayPrefix}${ttlMs}`),
    scoped,
  };
}

export interface RetryPolicy {
  /** total attempts including the first; after the last failure the message is dead-lettered */
  maxAttempts: number;
  /** base delay before retry n (index n-1); the last step repeats if attempts outnumber steps */
  delaysMs: number[];
  /** ± fraction of each delay, realised as extra delay queues (queue TTLs cannot vary per message) */
  jitter: number;
}

/**
 * The default: 8 attempts, 7 waits of 2 s, 10 s, 30 s, 1 min, 3 min, 8 min and
 * 15 min — about 28 minutes in all, long enough to ride out a provider incident,
 * short enough that a user still gets a timely answer or a clear failure.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  delaysMs: [2_000, 10_000, 30_000, 60_000, 180_000, 480_000, 900_000],
  jitter: 0.2,
};

const JITTER_BUCKETS = [-1, 0, 1] as const;

/** The TTLs of every delay queue a policy needs: each step, and each step ± jitter. */
export function delayQueueTtls(policy: RetryPolicy): number[] {
  const ttls = new Set<number>();
  for (const step of policy.delaysMs) {
    for (const bucket of JITTER_BUCKETS)
      ttls.add(Math.max(1, Math.round(step * (1 + bucket * policy.jitter))));
  }
  return [...ttls].sort((a, b) => a - b);
}

/**
 * The delay before the next attempt, after `failedAttempts` failures.
 * Jitter picks one of the step's delay queues at random so that a burst of
 * failures does not come back as one burst. A provider's Retry-After raises
 * the delay to the shortest delay queue that honours it — max(step,
 * Retry-After) rounded up to a queue's TTL — and is capped at the longest
 * delay queue (queue TTLs are fixed, and a wait past the policy's longest is
 * not worth holding a job for; the next attempt may be throttled again).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempts: number,
  options: { retryAfterMs?: number; random?: () => number } = {},
): number {
  const random = options.random ?? Math.random;
  const ttls = delayQueueTtls(policy);
  const stepIndex = Math.min(Math.max(failedAttempts, 1), policy.delaysMs.length) - 1;
  const step = policy.delaysMs[stepIndex]!;
  const bucket =
    JITTER_BUCKETS[Math.min(Math.floor(random() * JITTER_BUCKETS.length), JITTER_BUCKETS.length - 1)]!;
  let delay = Math.max(1, Math.round(step * (1 + bucket * policy.jitter)));
  if (options.retryAfterMs !== undefined && options.retryAfterMs > delay) {
    delay = ttls.find((ttl) => ttl >= options.retryAfterMs!) ?? ttls[ttls.length - 1]!;
  }
  return delay;
}

export interface TopologyOptions {
  retry: RetryPolicy;
  /**
   * Quorum queues replicate work across a cluster, and their delivery limit
   * is a second guard against poison loops (a message redelivered this many
   * times is dead-lettered even if our own handling never gets to run).
   */
  deliveryLimit: number;
}

/**
 * The arguments of a durable queue as contracts declares it. A quorum queue
 * that dead-letters gets the delivery limit too: without somewhere to go, a
 * message past the limit would be dropped.
 */
export function durableQueueArguments(
  names: TopologyNames,
  queue: DurableQueueDeclaration,
  deliveryLimit: number,
): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': queue.type };
  if (queue.deadLetterExchange) {
    args['x-dead-letter-exchange'] = names.exchanges[queue.deadLetterExchange];
    if (queue.type === 'quorum') args['x-delivery-limit'] = deliveryLimit;
  }
  return args;
}

/**
 * Declares Herald's shared topology: the exchanges and durable queues of
 * `ExchangeTypes` and `DurableQueues` (contracts), and the delay queues of
 * the retry policy. Idempotent: every channel runs it when it (re)connects,
 * so a broker that lost its definitions gets them back.
 *
 * Retries: a failed message is published to the `delay` headers exchange with
 * header `herald-delay-ms` and, as routing key, the name of the queue it came
 * from. The delay queue for that TTL holds it, then dead-letters it to the
 * default exchange under its original routing key — straight back into the
 * queue it failed in. For the work queues that is the same as going back
 * through the work exchange by channel; for a fanned-out event it retries only
 * the consumer that failed, not every subscriber.
 */
export async function declareTopology(
  channel: ConfirmChannel,
  names: TopologyNames,
  options: TopologyOptions,
): Promise<void> {
  const { exchanges } = names;
  for (const [key, type] of Object.entries(ExchangeTypes) as [ExchangeKey, string][]) {
    await channel.assertExchange(exchanges[key], type, { durable: true });
  }

  for (const [key, queue] of Object.entries(DurableQueues) as [DurableQueueKey, DurableQueueDeclaration][]) {
    const name = names.durableQueues[key];
    await channel.assertQueue(name, {
      durable: true,
      arguments: durableQueueArguments(names, queue, options.deliveryLimit),
    });
    for (const binding of queue.bindings) {
      await channel.bindQueue(name, exchanges[binding.exchange], binding.routingKey);
    }
  }
  // unbinding what is not bound is a no-op for the broker
  for (const retired of RetiredBindings) {
    await channel.unbindQueue(
      names.durableQueues[retired.queue],
      exchanges[retired.exchange],
      retired.routingKey,
    );
  }

  for (const ttl of delayQueueTtls(options.retry)) {
    const queue = names.delayQueue(ttl);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: { 'x-message-ttl': ttl, 'x-dead-letter-exchange': '' },
    });
    // Headers exchanges ignore headers that start with "x-", hence our own prefix.
    await channel.bindQueue(queue, exchanges.delay, '', { 'x-match': 'all', [Headers.delay]: String(ttl) });
  }
}

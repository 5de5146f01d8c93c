import { EventRoutingKeys, Queues, WorkRoutingKeys, type Exchanges } from './names';

/*
 * What Herald declares on RabbitMQ, as data: the one place that says which
 * exchange is of which kind and which durable queue binds what. `@herald/amqp`'s
 * `declareTopology` declares exactly this (with a namespace prefix in tests);
 * no service declares a durable queue of its own, so a queue's arguments can
 * never disagree between two declarers (the broker refuses the second).
 *
 * Delay queues (one per retry TTL, derived from the retry policy) and
 * realtime's per-instance fan-out queues (exclusive, auto-delete) are not
 * here: they are not fixed, durable declarations.
 */

export type ExchangeKey = keyof typeof Exchanges;
export type ExchangeType = 'direct' | 'topic' | 'headers' | 'fanout';

/** The kind of each exchange in `Exchanges` (names.ts says what each carries). */
export const ExchangeTypes = {
  work: 'direct',
  delay: 'headers',
  deadLetter: 'fanout',
  events: 'topic',
} as const satisfies Record<ExchangeKey, ExchangeType>;

export interface QueueBinding {
  readonly exchange: ExchangeKey;
  /** a routing key, or for the topic exchange a pattern (`user.*`) */
  readonly routingKey: string;
}

export interface DurableQueueDeclaration {
  readonly name: string;
  /**
   * quorum: replicated across a cluster, with a delivery limit as a second
   * guard against poison loops; classic: a single node's queue.
   */
  readonly type: 'quorum' | 'classic';
  /**
   * Where the broker sends what it gives up on (past the delivery limit).
   * Absent only for the dead-letter queue itself.
   */
  readonly deadLetterExchange?: ExchangeKey;
  readonly bindings: readonly QueueBinding[];
}

/** Every durable queue Herald declares, in declaration order. */
export const DurableQueues = {
  /** everything that cannot be processed, for an operator to inspect and replay */
  deadLetter: {
    name: Queues.deadLetter,
    type: 'quorum',
    bindings: [{ exchange: 'deadLetter', routingKey: '' }],
  },
  /** the worker's email jobs */
  workEmail: {
    name: Queues.workEmail,
    type: 'quorum',
    deadLetterExchange: 'deadLetter',
    bindings: [{ exchange: 'work', routingKey: WorkRoutingKeys.email }],
  },
  /** the worker's SMS jobs */
  workSms: {
    name: Queues.workSms,
    type: 'quorum',
    deadLetterExchange: 'deadLetter',
    bindings: [{ exchange: 'work', routingKey: WorkRoutingKeys.sms }],
  },
  /** the worker's Web Push jobs */
  workPush: {
    name: Queues.workPush,
    type: 'quorum',
    deadLetterExchange: 'deadLetter',
    bindings: [{ exchange: 'work', routingKey: WorkRoutingKeys.push }],
  },
  /**
   * The notification service's inbox: the worker's delivery reports and all
   * of auth's user, API key, subscriber and topic events (its read models), and the worker's gone push
   * subscriptions, and the workflows service's sends and run changes. Declared with the rest by every service, so what
   * auth and the worker publish is kept even before the notification service
   * first starts.
   */
  notificationEvents: {
    name: Queues.notificationEvents,
    type: 'quorum',
    deadLetterExchange: 'deadLetter',
    bindings: [
      { exchange: 'events', routingKey: EventRoutingKeys.deliveryStatus },
      { exchange: 'events', routingKey: 'user.*' },
      { exchange: 'events', routingKey: 'apikey.*' },
      { exchange: 'events', routingKey: 'subscriber.*' },
      { exchange: 'events', routingKey: 'push.*' },
      { exchange: 'events', routingKey: 'topic.*' },
      { exchange: 'events', routingKey: EventRoutingKeys.workflowSend },
      { exchange: 'events', routingKey: EventRoutingKeys.workflowRunChanged },
    ],
  },
  /**
   * The workflows service's inbox: what became of the notifications its runs
   * made (created, read, delivered; only those: the notification service
   * sends them on under the `workflows.notification.*` keys), the steps the
   * notification service refused, which templates exist, auth's API keys,
   * and auth's topics and their members (triggers to a topic).
   */
  workflowEvents: {
    name: Queues.workflowEvents,
    type: 'quorum',
    deadLetterExchange: 'deadLetter',
    bindings: [
      { exchange: 'events', routingKey: EventRoutingKeys.runNotificationCreated },
      { exchange: 'events', routingKey: EventRoutingKeys.runNotificationUpdated },
      { exchange: 'events', routingKey: EventRoutingKeys.workflowStepRefused },
      { exchange: 'events', routingKey: EventRoutingKeys.templateChanged },
      { exchange: 'events', routingKey: 'apikey.*' },
      { exchange: 'events', routingKey: 'topic.*' },
    ],
  },
} as const satisfies Record<string, DurableQueueDeclaration>;

export type DurableQueueKey = keyof typeof DurableQueues;

export interface RetiredBinding extends QueueBinding {
  readonly queue: DurableQueueKey;
}

/**
 * Bindings an earlier Herald declared that this one no longer wants. A
 * redeclared queue keeps every binding it ever had, so `declareTopology`
 * removes these at start-up: a broker carried over from an older version
 * ends with exactly the bindings above.
 */
export const RetiredBindings: readonly RetiredBinding[] = [
  // every notification's events went to the workflows service; now only its runs' (runNotification*)
  { queue: 'workflowEvents', exchange: 'events', routingKey: EventRoutingKeys.notificationCreated },
  { queue: 'workflowEvents', exchange: 'events', routingKey: EventRoutingKeys.notificationUpdated },
];

import { type AmqpClient } from '@herald/amqp';
import {
  EventRoutingKeyByMessageType,
  createMessage,
  type EventMessageType,
  type PayloadOf,
} from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type Model, type Types } from 'mongoose';
import { type OutboxEntry } from '../data/outbox-entry';

/** A collection whose documents carry an `outbox` array (users, API keys, subscribers). */
// The virtuals `any` too, not only the document: with the default, whether a model with virtuals
// (`id`) fits depends on the order the compiler meets mongoose's generics in.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any -- any document shape with an `outbox` field
export type OutboxCollection = Model<any, {}, {}, any>;

type DocumentId = Types.ObjectId | string;

/**
 * The transactional outbox, without transactions.
 *
 * 1. A change to a document (a user, an API key, a subscriber) and the events
 *    it causes are written in ONE update of that document (`outbox` array):
 *    either both are saved or neither. One outbox per collection.
 * 2. After the response, `publishSoon` publishes that document's pending
 *    events with confirms and `$pull`s exactly the confirmed ones.
 * 3. If the broker is down or the process dies in between, the entries stay.
 *    Every instance runs the relay: each tick it finds users holding entries
 *    older than one interval and publishes them again.
 *
 * Delivery is at least once: two instances may relay the same entry, and a
 * crash between the confirm and the `$pull` republishes it. Every entry keeps
 * its `messageId`, so consumers deduplicate; user events also carry the
 * user's `revision`, so an older snapshot never overwrites a newer one.
 */
export class EventOutbox {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly running = new Map<string, { again: boolean; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private relaying = false;
  private closed = false;

  constructor(
    private readonly documents: OutboxCollection,
    private readonly amqp: AmqpClient,
    private readonly log: Logger,
    private readonly relayIntervalMs: number,
    /** stamps entries and decides which have waited long enough for the relay */
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** An entry for the user update that causes it. */
  entry<T extends EventMessageType>(type: T, payload: PayloadOf<T>, correlationId: string): OutboxEntry {
    const message = createMessage(type, payload, { correlationId });
    return {
      messageId: message.messageId,
      routingKey: EventRoutingKeyByMessageType[type],
      message,
      createdAt: this.now(),
    };
  }

  /** Publishes a user's pending events in the background; failures are left to the relay. */
  publishSoon(userId: DocumentId): void {
    const work = this.publishSerialized(String(userId)).catch((err: unknown) => {
      this.log.warn(
        { userId: String(userId), err: errorMessage(err) },
        'events not published yet; relay will retry',
      );
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * One publisher per user in this process: a second call while one runs
   * only asks it to look again, so entries are not published twice by
   * overlapping passes and a user's events keep their order.
   */
  private publishSerialized(userId: string): Promise<void> {
    const running = this.running.get(userId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.publishPending(userId);
        } while (state.again);
      } finally {
        this.running.delete(userId);
      }
    })();
    this.running.set(userId, state);
    return state.done;
  }

  /** Publishes every pending entry of one user concurrently (confirms pipelined), then removes the confirmed ones. */
  async publishPending(userId: DocumentId): Promise<void> {
    const document = await this.documents.findById(userId, { outbox: 1 }).lean<{ outbox?: OutboxEntry[] }>();
    const entries = document?.outbox ?? [];
    if (entries.length === 0) return;
    const exchange = this.amqp.names.exchanges.events;
    // One confirm channel keeps publish order, so a user's events reach each queue in the order they were saved.
    const results = await Promise.allSettled(
      entries.map((entry) =>
        this.amqp.publish(exchange, entry.routingKey, entry.message as Parameters<AmqpClient['publish']>[2]),
      ),
    );
    const published = entries.filter((_, index) => results[index]!.status === 'fulfilled');
    if (published.length > 0) {
      await this.documents.updateOne(
        { _id: userId },
        { $pull: { outbox: { messageId: { $in: published.map((entry) => entry.messageId) } } } },
      );
    }
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Publishes entries just written to many documents (a bulk import), given
   * as written: the publishes pipelined on the confirm channel, then one
   * `$pull` for them all. Awaited by the caller, so a long import never holds
   * more than one batch of events; what fails stays for the relay.
   */
  async publishWritten(ids: DocumentId[], entries: OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const exchange = this.amqp.names.exchanges.events;
    const results = await Promise.allSettled(
      entries.map((entry) =>
        this.amqp.publish(exchange, entry.routingKey, entry.message as Parameters<AmqpClient['publish']>[2]),
      ),
    );
    const published = entries.filter((_, index) => results[index]!.status === 'fulfilled');
    if (published.length > 0) {
      await this.documents.updateMany(
        { _id: { $in: ids } },
        { $pull: { outbox: { messageId: { $in: published.map((entry) => entry.messageId) } } } },
      );
    }
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      this.log.warn({ err: errorMessage(failed.reason) }, 'events not published yet; relay will retry');
    }
  }

  /**
   * One relay pass over every user whose events have waited longer than an
   * interval, in `_id` order and in batches, so a few users whose events keep
   * failing can never starve the rest. Returns how many users it handled.
   */
  async relayOnce(batchSize = 100): Promise<number> {
    const olderThan = new Date(this.now().getTime() - this.relayIntervalMs);
    let handled = 0;
    let after: DocumentId | undefined;
    for (;;) {
      const users = await this.documents
        .find(
          { 'outbox.createdAt': { $lt: olderThan }, ...(after ? { _id: { $gt: after } } : {}) },
          { _id: 1 },
        )
        .sort({ _id: 1 })
        .limit(batchSize)
        .lean<{ _id: DocumentId }[]>();
      await Promise.all(
        users.map((user) =>
          this.publishSerialized(String(user._id)).catch((err: unknown) => {
            this.log.warn(
              { userId: String(user._id), err: errorMessage(err) },
              'relay could not publish events',
            );
          }),
        ),
      );
      handled += users.length;
      if (users.length < batchSize || this.closed) return handled;
      after = users[users.length - 1]!._id;
    }
  }

  startRelay(): void {
    this.timer = setInterval(() => {
      // a slow pass (broker timing out) must not overlap the next one
      if (this.relaying) return;
      this.relaying = true;
      const pass = this.relayOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err }, 'outbox relay pass failed'))
        .finally(() => {
          this.relaying = false;
          this.inFlight.delete(pass);
        });
      this.inFlight.add(pass);
    }, this.relayIntervalMs);
    this.timer.unref();
  }

  /** Stops the relay and waits for background publishes, before AMQP and Mongo close. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { randomUUID } from 'node:crypto';
import { type PublishableMessage } from '@herald/amqp';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { CreatedBatchItem, MessageTypes, createMessage, validateMessage } from '@herald/contracts';

/**
 * notifications per `notifications.created`, at most. A summary carries the body (up to 10,000
 * characters) and the application's `data` (up to 8 KB): a full batch of the largest is a few MB,
 * far below the broker's limit.
 */
export const CREATED_BATCH_SIZE = 100;
/** batches on their way at once; notifications accepted meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

/**
 * The inbox events of the accept path, group-published: every notification
 * whose `notification.created` is owed while earlier batches await the
 * broker's confirm goes into one `notifications.created` message. At
 * thousands of notifications a second, one message each was most of the
 * broker's work and a good part of realtime's and this service's; a batch
 * costs one publish, one confirm, one delivery and one ack. A caller resumes
 * when the message holding its notification is confirmed (or nobody was
 * listening), and fails with it: the relay then publishes it again later.
 *
 * Realtime dead-letters a message that breaks the contract, whole: an item
 * that does not pass the contract's schema here (a bug upstream) is sent in
 * a message of its own, so that only its own push is lost to the dead-letter
 * queue, as when each notification had its own message.
 */
export class CreatedEvents {
  private readonly batches = new Batcher<CreatedBatchItem, void>((items) => this.publishAll(items), {
    maxBatch: CREATED_BATCH_SIZE,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(
    /** publishes on the events exchange under `notifications.created`; "no subscriber" is not an error */
    private readonly publish: (message: PublishableMessage) => Promise<void>,
    private readonly now: () => Date,
  ) {}

  /** Resolves once the batch holding this notification's event is confirmed. */
  submit(item: CreatedBatchItem): Promise<void> {
    return this.batches.submit(item);
  }

  private async publishAll(items: CreatedBatchItem[]): Promise<ItemOutcome<void>[]> {
    const valid = items.map((item) => validateMessage(CreatedBatchItem, item).ok);
    const batch = items.filter((_, index) => valid[index]);
    const [together, ...alone] = await Promise.allSettled([
      batch.length > 0 ? this.publishBatch(batch) : Promise.resolve(),
      ...items.filter((_, index) => !valid[index]).map((item) => this.publishBatch([item])),
    ]);
    let next = 0;
    return items.map((_, index) => {
      const outcome = valid[index] ? together! : alone[next++]!;
      return outcome.status === 'fulfilled'
        ? { ok: true, value: undefined }
        : { ok: false, error: outcome.reason };
    });
  }

  private async publishBatch(items: CreatedBatchItem[]): Promise<void> {
    const messageId = randomUUID();
    // a batch has no one request behind it: its own id (each item carries its request's); alone, that one's
    const correlationId = items.length === 1 ? items[0]!.correlationId : messageId;
    const message = createMessage(
      MessageTypes.notificationsCreated,
      { items },
      { messageId, correlationId, occurredAt: this.now() },
    );
    await this.publish(message);
  }
}

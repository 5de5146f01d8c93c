import { randomUUID } from 'node:crypto';
import { type PublishableMessage } from '@herald/amqp';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { MessageTypes, createMessage, type CreatedBatchItem } from '@herald/contracts';

/** notifications per `notifications.created`, at most (a summary is a few KB at worst: a batch stays well under a MB) */
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
    const messageId = randomUUID();
    // a batch has no one request behind it: its own id (each item carries its request's); alone, that one's
    const correlationId = items.length === 1 ? items[0]!.correlationId : messageId;
    const message = createMessage(
      MessageTypes.notificationsCreated,
      { items },
      { messageId, correlationId, occurredAt: this.now() },
    );
    await this.publish(message);
    return items.map(() => ({ ok: true, value: undefined }));
  }
}

import { type mongo } from 'mongoose';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { writeErrorsOf } from '@herald/runtime/mongo';
import { type NotificationModel, type NotificationRecord } from './notification-model';

/** notifications per insert, at most */
const MAX_BATCH = 500;
/** inserts on their way at once; what arrives meanwhile leaves together next */
const MAX_IN_FLIGHT = 2;
/**
 * How long the first notification of an insert waits for others. At a moderate rate each request
 * found a write slot free and its insert left with one or two others: at 1,371/s, 0.4 insert
 * commands per notification, each a socket write and a round of the driver's bulk machinery. 1 ms
 * (a timer fires after 1-2) cut the service's CPU per notification by a sixth and the database's by
 * a seventh (`pnpm bench:latency 1371 10`, alternating: 0.447 / 0.441 / 0.426 / 0.424 ms against
 * 0.530 / 0.502 / 0.516 / 0.514), the 202's p50 +0.5 ms, POST → socket p99 23.4 / 13.8 / 10.5 /
 * 15.7 ms against 20.8 / 16.3 / 14.5 / 26.3; under full load (`bench:gateway`) the slots are
 * busy anyway and batches were as large (19 against 15 notifications an insert, 5,270/s against
 * 5,035/s).
 */
const INSERT_LINGER_MS = 1;

/**
 * The one write every accepted notification makes, storing it, batched (see
 * Batcher, lingering 1 ms): under load, many requests' documents go in one `insertMany`, and
 * each caller resumes only once MongoDB has acknowledged the write holding
 * its own. Through the driver, not mongoose: these documents are built in
 * full by the domain, already of the schema's types. (Confirming its
 * messages writes no notification: see the outbox's confirmation log.)
 */
export class NotificationWrites {
  private readonly inserts = new Batcher<NotificationRecord, void>((records) => this.insertAll(records), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
    lingerMs: INSERT_LINGER_MS,
  });

  constructor(private readonly model: NotificationModel) {}

  /** Resolves once stored; a duplicate dedupe key rejects with MongoDB's duplicate-key error. */
  insert(record: NotificationRecord): Promise<void> {
    return this.inserts.submit(record);
  }

  /**
   * `ignoreUndefined`: a field the domain left undefined (no `sendAt`, no recipient name) is left
   * out of the document, at any depth, as mongoose leaves it out; the driver would store null.
   * (Stripping them from each record first, with `delete`, was 2 % of this service's CPU.)
   */
  private async insertAll(records: NotificationRecord[]): Promise<ItemOutcome<void>[]> {
    const failures = await writeErrorsOf(
      this.model.collection.insertMany(records, { ordered: false, ignoreUndefined: true }),
    );
    return outcomes(records.length, failures);
  }
}

function outcomes(count: number, failures: Map<number, mongo.MongoServerError>): ItemOutcome<void>[] {
  return Array.from({ length: count }, (_, index) => {
    const failure = failures.get(index);
    return failure ? { ok: false, error: failure } : { ok: true, value: undefined };
  });
}

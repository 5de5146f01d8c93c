import { type mongo } from 'mongoose';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { writeErrorsOf } from '@herald/runtime/mongo';
import { type NotificationModel, type NotificationRecord } from './notification-model';

/** notifications per insert, at most */
const MAX_BATCH = 500;
/** inserts on their way at once; what arrives meanwhile leaves together next */
const MAX_IN_FLIGHT = 2;

/**
 * The one write every accepted notification makes, storing it, batched (see
 * Batcher): under load, many requests' documents go in one `insertMany`, and
 * each caller resumes only once MongoDB has acknowledged the write holding
 * its own. Through the driver, not mongoose: these documents are built in
 * full by the domain, already of the schema's types. (Confirming its
 * messages writes no notification: see the outbox's confirmation log.)
 */
export class NotificationWrites {
  private readonly inserts = new Batcher<NotificationRecord, void>((records) => this.insertAll(records), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
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

import { type mongo } from 'mongoose';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { writeErrorsOf } from '@herald/runtime/mongo';
import { type NotificationModel, type NotificationRecord } from './notification-model';

/** notifications per insert or bulk write, at most */
const MAX_BATCH = 500;
/** writes of one kind on their way at once; what arrives meanwhile leaves together next */
const MAX_IN_FLIGHT = 2;

export interface LeaseRelease {
  /** the lease's owner, which names exactly one notification (a unique index) */
  owner: string;
  /** what the holder writes as it lets go */
  update: mongo.UpdateFilter<mongo.Document>;
}

/**
 * The two writes every accepted notification makes — storing it, and
 * releasing its outbox lease once its messages are published — batched
 * (see Batcher): under load, many requests' writes go in one
 * `insertMany` / `bulkWrite`, and each caller resumes only once MongoDB has
 * acknowledged the write holding its own. Through the driver, not mongoose:
 * these documents and updates are built in full by the domain, already of
 * the schema's types.
 */
export class NotificationWrites {
  private readonly inserts = new Batcher<NotificationRecord, void>((records) => this.insertAll(records), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  private readonly releases = new Batcher<LeaseRelease, void>((releases) => this.releaseAll(releases), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(private readonly model: NotificationModel) {}

  /** Resolves once stored; a duplicate dedupe key rejects with MongoDB's duplicate-key error. */
  insert(record: NotificationRecord): Promise<void> {
    return this.inserts.submit(record);
  }

  /** Applies `update` if `owner` still holds the lease; else nothing (the new holder's view wins). */
  releaseLease(release: LeaseRelease): Promise<void> {
    return this.releases.submit(release);
  }

  private async insertAll(records: NotificationRecord[]): Promise<ItemOutcome<void>[]> {
    const failures = await writeErrorsOf(this.model.collection.insertMany(records, { ordered: false }));
    return outcomes(records.length, failures);
  }

  private async releaseAll(releases: LeaseRelease[]): Promise<ItemOutcome<void>[]> {
    const failures = await writeErrorsOf(
      this.model.collection.bulkWrite(
        releases.map(({ owner, update }) => ({
          updateOne: { filter: { outboxLeaseOwner: owner }, update },
        })),
        { ordered: false },
      ),
    );
    return outcomes(releases.length, failures);
  }
}

function outcomes(count: number, failures: Map<number, mongo.MongoServerError>): ItemOutcome<void>[] {
  return Array.from({ length: count }, (_, index) => {
    const failure = failures.get(index);
    return failure ? { ok: false, error: failure } : { ok: true, value: undefined };
  });
}

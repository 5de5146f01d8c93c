import { type mongo } from 'mongoose';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { isDuplicateKeyError, writeErrorsOf } from '@herald/runtime/mongo';
import { type QuotaCounterModel, type QuotaCounterRecord } from './quota-counter-model';

/** counter updates per bulk write, at most */
const MAX_BATCH = 1_000;
/** bulk writes on their way at once; what arrives meanwhile leaves together in the next */
const MAX_IN_FLIGHT = 2;

type CounterWrite = mongo.AnyBulkWriteOperation<QuotaCounterRecord>;

/** Adding `by` to one window's counter, unless that would take it past `limit`. */
export interface CounterIncrement {
  counter: Omit<QuotaCounterRecord, 'count'>;
  by: number;
  limit: number;
}

/**
 * The quota counters' writes, batched (see Batcher): the increments of every
 * request arriving while earlier ones are on their way leave in one unordered
 * `bulkWrite`, so under load a request's counting costs a fraction of a
 * database operation, and alone exactly one.
 *
 * An increment is one conditional upsert: `{_id, count ≤ limit − by}` →
 * `$inc`. A counter that would pass its limit does not match, the upsert
 * then tries to insert the same `_id`, and that duplicate-key error is the
 * refusal — decided by MongoDB atomically, whichever instance asks.
 */
export class QuotaCounters {
  private readonly charges = new Batcher<CounterIncrement[], boolean[]>((items) => this.chargeAll(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  private readonly refunds = new Batcher<CounterIncrement[], void>((items) => this.refundAll(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(private readonly model: QuotaCounterModel) {}

  /** Through the driver: counters are plain documents, and this is the accept path. */
  private get collection(): mongo.Collection<QuotaCounterRecord> {
    return this.model.collection as unknown as mongo.Collection<QuotaCounterRecord>;
  }

  /**
   * Applies each increment that fits its limit; per increment, whether it
   * was applied. A refusal may also be a lost race to create a new window's
   * counter (both upserts tried to insert it): the caller asks again once.
   */
  increment(increments: CounterIncrement[]): Promise<boolean[]> {
    return this.charges.submit(increments);
  }

  /** Takes back increments that were applied. */
  decrement(increments: CounterIncrement[]): Promise<void> {
    return this.refunds.submit(increments);
  }

  private async chargeAll(items: CounterIncrement[][]): Promise<ItemOutcome<boolean[]>[]> {
    const statements = items.flat().map(({ counter, by, limit }): CounterWrite => {
      const { _id, ...onInsert } = counter;
      return {
        updateOne: {
          filter: { _id, count: { $lte: limit - by } },
          update: { $inc: { count: by }, $setOnInsert: onInsert },
          upsert: true,
        },
      };
    });
    const failures = await writeErrorsOf(this.collection.bulkWrite(statements, { ordered: false }));
    return perItem(items, failures, (failure) => {
      if (!isDuplicateKeyError(failure)) throw failure;
      return false;
    });
  }

  private async refundAll(items: CounterIncrement[][]): Promise<ItemOutcome<void>[]> {
    const statements = items.flat().map(({ counter, by }): CounterWrite => ({
      updateOne: { filter: { _id: counter._id }, update: { $inc: { count: -by } } },
    }));
    const failures = await writeErrorsOf(this.collection.bulkWrite(statements, { ordered: false }));
    return perItem(items, failures, (failure) => {
      throw failure;
    }).map((outcome): ItemOutcome<void> => (outcome.ok ? { ok: true, value: undefined } : outcome));
  }
}

/** Splits the flat statements' failures back into each caller's increments. */
function perItem(
  items: CounterIncrement[][],
  failures: Map<number, mongo.MongoServerError>,
  onFailure: (failure: mongo.MongoServerError) => boolean,
): ItemOutcome<boolean[]>[] {
  let offset = 0;
  return items.map((increments) => {
    const first = offset;
    offset += increments.length;
    try {
      const applied = increments.map((_, index) => {
        const failure = failures.get(first + index);
        return failure ? onFailure(failure) : true;
      });
      return { ok: true, value: applied };
    } catch (error) {
      return { ok: false, error };
    }
  });
}

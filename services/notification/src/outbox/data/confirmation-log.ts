import { type Types } from 'mongoose';
import { Batcher, type ItemOutcome, type LingerTimers } from '@herald/runtime';
import { type OutboxConfirmationModel } from './outbox-models';

/** confirmations per record, at most */
const MAX_BATCH = 1000;
/** spent records deleted at once (see forgetBefore) */
const FORGET_CHUNK = 50;
/** records on their way at once; confirmations arriving meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

export interface Confirmation {
  id: Types.ObjectId;
  dueAt: Date;
}

/**
 * Group commit of the broker's confirmations: every notification whose
 * messages were all confirmed within `lingerMs` of the first (or while
 * earlier records were on their way) goes into one `outbox_confirmations`
 * document (see Batcher), so recording them costs one inserted document per
 * batch, not one update per notification. A caller resumes once the record
 * holding its id is acknowledged.
 */
export class ConfirmationLog {
  private readonly records: Batcher<Confirmation, void>;

  constructor(
    private readonly model: OutboxConfirmationModel,
    private readonly now: () => Date,
    lingerMs = 0,
    /** the linger's clock (a test's) */
    timers?: LingerTimers,
  ) {
    this.records = new Batcher<Confirmation, void>((items) => this.recordAll(items), {
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
      lingerMs,
      ...(timers ? { timers } : {}),
    });
  }

  record(confirmation: Confirmation): Promise<void> {
    return this.records.submit(confirmation);
  }

  /**
   * Writes the confirmations lingering for company now, and resolves once every one recorded
   * before the call is stored: the relay reads the log after this, so a notification this
   * instance has confirmed is not published again because its record was still waiting.
   */
  flush(): Promise<void> {
    return this.records.flush();
  }

  /** Records these at once, as one document (the relay's own republishes). */
  async recordNow(confirmations: Confirmation[]): Promise<void> {
    if (confirmations.length === 0) return;
    let dueFrom = Infinity;
    let dueUntil = -Infinity;
    for (const { dueAt } of confirmations) {
      dueFrom = Math.min(dueFrom, dueAt.getTime());
      dueUntil = Math.max(dueUntil, dueAt.getTime());
    }
    await this.model.collection.insertOne({
      ids: confirmations.map((one) => one.id),
      dueFrom: new Date(dueFrom),
      dueUntil: new Date(dueUntil),
      at: this.now(),
    } as object);
  }

  /**
   * The notifications of the first `limit` records (by `dueFrom`) with one due by `dueBy`: what
   * the relay's pass reads once, instead of asking per batch by id. It can miss a record past the
   * limit, one written after it read, or one written before records carried `dueFrom`; never does
   * it name a notification no record covers. The limit bounds the pass's memory when records have
   * piled up (no relay ran for a while): a record holds at most MAX_BATCH ids.
   */
  async confirmedDueBy(dueBy: Date, limit: number): Promise<Set<string>> {
    const records = await this.model.collection
      .find<{ ids: Types.ObjectId[] }>(
        { dueFrom: { $lte: dueBy } },
        { projection: { _id: 0, ids: 1 }, sort: { dueFrom: 1 }, limit },
      )
      .toArray();
    const confirmed = new Set<string>();
    for (const record of records) for (const id of record.ids) confirmed.add(id.toHexString());
    return confirmed;
  }

  /** Which of `ids` a record covers. */
  async confirmedAmong(ids: Types.ObjectId[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const wanted = new Set(ids.map(String));
    const records = await this.model.collection
      .find<{ ids: Types.ObjectId[] }>({ ids: { $in: ids } }, { projection: { ids: 1 } })
      .toArray();
    return new Set(records.flatMap((one) => one.ids.map(String)).filter((id) => wanted.has(id)));
  }

  /**
   * Drops the records whose notifications are all behind the watermark, `FORGET_CHUNK` at a time:
   * a delete holds the collection while it runs, and the accepting requests' records wait for it
   * (one delete of a pass's few hundred records held them for 40–50 ms on the embedded database).
   */
  async forgetBefore(dueAt: Date): Promise<void> {
    const spent = await this.model.collection
      .find<{ _id: Types.ObjectId }>(
        { dueUntil: { $lt: dueAt } },
        { projection: { _id: 1 }, sort: { dueUntil: 1, _id: 1 } },
      )
      .toArray();
    for (let start = 0; start < spent.length; start += FORGET_CHUNK) {
      const ids = spent.slice(start, start + FORGET_CHUNK).map((one) => one._id);
      await this.model.collection.deleteMany({ _id: { $in: ids } });
    }
  }

  private async recordAll(items: Confirmation[]): Promise<ItemOutcome<void>[]> {
    await this.recordNow(items);
    return items.map(() => ({ ok: true, value: undefined }));
  }
}

import { type Types } from 'mongoose';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { type OutboxConfirmationModel } from './outbox-models';

/** confirmations per record, at most */
const MAX_BATCH = 1000;
/** records on their way at once; confirmations arriving meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

export interface Confirmation {
  id: Types.ObjectId;
  dueAt: Date;
}

/**
 * Group commit of the broker's confirmations: every notification whose
 * messages were all confirmed while earlier records were on their way goes
 * into one `outbox_confirmations` document (see Batcher), so recording them
 * costs one inserted document per batch, not one update per notification.
 * A caller resumes once the record holding its id is acknowledged.
 */
export class ConfirmationLog {
  private readonly records = new Batcher<Confirmation, void>((items) => this.recordAll(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(
    private readonly model: OutboxConfirmationModel,
    private readonly now: () => Date,
  ) {}

  record(confirmation: Confirmation): Promise<void> {
    return this.records.submit(confirmation);
  }

  /** Records these at once, as one document (the relay's own republishes). */
  async recordNow(confirmations: Confirmation[]): Promise<void> {
    if (confirmations.length === 0) return;
    await this.model.collection.insertOne({
      ids: confirmations.map((one) => one.id),
      dueUntil: new Date(Math.max(...confirmations.map((one) => one.dueAt.getTime()))),
      at: this.now(),
    } as object);
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

  /** Drops the records whose notifications are all behind the watermark. */
  async forgetBefore(dueAt: Date): Promise<void> {
    await this.model.collection.deleteMany({ dueUntil: { $lt: dueAt } });
  }

  private async recordAll(items: Confirmation[]): Promise<ItemOutcome<void>[]> {
    await this.recordNow(items);
    return items.map(() => ({ ok: true, value: undefined }));
  }
}

import { Batcher, type ItemOutcome } from '@herald/runtime';
import { type PreferenceModel, type PreferenceRecord } from './preference-model';

/** ids per query, at most */
const MAX_BATCH = 500;
/** queries on their way at once; lookups arriving meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

/**
 * Recipients' preferences by id, for the accept path: the lookups of a batch
 * of recipients (a request of many, or many requests at once) leave together
 * as one `{_id: {$in}}` query (see Batcher). Nothing is cached, so a change
 * acknowledged before a send is seen by it.
 */
export class PreferenceDirectory {
  private readonly lookups = new Batcher<string, PreferenceRecord | null>((ids) => this.findAll(ids), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(private readonly model: PreferenceModel) {}

  byRecipient(recipientId: string): Promise<PreferenceRecord | null> {
    return this.lookups.submit(recipientId);
  }

  private async findAll(ids: string[]): Promise<ItemOutcome<PreferenceRecord | null>[]> {
    const found = await this.model.collection
      .find<PreferenceRecord>({ _id: { $in: [...new Set(ids)] } } as object, {
        projection: { channels: 1, categories: 1 },
      })
      .toArray();
    const byId = new Map(found.map((record) => [record._id, record]));
    return ids.map((id) => ({ ok: true, value: byId.get(id) ?? null }));
  }
}

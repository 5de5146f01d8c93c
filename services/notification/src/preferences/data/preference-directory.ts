import { Batcher, type ItemOutcome } from '@herald/runtime';
import { createTtlCache, type TtlCache } from '@herald/runtime/http';
import { type PreferenceModel, type PreferenceRecord } from './preference-model';

/** ids per query, at most */
const MAX_BATCH = 500;
/** queries on their way at once; lookups arriving meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

/**
 * Recipients' preferences by id, for the accept path: the lookups of a batch
 * of recipients (a request of many, or many requests at once) leave together
 * as one `{_id: {$in}}` query (see Batcher), and each answer (a missing
 * document included: most recipients have none) is kept for the same short
 * TTL as a caller's account (`USER_CACHE_TTL_MS`, at most 2 s here), so a
 * recipient notified again and again costs no read per send. A change made on
 * this instance applies at once (`invalidate`); one made on another, within
 * the TTL.
 */
export class PreferenceDirectory {
  private readonly cache: TtlCache<PreferenceRecord | null>;
  private readonly lookups = new Batcher<string, PreferenceRecord | null>((ids) => this.findAll(ids), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(
    private readonly model: PreferenceModel,
    options: { ttlMs: number; now: () => Date },
  ) {
    this.cache = createTtlCache({ ttlMs: Math.min(options.ttlMs, 2_000), now: options.now });
  }

  byRecipient(recipientId: string): Promise<PreferenceRecord | null> {
    return this.cache.get(recipientId, () => this.lookups.submit(recipientId));
  }

  /** After this instance changed a recipient's preferences: the next send reads them. */
  invalidate(recipientId: string): void {
    this.cache.invalidate(recipientId);
  }

  private async findAll(ids: string[]): Promise<ItemOutcome<PreferenceRecord | null>[]> {
    const found = await this.model.collection
      .find<PreferenceRecord>({ _id: { $in: [...new Set(ids)] } } as object, {
        projection: { channels: 1, categories: 1, timeZone: 1, quietHours: 1 },
      })
      .toArray();
    const byId = new Map(found.map((record) => [record._id, record]));
    return ids.map((id) => ({ ok: true, value: byId.get(id) ?? null }));
  }
}

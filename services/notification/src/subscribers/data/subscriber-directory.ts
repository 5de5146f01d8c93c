import { Batcher, type ItemOutcome } from '@herald/runtime';
import { type SubscriberDocument, type SubscriberModel } from './subscriber-model';

/**
 * The read model's living subscribers by external id, for the accept path:
 * a batch of a thousand recipients looks them up in a few `{_id: {$in}}`
 * queries rather than a round trip each. Not cached: a send sees every
 * `subscriber.upserted` this service has applied.
 */
export class SubscriberDirectory {
  private readonly lookups = new Batcher<string, SubscriberDocument | null>((ids) => this.findAll(ids), {
    maxBatch: 500,
    maxInFlight: 2,
  });

  constructor(private readonly model: SubscriberModel) {}

  /** the subscriber, or null when unknown or deleted */
  byExternalId(externalId: string): Promise<SubscriberDocument | null> {
    return this.lookups.submit(externalId);
  }

  private async findAll(ids: string[]): Promise<ItemOutcome<SubscriberDocument | null>[]> {
    const found = await this.model.collection
      .find<SubscriberDocument>({ _id: { $in: [...new Set(ids)] } } as object)
      .toArray();
    const byId = new Map(found.filter((s) => !s.deletedAt).map((s) => [s._id, s]));
    return ids.map((id) => ({ ok: true, value: byId.get(id) ?? null }));
  }
}

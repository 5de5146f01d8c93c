import { Batcher, type ItemOutcome } from '@herald/runtime';
import { type UserModel, type UserRecord } from './user-model';

/** ids per query, at most */
const MAX_BATCH = 500;
/** queries on their way at once; lookups arriving meanwhile go together in the next */
const MAX_IN_FLIGHT = 2;

/**
 * The read model's users by id, for the accept path: every notification to a
 * user looks its recipient up, and under load those lookups leave together as
 * one `{_id: {$in}}` query (see Batcher) instead of a round trip each. A
 * lookup still sees every write acknowledged before it was made: nothing is
 * cached.
 */
export class UserDirectory {
  private readonly lookups = new Batcher<string, UserRecord | null>((ids) => this.findAll(ids), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(private readonly model: UserModel) {}

  byId(userId: string): Promise<UserRecord | null> {
    return this.lookups.submit(userId);
  }

  /** Through the driver: the read model's documents are stored in their final shape. */
  private async findAll(ids: string[]): Promise<ItemOutcome<UserRecord | null>[]> {
    const found = await this.model.collection
      .find<UserRecord>({ _id: { $in: [...new Set(ids)] } } as object)
      .toArray();
    const byId = new Map(found.map((user) => [user._id, user]));
    return ids.map((id) => ({ ok: true, value: byId.get(id) ?? null }));
  }
}

import { makeRoom } from '@herald/runtime';
import { type UserDirectory } from '../data/user-directory';
import { type UserRecord } from '../data/user-model';

/** entries kept at most; the least recently fetched go first */
const MAX_ENTRIES = 10_000;

interface Cached {
  user: UserRecord | null;
  /** epoch ms on the service's clock */
  expiresAt: number;
}

/**
 * The read model's users as every authenticated request checks its caller
 * (disabled, role), cached in-process for `ttlMs` so a busy caller costs the
 * database one batched lookup per TTL rather than one per request. A user
 * event handled on this instance drops its user at once; other instances see
 * the change when their entry expires — so a change reaches every instance
 * within the TTL after the read model has it. A user not in the read model
 * yet is cached as such too (null).
 */
export class CurrentUsers {
  private readonly cache = new Map<string, Cached>();
  /** bumped by every invalidation: a lookup that began before one does not refill the cache */
  private generation = 0;

  constructor(
    private readonly directory: UserDirectory,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  async byId(userId: string): Promise<UserRecord | null> {
    const at = this.now().getTime();
    const cached = this.cache.get(userId);
    if (cached && cached.expiresAt > at) return cached.user;

    const generation = this.generation;
    const user = await this.directory.byId(userId);
    // The read may predate a snapshot applied meanwhile: then it is used once, never cached.
    if (this.ttlMs > 0 && generation === this.generation) this.remember(userId, user, at + this.ttlMs);
    return user;
  }

  /** After this instance applied a user event: the next request reads the read model. */
  invalidate(userId: string): void {
    this.generation += 1;
    this.cache.delete(userId);
  }

  private remember(userId: string, user: UserRecord | null, expiresAt: number): void {
    this.cache.delete(userId);
    makeRoom(this.cache, MAX_ENTRIES);
    this.cache.set(userId, { user, expiresAt });
  }
}

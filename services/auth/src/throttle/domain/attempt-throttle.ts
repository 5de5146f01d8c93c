import { TooManyRequestsError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ThrottleCounterModel } from '../data/throttle-counter-model';

export interface ThrottleKey {
  key: string;
  /** attempts allowed per window */
  limit: number;
}

/**
 * Attempts counted per key in fixed windows, in MongoDB so that every
 * instance shares the count. Expiry is decided here from `windowStartedAt`,
 * never by a TTL index (that only cleans up, whenever it gets round to it).
 *
 * An attempt is counted BEFORE the work it guards (`take`), and handed back
 * when it turns out not to count (`giveBack`, e.g. a correct password): a
 * check-then-count would let a burst of parallel guesses all pass the check.
 */
export class AttemptThrottle {
  constructor(
    private readonly counters: ThrottleCounterModel,
    private readonly windowSeconds: number,
    private readonly refusal: { code: string; detail: string },
    /** windows open, close and are reported in Retry-After on this clock */
    private readonly now: () => Date,
  ) {}

  /** Counts one attempt on every key; throws 429 (with Retry-After) when any key is over its limit. */
  async take(keys: ThrottleKey[]): Promise<void> {
    const counted = await Promise.all(
      keys.map(async (entry) => ({ entry, ...(await this.increment(entry.key)) })),
    );
    const now = this.now().getTime();
    let retryAfterMs = 0;
    for (const { entry, count, windowStartedAt } of counted) {
      if (count <= entry.limit) continue;
      retryAfterMs = Math.max(retryAfterMs, windowStartedAt.getTime() + this.windowSeconds * 1000 - now);
    }
    if (retryAfterMs > 0) {
      throw new TooManyRequestsError(
        Math.max(1, Math.ceil(retryAfterMs / 1000)),
        this.refusal.code,
        this.refusal.detail,
      );
    }
  }

  /** Uncounts an attempt that turned out not to be one (it succeeded). */
  async giveBack(keys: ThrottleKey[]): Promise<void> {
    await this.counters.updateMany(
      { key: { $in: keys.map((entry) => entry.key) }, count: { $gt: 0 } },
      { $inc: { count: -1 } },
    );
  }

  async reset(key: ThrottleKey): Promise<void> {
    await this.counters.deleteOne({ key: key.key });
  }

  /**
   * Three atomic single-document steps, each of which only one of several
   * racing instances can win, so no attempt is lost: count in the live
   * window; else restart an expired window; else insert the first one (a lost
   * insert race means a window now exists: count again).
   */
  private async increment(key: string): Promise<{ count: number; windowStartedAt: Date }> {
    for (let attempt = 1; ; attempt += 1) {
      const now = this.now();
      const windowStart = new Date(now.getTime() - this.windowSeconds * 1000);
      const fresh = {
        count: 1,
        windowStartedAt: now,
        expiresAt: new Date(now.getTime() + this.windowSeconds * 1000),
      };
      const counted = await this.counters
        .findOneAndUpdate(
          { key, windowStartedAt: { $gt: windowStart } },
          { $inc: { count: 1 } },
          { returnDocument: 'after' },
        )
        .lean();
      if (counted) return counted;
      const restarted = await this.counters
        .findOneAndUpdate(
          { key, windowStartedAt: { $lte: windowStart } },
          { $set: fresh },
          { returnDocument: 'after' },
        )
        .lean();
      if (restarted) return restarted;
      try {
        await this.counters.create({ key, ...fresh });
        return fresh;
      } catch (err) {
        if (!isDuplicateKeyError(err) || attempt >= 3) throw err;
      }
    }
  }
}

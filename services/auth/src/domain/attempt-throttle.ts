import { TooManyRequestsError } from '@herald/runtime';
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
 */
export class AttemptThrottle {
  constructor(
    private readonly counters: ThrottleCounterModel,
    private readonly windowSeconds: number,
    private readonly refusal: { code: string; detail: string },
  ) {}

  /** Throws 429 (with Retry-After) when any key has used up its attempts in the current window. */
  async assertAllowed(keys: ThrottleKey[]): Promise<void> {
    const now = Date.now();
    const windowStart = new Date(now - this.windowSeconds * 1000);
    const records = await this.counters
      .find({ key: { $in: keys.map((entry) => entry.key) }, windowStartedAt: { $gt: windowStart } })
      .lean();
    let retryAfterMs = 0;
    for (const record of records) {
      const limit = keys.find((entry) => entry.key === record.key)?.limit ?? Infinity;
      if (record.count < limit) continue;
      retryAfterMs = Math.max(
        retryAfterMs,
        record.windowStartedAt.getTime() + this.windowSeconds * 1000 - now,
      );
    }
    if (retryAfterMs > 0) {
      throw new TooManyRequestsError(
        Math.max(1, Math.ceil(retryAfterMs / 1000)),
        this.refusal.code,
        this.refusal.detail,
      );
    }
  }

  async record(keys: ThrottleKey[]): Promise<void> {
    await Promise.all(keys.map((entry) => this.increment(entry.key)));
  }

  async reset(key: string): Promise<void> {
    await this.counters.deleteOne({ key });
  }

  private async increment(key: string, retried = false): Promise<void> {
    const now = new Date();
    const windowStart = new Date(now.getTime() - this.windowSeconds * 1000);
    const expiresAt = new Date(now.getTime() + this.windowSeconds * 1000);
    try {
      // An expired window starts over with this attempt; otherwise count it in the current one.
      const restarted = await this.counters.updateOne(
        { key, windowStartedAt: { $lte: windowStart } },
        { $set: { count: 1, windowStartedAt: now, expiresAt } },
      );
      if (restarted.matchedCount > 0) return;
      await this.counters.updateOne(
        { key },
        { $inc: { count: 1 }, $setOnInsert: { windowStartedAt: now, expiresAt } },
        { upsert: true },
      );
    } catch (err) {
      // Two instances inserting the first attempt for a key at once: one wins the unique index, count again.
      if (!retried && (err as { code?: number }).code === 11000) return this.increment(key, true);
      throw err;
    }
  }
}

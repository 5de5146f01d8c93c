import { TooManyRequestsError } from '@herald/runtime';
import { type LoginFailureModel } from '../data/login-failure-model';

export interface ThrottleKey {
  key: string;
  maxFailures: number;
}

/**
 * Failed logins counted per key in fixed windows, in MongoDB so that every
 * instance shares the count. Expiry is decided here from `windowStartedAt`,
 * never by a TTL index (that only cleans up, whenever it gets round to it).
 */
export class LoginThrottle {
  constructor(
    private readonly failures: LoginFailureModel,
    private readonly windowSeconds: number,
  ) {}

  /** Throws 429 (with Retry-After) when any key has used up its failures in the current window. */
  async assertAllowed(keys: ThrottleKey[]): Promise<void> {
    const now = Date.now();
    const windowStart = new Date(now - this.windowSeconds * 1000);
    const records = await this.failures
      .find({ key: { $in: keys.map((entry) => entry.key) }, windowStartedAt: { $gt: windowStart } })
      .lean();
    let retryAfterMs = 0;
    for (const record of records) {
      const limit = keys.find((entry) => entry.key === record.key)?.maxFailures ?? Infinity;
      if (record.failures < limit) continue;
      retryAfterMs = Math.max(
        retryAfterMs,
        record.windowStartedAt.getTime() + this.windowSeconds * 1000 - now,
      );
    }
    if (retryAfterMs > 0) {
      throw new TooManyRequestsError(
        Math.max(1, Math.ceil(retryAfterMs / 1000)),
        'too_many_login_attempts',
        'Too many failed logins; try again later',
      );
    }
  }

  async recordFailure(keys: ThrottleKey[]): Promise<void> {
    await Promise.all(keys.map((entry) => this.increment(entry.key)));
  }

  async reset(key: string): Promise<void> {
    await this.failures.deleteOne({ key });
  }

  private async increment(key: string, retried = false): Promise<void> {
    const now = new Date();
    const windowStart = new Date(now.getTime() - this.windowSeconds * 1000);
    const expiresAt = new Date(now.getTime() + this.windowSeconds * 1000);
    try {
      // An expired window starts over at this failure; otherwise count it in the current one.
      const restarted = await this.failures.updateOne(
        { key, windowStartedAt: { $lte: windowStart } },
        { $set: { failures: 1, windowStartedAt: now, expiresAt } },
      );
      if (restarted.matchedCount > 0) return;
      await this.failures.updateOne(
        { key },
        { $inc: { failures: 1 }, $setOnInsert: { windowStartedAt: now, expiresAt } },
        { upsert: true },
      );
    } catch (err) {
      // Two instances inserting the first failure for a key at once: one wins the unique index, count again.
      if (!retried && (err as { code?: number }).code === 11000) return this.increment(key, true);
      throw err;
    }
  }
}

export function throttleKeys(
  email: string,
  ip: string,
  limits: { perAccount: number; perIp: number },
): { account: ThrottleKey; ip: ThrottleKey } {
  return {
    account: { key: `account:${email}`, maxFailures: limits.perAccount },
    ip: { key: `ip:${ip}`, maxFailures: limits.perIp },
  };
}

import { TooManyRequestsError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type FailureBackoffModel } from '../data/failure-backoff-model';

export interface BackoffSettings {
  /** attempts allowed without delay; the last of them already arms the first delay */
  freeAttempts: number;
  /** the longest delay, and how long a quiet key keeps its count */
  maxDelaySeconds: number;
  refusal: { code: string; detail: string };
}

/** Compare-and-set rounds lost to parallel attempts before one is simply refused for a second. */
const MAX_ROUNDS = 5;

/**
 * Growing delays instead of a hard lock: after `freeAttempts` attempts on a
 * key, the next is refused for 1 s, then 2 s, 4 s, … up to `maxDelaySeconds`.
 * A success (`reset`) forgets the key; so does a quiet `maxDelaySeconds`
 * after the last delay ran out.
 *
 * Like `AttemptThrottle`, an attempt is recorded (and the next delay armed)
 * BEFORE the work it guards, with a compare-and-set on the count, so a burst
 * of parallel attempts gets no more through than a sequence would.
 */
export class FailureBackoff {
  constructor(
    private readonly records: FailureBackoffModel,
    private readonly settings: BackoffSettings,
    private readonly now: () => Date,
  ) {}

  async take(key: string): Promise<void> {
    const maxDelayMs = this.settings.maxDelaySeconds * 1000;
    for (let round = 1; round <= MAX_ROUNDS; round += 1) {
      const now = this.now();
      const record = await this.records.findOne({ key }).lean();
      if (record?.blockedUntil && record.blockedUntil > now) {
        throw this.refuse(record.blockedUntil.getTime() - now.getTime());
      }
      // quiet for a whole maximum delay after the last one ran out
      const quietSince = record ? (record.blockedUntil ?? record.lastAttemptAt).getTime() : 0;
      const stale = !record || now.getTime() - quietSince > maxDelayMs;
      const attempts = stale ? 1 : record.attempts + 1;
      const over = attempts - this.settings.freeAttempts;
      const next = {
        attempts,
        lastAttemptAt: now,
        blockedUntil: over >= 0 ? new Date(now.getTime() + Math.min(1000 * 2 ** over, maxDelayMs)) : null,
        expiresAt: new Date(now.getTime() + 3 * maxDelayMs),
      };
      if (!record) {
        try {
          await this.records.create({ key, ...next });
          return;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          continue;
        }
      }
      const won = await this.records.updateOne(
        { key, attempts: record.attempts, lastAttemptAt: record.lastAttemptAt },
        { $set: next },
      );
      if (won.modifiedCount === 1) return;
    }
    throw this.refuse(1000);
  }

  /** The attempt succeeded: start from zero. */
  async reset(key: string): Promise<void> {
    await this.records.deleteOne({ key });
  }

  private refuse(retryAfterMs: number): TooManyRequestsError {
    return new TooManyRequestsError(
      Math.max(1, Math.ceil(retryAfterMs / 1000)),
      this.settings.refusal.code,
      this.settings.refusal.detail,
    );
  }
}

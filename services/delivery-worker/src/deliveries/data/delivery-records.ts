import { type DeliveryChannel, type DeliveryError } from '@herald/contracts';
import { Batcher, type ItemOutcome } from '@herald/runtime';
import { isDuplicateKeyError, writeErrorsOf } from '@herald/runtime/mongo';
import { type DeliveryModel, type Delivery } from './delivery-model';

export type Claim =
  /**
   * This worker owns the send until the lease ends. `takeover`: a previous lease expired mid-send.
   * `unclear`: the providers whose earlier calls have no known outcome, to ask before sending;
   * `since`: when the record was created (no call of this delivery is older). `lastCallAt`: when the
   * latest of the unclear calls started (undefined when none, or for a record older than `unclear`).
   */
  | {
      kind: 'claimed';
      attempts: number;
      takeover: boolean;
      unclear: string[];
      since: Date;
      lastCallAt?: Date;
    }
  | { kind: 'already_sent'; delivery: Delivery }
  /** another worker (or a crashed one whose lease has not run out) is sending it */
  | { kind: 'leased'; leaseUntil: Date };

export interface DeliveryKey {
  notificationId: string;
  channel: DeliveryChannel;
}

interface NewClaim {
  key: DeliveryKey;
  jobId: string;
  provider: string;
  leaseMs: number;
}

interface SentMark {
  key: DeliveryKey;
  provider: string;
  providerMessageId: string;
}

/** Enough to keep a write's size far below MongoDB's 48 MB message, and its latency short. */
const MAX_BATCH = 500;
/** Two writes on their way: one being applied while the next fills. */
const MAX_IN_FLIGHT = 2;

/**
 * The queries the worker runs on `deliveries`, all by the unique (notificationId, channel) key.
 *
 * The two writes every send makes — the first claim of a new job and `markSent` — are batched
 * (see Batcher): many sends' records go in one `insertMany` / `bulkWrite`, and each caller
 * resumes only once MongoDB has acknowledged the write holding its own record.
 */
export class DeliveryRecords {
  private readonly newClaims = new Batcher<NewClaim, 'inserted' | 'exists'>(
    (claims) => this.insertClaims(claims),
    { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT },
  );
  private readonly sentMarks = new Batcher<SentMark, void>((marks) => this.writeSentMarks(marks), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

  constructor(private readonly model: DeliveryModel) {}

  /**
   * Takes the send lease in one atomic upsert: matches only a record that is
   * not sent and not leased, so of two workers holding the same job exactly
   * one gets it (the other's upsert hits the unique index).
   */
  async claim(key: DeliveryKey, jobId: string, provider: string, leaseMs: number): Promise<Claim> {
    const now = new Date();
    try {
      // The record as it was before the claim (null when this inserted it).
      const previous = await this.model
        .findOneAndUpdate(
          {
            ...key,
            state: { $ne: 'sent' },
            $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
          },
          {
            $set: {
              state: 'sending',
              leaseUntil: new Date(now.getTime() + leaseMs),
              jobId,
              provider,
              [`unclear.${provider}`]: now,
            },
            $inc: { attempts: 1 },
          },
          {
            upsert: true,
            returnDocument: 'before',
            projection: { attempts: 1, state: 1, unclear: 1, provider: 1, createdAt: 1 },
          },
        )
        .lean();
      return {
        kind: 'claimed',
        attempts: (previous?.attempts ?? 0) + 1,
        // Still `sending` with its lease run out: the worker that held it died or stalled mid-send.
        takeover: previous?.state === 'sending',
        unclear: previous?.unclear
          ? Object.keys(previous.unclear)
          : // a record written before `unclear` existed, abandoned mid-send: ask the provider it names
            previous?.state === 'sending' && previous.provider
            ? [previous.provider]
            : [],
        since: previous?.createdAt ?? now,
        lastCallAt: latest(Object.values(previous?.unclear ?? {})),
      };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const existing = await this.find(key);
    if (!existing) return this.claim(key, jobId, provider, leaseMs);
    if (existing.state === 'sent') return { kind: 'already_sent', delivery: existing };
    if (existing.leaseUntil && existing.leaseUntil > new Date()) {
      return { kind: 'leased', leaseUntil: existing.leaseUntil };
    }
    // The lease ran out between our two reads: try again.
    return this.claim(key, jobId, provider, leaseMs);
  }

  /**
   * The claim of a job's first attempt, which almost always meets no record: inserting the record
   * (leased, attempt 1) is the claim, and inserts batch well. A record that exists already — a
   * redelivery, a replay, a twin delivered at the same moment — makes the insert a duplicate, and
   * `claim` then decides on the record as it is, exactly as for any other attempt.
   */
  async claimNew(key: DeliveryKey, jobId: string, provider: string, leaseMs: number): Promise<Claim> {
    const inserted = await this.newClaims.submit({ key, jobId, provider, leaseMs });
    if (inserted === 'inserted') {
      return { kind: 'claimed', attempts: 1, takeover: false, unclear: [], since: new Date() };
    }
    return this.claim(key, jobId, provider, leaseMs);
  }

  async find(key: DeliveryKey): Promise<Delivery | null> {
    return this.model.findOne(key).lean<Delivery>();
  }

  /** Resolves once the record says `sent` by `provider` durably (the write concern of the connection). */
  async markSent(key: DeliveryKey, provider: string, providerMessageId: string): Promise<void> {
    await this.sentMarks.submit({ key, provider, providerMessageId });
  }

  /**
   * Before the send moves to the next provider of the chain: the record names it (so a crash during
   * its call is reconciled with it), and forgets `refused`, which definitely did not take the send.
   */
  async startCall(key: DeliveryKey, provider: string, refused: string[]): Promise<void> {
    await this.model.updateOne(
      { ...key, state: 'sending' },
      {
        $set: { provider, [`unclear.${provider}`]: new Date() },
        ...(refused.length
          ? { $unset: Object.fromEntries(refused.map((name) => [`unclear.${name}`, 1])) }
          : {}),
      },
    );
  }

  /**
   * Releases the lease after a failed attempt, so the retry need not wait for it; forgets the
   * providers in `refused` (they definitely did not take it). Any other provider called stays
   * `unclear`, for the next attempt to ask.
   */
  async markFailedAttempt(key: DeliveryKey, error: DeliveryError, refused: string[] = []): Promise<void> {
    await this.model.updateOne(
      { ...key, state: 'sending' },
      {
        $set: { state: error.permanent ? 'failed' : 'retrying', leaseUntil: null, lastError: error },
        ...(refused.length
          ? { $unset: Object.fromEntries(refused.map((name) => [`unclear.${name}`, 1])) }
          : {}),
      },
    );
  }

  /** Retries exhausted. A record already `sent` keeps its state: the send did happen. */
  async markDead(key: DeliveryKey): Promise<void> {
    await this.model.updateOne(
      { ...key, state: { $ne: 'sent' } },
      { $set: { state: 'dead', leaseUntil: null } },
    );
  }

  /**
   * The native driver, not mongoose: these documents are built here in full, already of the
   * schema's types, and the casting and document wrapping would be most of the cost of a batch.
   * The lease counts from the write, not from the wait before it.
   */
  private async insertClaims(claims: NewClaim[]): Promise<ItemOutcome<'inserted' | 'exists'>[]> {
    const now = new Date();
    const documents = claims.map(({ key, jobId, provider, leaseMs }) => ({
      notificationId: key.notificationId,
      channel: key.channel,
      jobId,
      state: 'sending' as const,
      attempts: 1,
      leaseUntil: new Date(now.getTime() + leaseMs),
      provider,
      unclear: { [provider]: now },
      createdAt: now,
      updatedAt: now,
    }));
    const failures = await writeErrorsOf(this.model.collection.insertMany(documents, { ordered: false }));
    return claims.map((_, index) => {
      const failure = failures.get(index);
      if (!failure) return { ok: true, value: 'inserted' };
      if (isDuplicateKeyError(failure)) return { ok: true, value: 'exists' };
      return { ok: false, error: failure };
    });
  }

  private async writeSentMarks(marks: SentMark[]): Promise<ItemOutcome<void>[]> {
    const now = new Date();
    const failures = await writeErrorsOf(
      this.model.collection.bulkWrite(
        marks.map(({ key, provider, providerMessageId }) => ({
          updateOne: {
            filter: { notificationId: key.notificationId, channel: key.channel },
            update: {
              $set: {
                state: 'sent',
                provider,
                providerMessageId,
                sentAt: now,
                leaseUntil: null,
                updatedAt: now,
              },
              $unset: { lastError: 1, unclear: 1 },
            },
          },
        })),
        { ordered: false },
      ),
    );
    return marks.map((_, index) => {
      const failure = failures.get(index);
      return failure ? { ok: false, error: failure } : { ok: true, value: undefined };
    });
  }
}

/** The latest of some dates (as MongoDB returns them), or undefined for none. */
function latest(dates: unknown[]): Date | undefined {
  const times = dates
    .map((date) => (date instanceof Date ? date.getTime() : Number.NaN))
    .filter((time) => !Number.isNaN(time));
  return times.length ? new Date(Math.max(...times)) : undefined;
}

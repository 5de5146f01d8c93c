import { type DeliveryChannel, type DeliveryError } from '@herald/contracts';
import { type DeliveryModel, type Delivery } from './delivery-model';

export type Claim =
  /** this worker owns the send until the lease ends; `takeover`: a previous lease expired mid-send */
  | { kind: 'claimed'; attempts: number; takeover: boolean }
  | { kind: 'already_sent'; delivery: Delivery }
  /** another worker (or a crashed one whose lease has not run out) is sending it */
  | { kind: 'leased'; leaseUntil: Date };

export interface DeliveryKey {
  notificationId: string;
  channel: DeliveryChannel;
}

const DUPLICATE_KEY = 11000;

/** The queries the worker runs on `deliveries`, all by the unique (notificationId, channel) key. */
export class DeliveryRecords {
  constructor(private readonly model: DeliveryModel) {}

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

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
            $set: { state: 'sending', leaseUntil: new Date(now.getTime() + leaseMs), jobId, provider },
            $inc: { attempts: 1 },
          },
          { upsert: true, returnDocument: 'before', projection: { attempts: 1, state: 1 } },
        )
        .lean();
      return {
        kind: 'claimed',
        attempts: (previous?.attempts ?? 0) + 1,
        // Still `sending` with its lease run out: the worker that held it died or stalled mid-send.
        takeover: previous?.state === 'sending',
      };
    } catch (error) {
      if ((error as { code?: unknown }).code !== DUPLICATE_KEY) throw error;
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

  async find(key: DeliveryKey): Promise<Delivery | null> {
    return this.model.findOne(key).lean<Delivery>();
  }

  async markSent(key: DeliveryKey, providerMessageId: string): Promise<void> {
    await this.model.updateOne(key, {
      $set: { state: 'sent', providerMessageId, sentAt: new Date(), leaseUntil: null },
      $unset: { lastError: 1 },
    });
  }

  /** Releases the lease after a failed attempt, so the retry need not wait for it. */
  async markFailedAttempt(key: DeliveryKey, error: DeliveryError): Promise<void> {
    await this.model.updateOne(
      { ...key, state: 'sending' },
      { $set: { state: error.permanent ? 'failed' : 'retrying', leaseUntil: null, lastError: error } },
    );
  }

  /** Retries exhausted. A record already `sent` keeps its state: the send did happen. */
  async markDead(key: DeliveryKey): Promise<void> {
    await this.model.updateOne(
      { ...key, state: { $ne: 'sent' } },
      { $set: { state: 'dead', leaseUntil: null } },
    );
  }
}

import { type Channel } from '@herald/contracts';
import { TooManyRequestsError } from '@herald/runtime';
import { type CounterIncrement, type QuotaCounters } from '../data/quota-counters';
import { WINDOW_MS, limitOf, windowStart, type QuotaWindow, type SendQuotaLimits } from './limits';

/** Who is counted: `user:<id>`, and with API keys `apikey:<id>`. */
export type SenderKey = `${string}:${string}`;

export const userSender = (userId: string): SenderKey => `user:${userId}`;

/** What one request would send on one channel: one per recipient. */
export interface ChannelSends {
  channel: Channel;
  count: number;
}

/** The increments a request was charged, to take back if it is not accepted after all. */
export type QuotaCharge = CounterIncrement[];

const WINDOWS: QuotaWindow[] = ['minute', 'day'];

/** 429 `quota_exceeded`: the detail names the channel and window; Retry-After says when it frees. */
export class QuotaExceededError extends TooManyRequestsError {
  constructor(
    /** every channel that had no room, for the refusals metric */
    readonly channels: Channel[],
    retryAfterSeconds: number,
    detail: string,
  ) {
    super(retryAfterSeconds, 'quota_exceeded', detail);
  }
}

/**
 * Per sender, channel and fixed window (a minute, a UTC day), a count of
 * sends in MongoDB shared by every instance. A request is charged whole —
 * every recipient on every channel in every limited window — or refused
 * whole: a request that would take any window past its limit changes no
 * counter (what it had taken is given back) and is refused with when the
 * fullest window frees.
 */
export class SendQuotas {
  constructor(
    private readonly counters: QuotaCounters,
    private readonly limits: SendQuotaLimits,
    private readonly now: () => Date,
  ) {}

  async charge(sender: SenderKey, sends: ChannelSends[]): Promise<QuotaCharge> {
    const at = this.now();
    const increments = this.incrementsFor(sender, sends, at);
    if (increments.length === 0) return [];
    // More than a whole window allows: no counter may see it (an insert would store it over the limit).
    const tooLarge = increments.filter(({ by, limit }) => by > limit);
    if (tooLarge.length > 0) throw refusal(tooLarge, at);

    const applied = await this.counters.increment(increments);
    let refused = increments.filter((_, index) => !applied[index]);
    const charged = increments.filter((_, index) => applied[index]);
    if (refused.length > 0) {
      // A refusal can be a lost race to create a window's counter: once more, now that it exists.
      const again = await this.counters.increment(refused);
      charged.push(...refused.filter((_, index) => again[index]));
      refused = refused.filter((_, index) => !again[index]);
    }
    if (refused.length === 0) return charged;

    if (charged.length > 0) await this.counters.decrement(charged);
    throw refusal(refused, at);
  }

  /** Gives back a charge whose request was not accepted after all. */
  async refund(charge: QuotaCharge): Promise<void> {
    if (charge.length > 0) await this.counters.decrement(charge);
  }

  private incrementsFor(sender: SenderKey, sends: ChannelSends[], at: Date): CounterIncrement[] {
    const increments: CounterIncrement[] = [];
    for (const { channel, count } of sends) {
      if (count <= 0) continue;
      for (const window of WINDOWS) {
        const limit = limitOf(this.limits[channel], window);
        if (limit === 0) continue;
        const start = windowStart(window, at);
        increments.push({
          counter: {
            _id: `${sender}|${channel}|${window}|${start.getTime()}`,
            sender,
            channel,
            window,
            start,
            expiresAt: new Date(start.getTime() + WINDOW_MS[window]),
          },
          by: count,
          limit,
        });
      }
    }
    return increments;
  }
}

function refusal(refused: CounterIncrement[], at: Date): QuotaExceededError {
  // The request fits again only once every full window has rolled over.
  const freesAt = Math.max(...refused.map(({ counter }) => counter.expiresAt.getTime()));
  const retryAfterSeconds = Math.max(1, Math.ceil((freesAt - at.getTime()) / 1000));
  const channels = [...new Set(refused.map(({ counter }) => counter.channel as Channel))];
  const full = refused.map(({ counter, limit }) => `${counter.channel}: ${limit} per ${counter.window}`);
  const detail = `Send quota used up (${full.join(', ')}); try again in ${retryAfterSeconds} s`;
  return new QuotaExceededError(channels, retryAfterSeconds, detail);
}

/**
 * Where the bucket reads the time and waits: the system clock in production; tests pass a
 * manual clock and move it, so no test sleeps or measures how long a wait took.
 */
export interface Clock {
  now(): number;
  /** resolves once `ms` have passed on this clock */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket for one provider: `perSecond` sends on average, bursts of
 * up to `burst`. Callers wait their turn in arrival order (each reserves the
 * next token, so the balance may go negative). A provider's 429 pauses the
 * bucket for its Retry-After, so the other in-flight jobs back off too.
 *
 * The bucket lives in this process, so it limits one worker instance. With
 * N instances, set the per-instance rate to the provider's limit / N; there
 * is deliberately no shared state between instances.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private pausedUntil = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  /** Resolves when the caller may send; at once when the rate is 0 (unlimited). */
  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await this.clock.sleep(waitMs);
  }

  /** Holds every caller until `ms` from now (a provider asked us to slow down). */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  /** Takes a token and says how long to wait for it. */
  reserve(): number {
    const now = this.clock.now();
    const pauseMs = Math.max(0, this.pausedUntil - now);
    if (this.perSecond <= 0) return pauseMs;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    this.tokens -= 1;
    const deficitMs = this.tokens >= 0 ? 0 : (-this.tokens / this.perSecond) * 1000;
    return Math.max(pauseMs, Math.ceil(deficitMs));
  }
}

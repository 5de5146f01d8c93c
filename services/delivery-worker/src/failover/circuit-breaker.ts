export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** consecutive failures that open the circuit */
  failureThreshold: number;
  /** how long an open circuit refuses calls before it lets one trial call through (half-open) */
  resetTimeoutMs: number;
}

/**
 * A circuit breaker around one provider, on an injected clock.
 *
 * Closed: calls go through; `failureThreshold` failures in a row open it.
 * Open: every call is refused (the chain moves on to the next provider)
 * until `resetTimeoutMs` have passed on the clock; then it is half-open and
 * lets exactly one trial call through: a success closes it, a failure opens
 * it again for another `resetTimeoutMs`.
 *
 * Why not opossum: opossum wraps the call itself, times the reset with its
 * own `setTimeout` and counts failures as a percentage over a rolling window
 * ticked by `setInterval`, with no way to hand it a clock; a test would have
 * to fake the global timers (which also stop the broker and MongoDB clients)
 * or sleep through the timeout. This breaker reads the time only when asked
 * (`now()`), so a test moves a manual clock past the timeout and the next
 * call is the half-open trial, and the worker needs no timer per provider.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly clock: { now(): number },
    private readonly onChange: (state: CircuitState) => void = () => undefined,
  ) {}

  /** The state now (an open circuit whose timeout has passed reads as half-open). */
  get state(): CircuitState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.settings.resetTimeoutMs) {
      this.move('half_open');
    }
    return this.current;
  }

  /** Whether a call would be let through now, without taking the half-open trial. */
  get permitsCalls(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half_open' && !this.trialInFlight);
  }

  /**
   * Asks to make one call: true when it may go (closed, or the one trial of a half-open circuit).
   * Every acquired call must end in `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** The provider answered (accepted, or refused the message itself): it is healthy. */
  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.current !== 'closed') this.move('closed');
  }

  /** The provider failed (unavailable, throttling, unreachable, refusing our credentials). */
  failure(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this.current === 'half_open' || this.failures >= this.settings.failureThreshold) {
      this.openedAt = this.clock.now();
      if (this.current !== 'open') this.move('open');
    }
  }

  private move(state: CircuitState): void {
    this.current = state;
    this.onChange(state);
  }
}

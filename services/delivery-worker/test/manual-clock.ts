import { type Clock } from '../src/rate-limit/token-bucket';

/**
 * A clock that moves only when the test says so: `sleep` resolves once
 * `advance` has moved the time past its end, so a test proves what waits
 * for what without sleeping itself or measuring how long anything took.
 */
export class ManualClock implements Clock {
  private sleepers: { until: number; wake: () => void }[] = [];

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.current + ms, wake }));
  }

  /** How many callers are waiting on this clock right now. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Moves the time on by `ms` and wakes, in order, every sleeper whose time has come. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.sleepers.filter((sleeper) => sleeper.until <= this.current);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.until > this.current);
    for (const sleeper of due.sort((a, b) => a.until - b.until)) sleeper.wake();
  }
}

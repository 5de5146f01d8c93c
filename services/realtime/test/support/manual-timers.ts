import { type Timers } from '../../src/sockets/token-expiry';

/**
 * Timers that fire only when the test moves the time: `advanceTo` runs every
 * timer due by then, in order, each at its own moment (a timer set by a timer
 * that fires runs too, if due). A test proves what happens at a moment without
 * waiting for it or measuring how long anything took.
 */
export class ManualTimers implements Timers {
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  constructor(private current: number = Date.now()) {}

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  advanceTo(time: number): void {
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= time && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].at);
      next[1].callback();
    }
    this.current = Math.max(this.current, time);
  }
}

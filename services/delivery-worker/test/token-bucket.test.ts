import { TokenBucket } from '../src/rate-limit/token-bucket';
import { ManualClock } from './manual-clock';

/** Lets every promise that can settle now settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the token bucket', () => {
  it('lets a burst through, then spaces callers at the rate, in arrival order', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 3, clock);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([100, 200]);
    clock.advance(1_000);
    // refilled by 10 tokens but capped at the burst, minus the two already promised
    expect(bucket.reserve()).toBe(0);
  });

  it('pauses everyone after a Retry-After', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(100, 10, clock);
    bucket.pauseFor(1_500);
    expect(bucket.reserve()).toBe(1_500);
    clock.advance(1_000);
    expect(bucket.reserve()).toBe(500);
    clock.advance(1_000);
    expect(bucket.reserve()).toBe(0);
  });

  it('is unlimited at rate 0, except while paused', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(0, 1, clock);
    expect(Array.from({ length: 100 }, () => bucket.reserve()).every((wait) => wait === 0)).toBe(true);
    bucket.pauseFor(300);
    expect(bucket.reserve()).toBe(300);
    clock.advance(300);
    expect(bucket.reserve()).toBe(0);
  });

  it('holds each caller of take() until the clock reaches its turn', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(20, 1, clock);
    const passed: number[] = [];
    const takers = [1, 2, 3].map((caller) => bucket.take().then(() => passed.push(caller)));

    await settle();
    expect(passed).toEqual([1]);
    clock.advance(49);
    await settle();
    expect(passed).toEqual([1]);
    clock.advance(1);
    await settle();
    expect(passed).toEqual([1, 2]);
    clock.advance(50);
    await Promise.all(takers);
    expect(passed).toEqual([1, 2, 3]);
  });

  it('holds take() through a pause, however many tokens it has', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(100, 10, clock);
    bucket.pauseFor(1_000);
    let passed = false;
    const taker = bucket.take().then(() => (passed = true));

    clock.advance(999);
    await settle();
    expect(passed).toBe(false);
    clock.advance(1);
    await taker;
    expect(passed).toBe(true);
  });
});

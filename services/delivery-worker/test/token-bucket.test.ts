import { TokenBucket } from '../src/domain/token-bucket';

describe('the token bucket', () => {
  it('lets a burst through, then spaces callers at the rate, in arrival order', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([100, 200]);
    now = 1_000;
    // refilled by 10 tokens but capped at the burst, minus the two already promised
    expect(bucket.reserve()).toBe(0);
  });

  it('pauses everyone after a Retry-After', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 10, () => now);
    bucket.pauseFor(1_500);
    expect(bucket.reserve()).toBe(1_500);
    now = 1_000;
    expect(bucket.reserve()).toBe(500);
    now = 2_000;
    expect(bucket.reserve()).toBe(0);
  });

  it('is unlimited at rate 0, except while paused', () => {
    let now = 0;
    const bucket = new TokenBucket(0, 1, () => now);
    expect(Array.from({ length: 100 }, () => bucket.reserve()).every((wait) => wait === 0)).toBe(true);
    bucket.pauseFor(300);
    expect(bucket.reserve()).toBe(300);
    now = 300;
    expect(bucket.reserve()).toBe(0);
  });

  it('actually waits in take()', async () => {
    const bucket = new TokenBucket(20, 1);
    const started = Date.now();
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

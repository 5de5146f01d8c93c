import { PermanentError, TransientError, NotFoundError, TooManyRequestsError } from '@herald/runtime';
import { classifyFailure, readRetryAttempts } from '../src/failure';
import { DEFAULT_RETRY_POLICY, delayQueueTtls, retryDelayMs, type RetryPolicy } from '../src/topology';

describe('retry policy', () => {
  const policy: RetryPolicy = { maxAttempts: 4, delaysMs: [1000, 5000, 20000], jitter: 0.2 };

  it('declares one delay queue per step and jitter bucket', () => {
    expect(delayQueueTtls(policy)).toEqual([800, 1000, 1200, 4000, 5000, 6000, 16000, 20000, 24000]);
  });

  it('waits longer after each failure, repeating the last step', () => {
    const middle = () => 0.5; // the un-jittered bucket
    expect(retryDelayMs(policy, 1, { random: middle })).toBe(1000);
    expect(retryDelayMs(policy, 2, { random: middle })).toBe(5000);
    expect(retryDelayMs(policy, 3, { random: middle })).toBe(20000);
    expect(retryDelayMs(policy, 9, { random: middle })).toBe(20000);
  });

  it('spreads retries over the jitter buckets', () => {
    expect(retryDelayMs(policy, 2, { random: () => 0 })).toBe(4000);
    expect(retryDelayMs(policy, 2, { random: () => 0.99 })).toBe(6000);
  });

  it("honours a provider's Retry-After with the first delay queue that is long enough", () => {
    expect(retryDelayMs(policy, 1, { random: () => 0.5, retryAfterMs: 4500 })).toBe(5000);
    expect(retryDelayMs(policy, 1, { random: () => 0.5, retryAfterMs: 10 * 60_000 })).toBe(24000);
    expect(retryDelayMs(policy, 2, { random: () => 0.5, retryAfterMs: 100 })).toBe(5000);
  });

  it('defaults to 8 attempts spread over about half an hour', () => {
    const total = DEFAULT_RETRY_POLICY.delaysMs.reduce((sum, delay) => sum + delay, 0);
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(8);
    expect(DEFAULT_RETRY_POLICY.delaysMs).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts - 1);
    expect(total / 60_000).toBeGreaterThan(25);
    expect(total / 60_000).toBeLessThan(35);
  });
});

describe('failure classification', () => {
  it.each([
    ['a transient error', new TransientError('provider_unavailable', '503'), 'transient'],
    ['a permanent error', new PermanentError('invalid_recipient', 'bad address'), 'permanent'],
    ['an operational 4xx', new NotFoundError(), 'permanent'],
    ['a 429', new TooManyRequestsError(5), 'transient'],
    ['an unexpected error (a bug or a blip)', new TypeError('x is undefined'), 'transient'],
    ['a thrown string', 'boom', 'transient'],
  ])('treats %s as %s', (_name, error, kind) => {
    expect(classifyFailure(error)).toBe(kind);
  });
});

describe('x-retry-attempts', () => {
  it.each([
    [undefined, 0],
    [0, 0],
    [3, 3],
    ['2', 2],
    ['garbage', 0],
    [-1, 0],
  ])('reads %p as %p', (value, expected) => {
    expect(readRetryAttempts(value)).toBe(expected);
  });
});

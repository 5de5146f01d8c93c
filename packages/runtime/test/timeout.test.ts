import { TimeoutError, settleWithin, withTimeout } from '../src/timeout';

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('withTimeout and settleWithin', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves with the value when the promise settles first, and clears its timer', async () => {
    const work = deferred<string>();
    const result = withTimeout(work.promise, 1_000);
    expect(jest.getTimerCount()).toBe(1);
    work.resolve('done');
    await expect(result).resolves.toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });

  it("rejects with the promise's own error when it fails first, and clears its timer", async () => {
    const work = deferred<string>();
    const result = withTimeout(work.promise, 1_000);
    work.reject(new Error('refused'));
    await expect(result).rejects.toThrow('refused');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with a TimeoutError carrying the message once the deadline passes', async () => {
    const result = withTimeout(new Promise(() => undefined), 1_000, 'the broker did not answer');
    const settled = expect(result).rejects.toEqual(new TimeoutError('the broker did not answer'));
    await jest.advanceTimersByTimeAsync(999);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await settled;
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('settleWithin answers the value, or the fallback once the deadline passes', async () => {
    await expect(settleWithin(Promise.resolve(42), 1_000, 'late')).resolves.toBe(42);
    const late = settleWithin(new Promise(() => undefined), 1_000, 'late');
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(late).resolves.toBe('late');
    expect(jest.getTimerCount()).toBe(0);
  });

  it("settleWithin passes the promise's own failure on: only time is turned into the fallback", async () => {
    await expect(settleWithin(Promise.reject(new Error('broken')), 1_000, 'late')).rejects.toThrow('broken');
    expect(jest.getTimerCount()).toBe(0);
  });
});

/**
 * The one promise-with-a-deadline helper. Every "wait at most N ms" in
 * Herald goes through here, so the timer is always cleared (a leaked timer
 * keeps a process or a Jest worker alive) and never holds the event loop.
 */

/** What `withTimeout` rejects with when the deadline passes first. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(message: string) {
    super(message);
  }
}

/**
 * Resolves or rejects as `promise` does, or rejects with a `TimeoutError`
 * carrying `message` after `ms`. The timer is unref'd and cleared either way.
 */
export function withTimeout<T>(
  promise: PromiseLike<T>,
  ms: number,
  message = `timed out after ${ms} ms`,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
    timer.unref();
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `promise` for at most `ms`, then resolves with `fallback`
 * (never rejects on time): for probes and drains that report rather than fail.
 */
export async function settleWithin<T, F>(promise: PromiseLike<T>, ms: number, fallback: F): Promise<T | F> {
  try {
    return await withTimeout(promise, ms);
  } catch (error) {
    if (error instanceof TimeoutError) return fallback;
    throw error;
  }
}

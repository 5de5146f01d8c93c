import { AppError, PermanentError, TransientError } from '@herald/runtime';

export type FailureKind = 'transient' | 'permanent';

/**
 * How a consumer treats a failed handler:
 * - `PermanentError`, and operational 4xx errors (bad input, not found): the
 *   same message will fail the same way, so it goes to the DLQ at once;
 * - `TransientError`, and anything unexpected (a database blip, a bug): retried
 *   with backoff. A bug therefore ends in the DLQ after the last attempt
 *   instead of crash-looping the consumer.
 */
export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof TransientError) return 'transient';
  if (error instanceof PermanentError) return 'permanent';
  if (error instanceof AppError && error.status >= 400 && error.status < 500 && error.status !== 429) {
    return 'permanent';
  }
  return 'transient';
}

export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.detail };
  if (error instanceof Error) return { code: error.name || 'error', message: error.message };
  return { code: 'error', message: String(error) };
}

/** Reads our retry counter; a missing or garbled header means no retries yet. */
export function readRetryAttempts(value: unknown): number {
  const attempts = typeof value === 'number' ? value : Number.parseInt(String(value ?? '0'), 10);
  return Number.isInteger(attempts) && attempts > 0 ? attempts : 0;
}

import { type DeliveryError } from '@herald/contracts';
import { PermanentError, TransientError } from '@herald/runtime';

/**
 * A provider's answer, classified. The shared consumer retries a
 * `TransientError` through the delay queues and dead-letters a
 * `PermanentError` at once; `providerCode` travels to the delivery status so
 * people can see Twilio's 21211 or Mailgun's HTTP status.
 */
export class ProviderTransientError extends TransientError {
  constructor(
    code: string,
    detail: string,
    readonly providerCode?: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(code, detail, options);
  }
}

export class ProviderPermanentError extends PermanentError {
  constructor(
    code: string,
    detail: string,
    readonly providerCode?: string,
    options?: { cause?: unknown },
  ) {
    super(code, detail, options);
  }
}

/** The error block of a delivery status, from whatever a send threw. */
export function deliveryErrorOf(error: unknown): DeliveryError {
  if (error instanceof ProviderTransientError || error instanceof ProviderPermanentError) {
    return {
      code: error.code,
      message: error.detail,
      permanent: error instanceof PermanentError,
      ...(error.providerCode ? { providerCode: error.providerCode } : {}),
    };
  }
  if (error instanceof PermanentError || error instanceof TransientError) {
    return { code: error.code, message: error.detail, permanent: error instanceof PermanentError };
  }
  // Anything else is ours (a bug, a database blip): the consumer retries it, and the text stays internal.
  return {
    code: 'internal_error',
    message: 'The worker failed before the provider answered',
    permanent: false,
  };
}

/**
 * The longest wait a provider's Retry-After can impose: the default retry policy's longest step
 * (15 min). It bounds the pause of the channel's token bucket, which holds every send of this
 * worker, not just the throttled one; the retry itself is bounded again by the longest delay
 * queue (`retryDelayMs` in @herald/amqp).
 */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Retry-After as seconds or an HTTP date, in ms (at most MAX_RETRY_AFTER_MS); undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) return parseRetryAfter(value[0], now);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(seconds * 1000)));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

import { parseRetryAfter, ProviderPermanentError, ProviderTransientError } from './delivery-errors';

/**
 * Error classification: which provider failures are worth retrying.
 * Transient: network errors, timeouts, 408, 429 and 503 (both honouring
 * Retry-After), 5xx. Permanent: other 4xx (an invalid recipient, an unverified sender,
 * an unsubscribed number, our own bad credentials). The tests hold this as
 * a table (test/classify.test.ts).
 */

export type ClassifiedError = ProviderTransientError | ProviderPermanentError;

/**
 * What of a client's error may travel as `cause` (into logs): its name,
 * message, code and status. An axios error also carries the request config,
 * Authorization header included, which must never reach a log line.
 */
export function safeCause(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const { code, status } = error as { code?: unknown; status?: unknown };
  const safe = new Error(error.message);
  safe.name = error.name;
  return Object.assign(safe, {
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
  });
}

/** Socket-level failures as Node and axios name them; both clients surface these codes. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_CANCELED']);

/** The network-level cause named anywhere in an error's code, message or details, if any. */
export function networkCause(...texts: unknown[]): 'network' | 'timeout' | undefined {
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    for (const token of text.match(/\b(E[A-Z_]{3,}|ERR_[A-Z_]+)\b/g) ?? []) {
      if (TIMEOUT_CODES.has(token)) return 'timeout';
      if (NETWORK_CODES.has(token)) return 'network';
    }
    if (/timeout of \d+ms exceeded|socket hang up/i.test(text)) return 'timeout';
  }
  return undefined;
}

/** Classification by HTTP status alone, for a provider answer that was really an HTTP answer. */
export function classifyHttpStatus(
  provider: string,
  status: number,
  detail: string,
  options: { retryAfterMs?: number; cause?: unknown } = {},
): ClassifiedError {
  const providerCode = String(status);
  if (status === 429) {
    return new ProviderTransientError(
      'provider_rate_limited',
      `${provider} is throttling us`,
      providerCode,
      options,
    );
  }
  if (status === 408 || status >= 500) {
    return new ProviderTransientError(
      'provider_unavailable',
      `${provider} answered ${status}`,
      providerCode,
      options,
    );
  }
  if (status === 401 || status === 403) {
    // Our credentials, not the message: every message fails alike until someone fixes the configuration.
    return new ProviderPermanentError(
      'provider_auth_failed',
      `${provider} refused our credentials`,
      providerCode,
      options,
    );
  }
  return new ProviderPermanentError(
    'rejected_by_provider',
    `${provider} rejected the message: ${detail}`,
    providerCode,
    options,
  );
}

export function networkError(
  provider: string,
  kind: 'network' | 'timeout',
  error: unknown,
): ProviderTransientError {
  const cause = safeCause(error);
  return kind === 'timeout'
    ? new ProviderTransientError('provider_timeout', `${provider} did not answer in time`, undefined, {
        cause,
      })
    : new ProviderTransientError('provider_unreachable', `${provider} could not be reached`, undefined, {
        cause,
      });
}

interface MailgunApiErrorShape {
  status?: unknown;
  message?: unknown;
  details?: unknown;
  type?: unknown;
  /** the raw Retry-After header, put back by the MailgunProvider */
  retryAfter?: unknown;
}

/** Only a 429 or 503 asks us to wait; any other status's Retry-After is not about our retry. */
function retryAfterOf(status: number, header: unknown): number | undefined {
  return status === 429 || status === 503 ? parseRetryAfter(header) : undefined;
}

/**
 * mailgun.js turns every failure into an APIError; one that never got an
 * HTTP answer (refused, reset, timed out) comes out as status 400 with the
 * socket error's code as message, so the cause is looked at before the
 * status. mailgun.js drops the response headers; the MailgunProvider puts
 * Retry-After back on the error as `retryAfter` (see `keepRetryAfter`), and a
 * 429 or 503 carries it into the retry.
 */
export function classifyMailgunError(error: unknown): ClassifiedError {
  const shape = (error ?? {}) as MailgunApiErrorShape;
  const cause = networkCause(shape.message, shape.details, (error as { code?: unknown })?.code);
  if (cause) return networkError('Mailgun', cause, error);
  if (typeof shape.status === 'number' && shape.type === 'MailgunAPIError') {
    const detail =
      typeof shape.details === 'string' && shape.details ? shape.details : String(shape.message ?? '');
    return classifyHttpStatus('Mailgun', shape.status, detail.slice(0, 300), {
      cause: safeCause(error),
      retryAfterMs: retryAfterOf(shape.status, shape.retryAfter),
    });
  }
  return new ProviderTransientError('provider_error', 'Mailgun failed unexpectedly', undefined, {
    cause: safeCause(error),
  });
}

/**
 * Twilio error codes that will fail the same way every time, with Herald's
 * name for each. Any other 4xx is permanent too; these get a precise code.
 */
export const PERMANENT_TWILIO_CODES: Record<number, string> = {
  21211: 'invalid_number',
  21214: 'invalid_number',
  21408: 'region_not_enabled',
  21606: 'invalid_sender',
  21610: 'unsubscribed',
  21612: 'unreachable_number',
  21614: 'not_mobile',
  21617: 'body_too_long',
};

/**
 * Raised by our Twilio HTTP client for a 429, and for a 503 that names a Retry-After: the
 * twilio package's RestException would strip the header. `retryAfter` is the raw header.
 */
export class TwilioRetryLater extends Error {
  constructor(
    readonly status: 429 | 503,
    readonly retryAfter: string | undefined,
  ) {
    super(`Twilio answered ${status}`);
    this.name = 'TwilioRetryLater';
  }
}

interface TwilioErrorShape {
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

export function classifyTwilioError(error: unknown): ClassifiedError {
  if (error instanceof TwilioRetryLater) {
    const options = { cause: safeCause(error), retryAfterMs: parseRetryAfter(error.retryAfter) };
    return error.status === 429
      ? new ProviderTransientError('provider_rate_limited', 'Twilio is throttling us', '20429', options)
      : new ProviderTransientError('provider_unavailable', 'Twilio answered 503', '503', options);
  }
  const shape = (error ?? {}) as TwilioErrorShape;
  const status = typeof shape.status === 'number' ? shape.status : undefined;
  const code = typeof shape.code === 'number' ? shape.code : undefined;
  if (status === undefined) {
    const cause = networkCause(shape.code, shape.message);
    if (cause) return networkError('Twilio', cause, error);
    return new ProviderTransientError('provider_error', 'Twilio failed unexpectedly', undefined, {
      cause: safeCause(error),
    });
  }
  const detail = typeof shape.message === 'string' ? shape.message.slice(0, 300) : `HTTP ${status}`;
  const herald = code !== undefined ? PERMANENT_TWILIO_CODES[code] : undefined;
  if (herald)
    return new ProviderPermanentError(herald, `Twilio rejected the message: ${detail}`, String(code), {
      cause: safeCause(error),
    });
  const classified = classifyHttpStatus('Twilio', status, detail, { cause: safeCause(error) });
  if (code === undefined) return classified;
  return classified instanceof ProviderPermanentError
    ? new ProviderPermanentError(classified.code, classified.detail, String(code), {
        cause: safeCause(error),
      })
    : new ProviderTransientError(classified.code, classified.detail, String(code), {
        cause: safeCause(error),
      });
}

interface SmtpErrorShape {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
}

/**
 * nodemailer's errors: an SMTP reply carries `responseCode` (4xx: try again
 * later; 535 or `EAUTH`: our credentials; other 5xx: the message or mailbox is
 * refused), anything else is the connection (`ETIMEDOUT`, `ECONNECTION`,
 * `ESOCKET`), classified like the HTTP clients' socket errors.
 */
export function classifySmtpError(error: unknown): ClassifiedError {
  const shape = (error ?? {}) as SmtpErrorShape;
  const cause = safeCause(error);
  const reply =
    typeof shape.response === 'string' ? shape.response.slice(0, 300) : String(shape.message ?? '');
  if (typeof shape.responseCode === 'number') {
    const status = shape.responseCode;
    const providerCode = String(status);
    if (status === 535 || shape.code === 'EAUTH') {
      return new ProviderPermanentError(
        'provider_auth_failed',
        'SMTP refused our credentials',
        providerCode,
        {
          cause,
        },
      );
    }
    if (status >= 400 && status < 500) {
      return new ProviderTransientError('provider_unavailable', `SMTP answered ${status}`, providerCode, {
        cause,
      });
    }
    return new ProviderPermanentError(
      'rejected_by_provider',
      `SMTP rejected the message: ${reply}`,
      providerCode,
      {
        cause,
      },
    );
  }
  if (shape.code === 'EAUTH') {
    return new ProviderPermanentError('provider_auth_failed', 'SMTP refused our credentials', undefined, {
      cause,
    });
  }
  const network = networkCause(shape.code, shape.message);
  if (network) return networkError('SMTP', network, error);
  if (shape.code === 'ECONNECTION' || shape.code === 'ESOCKET' || shape.code === 'EPROTOCOL') {
    return networkError('SMTP', 'network', error);
  }
  return new ProviderTransientError('provider_error', 'SMTP failed unexpectedly', undefined, { cause });
}

interface SendGridErrorShape {
  code?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown>; body?: { errors?: { message?: unknown }[] } };
}

/**
 * @sendgrid/client raises a ResponseError (`code` = the HTTP status, `response.headers`,
 * `response.body.errors`) for an answer ≥ 400, and axios's own error for a socket failure.
 */
export function classifySendGridError(error: unknown): ClassifiedError {
  const shape = (error ?? {}) as SendGridErrorShape;
  if (typeof shape.code === 'number' && shape.response) {
    const status = shape.code;
    const detail = String(shape.response.body?.errors?.[0]?.message ?? shape.message ?? '').slice(0, 300);
    return classifyHttpStatus('SendGrid', status, detail, {
      cause: safeCause(error),
      retryAfterMs: retryAfterOf(status, shape.response.headers?.['retry-after']),
    });
  }
  const network = networkCause(shape.code, shape.message);
  if (network) return networkError('SendGrid', network, error);
  return new ProviderTransientError('provider_error', 'SendGrid failed unexpectedly', undefined, {
    cause: safeCause(error),
  });
}

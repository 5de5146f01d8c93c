/**
 * The one error model. Routes and consumers throw these; the HTTP error
 * handler maps them to RFC 9457 problem+json, and the AMQP consumer maps
 * them to ack / retry / dead-letter.
 *
 * `isOperational` errors are expected outcomes (bad input, not found, a
 * provider saying no). Anything else is a bug: logged with its stack and
 * answered with a generic 500.
 */
export interface FieldError {
  /** JSON pointer to the offending field, e.g. `/body/email` */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly isOperational: boolean = true;

  constructor(
    readonly status: number,
    /** stable, machine-readable, snake_case; clients branch on it */
    readonly code: string,
    /** safe to show to the caller */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
  }

  /** the RFC 9457 `title`: the reason phrase of the status */
  get title(): string {
    return STATUS_TITLES[this.status] ?? 'Error';
  }
}

export class ValidationError extends AppError {
  constructor(
    detail: string,
    readonly errors: FieldError[] = [],
    code = 'validation_failed',
  ) {
    super(400, code, detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(code = 'unauthorized', detail = 'Authentication is required') {
    super(401, code, detail);
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'forbidden', detail = 'You may not do this') {
    super(403, code, detail);
  }
}

export class NotFoundError extends AppError {
  constructor(code = 'not_found', detail = 'Not found') {
    super(404, code, detail);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, detail: string) {
    super(409, code, detail);
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, detail: string) {
    super(422, code, detail);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    code = 'too_many_requests',
    detail = 'Too many requests, try again later',
  ) {
    super(429, code, detail);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code = 'service_unavailable', detail = 'A dependency is unavailable, try again later') {
    super(503, code, detail);
  }
}

/**
 * A failure worth retrying later (a provider 5xx, a timeout, a refused
 * connection). Consumers send the message to the next delay queue.
 */
export class TransientError extends AppError {
  constructor(code: string, detail: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(503, code, detail, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/**
 * A failure that will fail the same way every time (an invalid address, a
 * provider 4xx, a message that breaks its schema). Consumers dead-letter it
 * at once.
 */
export class PermanentError extends AppError {
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(422, code, detail, options);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const ProblemContentType = 'application/problem+json';

export const FieldError = Type.Object({
  /** Where the bad value is, e.g. `body.recipient.email` or `query.limit`. */
  field: Type.String(),
  message: Type.String(),
});
export type FieldError = Static<typeof FieldError>;

/**
 * RFC 9457 problem details, the body of every error response. Open to
 * extension members, as the RFC allows. `detail` is written for the client:
 * a 5xx answers with a generic one and never an internal message.
 */
export const ProblemDetails = Type.Object(
  {
    /** A URI reference naming the problem type; `about:blank` when the status says it all. */
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    /** Stable and machine-readable (`email_taken`): clients branch on it, never on `title` or `detail`. */
    code: Type.String({ minLength: 1 }),
    instance: Type.Optional(Type.String()),
    /** The id to quote to support; the same id is the correlation id of every message the request caused. */
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldError)),
  },
  { title: 'ProblemDetails' },
);
export type ProblemDetails = Static<typeof ProblemDetails>;

/** `nextCursor` is null on the last page; an opaque cursor is the only way to the next one. */
export function CursorPage<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  });
}
export type CursorPage<T> = { items: T[]; nextCursor: string | null };

export const PageLimits = { default: 20, max: 100 } as const;

export const CursorQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PageLimits.max, default: PageLimits.default })),
  cursor: Type.Optional(Type.String({ minLength: 1 })),
});
export type CursorQuery = Static<typeof CursorQuery>;

import { Types } from 'mongoose';
import { ValidationError } from '../errors';

/*
 * The one cursor codec. A cursor is the last item's position in a keyset
 * (its sort key values), so items inserted while a client pages never shift
 * or repeat what the next page returns. Opaque to clients: base64url JSON of
 * the key values. Every list in Herald encodes and decodes through here, and a
 * cursor that is not one of ours is the same 400 naming `/querystring/cursor`
 * (the field Fastify's own validation names).
 */

type KeyValue = string | number;
type KeyType = 'string' | 'number';
type ValueOf<T extends KeyType> = T extends 'string' ? string : number;
type ValuesOf<T extends readonly KeyType[]> = { [K in keyof T]: ValueOf<T[K]> };

export const CURSOR_FIELD = '/querystring/cursor';

export function invalidCursor(field = CURSOR_FIELD): ValidationError {
  return new ValidationError('The request is invalid', [{ field, message: 'is not a valid cursor' }]);
}

/** Encodes a keyset position: the sort key values of the last item of a page. */
export function encodeCursor(values: readonly KeyValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * Decodes a cursor from `encodeCursor` whose values have `types` (e.g.
 * `['string']`, `['number', 'string']`); anything else is a 400.
 */
export function decodeCursor<const T extends readonly KeyType[]>(
  cursor: string,
  types: T,
  field = CURSOR_FIELD,
): ValuesOf<T> {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(values) &&
      values.length === types.length &&
      values.every(
        (value, index) =>
          typeof value === types[index] && (typeof value !== 'number' || Number.isFinite(value)),
      )
    ) {
      return values as ValuesOf<T>;
    }
  } catch {
    // not base64url JSON: the same answer as a well-formed but wrong cursor
  }
  throw invalidCursor(field);
}

/** An `_id` keyset (ascending or descending by `_id` alone). */
export function encodeIdCursor(id: Types.ObjectId): string {
  return encodeCursor([id.toHexString()]);
}

export function decodeIdCursor(cursor: string, field = CURSOR_FIELD): Types.ObjectId {
  const [id] = decodeCursor(cursor, ['string'], field);
  if (!/^[0-9a-f]{24}$/i.test(id)) throw invalidCursor(field);
  return new Types.ObjectId(id);
}

/*
 * Newest first, over (a time field, _id): the position of the last item
 * seen; items inserted meanwhile are all newer, so every item appears once.
 */
export interface TimeIdPosition {
  at: Date;
  id: Types.ObjectId;
}

export function encodeTimeIdCursor(position: TimeIdPosition): string {
  return encodeCursor([position.at.getTime(), position.id.toHexString()]);
}

/** Reads a cursor from `encodeTimeIdCursor`; anything else is a 400 naming the field. */
export function decodeTimeIdCursor(cursor: string, field = CURSOR_FIELD): TimeIdPosition {
  const [time, id] = decodeCursor(cursor, ['number', 'string'], field);
  if (!Types.ObjectId.isValid(id)) throw invalidCursor(field);
  return { at: new Date(time), id: new Types.ObjectId(id) };
}

/** The filter for "older than this position" under the sort `{ [timeField]: -1, _id: -1 }`. */
export function olderThan(timeField: string, position: TimeIdPosition) {
  return {
    $or: [{ [timeField]: { $lt: position.at } }, { [timeField]: position.at, _id: { $lt: position.id } }],
  };
}

import { Types } from 'mongoose';
import { ValidationError } from '../errors';

/*
 * Cursor pagination, newest first, over (a time field, _id). The cursor is
 * the last item's position, so items inserted while a client pages (all
 * newer than what it has seen) never shift or repeat what the next page
 * returns: every item appears exactly once. Opaque to clients: base64url JSON.
 */
export interface TimeIdPosition {
  at: Date;
  id: Types.ObjectId;
}

export function encodeTimeIdCursor(position: TimeIdPosition): string {
  return Buffer.from(JSON.stringify([position.at.getTime(), position.id.toHexString()])).toString(
    'base64url',
  );
}

/** Reads a cursor from `encodeTimeIdCursor`; anything else is a 400 naming the field. */
export function decodeTimeIdCursor(cursor: string, field = '/querystring/cursor'): TimeIdPosition {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof time === 'number' &&
      Number.isFinite(time) &&
      typeof id === 'string' &&
      Types.ObjectId.isValid(id)
    ) {
      return { at: new Date(time), id: new Types.ObjectId(id) };
    }
  } catch {
    // not base64url JSON: the same answer as a well-formed but wrong cursor
  }
  throw new ValidationError('The request is invalid', [{ field, message: 'is not a valid cursor' }]);
}

/** The filter for "older than this position" under the sort `{ [timeField]: -1, _id: -1 }`. */
export function olderThan(timeField: string, position: TimeIdPosition) {
  return {
    $or: [{ [timeField]: { $lt: position.at } }, { [timeField]: position.at, _id: { $lt: position.id } }],
  };
}

import { Types } from 'mongoose';
import {
  decodeCursor,
  decodeIdCursor,
  decodeTimeIdCursor,
  encodeCursor,
  encodeIdCursor,
  encodeTimeIdCursor,
  olderThan,
} from '../src/mongo/cursor';
import { ValidationError } from '../src/errors';

describe('time + id cursors', () => {
  const position = { at: new Date('2026-11-27T01:00:00.123Z'), id: new Types.ObjectId() };

  it('round-trips a position through an opaque string', () => {
    const cursor = encodeTimeIdCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = decodeTimeIdCursor(cursor);
    expect(decoded.at.toISOString()).toBe('2026-11-27T01:00:00.123Z');
    expect(decoded.id.equals(position.id)).toBe(true);
  });

  it.each([
    '',
    'not-a-cursor',
    Buffer.from('[1,"nope"]').toString('base64url'),
    Buffer.from('{}').toString('base64url'),
  ])('rejects %p as a 400 naming the field', (cursor) => {
    let error: unknown;
    try {
      decodeTimeIdCursor(cursor, '/querystring/cursor');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      { field: '/querystring/cursor', message: 'is not a valid cursor' },
    ]);
  });

  it('selects what sorts after the position, newest first, ties broken by id', () => {
    expect(olderThan('createdAt', position)).toEqual({
      $or: [{ createdAt: { $lt: position.at } }, { createdAt: position.at, _id: { $lt: position.id } }],
    });
  });
});

describe('keyset cursors', () => {
  const reasons = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as ValidationError).errors;
    }
    return 'no error';
  };
  const INVALID = [{ field: '/querystring/cursor', message: 'is not a valid cursor' }];

  it('round-trips typed key values', () => {
    expect(decodeCursor(encodeCursor(['welcome']), ['string'])).toEqual(['welcome']);
    expect(decodeCursor(encodeCursor([3, 'a@b.c']), ['number', 'string'])).toEqual([3, 'a@b.c']);
  });

  it('refuses a cursor whose values have other types, another length, or no finite number', () => {
    expect(reasons(() => decodeCursor(encodeCursor([3]), ['string']))).toEqual(INVALID);
    expect(reasons(() => decodeCursor(encodeCursor(['a', 'b']), ['string']))).toEqual(INVALID);
    expect(reasons(() => decodeCursor(Buffer.from('[1e999]').toString('base64url'), ['number']))).toEqual(
      INVALID,
    );
    expect(reasons(() => decodeCursor('%%%', ['string']))).toEqual(INVALID);
  });

  it('reads an _id cursor and refuses anything that is not an ObjectId', () => {
    const id = new Types.ObjectId();
    expect(decodeIdCursor(encodeIdCursor(id)).equals(id)).toBe(true);
    expect(reasons(() => decodeIdCursor(encodeCursor(['not-an-id'])))).toEqual(INVALID);
  });
});

import { Types } from 'mongoose';
import { decodeTimeIdCursor, encodeTimeIdCursor, olderThan } from '../src/mongo/cursor';
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

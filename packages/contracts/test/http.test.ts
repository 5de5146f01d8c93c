import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CursorPage, CursorQuery, ProblemDetails, validateMessage } from '@herald/contracts';

describe('ProblemDetails', () => {
  it('accepts a validation problem with field errors', () => {
    const problem = {
      type: 'https://herald.example.com/problems/validation',
      title: 'Invalid request',
      status: 400,
      detail: 'body.recipient.email must be an email address',
      code: 'validation_failed',
      instance: '/api/v1/notifications',
      requestId: 'req-7f3a',
      errors: [{ field: 'body.recipient.email', message: 'must be an email address' }],
    };
    expect(validateMessage(ProblemDetails, problem)).toEqual({ ok: true, value: problem });
  });

  it.each([
    [
      'without a code',
      { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no such notification' },
      '/code',
    ],
    [
      'with a success status',
      { type: 'about:blank', title: 'OK', status: 200, detail: '', code: 'ok' },
      '/status',
    ],
    [
      'with a field error lacking its field',
      {
        type: 'about:blank',
        title: 'Invalid',
        status: 400,
        detail: '',
        code: 'invalid',
        errors: [{ message: 'bad' }],
      },
      '/errors/0/field',
    ],
  ])('rejects a problem %s', (_, problem, path) => {
    const result = validateMessage(ProblemDetails, problem);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual([path]);
  });
});

describe('CursorPage', () => {
  const Page = CursorPage(Type.Object({ id: Type.String() }));

  it('accepts a last page with a null cursor', () => {
    expect(validateMessage(Page, { items: [{ id: 'a' }], nextCursor: null }).ok).toBe(true);
  });

  it('accepts a page with a next cursor', () => {
    expect(validateMessage(Page, { items: [], nextCursor: 'eyJpZCI6ImEifQ' }).ok).toBe(true);
  });

  it('requires nextCursor to be present even on the last page', () => {
    const result = validateMessage(Page, { items: [] });
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['/nextCursor']);
  });

  it('checks each item against the item schema', () => {
    const result = validateMessage(Page, { items: [{ id: 'a' }, { id: 2 }], nextCursor: null });
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['/items/1/id']);
  });
});

describe('CursorQuery', () => {
  it('defaults the limit to 20', () => {
    expect(Value.Default(CursorQuery, {})).toEqual({ limit: 20 });
  });

  it.each([1, 20, 100])('accepts a limit of %d', (limit) => {
    expect(validateMessage(CursorQuery, { limit, cursor: 'abc' }).ok).toBe(true);
  });

  it.each([0, 101, 2.5, -1])('rejects a limit of %d', (limit) => {
    const result = validateMessage(CursorQuery, { limit });
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['/limit']);
  });

  it('rejects an empty cursor', () => {
    const result = validateMessage(CursorQuery, { cursor: '' });
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['/cursor']);
  });
});

import { Kind, Type, TypeRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MessageTypes, compile, uniqueItemKey, validateMessage, MessageSchemas } from '@herald/contracts';
import { validMessages } from './fixtures/valid-messages';

describe('compile (TypeBox compiled checks, cheaper uniqueItems)', () => {
  const Unique = Type.Array(Type.Unknown(), { uniqueItems: true });
  const cases: [string, unknown[]][] = [
    ['distinct strings', ['in_app', 'email', 'sms']],
    ['a repeated string', ['email', 'sms', 'email']],
    ['distinct numbers', [1, 2, 3]],
    ['a repeated number', [1, 2, 1]],
    ['a string and the number it spells', ['1', 1]],
    [
      'equal objects',
      [
        { a: 1, b: [2] },
        { a: 1, b: [2] },
      ],
    ],
    ['different objects', [{ a: 1 }, { a: 2 }]],
    [
      'equal arrays',
      [
        [1, 'x'],
        [1, 'x'],
      ],
    ],
    ['null twice', [null, null]],
    ['null and the string null', [null, 'null']],
    ['true and 1', [true, 1]],
    ['empty', []],
  ];

  it.each(cases)('decides %s as TypeCompiler.Compile does', (_, value) => {
    expect(compile(Unique).Check(value)).toBe(TypeCompiler.Compile(Unique).Check(value));
  });

  it('refuses a repeated channel in a message and names where', () => {
    const message = validMessages[MessageTypes.notificationCreated]();
    message.payload.notification.channels = ['in_app', 'email', 'in_app'];
    const result = validateMessage(MessageSchemas[MessageTypes.notificationCreated], message);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map((error) => error.path)).toContain('/payload/notification/channels');
  });

  it('checks formats through the registry (a date-time that is no date)', () => {
    const Stamp = Type.Object({ at: Type.String({ format: 'date-time' }) });
    expect(compile(Stamp).Check({ at: '2025-02-30T00:00:00Z' })).toBe(false);
    expect(compile(Stamp).Check({ at: '2025-02-28T00:00:00Z' })).toBe(true);
  });

  it('leaves a schema with a custom kind to the compiler, which knows its instances', () => {
    TypeRegistry.Set('HeraldTestEven', (_schema, value) => typeof value === 'number' && value % 2 === 0);
    const Even = { [Kind]: 'HeraldTestEven' } as TSchema;
    const check = compile(Type.Object({ n: Even }));
    expect(check.Check({ n: 4 })).toBe(true);
    expect(check.Check({ n: 3 })).toBe(false);
    TypeRegistry.Delete('HeraldTestEven');
  });

  it('keys strings and numbers by themselves, anything else by hash', () => {
    expect(uniqueItemKey('email')).toBe('email');
    expect(uniqueItemKey(7)).toBe(7);
    expect(uniqueItemKey({ a: 1 })).toBe(uniqueItemKey({ a: 1 }));
    expect(typeof uniqueItemKey({ a: 1 })).toBe('bigint');
  });
});

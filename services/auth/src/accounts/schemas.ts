import { Type } from '@sinclair/typebox';
import { Locale, PhoneNumber } from '@herald/contracts';

/** Password bytes are checked in the domain (bcrypt counts bytes, JSON Schema counts characters). */
const Password = Type.String({
  minLength: 1,
  maxLength: 72,
  description: '8 to 72 bytes; not the email address',
});
const Email = Type.String({ minLength: 3, maxLength: 320 });

export const UserView = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    locale: Type.Optional(Type.String()),
    phone: Type.Optional(Type.String()),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
    emailVerified: Type.Boolean(),
    disabled: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'User' },
);

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    locale: Type.Optional(Locale),
    phone: Type.Optional(PhoneNumber),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const UpdateMeBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    locale: Type.Optional(Type.Union([Locale, Type.Null()], { description: 'null removes it' })),
    phone: Type.Optional(Type.Union([PhoneNumber, Type.Null()], { description: 'null removes it' })),
    currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    newPassword: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ValidateEmailBody = Type.Object(
  { email: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);

export const EmailCheckView = Type.Object({
  valid: Type.Boolean(),
  normalized: Type.String(),
  reason: Type.Optional(
    Type.Union([Type.Literal('syntax'), Type.Literal('too_long'), Type.Literal('disposable')]),
  ),
});

import { Type } from '@sinclair/typebox';
import { Locale } from '@herald/contracts';

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
    phone: Type.Optional(Type.String({ description: 'text messages go to it only when phoneVerified' })),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
    emailVerified: Type.Boolean(),
    phoneVerified: Type.Boolean(),
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
  },
  {
    additionalProperties: false,
    description: 'A phone number is added after registration, and verified: POST /me/phone',
  },
);

/** The one answer to a registration, whether the address was new or already had an account. */
export const RegistrationAccepted = Type.Object(
  { status: Type.Literal('verification_sent') },
  { title: 'RegistrationAccepted' },
);

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const UpdateMeBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    locale: Type.Optional(Type.Union([Locale, Type.Null()], { description: 'null removes it' })),
    phone: Type.Optional(
      Type.Null({ description: 'null removes the phone; a new number is verified through POST /me/phone' }),
    ),
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

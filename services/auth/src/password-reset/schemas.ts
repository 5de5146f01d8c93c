import { Type } from '@sinclair/typebox';

export const PasswordResetBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }) },
  { additionalProperties: false },
);

/** The one answer to a reset request, whether or not the address has an account. */
export const PasswordResetAccepted = Type.Object(
  { status: Type.Literal('reset_requested') },
  { title: 'PasswordResetAccepted' },
);

export const PasswordResetConfirmBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 512 }),
    newPassword: Type.String({
      minLength: 1,
      maxLength: 72,
      description: '8 to 72 bytes; not the email address',
    }),
  },
  { additionalProperties: false },
);

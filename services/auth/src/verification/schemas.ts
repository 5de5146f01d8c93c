import { Type } from '@sinclair/typebox';

export const VerifyEmailBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const ResendAccepted = Type.Object({ expiresAt: Type.String({ format: 'date-time' }) });

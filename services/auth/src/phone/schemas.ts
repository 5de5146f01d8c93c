import { Type } from '@sinclair/typebox';
import { PhoneNumber } from '@herald/contracts';

export const PhoneBody = Type.Object(
  { phone: PhoneNumber },
  { additionalProperties: false, description: 'phone: E.164, e.g. +447700900123' },
);

export const PhoneVerificationSentView = Type.Object(
  { phone: Type.String(), expiresAt: Type.String({ format: 'date-time' }) },
  { title: 'PhoneVerificationSent' },
);

export const PhoneVerifyBody = Type.Object(
  { code: Type.String({ pattern: '^\\d{6}$' }) },
  { additionalProperties: false },
);

import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EmailAddress, EntityId, Locale, PhoneNumber } from './primitives';

/*
 * Auth → notification service: account-security messages the notification
 * service turns into an email or an SMS to the user they name. Each carries
 * the recipient itself (the read model may not have the user yet), and the
 * two with a secret in them must never be logged.
 */

/**
 * Someone registered with an address that already has an account. Auth
 * answers the registration exactly as for a new address (no enumeration) and
 * tells the owner instead: "someone tried to register with your address".
 */
export const RegistrationAttemptedPayload = Type.Object({
  userId: EntityId,
  email: EmailAddress,
  name: Type.String({ minLength: 1 }),
  locale: Type.Optional(Locale),
});
export type RegistrationAttemptedPayload = Static<typeof RegistrationAttemptedPayload>;

export const RegistrationAttemptedMessage = Envelope(
  MessageTypes.userRegistrationAttempted,
  MessageVersions[MessageTypes.userRegistrationAttempted],
  RegistrationAttemptedPayload,
);
export type RegistrationAttemptedMessage = Static<typeof RegistrationAttemptedMessage>;

/**
 * A password reset was requested for a known, enabled account: sent with the
 * seeded `password-reset` template (`link` = `resetUrl`). `resetUrl` carries
 * the single-use token; only http(s), so a crafted link never reaches an email.
 */
export const PasswordResetRequestedPayload = Type.Object({
  userId: EntityId,
  email: EmailAddress,
  name: Type.String({ minLength: 1 }),
  locale: Type.Optional(Locale),
  resetUrl: Type.String({ format: 'uri', pattern: '^https?://' }),
  expiresAt: DateTime,
});
export type PasswordResetRequestedPayload = Static<typeof PasswordResetRequestedPayload>;

export const PasswordResetRequestedMessage = Envelope(
  MessageTypes.userPasswordResetRequested,
  MessageVersions[MessageTypes.userPasswordResetRequested],
  PasswordResetRequestedPayload,
);
export type PasswordResetRequestedMessage = Static<typeof PasswordResetRequestedMessage>;

/**
 * A user asked to verify `phone`: send `code` by SMS to that number (not to
 * the user's current phone, which it is not yet). The code is the secret.
 */
export const PhoneVerificationRequestedPayload = Type.Object({
  userId: EntityId,
  phone: PhoneNumber,
  code: Type.String({ pattern: '^\\d{6}$' }),
  expiresAt: DateTime,
  locale: Type.Optional(Locale),
});
export type PhoneVerificationRequestedPayload = Static<typeof PhoneVerificationRequestedPayload>;

export const PhoneVerificationRequestedMessage = Envelope(
  MessageTypes.userPhoneVerificationRequested,
  MessageVersions[MessageTypes.userPhoneVerificationRequested],
  PhoneVerificationRequestedPayload,
);
export type PhoneVerificationRequestedMessage = Static<typeof PhoneVerificationRequestedMessage>;

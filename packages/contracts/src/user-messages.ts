import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope';
import { LiteralUnion } from './literal-union';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EmailAddress, EntityId, Locale, PhoneNumber } from './primitives';

export const UserRoles = ['user', 'admin'] as const;
export const UserRole = LiteralUnion(UserRoles);
export type UserRole = Static<typeof UserRole>;

/**
 * The whole user as auth sees it, in `user.registered` and in every
 * `user.updated`: the notification service's read model replaces its copy
 * instead of merging partial changes that could arrive out of order.
 */
export const UserSnapshot = Type.Object({
  userId: EntityId,
  email: EmailAddress,
  name: Type.String({ minLength: 1 }),
  locale: Type.Optional(Locale),
  /** the number to text; only send SMS to it when `phoneVerified` is true */
  phone: Type.Optional(PhoneNumber),
  role: UserRole,
  emailVerified: Type.Boolean(),
  /**
   * The user proved `phone` with a one-time code. Absent in snapshots from
   * before phone verification existed: treat as false.
   */
  phoneVerified: Type.Optional(Type.Boolean()),
  disabled: Type.Optional(Type.Boolean()),
});
export type UserSnapshot = Static<typeof UserSnapshot>;

export const UserRegisteredMessage = Envelope(
  MessageTypes.userRegistered,
  MessageVersions[MessageTypes.userRegistered],
  UserSnapshot,
);
export type UserRegisteredMessage = Static<typeof UserRegisteredMessage>;

export const UserUpdatedMessage = Envelope(
  MessageTypes.userUpdated,
  MessageVersions[MessageTypes.userUpdated],
  UserSnapshot,
);
export type UserUpdatedMessage = Static<typeof UserUpdatedMessage>;

/** Auth → notification service, which sends the verification email. */
export const VerificationRequestedPayload = Type.Object({
  userId: EntityId,
  email: EmailAddress,
  name: Type.String({ minLength: 1 }),
  locale: Type.Optional(Locale),
  /**
   * Carries the single-use token: never log the payload. Only http(s), so a
   * crafted `javascript:` link can never reach an email.
   */
  verificationUrl: Type.String({ format: 'uri', pattern: '^https?://' }),
  expiresAt: DateTime,
});
export type VerificationRequestedPayload = Static<typeof VerificationRequestedPayload>;

export const VerificationRequestedMessage = Envelope(
  MessageTypes.userVerificationRequested,
  MessageVersions[MessageTypes.userVerificationRequested],
  VerificationRequestedPayload,
);
export type VerificationRequestedMessage = Static<typeof VerificationRequestedMessage>;

import { Type } from '@sinclair/typebox';

/** An instant as RFC 3339 text with an offset, as `Date.prototype.toISOString` writes it. */
export const DateTime = Type.String({ format: 'date-time' });

export const Uuid = Type.String({ format: 'uuid' });

export const EmailAddress = Type.String({ format: 'email', maxLength: 254 });

/** E.164: what both Twilio and the suppression list key on, so numbers are normalised before they travel. */
export const PhoneNumber = Type.String({ pattern: '^\\+[1-9]\\d{1,14}$' });

/** A BCP 47 language tag such as `en` or `pt-BR`. */
export const Locale = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' });

/**
 * The id of a stored entity (a user, a notification). Opaque on purpose:
 * services choose their own id scheme (ObjectId, UUID), consumers only compare.
 */
export const EntityId = Type.String({ minLength: 1, maxLength: 64 });

import { Type } from '@sinclair/typebox';
import { EmailAddress, Locale, PhoneNumber, SubscriberExternalId } from '@herald/contracts';

export const SubscriberParams = Type.Object(
  { externalId: SubscriberExternalId },
  { additionalProperties: false },
);

export const SubscriberBody = Type.Object(
  {
    email: Type.Optional(EmailAddress),
    phone: Type.Optional(
      Type.String({ pattern: PhoneNumber.pattern, description: 'E.164, e.g. +14155550123' }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    locale: Type.Optional(Locale),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'IANA, e.g. Europe/Paris' }),
    ),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'your own JSON for templates, at most 16 KB',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'The whole subscriber: a field left out is removed. Email and phone given here count as verified.',
  },
);

export const SubscriberView = Type.Object(
  {
    externalId: Type.String(),
    subscriberId: Type.String({ description: 'sub:<externalId>: the recipient and inbox-owner id' }),
    email: Type.Optional(Type.String()),
    phone: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    locale: Type.Optional(Type.String()),
    timezone: Type.Optional(Type.String()),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    revision: Type.Integer(),
  },
  { title: 'Subscriber' },
);

export const SubscriberListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const SubscriberList = Type.Object({
  items: Type.Array(SubscriberView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const InboxTokenView = Type.Object(
  {
    token: Type.String({ description: 'a JWT for this subscriber’s inbox routes and socket only' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { title: 'InboxToken' },
);

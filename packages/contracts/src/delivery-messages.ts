import { Type, type Static } from '@sinclair/typebox';
import { DeliveryChannel } from './channels';
import { Envelope } from './envelope';
import { LiteralUnion } from './literal-union';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EmailAddress, EntityId, Locale, PhoneNumber, Uuid } from './primitives';
import { DeliveryStatus } from './status';

export const Priorities = ['low', 'normal', 'high'] as const;
export const Priority = LiteralUnion(Priorities);
export type Priority = Static<typeof Priority>;

/**
 * What to send, rendered by the notification service when the notification
 * is accepted: the worker never needs the template store, and a template
 * edited later does not change a job already queued.
 */
export const RenderedContent = Type.Object({
  subject: Type.Optional(Type.String({ minLength: 1 })),
  text: Type.String({ minLength: 1 }),
  html: Type.Optional(Type.String({ minLength: 1 })),
  /** A shorter text for SMS; the worker falls back to `text`. */
  sms: Type.Optional(Type.String({ minLength: 1 })),
});
export type RenderedContent = Static<typeof RenderedContent>;

/** Which template produced the content, kept for tracing; the worker sends `content` as it is. */
export const TemplateRef = Type.Object({
  key: Type.String({ minLength: 1 }),
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  locale: Type.Optional(Locale),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type TemplateRef = Static<typeof TemplateRef>;

const recipientIdentity = {
  userId: Type.Optional(EntityId),
  name: Type.Optional(Type.String({ minLength: 1 })),
  locale: Type.Optional(Locale),
};

/*
 * The worker has no user store, so a job carries the address its channel
 * needs; a job without one is a poison message, caught by the schema.
 */
export const EmailRecipient = Type.Object({
  ...recipientIdentity,
  email: EmailAddress,
  phone: Type.Optional(PhoneNumber),
});
export type EmailRecipient = Static<typeof EmailRecipient>;

export const SmsRecipient = Type.Object({
  ...recipientIdentity,
  phone: PhoneNumber,
  email: Type.Optional(EmailAddress),
});
export type SmsRecipient = Static<typeof SmsRecipient>;

const deliveryJobFields = {
  notificationId: EntityId,
  /**
   * Stable across republishes (outbox relay, retries, replay) and equal to
   * the envelope's `messageId`: the worker's idempotency key.
   */
  jobId: Uuid,
  content: RenderedContent,
  template: Type.Optional(TemplateRef),
  /** Passed to the provider as tags/variables and echoed in logs; strings only so every provider can carry it. */
  metadata: Type.Record(Type.String(), Type.String()),
  category: Type.Optional(Type.String({ minLength: 1 })),
  priority: Type.Optional(Priority),
  createdAt: DateTime,
};

/**
 * RFC 2369 / RFC 8058 one-click unsubscribe, set by the notification service
 * on every non-critical email to a recipient with preferences: each provider
 * writes them as the message's headers. Only these two, in a shape that
 * cannot break a header line: `<https://…>, <mailto:…>`.
 */
export const EmailHeaders = Type.Object(
  {
    'List-Unsubscribe': Type.String({
      minLength: 3,
      maxLength: 2000,
      pattern: '^<[^<>\\s]+>(, <[^<>\\s]+>)*$',
    }),
    'List-Unsubscribe-Post': Type.Optional(Type.Literal('List-Unsubscribe=One-Click')),
  },
  { additionalProperties: false },
);
export type EmailHeaders = Static<typeof EmailHeaders>;

export const EmailDeliveryJob = Type.Object({
  ...deliveryJobFields,
  channel: Type.Literal('email'),
  recipient: EmailRecipient,
  /** optional and additive: older jobs have none */
  headers: Type.Optional(EmailHeaders),
});
export const SmsDeliveryJob = Type.Object({
  ...deliveryJobFields,
  channel: Type.Literal('sms'),
  recipient: SmsRecipient,
});

/**
 * A browser's Web Push subscription, as `PushSubscription.toJSON()` gives it: the push service's
 * endpoint and the browser's keys for the payload's encryption (RFC 8291), base64url.
 */
export const PushSubscriptionKeys = Type.Object({
  /** the browser's ECDH P-256 public key, uncompressed (65 bytes: 87 characters) */
  p256dh: Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' }),
  /** the 16-byte authentication secret (22 characters) */
  auth: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
});
export const PushTarget = Type.Object({
  /** the notification service's id of the subscription, named back when the push service says it is gone */
  id: EntityId,
  endpoint: Type.String({ format: 'uri', maxLength: 2048 }),
  keys: PushSubscriptionKeys,
});
export type PushTarget = Static<typeof PushTarget>;

/** The most browser subscriptions one recipient may have: the push job carries them all. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT = 10;

export const PushRecipient = Type.Object({
  ...recipientIdentity,
  /** the inbox owner: a user id, or `sub:<externalId>`; whose subscriptions these are */
  userId: Type.String({ minLength: 1, maxLength: 132 }),
  subscriptions: Type.Array(PushTarget, { minItems: 1, maxItems: MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT }),
});
export type PushRecipient = Static<typeof PushRecipient>;

/** One job per notification: the worker sends it to each of the recipient's subscriptions. */
export const PushDeliveryJob = Type.Object({
  ...deliveryJobFields,
  channel: Type.Literal('push'),
  recipient: PushRecipient,
});

/** One job per notification and delivery channel, on the work exchange, routed by `channel`. */
export const DeliveryJobPayload = Type.Union([EmailDeliveryJob, SmsDeliveryJob, PushDeliveryJob]);
export type DeliveryJobPayload = Static<typeof DeliveryJobPayload>;

export const DeliveryJobMessage = Envelope(
  MessageTypes.deliveryJob,
  MessageVersions[MessageTypes.deliveryJob],
  DeliveryJobPayload,
);
export type DeliveryJobMessage = Static<typeof DeliveryJobMessage>;

export const DeliveryError = Type.Object({
  /** Herald's own stable code, e.g. `invalid_number`, `provider_unavailable`. */
  code: Type.String({ minLength: 1 }),
  message: Type.String(),
  /** Decided by the worker's error classification: permanent means no retry. */
  permanent: Type.Boolean(),
  /** The provider's code as text: Twilio's `21211`, Mailgun's HTTP status. */
  providerCode: Type.Optional(Type.String({ minLength: 1 })),
});
export type DeliveryError = Static<typeof DeliveryError>;

/** Worker → notification service, after each step of each attempt. Apply with `decideTransition`. */
export const DeliveryStatusPayload = Type.Object({
  notificationId: EntityId,
  channel: DeliveryChannel,
  status: DeliveryStatus,
  attempt: Type.Integer({ minimum: 1 }),
  at: DateTime,
  providerMessageId: Type.Optional(Type.String({ minLength: 1 })),
  provider: Type.Optional(Type.String({ minLength: 1 })),
  error: Type.Optional(DeliveryError),
  nextAttemptAt: Type.Optional(DateTime),
});
export type DeliveryStatusPayload = Static<typeof DeliveryStatusPayload>;

export const DeliveryStatusMessage = Envelope(
  MessageTypes.deliveryStatus,
  MessageVersions[MessageTypes.deliveryStatus],
  DeliveryStatusPayload,
);
export type DeliveryStatusMessage = Static<typeof DeliveryStatusMessage>;

/**
 * Worker → notification service: a push service answered 404 or 410 for this subscription (RFC 8030:
 * it expired or the user revoked it), so nothing will ever reach it again; the notification service
 * deletes it. `endpoint` too, so that only the very subscription that failed is deleted.
 */
export const PushSubscriptionGonePayload = Type.Object({
  subscriptionId: EntityId,
  /** the inbox owner whose subscription it was */
  userId: Type.String({ minLength: 1, maxLength: 132 }),
  endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
  /** the push service's answer: 404 or 410 */
  status: Type.Integer({ minimum: 400, maximum: 499 }),
  at: DateTime,
});
export type PushSubscriptionGonePayload = Static<typeof PushSubscriptionGonePayload>;

export const PushSubscriptionGoneMessage = Envelope(
  MessageTypes.pushSubscriptionGone,
  MessageVersions[MessageTypes.pushSubscriptionGone],
  PushSubscriptionGonePayload,
);
export type PushSubscriptionGoneMessage = Static<typeof PushSubscriptionGoneMessage>;

import { Type, type Static } from '@sinclair/typebox';
import {
  Channel,
  ChannelStatuses,
  CursorPage,
  CursorQuery,
  DeliveryStatus,
  Priority,
} from '@herald/contracts';
import { RenderedChannels } from '../templates/data/content-types';
import { TopicRecipient } from '../topics/schemas';

/*
 * HTTP schemas use plain JSON-schema formats (Fastify's ajv checks them),
 * and are strict: an unknown field is a 400 naming it, not silently dropped.
 */
export const strict = { additionalProperties: false } as const;

const Email = Type.String({ format: 'email', maxLength: 254 });
const Phone = Type.String({ pattern: '^\\+[1-9]\\d{1,14}$', description: 'E.164, e.g. +14155550100' });
const Locale = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' });
const Id = Type.String({ pattern: '^[0-9a-f]{24}$', description: 'a notification id' });
export const Instant = Type.String({ format: 'date-time' });

export const Recipient = Type.Union(
  [
    Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) }, strict),
    Type.Object({ email: Email }, strict),
    Type.Object({ phone: Phone }, strict),
    Type.Object(
      {
        subscriberId: Type.String({
          pattern: '^[A-Za-z0-9._:@-]{1,128}$',
          description: "the application's own id for a subscriber, or a Herald user id",
        }),
      },
      strict,
    ),
  ],
  { description: 'exactly one of userId, email, phone or subscriberId' },
);

/** The sender's own id for what caused a notification; `POST /notifications/cancel` cancels by it. */
export const TransactionId = Type.String({
  minLength: 1,
  maxLength: 128,
  description: "the sender's own id for what caused it (an order, a workflow run): cancel by it",
});

/** The most recipients one request may name. */
export const MAX_RECIPIENTS = 1_000;

/** What an application may attach to a notification, kept on it and shown in inbox views and events. */
export const applicationFields = {
  actor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'who did what the notification tells of' }),
  ),
  tenant: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: "the application's own tenant" }),
  ),
  data: Type.Optional(
    Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
      maxProperties: 64,
      description: "the application's own JSON for its front end, at most 8 KB serialised",
    }),
  ),
};

const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 }), {
  maxProperties: 32,
  description: 'strings only, passed to providers as tags',
});

/** What to send: shared by a single notification and a broadcast. */
export const content = {
  channels: Type.Array(Channel, { minItems: 1, maxItems: 4, uniqueItems: true }),
  title: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'required unless a template is given' }),
  ),
  body: Type.Optional(
    Type.String({ minLength: 1, maxLength: 10_000, description: 'required unless a template is given' }),
  ),
  html: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000 })),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })),
  priority: Type.Optional(Priority),
  metadata: Type.Optional(Metadata),
  template: Type.Optional(
    Type.Object(
      {
        key: Type.String({ minLength: 1, maxLength: 128 }),
        data: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
      },
      {
        ...strict,
        description: 'render every requested channel from this template instead of title/body/html',
      },
    ),
  ),
  locale: Type.Optional(
    Type.String({
      pattern: Locale.pattern,
      description:
        "for a template: the locale to render, before the recipient's own and the template's default",
    }),
  ),
};

/** Either literal content or a template; combining them is refused by the domain (400 naming the fields). */
export const contentOrTemplate = {
  anyOf: [{ required: ['title', 'body'] }, { required: ['template'] }],
};

export const CreateNotificationBody = Type.Object(
  {
    recipient: Type.Optional(Type.Union([Recipient, TopicRecipient])),
    recipients: Type.Optional(
      Type.Array(Recipient, {
        minItems: 1,
        maxItems: MAX_RECIPIENTS,
        description: 'a batch: one notification per recipient, one id each in the answer, in order',
      }),
    ),
    ...content,
    ...applicationFields,
    sendAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'in the future: schedules delivery' }),
    ),
    transactionId: Type.Optional(TransactionId),
  },
  {
    ...strict,
    allOf: [contentOrTemplate, { oneOf: [{ required: ['recipient'] }, { required: ['recipients'] }] }],
    title: 'CreateNotification',
  },
);
export type CreateNotificationBody = Static<typeof CreateNotificationBody>;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

export const NotificationAccepted = Type.Object(
  {
    id: Type.String(),
    statuses: ChannelStatuses,
    sendAt: Type.Optional(Instant),
  },
  { title: 'NotificationAccepted' },
);
export type NotificationAccepted = Static<typeof NotificationAccepted>;

export const BatchAccepted = Type.Object(
  { notifications: Type.Array(NotificationAccepted) },
  { title: 'BatchAccepted', description: 'one per recipient, in the order of `recipients`' },
);

export const ChannelDelivery = Type.Object({
  status: DeliveryStatus,
  attempt: Type.Optional(Type.Integer()),
  nextAttemptAt: Type.Optional(Instant),
  provider: Type.Optional(Type.String()),
  providerMessageId: Type.Optional(Type.String()),
  errorCode: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  heldUntil: Type.Optional(
    Type.String({
      format: 'date-time',
      description: "quiet hours: the job leaves at this time, the end of the recipient's quiet window",
    }),
  ),
  updatedAt: Instant,
});

export const HistoryEntry = Type.Object({
  channel: Channel,
  status: DeliveryStatus,
  at: Instant,
  source: Type.String(),
  detail: Type.Object({
    attempt: Type.Optional(Type.Integer()),
    nextAttemptAt: Type.Optional(Instant),
    provider: Type.Optional(Type.String()),
    providerMessageId: Type.Optional(Type.String()),
    errorCode: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
  }),
});

export const InboxItem = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    body: Type.String(),
    category: Type.Optional(Type.String()),
    actor: Type.Optional(Type.String()),
    tenant: Type.Optional(Type.String()),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    priority: Priority,
    channels: Type.Array(Channel),
    statuses: ChannelStatuses,
    read: Type.Boolean(),
    readAt: Type.Optional(Instant),
    archived: Type.Boolean(),
    createdAt: Instant,
    sendAt: Type.Optional(Instant),
  },
  { title: 'InboxItem' },
);
export type InboxItem = Static<typeof InboxItem>;

export const NotificationDetail = Type.Object(
  {
    ...InboxItem.properties,
    userId: Type.Union([Type.String(), Type.Null()]),
    recipient: Type.Object({
      userId: Type.Optional(Type.String()),
      email: Type.Optional(Type.String()),
      phone: Type.Optional(Type.String()),
    }),
    senderId: Type.String(),
    html: Type.Optional(Type.String()),
    locale: Type.Optional(Type.String()),
    metadata: Type.Record(Type.String(), Type.String()),
    template: Type.Optional(
      Type.Object({
        key: Type.String(),
        version: Type.Optional(Type.Integer()),
        locale: Type.Optional(Type.String()),
      }),
    ),
    rendered: Type.Optional(RenderedChannels),
    broadcastId: Type.Optional(Type.String()),
    deleted: Type.Boolean(),
    cancelledAt: Type.Optional(Instant),
    transactionId: Type.Optional(Type.String()),
    deliveries: Type.Object({
      in_app: Type.Optional(ChannelDelivery),
      email: Type.Optional(ChannelDelivery),
      sms: Type.Optional(ChannelDelivery),
      push: Type.Optional(ChannelDelivery),
    }),
    history: Type.Array(HistoryEntry),
  },
  { title: 'NotificationDetail' },
);
export type NotificationDetail = Static<typeof NotificationDetail>;

export const NotificationStatus = Type.Object(
  {
    id: Type.String(),
    channels: Type.Object({
      in_app: Type.Optional(ChannelDelivery),
      email: Type.Optional(ChannelDelivery),
      sms: Type.Optional(ChannelDelivery),
      push: Type.Optional(ChannelDelivery),
    }),
  },
  { title: 'NotificationStatus' },
);
export type NotificationStatus = Static<typeof NotificationStatus>;

export const InboxQuery = Type.Object(
  {
    ...CursorQuery.properties,
    read: Type.Optional(Type.Boolean()),
    archived: Type.Optional(
      Type.Boolean({ default: false, description: 'archived items are hidden unless asked for' }),
    ),
    channel: Type.Optional(Channel),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    status: Type.Optional(DeliveryStatus),
    since: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'only notifications that reached the inbox strictly after this instant (exclusive): created after it, or scheduled and due after it; poll with the newest createdAt you have',
      }),
    ),
  },
  strict,
);
export type InboxQuery = Static<typeof InboxQuery>;

export const InboxPage = CursorPage(InboxItem);

export const IdParams = Type.Object({ id: Id }, strict);

export const UpdateNotificationBody = Type.Object(
  { read: Type.Optional(Type.Boolean()), archived: Type.Optional(Type.Boolean()) },
  { ...strict, minProperties: 1 },
);
export type UpdateNotificationBody = Static<typeof UpdateNotificationBody>;

export const UnreadCount = Type.Object({ unreadCount: Type.Integer({ minimum: 0 }) });
export const ReadAllResult = Type.Object({
  updated: Type.Integer({ minimum: 0 }),
  unreadCount: Type.Integer(),
});

export const CancelOutcome = Type.Object(
  {
    id: Type.String(),
    cancelled: Type.Boolean(),
    cancelledAt: Type.Optional(Instant),
    statuses: ChannelStatuses,
  },
  { title: 'CancelOutcome' },
);

export const CancelTransactionBody = Type.Object({ transactionId: TransactionId }, strict);
export const CancelTransactionResult = Type.Object({
  cancelled: Type.Array(Type.String(), { description: 'the ids of the notifications it cancelled' }),
});

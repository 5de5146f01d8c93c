import { Type, type Static } from '@sinclair/typebox';
import { Channel, DeliveryChannel } from './channels';
import { LiteralUnion } from './literal-union';
import { Envelope } from './envelope';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EntityId } from './primitives';
import { DeliveryStatus, type EngagementKind } from './status';

/** The current delivery status of each channel the notification uses. */
export const ChannelStatuses = Type.Object(
  {
    in_app: Type.Optional(DeliveryStatus),
    email: Type.Optional(DeliveryStatus),
    sms: Type.Optional(DeliveryStatus),
    push: Type.Optional(DeliveryStatus),
  },
  { additionalProperties: false },
);
export type ChannelStatuses = Static<typeof ChannelStatuses>;

/**
 * Whose inbox a notification is in: a user id, or `sub:<externalId>` for an
 * application's subscriber (docs/applications.md), up to 4 + 128 characters.
 */
export const InboxOwnerId = Type.String({ minLength: 1, maxLength: 132 });

/** What an inbox shows, so realtime can push it without reading the notification store. */
export const NotificationSummary = Type.Object({
  id: EntityId,
  title: Type.String({ minLength: 1 }),
  body: Type.String(),
  category: Type.Optional(Type.String({ minLength: 1 })),
  /** set by the sending application: who did what the notification tells of */
  actor: Type.Optional(Type.String({ minLength: 1 })),
  /** set by the sending application: its own tenant (workspace, shop…) */
  tenant: Type.Optional(Type.String({ minLength: 1 })),
  /** set by the sending application: its own JSON for its front end */
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  channels: Type.Array(Channel, { minItems: 1, uniqueItems: true }),
  createdAt: DateTime,
  /** A notification is created unread; reading it is a `notification.updated`. */
  read: Type.Literal(false),
  statuses: ChannelStatuses,
});
export type NotificationSummary = Static<typeof NotificationSummary>;

export const NotificationCreatedPayload = Type.Object({
  /** The recipient (a user id, or `sub:<externalId>`): realtime emits to this inbox owner's room. */
  userId: InboxOwnerId,
  notification: NotificationSummary,
  /**
   * The recipient's unread count including this one, when the producer knows it without a query;
   * realtime then pushes `unread-count`. The notification service leaves it out: it would be one
   * more query per create at thousands of creates a second.
   */
  unreadCount: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type NotificationCreatedPayload = Static<typeof NotificationCreatedPayload>;

export const NotificationCreatedMessage = Envelope(
  MessageTypes.notificationCreated,
  MessageVersions[MessageTypes.notificationCreated],
  NotificationCreatedPayload,
);
export type NotificationCreatedMessage = Static<typeof NotificationCreatedMessage>;

/** Items of one `notifications.created`, at most: a batch is what one publish of the accept path carries. */
export const MAX_CREATED_BATCH = 500;

/** One notification of a `notifications.created`: its `notification.created` payload and the request it came from. */
export const CreatedBatchItem = Type.Composite([
  NotificationCreatedPayload,
  Type.Object({ correlationId: Type.String({ minLength: 1, maxLength: 256 }) }),
]);
export type CreatedBatchItem = Static<typeof CreatedBatchItem>;

/**
 * Many `notification.created` in one message. Realtime handles each item as
 * it would the single event (and drops a notification id it has pushed
 * already: a batch, like the single event, may be published again). The
 * envelope's `correlationId` is the batch's own; each item carries its
 * request's.
 */
export const NotificationsCreatedPayload = Type.Object({
  items: Type.Array(CreatedBatchItem, { minItems: 1, maxItems: MAX_CREATED_BATCH }),
});
export type NotificationsCreatedPayload = Static<typeof NotificationsCreatedPayload>;

export const NotificationsCreatedMessage = Envelope(
  MessageTypes.notificationsCreated,
  MessageVersions[MessageTypes.notificationsCreated],
  NotificationsCreatedPayload,
);
export type NotificationsCreatedMessage = Static<typeof NotificationsCreatedMessage>;

export const StatusDetail = Type.Object({
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  nextAttemptAt: Type.Optional(DateTime),
  errorCode: Type.Optional(Type.String({ minLength: 1 })),
  reason: Type.Optional(Type.String()),
});
export type StatusDetail = Static<typeof StatusDetail>;

export const StatusChange = Type.Object({
  kind: Type.Literal('status'),
  channel: Channel,
  status: DeliveryStatus,
  at: DateTime,
  detail: Type.Optional(StatusDetail),
});
export const ReadChange = Type.Object({
  kind: Type.Literal('read'),
  /** false: marked unread again. */
  read: Type.Boolean(),
  at: DateTime,
});
export const ArchiveChange = Type.Object({
  kind: Type.Literal('archived'),
  /** false: restored from the archive. */
  archived: Type.Boolean(),
  at: DateTime,
});
export const DeletedChange = Type.Object({
  kind: Type.Literal('deleted'),
  at: DateTime,
});

/**
 * The engagement kinds a provider reports about an email or SMS (the
 * provider-side part of `EngagementKinds`; in-app read and archive have
 * changes of their own).
 */
export const ProviderEngagementKinds = [
  'opened',
  'clicked',
  'complained',
  'unsubscribed',
] as const satisfies readonly EngagementKind[];
export const ProviderEngagementKind = LiteralUnion(ProviderEngagementKinds);
export type ProviderEngagementKind = Static<typeof ProviderEngagementKind>;

/**
 * The first report of one engagement kind; a repeated open or click is not
 * a change, so it is published once per notification and kind.
 */
export const EngagementChange = Type.Object({
  kind: Type.Literal('engagement'),
  channel: DeliveryChannel,
  engagement: ProviderEngagementKind,
  at: DateTime,
});

export const NotificationChange = Type.Union([
  StatusChange,
  ReadChange,
  ArchiveChange,
  DeletedChange,
  EngagementChange,
]);
export type NotificationChange = Static<typeof NotificationChange>;

export const NotificationUpdatedPayload = Type.Object({
  /** the inbox owner: a user id, or `sub:<externalId>` */
  userId: InboxOwnerId,
  notificationId: EntityId,
  change: NotificationChange,
  /**
   * The recipient's unread count after the change, so realtime pushes `unread-count` without a
   * query. Absent when the change cannot move it (a delivery status, an engagement): counting
   * for every status report cost one more query per report, over all of the recipient's unread.
   */
  unreadCount: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** Changes that never move the unread count: their `notification.updated` carries none. */
export const CHANGES_KEEPING_UNREAD_COUNT: ReadonlySet<NotificationChange['kind']> = new Set([
  'status',
  'engagement',
]);
export type NotificationUpdatedPayload = Static<typeof NotificationUpdatedPayload>;

export const NotificationUpdatedMessage = Envelope(
  MessageTypes.notificationUpdated,
  MessageVersions[MessageTypes.notificationUpdated],
  NotificationUpdatedPayload,
);
export type NotificationUpdatedMessage = Static<typeof NotificationUpdatedMessage>;

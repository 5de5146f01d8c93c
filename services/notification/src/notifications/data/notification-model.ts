import { Schema, type Types, type Connection, type Model } from 'mongoose';
import { type Channel, type DeliveryStatus, type Priority, type TemplateRef } from '@herald/contracts';
import { type RenderedChannels } from '../../templates/data/content-types';

export interface Recipient {
  userId?: string;
  email?: string;
  phone?: string;
  name?: string;
  locale?: string;
}

export interface ChannelDelivery {
  status: DeliveryStatus;
  /** the delivery job's id (email/SMS): the worker's idempotency key */
  jobId?: string;
  attempt?: number;
  nextAttemptAt?: Date;
  provider?: string;
  providerMessageId?: string;
  errorCode?: string;
  reason?: string;
  /** quiet hours: the job leaves at this time (the end of the recipient's quiet window), not before */
  heldUntil?: Date;
  updatedAt: Date;
}

export interface Engagement {
  openedAt?: Date;
  clickedAt?: Date;
  complainedAt?: Date;
  unsubscribedAt?: Date;
}

export interface HistoryEntry {
  channel: Channel;
  status: DeliveryStatus;
  at: Date;
  /** who reported it: `api` (accepted), `outbox`, `worker`, … */
  source: string;
  /** the reporting message, so a redelivered report is recognised */
  messageId?: string;
  attempt?: number;
  nextAttemptAt?: Date;
  provider?: string;
  providerMessageId?: string;
  errorCode?: string;
  reason?: string;
}

/** A message waiting to be published: a delivery job, or the in-app `notification.created` event. */
export interface OutboxEntry {
  messageId: string;
  kind: 'job' | 'created';
  channel: Channel;
  publishAfter: Date;
  publishedAt?: Date;
}

export interface NotificationRecord {
  _id: Types.ObjectId;
  /** unique per logical notification: its own id, or `broadcast:<id>:<user>` / `verification:<message>` */
  dedupeKey: string;
  /** the recipient user, when there is one: owner of the inbox entry */
  userId: string | null;
  recipient: Recipient;
  senderId: string;
  channels: Channel[];
  title: string;
  body: string;
  html?: string;
  /** the template, version and locale it was rendered from (with the data), for audit */
  template?: TemplateRef;
  /** per channel, exactly what a templated notification sent; the jobs carry this content */
  rendered?: RenderedChannels;
  /** for a templated notification, the locale of the variant used */
  locale?: string;
  category?: string;
  /** set by the sending application: who did what it tells of */
  actor?: string;
  /** set by the sending application: its own tenant */
  tenant?: string;
  /** set by the sending application: its JSON, as text (keys with dots or `$` stored as given) */
  dataJson?: string;
  priority: Priority;
  metadata: Record<string, string>;
  sendAt?: Date;
  /** when it enters the inbox: `sendAt` for a scheduled one, else its creation */
  deliverAt: Date;
  broadcastId?: string;
  correlationId: string;
  read: boolean;
  readAt?: Date;
  archived: boolean;
  archivedAt?: Date;
  /** removed from the inbox; the record stays for audit */
  deletedAt: Date | null;
  /** cancelled by its sender before it went out: its pending channels ended `cancelled` */
  cancelledAt?: Date;
  /** the sender's own id for what caused it (an order, a workflow run): cancels everything sent under it */
  transactionId?: string;
  /** the workflow run whose step made it: its events are sent on to the workflows service too */
  workflowRunId?: string;
  deliveries: Partial<Record<Channel, ChannelDelivery>>;
  /** every provider message id of its sends, normalised (no angle brackets): how webhooks find it */
  providerMessageIds?: string[];
  /** first time the provider reported each engagement with the email */
  engagement?: Engagement;
  /**
   * What happened to each channel after it was accepted. The acceptance itself
   * (each channel `queued`, an immediate in-app one `delivered`) is not stored:
   * the views derive it from `channels`, `sendAt` and `createdAt`. Absent until
   * something is reported. Documents stored before that carry their acceptance
   * entries too (the first one is `queued` from `api`), and are shown as stored.
   */
  history?: HistoryEntry[];
  /**
   * When the relay should look at this notification, if it owes messages
   * (delivery jobs, `notification.created`): the grace period after it was
   * accepted, or its `sendAt`. Never cleared in the common case: whether the
   * messages were confirmed is in `outbox_confirmations`, and the relay's
   * watermark (`outbox_relay`) passes it once settled (see outbox/domain/outbox.ts).
   * Absent when nothing is owed.
   */
  outboxDueAt?: Date | null;
  /**
   * Quiet hours: when the in-app `notification.created` was confirmed while
   * its email or SMS stayed held, so the publish at the hold's end skips it.
   */
  createdPublishedAt?: Date;
  /** older documents only: the messages owed, each marked once published */
  outbox?: OutboxEntry[];
  /** older documents only: the lease of the instance publishing them */
  outboxLeaseUntil?: Date | null;
  outboxLeaseOwner?: string;
  createdAt: Date;
  updatedAt: Date;
}

const channelDelivery = new Schema<ChannelDelivery>(
  {
    status: { type: String, required: true },
    jobId: String,
    attempt: Number,
    nextAttemptAt: Date,
    provider: String,
    providerMessageId: String,
    errorCode: String,
    reason: String,
    heldUntil: Date,
    updatedAt: { type: Date, required: true },
  },
  { _id: false },
);

const historyEntry = new Schema<HistoryEntry>(
  {
    channel: { type: String, required: true },
    status: { type: String, required: true },
    at: { type: Date, required: true },
    source: { type: String, required: true },
    messageId: String,
    attempt: Number,
    nextAttemptAt: Date,
    provider: String,
    providerMessageId: String,
    errorCode: String,
    reason: String,
  },
  { _id: false },
);

const outboxEntry = new Schema<OutboxEntry>(
  {
    messageId: { type: String, required: true },
    kind: { type: String, required: true },
    channel: { type: String, required: true },
    publishAfter: { type: Date, required: true },
    publishedAt: Date,
  },
  { _id: false },
);

const notificationSchema = new Schema<NotificationRecord>(
  {
    dedupeKey: { type: String, required: true },
    userId: { type: String, default: null },
    recipient: {
      userId: String,
      email: String,
      phone: String,
      name: String,
      locale: String,
    },
    senderId: { type: String, required: true },
    channels: { type: [String], required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    html: String,
    template: Schema.Types.Mixed,
    rendered: Schema.Types.Mixed,
    locale: String,
    category: String,
    actor: String,
    tenant: String,
    dataJson: String,
    priority: { type: String, required: true },
    metadata: { type: Schema.Types.Mixed, default: {} },
    sendAt: Date,
    deliverAt: { type: Date, required: true },
    broadcastId: String,
    correlationId: { type: String, required: true },
    read: { type: Boolean, default: false },
    readAt: Date,
    archived: { type: Boolean, default: false },
    archivedAt: Date,
    deletedAt: { type: Date, default: null },
    cancelledAt: Date,
    transactionId: String,
    workflowRunId: String,
    deliveries: {
      in_app: channelDelivery,
      email: channelDelivery,
      sms: channelDelivery,
      push: channelDelivery,
    },
    providerMessageIds: { type: [String], default: undefined },
    engagement: {
      openedAt: Date,
      clickedAt: Date,
      complainedAt: Date,
      unsubscribedAt: Date,
    },
    // no defaults: what a notification does not need is not stored (see the interface)
    history: { type: [historyEntry], default: undefined },
    outbox: { type: [outboxEntry], default: undefined },
    outboxDueAt: Date,
    createdPublishedAt: Date,
    outboxLeaseUntil: Date,
    outboxLeaseOwner: String,
  },
  // autoIndex off: buildApp builds the indexes itself, after unsetReleasedLeaseOwners
  { collection: 'notifications', timestamps: true, minimize: false, versionKey: false, autoIndex: false },
);

// The inbox, newest first, and the cursor's tie-break on _id.
notificationSchema.index({ userId: 1, deletedAt: 1, createdAt: -1, _id: -1 });
// Unread count and read-all.
notificationSchema.index({ userId: 1, read: 1, archived: 1, deletedAt: 1 });
notificationSchema.index({ userId: 1, category: 1, createdAt: -1 });
// The inbox's `since` (realtime's catch-up): what reached the inbox after an instant.
notificationSchema.index({ userId: 1, deletedAt: 1, deliverAt: -1 });
notificationSchema.index({ dedupeKey: 1 }, { unique: true });
// The relay's scan past its watermark, in (outboxDueAt, _id) order.
notificationSchema.index({ outboxDueAt: 1 });
// Older documents' outbox lease (before the confirmation log): sparse and
// unique, so it holds only the few documents a lease was left on. New
// documents never carry an owner; the index stays for the migration below.
notificationSchema.index({ outboxLeaseOwner: 1 }, { unique: true, sparse: true });
notificationSchema.index({ broadcastId: 1 });
// Cancel by transactionId: a sender's notifications under one id.
notificationSchema.index({ senderId: 1, transactionId: 1 }, { sparse: true });
// Provider webhooks find the notification by the id the provider gave its send.
notificationSchema.index({ providerMessageIds: 1 });
// The admin stats: one range scan per period, narrowed by channel.
notificationSchema.index({ createdAt: 1, channels: 1 });

export type NotificationModel = Model<NotificationRecord>;

export function notificationModel(connection: Connection): NotificationModel {
  return (
    (connection.models.Notification as NotificationModel | undefined) ??
    connection.model<NotificationRecord>('Notification', notificationSchema)
  );
}

const LEASE_OWNER_INDEX = 'outboxLeaseOwner_1';

/**
 * Releases used to set the lease owner to null, and the owner's sparse unique
 * index counts a null as a value: a database written before the index would
 * fail to build it. Unsets those nulls once, before the index exists (later
 * starts see the index and skip the scan).
 */
export async function unsetReleasedLeaseOwners(model: NotificationModel): Promise<number> {
  // listIndexes fails on a collection that does not exist yet: nothing to migrate then
  const indexed = await model.collection.indexExists(LEASE_OWNER_INDEX).catch(() => false);
  if (indexed) return 0;
  const result = await model.collection.updateMany(
    { outboxLeaseOwner: { $type: 'null' } },
    { $unset: { outboxLeaseOwner: '' } },
  );
  return result.modifiedCount;
}

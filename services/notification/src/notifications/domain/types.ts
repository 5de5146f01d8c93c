import { type Channel, type ChannelStatuses, type DeliveryStatus, type Priority } from '@herald/contracts';
import { type RenderedChannels } from '../../templates/data/content-types';

/*
 * What the notification functions take and give, in their own terms. The
 * HTTP schemas (../schemas.ts) describe the same shapes on the wire; the
 * routes pass parsed bodies in and send these back, so the compiler holds
 * the two together.
 */

/** The fields of a create or broadcast request that say what to send. */
export interface SendInput {
  channels: Channel[];
  title?: string;
  body?: string;
  html?: string;
  category?: string;
  priority?: Priority;
  metadata?: Record<string, string>;
  template?: { key: string; data: Record<string, unknown> };
  locale?: string;
}

/** Exactly one way of naming who receives it. */
export type RecipientInput =
  | { userId: string }
  | { email: string }
  | { phone: string }
  /** an application's subscriber by its external id, or a Herald user by id */
  | { subscriberId: string };

/** What an application may attach to a notification (docs/applications.md). */
export interface ApplicationFields {
  actor?: string;
  tenant?: string;
  data?: Record<string, unknown>;
}

export interface CreateNotificationInput extends SendInput, ApplicationFields {
  recipient: RecipientInput;
  /** in the future: schedules delivery */
  sendAt?: string;
  /** the sender's own id for what caused it: `POST /notifications/cancel` cancels by it */
  transactionId?: string;
}

export interface NotificationAccepted {
  id: string;
  statuses: ChannelStatuses;
  sendAt?: string;
}

export interface InboxQuery {
  limit?: number;
  cursor?: string;
  read?: boolean;
  archived?: boolean;
  channel?: Channel;
  category?: string;
  status?: DeliveryStatus;
  /** only what reached the inbox strictly after this instant */
  since?: string;
}

export interface ReadStateChange {
  read?: boolean;
  archived?: boolean;
}

/** One request naming one recipient or a batch of them (`POST /notifications`). */
export interface SendRequestInput extends Omit<CreateNotificationInput, 'recipient'> {
  recipient?: RecipientInput;
  recipients?: RecipientInput[];
}

export interface InboxItem {
  id: string;
  title: string;
  body: string;
  category?: string;
  actor?: string;
  tenant?: string;
  data?: Record<string, unknown>;
  priority: Priority;
  channels: Channel[];
  statuses: ChannelStatuses;
  read: boolean;
  readAt?: string;
  archived: boolean;
  createdAt: string;
  sendAt?: string;
}

export interface ChannelDeliveryView {
  status: DeliveryStatus;
  attempt?: number;
  nextAttemptAt?: string;
  provider?: string;
  providerMessageId?: string;
  errorCode?: string;
  reason?: string;
  updatedAt: string;
}

export interface HistoryEntryView {
  channel: Channel;
  status: DeliveryStatus;
  at: string;
  source: string;
  detail: {
    attempt?: number;
    nextAttemptAt?: string;
    provider?: string;
    providerMessageId?: string;
    errorCode?: string;
    reason?: string;
  };
}

type DeliveriesView = Partial<Record<Channel, ChannelDeliveryView>>;

export interface NotificationDetail extends InboxItem {
  userId: string | null;
  recipient: { userId?: string; email?: string; phone?: string };
  senderId: string;
  html?: string;
  locale?: string;
  metadata: Record<string, string>;
  template?: { key: string; version?: number; locale?: string };
  rendered?: RenderedChannels;
  broadcastId?: string;
  deleted: boolean;
  cancelledAt?: string;
  transactionId?: string;
  deliveries: DeliveriesView;
  history: HistoryEntryView[];
}

export interface NotificationStatus {
  id: string;
  channels: DeliveriesView;
}

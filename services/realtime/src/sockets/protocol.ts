import { Type, type Static } from '@sinclair/typebox';
import {
  type Channel,
  type ClientEvents,
  DateTime,
  type DeliveryStatus,
  type StatusDetail,
  type ServerEvents,
  type NotificationChange,
  type NotificationSummary,
} from '@herald/contracts';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type CatchUpItem } from '../catch-up/notification-feed';

/**
 * The payloads of the Socket.IO protocol between realtime and browsers, typed
 * per event. The event names themselves are public contract and live in
 * @herald/contracts (ServerEvents, ClientEvents), shared with every client.
 */

/** Live events carry the envelope's ids and time so a client can trace and order them. */
export interface NotificationNewEvent {
  notification: NotificationSummary | CatchUpItem;
  occurredAt: string;
  correlationId?: string;
  /** true when replayed by catch-up rather than pushed live */
  catchUp?: true;
}

export interface NotificationUpdatedEvent {
  notificationId: string;
  change: NotificationChange;
  /** absent when the change cannot move it (a delivery status, an engagement) */
  unreadCount?: number;
  occurredAt: string;
  correlationId: string;
}

/**
 * A status change of a notification the socket's user sent, whoever received
 * it (an outside address included): `notification.status` from the broker.
 */
export interface NotificationStatusEvent {
  notificationId: string;
  channel: Channel;
  status: DeliveryStatus;
  at: string;
  detail?: StatusDetail;
  occurredAt: string;
  correlationId: string;
}

export interface CatchUpEvent {
  /** truncated: more was missed than one replay sends, reload the inbox; failed: the replay could not run */
  status: 'complete' | 'truncated' | 'failed';
  count: number;
}

export type RefreshAck = { ok: true; expiresAt: string } | { ok: false; code: string; message: string };

export interface ServerToClientEvents {
  [ServerEvents.notificationNew]: (event: NotificationNewEvent) => void;
  [ServerEvents.notificationUpdated]: (event: NotificationUpdatedEvent) => void;
  [ServerEvents.notificationStatus]: (event: NotificationStatusEvent) => void;
  [ServerEvents.unreadCount]: (event: { count: number }) => void;
  [ServerEvents.authExpiring]: (event: { expiresAt: string }) => void;
  /** `account_disabled` / `role_changed`: auth's `user.updated` outdated the token before its expiry */
  [ServerEvents.authExpired]: (event: {
    code: 'token_expired' | 'account_disabled' | 'role_changed';
  }) => void;
  [ServerEvents.catchUp]: (event: CatchUpEvent) => void;
  [ServerEvents.serverShutdown]: (event: { reconnect: true }) => void;
}

export interface ClientToServerEvents {
  [ClientEvents.authRefresh]: (token: unknown, ack?: (result: RefreshAck) => void) => void;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

/**
 * What the handshake proved, kept on the socket for its lifetime. `user` is a
 * person (`kind: 'user'`, access token) or an application's subscriber
 * (`kind: 'subscriber'`, inbox token, id `sub:<externalId>`); never an API key.
 */
export interface SocketData {
  user: AuthenticatedUser;
  /** the raw token, kept only in memory, to read the principal's own missed notifications on their behalf */
  token: string;
  since?: string;
}

/**
 * The handshake's `auth` object. `since` is the `createdAt` of the newest
 * notification the client has seen; the server replays everything newer.
 * Clients pass `auth` as a function so every reconnect sends the current value.
 */
export const HandshakeAuth = Type.Object({
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
  since: Type.Optional(DateTime),
});
export type HandshakeAuth = Static<typeof HandshakeAuth>;

/**
 * The room of one inbox owner: a user id, or `sub:<externalId>` for a
 * subscriber, exactly as the notification events' `userId` names it. A user
 * id has no colon, so `user:<userId>` and `user:sub:<externalId>` never meet.
 */
export const userRoom = (userId: string) => `user:${userId}`;
export const adminRoom = 'role:admin';

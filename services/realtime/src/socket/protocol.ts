import { Type, type Static } from '@sinclair/typebox';
import { DateTime, type NotificationChange, type NotificationSummary } from '@herald/contracts';
import { type AuthenticatedUser } from '@herald/runtime';

/**
 * The Socket.IO protocol between realtime and browsers. Event names are part
 * of the public contract: add new ones, never rename.
 */
export const ServerEvents = {
  notificationNew: 'notification:new',
  notificationUpdated: 'notification:updated',
  unreadCount: 'unread-count',
  /** the token expires soon: send a fresh one with `auth:refresh` or be disconnected at expiry */
  authExpiring: 'auth:expiring',
  /** sent just before the server disconnects a socket whose token expired */
  authExpired: 'auth:expired',
  /** the end of the replay of what a reconnecting client missed */
  catchUp: 'catch-up',
  /** this instance is stopping; the client reconnects by itself (to another instance) */
  serverShutdown: 'server:shutdown',
} as const;

export const ClientEvents = {
  authRefresh: 'auth:refresh',
} as const;

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
  unreadCount: number;
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
  [ServerEvents.unreadCount]: (event: { count: number }) => void;
  [ServerEvents.authExpiring]: (event: { expiresAt: string }) => void;
  [ServerEvents.authExpired]: (event: { code: 'token_expired' }) => void;
  [ServerEvents.catchUp]: (event: CatchUpEvent) => void;
  [ServerEvents.serverShutdown]: (event: { reconnect: true }) => void;
}

export interface ClientToServerEvents {
  [ClientEvents.authRefresh]: (token: unknown, ack?: (result: RefreshAck) => void) => void;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

/** What the handshake proved, kept on the socket for its lifetime. */
export interface SocketData {
  user: AuthenticatedUser;
  /** the raw token, kept only in memory, to read the user's own missed notifications on their behalf */
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

/** One item of the notification API's inbox page; only what catch-up needs is required, the rest is passed on. */
export const CatchUpItem = Type.Object({
  id: Type.String({ minLength: 1 }),
  createdAt: DateTime,
});
export type CatchUpItem = Static<typeof CatchUpItem> & Record<string, unknown>;

export const CatchUpPage = Type.Object({
  items: Type.Array(CatchUpItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type CatchUpPage = { items: CatchUpItem[]; nextCursor: string | null };

export const userRoom = (userId: string) => `user:${userId}`;
export const adminRoom = 'role:admin';

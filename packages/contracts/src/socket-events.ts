/**
 * The Socket.IO protocol between realtime and browsers (and the inbox
 * component, the end-to-end suite and the benchmarks). Event names are part
 * of the public contract: add new ones, never rename.
 */
export const ServerEvents = {
  notificationNew: 'notification:new',
  notificationUpdated: 'notification:updated',
  /** a status change of a notification this socket's user sent, whoever received it */
  notificationStatus: 'notification:status',
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
export type ServerEvent = (typeof ServerEvents)[keyof typeof ServerEvents];

export const ClientEvents = {
  authRefresh: 'auth:refresh',
} as const;
export type ClientEvent = (typeof ClientEvents)[keyof typeof ClientEvents];

/** Where the gateway serves Socket.IO (its default path, kept explicit for clients and nginx). */
export const SOCKET_IO_PATH = '/socket.io/';

import { Server } from 'socket.io';
import { ServerEvents, SOCKET_IO_PATH } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type HttpApp, type TokenVerifier } from '@herald/runtime/http';
import { type NotificationFeed } from '../catch-up/notification-feed';
import { replayMissed } from '../catch-up/replay-missed';
import { registerRealtimeMetrics } from '../metrics/realtime-metrics';
import { AccountChanges } from './account-changes';
import { AccountStates } from './account-states';
import { ConnectionsPerUser } from './connection-limit';
import { authenticateHandshake } from './handshake';
import { adminRoom, userRoom } from './protocol';
import { Pusher } from './pusher';
import { type RealtimeServer } from './socket-types';
import { superviseTokenExpiry, type Timers } from './token-expiry';

export interface SocketServerOptions {
  verifier: TokenVerifier;
  notificationFeed: NotificationFeed;
  log: Logger;
  timers: Timers;
  maxConnectionsPerUser: number;
  maxHttpBufferBytes: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxBufferedPackets: number;
  reauthLeadMs: number;
  catchUpMaxItems: number;
  /** accounts whose `user.updated` this instance remembers (disabled, role) */
  knownAccountsMax: number;
}

export interface SocketServer {
  io: RealtimeServer;
  pusher: Pusher;
  /** applies auth's user events to this instance's sockets and handshakes */
  accounts: AccountChanges;
  /** Tells every client this instance is stopping, then closes the transports so they reconnect elsewhere. */
  closeAll(): void;
}

/**
 * Socket.IO on the app's own HTTP server (so /health, /metrics and /docs come
 * with it). A socket is authenticated at the handshake, joins its user's room
 * (and the admins' room), lives no longer than its token, and is replayed what
 * it missed while away.
 */
export function attachSocketServer(app: HttpApp, options: SocketServerOptions): SocketServer {
  const { log } = options;
  const io: RealtimeServer = new Server(app.server, {
    path: SOCKET_IO_PATH,
    // The browser client at /socket.io/socket.io.js (ETag-cached), so a page needs no bundler or CDN:
    // examples/inbox.html loads it from the gateway. It is the client matching this server's version.
    serveClient: true,
    maxHttpBufferSize: options.maxHttpBufferBytes,
    pingInterval: options.pingIntervalMs,
    pingTimeout: options.pingTimeoutMs,
    // A draining instance refuses at the transport level, which clients retry (elsewhere) by themselves.
    allowRequest: (_request, callback) => callback(null, !app.isShuttingDown()),
  });
  const metrics = registerRealtimeMetrics(app, () => io.of('/').sockets.size);
  const connections = new ConnectionsPerUser(options.maxConnectionsPerUser);
  const pusher = new Pusher(io, { metrics, maxBufferedPackets: options.maxBufferedPackets, log });
  const accounts = new AccountChanges(io, new AccountStates(options.knownAccountsMax), log);

  io.use(
    authenticateHandshake({
      verifier: options.verifier,
      connections,
      accounts: accounts.states,
      metrics,
      log,
    }),
  );
  io.on('connection', (socket) => {
    const { user } = socket.data;
    void socket.join(user.role === 'admin' ? [userRoom(user.id), adminRoom] : userRoom(user.id));
    superviseTokenExpiry(socket, {
      verifier: options.verifier,
      reauthLeadMs: options.reauthLeadMs,
      accounts: accounts.states,
      log,
      timers: options.timers,
    });
    void replayMissed(socket, {
      feed: options.notificationFeed,
      maxItems: options.catchUpMaxItems,
      log,
      onAccountDisabled: (refused) =>
        accounts.disconnect(refused, {
          code: 'account_disabled',
          status: 403,
          message: 'The account is disabled',
        }),
    });
  });

  return {
    io,
    pusher,
    accounts,
    closeAll() {
      io.of('/').emit(ServerEvents.serverShutdown, { reconnect: true });
      // Closing transports (not a server-side disconnect) makes clients reconnect by themselves,
      // with their own randomised backoff; engine.io flushes the shutdown notice before closing.
      io.engine.close();
    },
  };
}

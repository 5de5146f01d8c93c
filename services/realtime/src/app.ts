import { Server } from 'socket.io';
import { type AmqpClient } from '@herald/amqp';
import { createHttpApp, type HttpApp, type Logger, type TokenVerifier } from '@herald/runtime';
import { type NotificationFeed } from './catch-up/notification-feed';
import { replayMissed } from './catch-up/replay-missed';
import { consumeNotificationEvents } from './consumers/notification-events';
import { registerRealtimeMetrics } from './metrics/realtime-metrics';
import { ConnectionsPerUser } from './socket/connection-limit';
import { authenticateHandshake } from './socket/handshake';
import { ServerEvents, adminRoom, userRoom } from './socket/protocol';
import { Pusher } from './socket/pusher';
import { superviseTokenExpiry } from './socket/token-expiry';
import { type RealtimeServer } from './socket/types';

export interface RealtimeSettings {
  instanceId: string;
  maxConnectionsPerUser: number;
  maxHttpBufferBytes: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxBufferedPackets: number;
  reauthLeadMs: number;
  catchUpMaxItems: number;
  prefetch: number;
  queueMaxLength: number;
}

export interface Deps {
  logger: Logger;
  verifier: TokenVerifier;
  /** the app stops its consumer on close; whoever created the client closes it */
  amqp: AmqpClient;
  notificationFeed: NotificationFeed;
  settings: RealtimeSettings;
}

export const SOCKET_PATH = '/socket.io';

/**
 * Builds the realtime service without listening: Socket.IO shares the HTTP
 * server of the app factory (so /health, /metrics and /docs come with it),
 * and consumption starts when the app is ready.
 */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const { logger, settings } = deps;
  const app = await createHttpApp({
    service: 'realtime',
    description:
      'Socket.IO on /socket.io: pushes new notifications, their changes and the unread count to each user',
    logger,
    trustProxy: true,
    readiness: { amqp: () => deps.amqp.isConnected() },
  });

  const io: RealtimeServer = new Server(app.server, {
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: settings.maxHttpBufferBytes,
    pingInterval: settings.pingIntervalMs,
    pingTimeout: settings.pingTimeoutMs,
    // A draining instance refuses at the transport level, which clients retry (elsewhere) by themselves.
    allowRequest: (_request, callback) => callback(null, !app.isShuttingDown()),
  });
  const metrics = registerRealtimeMetrics(app, () => io.of('/').sockets.size);
  const connections = new ConnectionsPerUser(settings.maxConnectionsPerUser);
  const pusher = new Pusher(io, { metrics, maxBufferedPackets: settings.maxBufferedPackets, log: logger });

  io.use(authenticateHandshake({ verifier: deps.verifier, connections, metrics, log: logger }));
  io.on('connection', (socket) => {
    const { user } = socket.data;
    void socket.join(user.role === 'admin' ? [userRoom(user.id), adminRoom] : userRoom(user.id));
    superviseTokenExpiry(socket, {
      verifier: deps.verifier,
      reauthLeadMs: settings.reauthLeadMs,
      log: logger,
    });
    void replayMissed(socket, {
      feed: deps.notificationFeed,
      maxItems: settings.catchUpMaxItems,
      log: logger,
    });
  });

  const consumer = consumeNotificationEvents(deps.amqp, pusher, {
    instanceId: settings.instanceId,
    prefetch: settings.prefetch,
    queueMaxLength: settings.queueMaxLength,
  });
  app.addHook('onReady', async () => {
    await consumer.waitUntilConsuming();
  });

  app.addHook('preClose', async () => {
    // Stop consuming first, finishing the events in hand. Events published from here on wait in
    // the exclusive queue and vanish with it when the connection closes; no one is lost for good:
    // every client is about to reconnect, to another instance, and its catch-up (`since` = the
    // newest notification it saw) reads them from the notification store.
    await consumer.stop();
    io.of('/').emit(ServerEvents.serverShutdown, { reconnect: true });
    // Closing transports (not a server-side disconnect) makes clients reconnect by themselves,
    // with their own randomised backoff; engine.io flushes the shutdown notice before closing.
    io.engine.close();
  });

  return app;
}

import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { createHttpApp, type HttpApp, type TokenVerifier } from '@herald/runtime/http';
import { type NotificationFeed } from './catch-up/notification-feed';
import { consumeNotificationEvents } from './events/consumers';
import { attachSocketServer } from './sockets/socket-server';
import { systemTimers, type Timers } from './sockets/token-expiry';

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
  /** accounts whose last `user.updated` (disabled, role) this instance keeps in memory */
  knownAccountsMax: number;
  /** whose X-Forwarded-For is believed: the gateway's address only (TRUSTED_PROXIES) */
  trustedProxies: string;
}

export interface Deps {
  logger: Logger;
  verifier: TokenVerifier;
  /** the app stops its consumer on close; whoever created the client closes it */
  amqp: AmqpClient;
  notificationFeed: NotificationFeed;
  settings: RealtimeSettings;
  /** what token expiry runs on; tests pass manual timers */
  timers?: Timers;
}

/**
 * Builds the realtime service without listening: the socket server on the
 * app's HTTP server, and the consumer of notification events that pushes to
 * its sockets, consuming once the app is ready.
 */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const { logger, settings } = deps;
  const app = await createHttpApp({
    service: 'realtime',
    description:
      'Socket.IO on /socket.io: pushes new notifications, their changes and the unread count to each user',
    logger,
    trustProxy: settings.trustedProxies,
    readiness: { amqp: () => deps.amqp.isConnected() },
  });

  const sockets = attachSocketServer(app, {
    ...settings,
    verifier: deps.verifier,
    notificationFeed: deps.notificationFeed,
    log: logger,
    timers: deps.timers ?? systemTimers,
  });
  const events = consumeNotificationEvents(deps.amqp, sockets, settings);

  app.addHook('onReady', async () => {
    await events.waitUntilConsuming();
  });
  app.addHook('preClose', async () => {
    // Stop consuming first, finishing the events in hand. Events published from here on wait in
    // the exclusive queue and vanish with it when the connection closes; no one is lost for good:
    // every client is about to reconnect, to another instance, and its catch-up (`since` = the
    // newest notification it saw) reads them from the notification store.
    await events.stop();
    sockets.closeAll();
  });

  return app;
}

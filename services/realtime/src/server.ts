import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AmqpClient } from '@herald/amqp';
import { closeOnSignals, createLogger, runService } from '@herald/runtime';
import { createJwksKeyResolver, createTokenVerifier } from '@herald/runtime/http';
import { buildApp, type RealtimeSettings } from './app';
import { httpNotificationFeed } from './catch-up/notification-feed';
import { loadConfig, type Config } from './config';

function settingsFrom(config: Config): RealtimeSettings {
  return {
    instanceId:
      config.INSTANCE_ID ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${randomUUID().slice(0, 8)}`,
    maxConnectionsPerUser: config.REALTIME_MAX_CONNECTIONS_PER_USER,
    maxHttpBufferBytes: config.REALTIME_MAX_HTTP_BUFFER_BYTES,
    pingIntervalMs: config.REALTIME_PING_INTERVAL_MS,
    pingTimeoutMs: config.REALTIME_PING_TIMEOUT_MS,
    maxBufferedPackets: config.REALTIME_MAX_BUFFERED_PACKETS,
    reauthLeadMs: config.REALTIME_REAUTH_LEAD_MS,
    catchUpMaxItems: config.CATCH_UP_MAX_ITEMS,
    prefetch: config.AMQP_PREFETCH,
    queueMaxLength: config.REALTIME_QUEUE_MAX_LENGTH,
    knownAccountsMax: config.REALTIME_KNOWN_ACCOUNTS_MAX,
    trustedProxies: config.TRUSTED_PROXIES,
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'realtime', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const settings = settingsFrom(config);
  const amqp = new AmqpClient({
    url: config.AMQP_URL,
    logger,
    connectionName: `realtime-${settings.instanceId}`,
    namespace: config.AMQP_NAMESPACE,
  });
  await amqp.waitUntilReady();
  const verifier = createTokenVerifier({
    keys: createJwksKeyResolver({ jwksUrl: config.JWT_JWKS_URL }),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  const notificationFeed = httpNotificationFeed({
    baseUrl: config.NOTIFICATION_API_URL,
    timeoutMs: config.NOTIFICATION_API_TIMEOUT_MS,
  });
  const app = await buildApp({ logger, verifier, amqp, notificationFeed, settings });
  // Runs after the app's own hooks have stopped the consumer and closed the sockets.
  app.addHook('onClose', async () => {
    await amqp.close();
  });
  closeOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  await app.listen({ host: config.HOST, port: config.PORT });
  logger.info({ instanceId: settings.instanceId }, 'realtime is listening');
}

runService('realtime', main);

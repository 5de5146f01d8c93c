import { AmqpClient } from '@herald/amqp';
import { closeOnSignals, createLogger, runService } from '@herald/runtime';
import { closeMongo, connectMongo } from '@herald/runtime/mongo';
import { hostname } from 'node:os';
import { buildApp } from './app';
import { loadConfigFromProcess } from './config';
import { loadSigningKeys } from './keys/domain/signing-keys';

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const logger = createLogger({ name: 'auth', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const keys = loadSigningKeys(config.JWT_PRIVATE_KEYS, {
    production: config.NODE_ENV === 'production',
    logger,
  });
  const mongo = await connectMongo({ url: config.MONGO_URL, logger });
  // Not awaited: auth serves logins while the broker is away; the outbox keeps the events.
  const amqp = new AmqpClient({
    url: config.AMQP_URL,
    namespace: config.AMQP_NAMESPACE,
    logger,
    connectionName: `auth@${hostname()}`,
  });
  const app = await buildApp({
    config,
    logger,
    mongo,
    amqp,
    keys,
    closeConnections: async () => {
      await amqp.close();
      await closeMongo(mongo);
    },
  });
  closeOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  await app.listen({ host: config.HOST, port: config.PORT });
}

runService('auth', main);

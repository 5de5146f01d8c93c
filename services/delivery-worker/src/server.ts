import { AmqpClient } from '@herald/amqp';
import { closeOnSignals, createLogger, runService } from '@herald/runtime';
import { connectMongo } from '@herald/runtime/mongo';
import { hostname } from 'node:os';
import { buildApp } from './app';
import { loadConfig, retryPolicyFrom, settingsFrom } from './config';
import { createProviders } from './providers/create-providers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    name: 'delivery-worker',
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
  });
  const settings = settingsFrom(config);
  if (config.NODE_ENV === 'production' && config.SMS_ALLOWED_COUNTRIES === undefined) {
    logger.warn(
      'SMS_ALLOWED_COUNTRIES is not set: SMS may go to every country. List the ones you serve ' +
        '(e.g. SMS_ALLOWED_COUNTRIES=+44,+33), or set it to * to allow all deliberately',
    );
  }
  const providers = createProviders(config, logger);
  const mongo = await connectMongo({ url: config.MONGO_URL, logger });
  const amqp = new AmqpClient({
    url: config.AMQP_URL,
    logger,
    connectionName: `delivery-worker@${hostname()}:${process.pid}`,
    namespace: config.AMQP_NAMESPACE,
    retry: retryPolicyFrom(config),
  });
  const app = await buildApp({ logger, mongo, amqp, providers, settings, ownsConnections: true });
  closeOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  await app.listen({ host: config.HOST, port: config.PORT });
}

runService('delivery-worker', main);

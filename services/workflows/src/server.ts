import { hostname } from 'node:os';
import { AmqpClient } from '@herald/amqp';
import { closeOnSignals, createLogger, runService } from '@herald/runtime';
import { createJwksKeyResolver, createTokenVerifier } from '@herald/runtime/http';
import { closeMongo, connectMongo } from '@herald/runtime/mongo';
import { buildApp } from './app';
import { loadConfig, settingsFrom } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'workflows', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const mongo = await connectMongo({ url: config.MONGO_URL, logger });
  const amqp = new AmqpClient({
    url: config.AMQP_URL,
    namespace: config.AMQP_NAMESPACE,
    logger,
    connectionName: `workflows@${hostname()}:${process.pid}`,
    publishTimeoutMs: config.AMQP_PUBLISH_TIMEOUT_MS,
  });
  const verifier = createTokenVerifier({
    keys: createJwksKeyResolver({ jwksUrl: config.JWT_JWKS_URL }),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  const app = await buildApp({ logger, mongo, amqp, verifier, settings: settingsFrom(config) });
  // Registered after the app's own hooks, so the consumer and the poller have drained before the connections go.
  app.addHook('onClose', async () => {
    await amqp.close(config.SHUTDOWN_TIMEOUT_MS);
    await closeMongo(mongo);
  });
  closeOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  await app.listen({ host: config.HOST, port: config.PORT });
}

runService('workflows', main);

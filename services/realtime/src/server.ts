import { closeOnSignals, createLogger } from '@herald/runtime';
import { buildApp } from './app';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'realtime', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const app = await buildApp({ logger });
  closeOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  await app.listen({ host: config.HOST, port: config.PORT });
}

void main();

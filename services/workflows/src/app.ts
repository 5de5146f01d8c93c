import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { API_PREFIX } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import {
  adminScope,
  authenticated,
  authenticationPlugin,
  createHttpApp,
  type HttpApp,
  type TokenVerifier,
} from '@herald/runtime/http';
import { countMongoCommands, isMongoReady, prepareModels } from '@herald/runtime/mongo';
import { defaultSettings, type ServiceSettings } from './config';
import { definitionRoutes } from './definitions/routes';
import { createServiceContext, type ServiceContext } from './kernel/context';
import { runWorkers } from './plugins/workers';
import { Poller } from './runs/domain/poller';
import { runRoutes, triggerRoutes } from './runs/routes';

export interface Deps {
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  verifier: TokenVerifier;
  settings?: Partial<ServiceSettings>;
  /** the clock of every due time, window and lease; tests move it */
  now?: () => Date;
}

export interface WorkflowsApp extends HttpApp {
  context: ServiceContext;
  /** the timer poller, for tests that move the clock and run a pass */
  poller: Poller;
}

/**
 * Builds the workflows service without listening. The database is ready
 * before any route exists; the consumer and the poller start when the app
 * is ready. The connections belong to the caller.
 */
export async function buildApp(deps: Deps): Promise<WorkflowsApp> {
  const settings = { ...defaultSettings, ...deps.settings };
  const now = deps.now ?? (() => new Date());
  const { ctx, allModels } = createServiceContext({ ...deps, log: deps.logger, settings, now });
  await prepareModels(allModels);
  const poller = new Poller(ctx);

  const app = await createHttpApp({
    service: 'workflows',
    description: 'Workflow definitions and durable runs: channel, delay, digest, throttle, branch, cancel-on',
    logger: deps.logger,
    trustProxy: settings.trustedProxies,
    readiness: { mongo: () => isMongoReady(deps.mongo), amqp: () => deps.amqp.isConnected() },
  });
  // commands by collection in /metrics when MONGO_URL asks the driver to report them (monitorCommands=true)
  countMongoCommands(deps.mongo, app.metrics);
  await app.register(authenticationPlugin, {
    verifier: deps.verifier,
    apiKeys: ctx.apiKeys,
    apiKeyRateLimit: { perSecond: settings.apiKeyRateLimitPerSecond },
    now,
  });
  const workflows = `${API_PREFIX}/workflows`;
  await app.register(adminScope(definitionRoutes(ctx)), { prefix: workflows });
  // Users and keys authenticate; the domain admits keys with notifications:send and admins.
  await app.register(authenticated(triggerRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: workflows,
  });
  await app.register(authenticated(runRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: `${API_PREFIX}/workflow-runs`,
  });
  runWorkers(app, ctx, poller);

  return Object.assign(app, { context: ctx, poller }) as WorkflowsApp;
}

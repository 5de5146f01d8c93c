import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { adminScope, authenticated, createHttpApp, type HttpApp } from '@herald/runtime/http';
import { countMongoCommands, isMongoReady, prepareModels } from '@herald/runtime/mongo';
import { type Connection } from 'mongoose';
import { bootstrapAdmin } from './accounts/domain/bootstrap-admin';
import { bcryptPasswords, type Passwords } from './accounts/domain/passwords';
import { apiKeyRoutes } from './api-keys/routes';
import { accountRoutes } from './accounts/routes';
import { type Config } from './config';
import { createAuthContext } from './context';
import { type SigningKeyRing } from './keys/domain/signing-keys';
import { jwksRoute } from './keys/routes';
import { authModels } from './models';
import { passwordResetRoutes } from './password-reset/routes';
import { phoneRoutes } from './phone/routes';
import { registerAuthentication } from './plugins/authentication';
import { sessionRoutes } from './sessions/routes';
import { subscriberRoutes } from './subscribers/routes';
import { subscriberTopicRoutes, topicRoutes } from './topics/routes';
import { userAdminRoutes } from './users/routes';
import { verificationRoutes } from './verification/routes';

export interface Deps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  keys: SigningKeyRing;
  /** the clock every expiry and window is measured on; tests move it instead of sleeping */
  now?: () => Date;
  /** bcrypt at BCRYPT_COST unless a test counts the calls */
  passwords?: Passwords;
  /** runs last on close, after in-flight event publishes finished: server.ts closes AMQP and Mongo here */
  closeConnections?: () => Promise<void>;
}

/** Builds the auth service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const { config, logger, keys } = deps;
  const now = deps.now ?? (() => new Date());
  const models = authModels(deps.mongo);
  // Collections and indexes (the unique email is a correctness rule) before anything touches them.
  await prepareModels(Object.values(models));

  const app = await createHttpApp({
    service: 'auth',
    description:
      'Accounts, asymmetric JWT access tokens with JWKS, rotating refresh tokens, roles, email verification, API keys, subscribers and inbox tokens',
    logger,
    trustProxy: config.TRUSTED_PROXIES,
    // Not the broker: with the outbox, auth serves logins through a broker outage and publishes afterwards.
    readiness: { mongo: () => isMongoReady(deps.mongo) },
  });
  // commands by collection in /metrics when MONGO_URL asks the driver to report them (monitorCommands=true)
  countMongoCommands(deps.mongo, app.metrics);
  const ctx = await createAuthContext({
    config,
    logger,
    models,
    amqp: deps.amqp,
    keys,
    passwords: deps.passwords ?? bcryptPasswords(config.BCRYPT_COST),
    now,
    metricsRegistry: app.metrics,
  });
  await bootstrapAdmin(ctx);

  await registerAuthentication(app, { config, keys, apiKeys: ctx.apiKeyDirectory, now });
  await app.register(jwksRoute(keys));
  await app.register(accountRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(sessionRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(verificationRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(passwordResetRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(phoneRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(adminScope(userAdminRoutes(ctx)), { prefix: '/api/v1/users' });
  await app.register(adminScope(apiKeyRoutes(ctx)), { prefix: '/api/v1/api-keys' });
  await app.register(authenticated(subscriberRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: '/api/v1/subscribers',
  });
  await app.register(authenticated(subscriberTopicRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: '/api/v1/subscribers',
  });
  await app.register(authenticated(topicRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: '/api/v1/topics',
  });

  const outboxes = [ctx.outbox, ctx.apiKeyOutbox, ctx.subscriberOutbox, ctx.topicOutbox];
  app.addHook('onReady', async () => outboxes.forEach((outbox) => outbox.startRelay()));
  app.addHook('onClose', async () => {
    await Promise.all(outboxes.map((outbox) => outbox.close()));
    await deps.closeConnections?.();
  });
  return app;
}

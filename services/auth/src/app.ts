import { type AmqpClient } from '@herald/amqp';
import {
  authenticationPlugin,
  createHttpApp,
  createStaticKeyResolver,
  createTokenVerifier,
  isMongoReady,
  type HttpApp,
  type Logger,
} from '@herald/runtime';
import { type Connection } from 'mongoose';
import { type Config } from './config';
import { authModels, ensureIndexes } from './data/models';
import { ensureAdmin } from './domain/accounts';
import { type AuthContext } from './domain/context';
import { EventOutbox } from './domain/outbox';
import { createDummyHash } from './domain/passwords';
import { type SigningKeyRing } from './keys/signing-keys';
import { authMetrics } from './metrics';
import { accountRoutes } from './routes/auth/account';
import { publicAuthRoutes } from './routes/auth/public';
import { jwksRoute } from './routes/jwks';
import { userAdminRoutes } from './routes/users';

export interface Deps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  keys: SigningKeyRing;
  /** runs last on close, after in-flight event publishes finished: server.ts closes AMQP and Mongo here */
  closeConnections?: () => Promise<void>;
}

/** Builds the auth service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const { config, logger, keys } = deps;
  const models = authModels(deps.mongo);
  await ensureIndexes(models);
  const outbox = new EventOutbox(
    models.users,
    deps.amqp,
    logger.child({ component: 'outbox' }),
    config.OUTBOX_RELAY_INTERVAL_MS,
  );
  const app = await createHttpApp({
    service: 'auth',
    description:
      'Accounts, asymmetric JWT access tokens with JWKS, rotating refresh tokens, roles, email verification',
    logger,
    trustProxy: config.TRUSTED_PROXIES,
    // Not the broker: with the outbox, auth serves logins through a broker outage and publishes afterwards.
    readiness: { mongo: () => isMongoReady(deps.mongo) },
  });

  const ctx: AuthContext = {
    config,
    models,
    outbox,
    logger,
    metrics: authMetrics(app.metrics, models.users),
    dummyHash: await createDummyHash(config.BCRYPT_COST),
    tokens: {
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    },
  };

  // Auth verifies its own tokens with its own public keys: no HTTP round trip to itself.
  const verifier = createTokenVerifier({
    keys: createStaticKeyResolver(Object.fromEntries(keys.all.map((key) => [key.kid, key.publicJwk]))),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  await app.register(authenticationPlugin, { verifier });

  await app.register(jwksRoute(keys));
  await app.register(publicAuthRoutes(ctx), { prefix: '/api/v1/auth' });
  await app.register(
    async (authenticated: HttpApp) => {
      authenticated.addHook('onRequest', authenticated.authenticate);
      await authenticated.register(accountRoutes(ctx));
    },
    { prefix: '/api/v1/auth' },
  );
  await app.register(
    async (admin: HttpApp) => {
      admin.addHook('onRequest', admin.authenticate);
      admin.addHook('onRequest', admin.requireRole('admin'));
      await admin.register(userAdminRoutes(ctx));
    },
    { prefix: '/api/v1/users' },
  );

  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await ensureAdmin(ctx, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
  } else if (config.ADMIN_EMAIL || config.ADMIN_PASSWORD) {
    throw new Error('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }

  outbox.startRelay();
  app.addHook('onClose', async () => {
    await outbox.close();
    await deps.closeConnections?.();
  });
  return app;
}

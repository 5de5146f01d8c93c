import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import {
  authenticationPlugin,
  createHttpApp,
  isMongoReady,
  type HttpApp,
  type Logger,
  type TokenVerifier,
} from '@herald/runtime';
import { defaultSettings, type ServiceSettings } from './config';
import { startNotificationEventsConsumer } from './plugins/notification-events';
import { broadcastModel } from './broadcasts/data/broadcast-model';
import { idempotencyModel } from './notifications/data/idempotency-model';
import { notificationModel, unsetReleasedLeaseOwners } from './notifications/data/notification-model';
import { NotificationWrites } from './notifications/data/notification-writes';
import { UserDirectory } from './users/data/user-directory';
import { userModel } from './users/data/user-model';
import { pendingEventModel, suppressionModel } from './webhooks/data/webhook-models';
import { announceRequeuedChannel } from './dead-letters/domain/announce';
import { deadLettersPlugin } from './dead-letters/plugin';
import { BackgroundTasks } from './outbox/domain/background-tasks';
import { resumeBroadcasts } from './broadcasts/domain/broadcast';
import { type Models, type ServiceContext } from './kernel/context';
import { relayOutbox } from './outbox/domain/outbox';
import { Relay } from './outbox/domain/relay';
import { registerBroadcastRoutes } from './broadcasts/routes';
import { registerNotificationRoutes } from './notifications/routes';
import { registerMailgunWebhook } from './webhooks/mailgun-route';
import { webhookModels } from './webhooks/data/models';
import { registerStatsRoute } from './webhooks/stats-routes';
import { registerSuppressionRoutes } from './webhooks/suppression-routes';
import { registerTwilioWebhook } from './webhooks/twilio-route';
import { templateModels } from './templates/data/models';
import { registerTemplateRoutes } from './templates/routes';
import { seedSystemTemplates } from './templates/domain/seed';
import { createTemplates } from './templates/domain/service';
import { SYSTEM_TEMPLATES } from './templates/domain/system';

export interface Deps {
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  verifier: TokenVerifier;
  settings?: Partial<ServiceSettings>;
  /** the clock; tests move it to check windows and schedules */
  now?: () => Date;
}

export interface NotificationApp extends HttpApp {
  /** the service's domain context, for tests that drive the relay or read the stores */
  context: ServiceContext;
  relay: Relay;
}

/**
 * Builds the notification service without listening, so tests drive it with
 * `inject`. The relay and the event consumer start when the app is ready and
 * stop (draining) when it closes; the connections themselves belong to the
 * caller, which closes them after the app.
 */
export async function buildApp(deps: Deps): Promise<NotificationApp> {
  const models: Models = {
    notifications: notificationModel(deps.mongo),
    users: userModel(deps.mongo),
    idempotencyKeys: idempotencyModel(deps.mongo),
    broadcasts: broadcastModel(deps.mongo),
    suppressions: suppressionModel(deps.mongo),
    pendingEvents: pendingEventModel(deps.mongo),
  };
  await unsetReleasedLeaseOwners(models.notifications);
  await models.notifications.createIndexes();
  await Promise.all(Object.values(models).map((model) => model.init()));

  const settings = { ...defaultSettings, ...deps.settings };
  const log = deps.logger;
  const stores = templateModels(deps.mongo);
  await Promise.all([stores.templates.init(), stores.versions.init()]);
  const templates = createTemplates(stores, log, { cacheTtlMs: settings.templateCacheTtlMs });
  // Before the first request or event: the verification flow needs verify-email.
  await seedSystemTemplates(templates, SYSTEM_TEMPLATES);
  const ctx: ServiceContext = {
    models,
    amqp: deps.amqp,
    log,
    settings,
    templates,
    writes: new NotificationWrites(models.notifications),
    userDirectory: new UserDirectory(models.users),
    background: new BackgroundTasks(log),
    now: deps.now ?? (() => new Date()),
  };
  const relay = new Relay(ctx, [relayOutbox, resumeBroadcasts]);

  const app = await createHttpApp({
    service: 'notification',
    description:
      'Notifications API: create, inbox, read state, delivery status, templates, provider webhooks',
    logger: deps.logger,
    trustProxy: true,
    readiness: {
      mongo: () => isMongoReady(deps.mongo),
      amqp: () => deps.amqp.isConnected(),
    },
  });
  await app.register(authenticationPlugin, { verifier: deps.verifier });

  await app.register(
    async (scope) => {
      scope.addHook('onRequest', scope.authenticate);
      registerNotificationRoutes(scope, ctx);
      registerBroadcastRoutes(scope, ctx);
    },
    { prefix: '/api/v1/notifications' },
  );
  const webhooks = await webhookModels(deps.mongo);
  // Providers carry no token: this scope has no `authenticate` hook; signatures are checked per route.
  await app.register(
    async (scope) => {
      registerMailgunWebhook(scope, {
        ctx,
        webhooks,
        signingKey: settings.mailgunWebhookSigningKey,
        maxAgeMs: settings.webhookMaxAgeMs,
        bodyLimit: settings.webhookBodyLimitBytes,
      });
      registerTwilioWebhook(scope, {
        ctx,
        authToken: settings.twilioAuthToken,
        publicBaseUrl: settings.publicBaseUrl,
        bodyLimit: settings.webhookBodyLimitBytes,
      });
    },
    { prefix: '/api/v1/webhooks' },
  );
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', admin.authenticate);
      admin.addHook('onRequest', admin.requireRole('admin'));
      registerSuppressionRoutes(admin, models.suppressions);
    },
    { prefix: '/api/v1/admin/suppressions' },
  );
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', admin.authenticate);
      admin.addHook('onRequest', admin.requireRole('admin'));
      registerStatsRoute(admin, models.notifications);
    },
    { prefix: '/api/v1/admin/stats' },
  );
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', admin.authenticate);
      admin.addHook('onRequest', admin.requireRole('admin'));
      registerTemplateRoutes(admin, templates, ctx.now);
    },
    { prefix: '/api/v1/templates' },
  );
  await app.register(deadLettersPlugin, {
    mongo: deps.mongo,
    amqp: deps.amqp,
    log,
    notifications: models.notifications,
    drainTimeoutMs: settings.drainTimeoutMs,
    now: ctx.now,
    onChannelRequeued: announceRequeuedChannel(ctx),
  });

  let consumer: Awaited<ReturnType<typeof startNotificationEventsConsumer>> | undefined;
  app.addHook('onReady', async () => {
    consumer = startNotificationEventsConsumer(ctx);
    relay.start();
  });
  app.addHook('onClose', async () => {
    await consumer?.stop(settings.drainTimeoutMs);
    await relay.stop();
    await ctx.background.drain(settings.drainTimeoutMs);
  });

  return Object.assign(app, { context: ctx, relay }) as NotificationApp;
}

import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { API_PREFIX, WebhookPaths } from '@herald/contracts';
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
import { BUILT_IN_CATEGORIES } from './categories/domain/categories';
import { categoryRoutes } from './categories/routes';
import { broadcastRoutes } from './broadcasts/routes';
import { resumeBroadcasts } from './broadcasts/domain/broadcast';
import { defaultEventWebhookSettings, defaultSettings, type ServiceSettings } from './config';
import { type EventWebhookDispatcher } from './event-webhooks/domain/dispatcher';
import { type ResolveHost } from '@herald/runtime/net';
import { runEventWebhookDispatcher } from './event-webhooks/plugin';
import { eventWebhookRoutes } from './event-webhooks/routes';
import { resealStoredSecrets } from './event-webhooks/domain/reseal-stored-secrets';
import { secretBoxFor } from './event-webhooks/domain/secret-box';
import { resumeTopicSends } from './topics/domain/topic-send';
import { topicSendRoutes } from './topics/routes';
import { announceRequeuedChannel } from './dead-letters/domain/announce';
import { deadLettersPlugin } from './dead-letters/plugin';
import { createServiceContext, type ServiceContext } from './kernel/context';
import { unsetReleasedLeaseOwners } from './notifications/data/notification-model';
import { notificationRoutes } from './notifications/routes';
import { ownPreferenceRoutes, subscriberPreferenceRoutes, userPreferenceRoutes } from './preferences/routes';
import { relayOutbox } from './outbox/domain/outbox';
import { pushSubscriptionRoutes, vapidKeyRoutes } from './push-subscriptions/routes';
import { Relay } from './outbox/domain/relay';
import { verifyCurrentAccount } from './plugins/current-account';
import { registerSendQuota } from './plugins/send-quota';
import { runWorkers } from './plugins/workers';
import { seedSystemTemplates } from './templates/domain/seed';
import { SYSTEM_TEMPLATES } from './templates/domain/system';
import { templateRoutes } from './templates/routes';
import { unsubscribeRoutes } from './unsubscribe/routes';
import { announceTemplates } from './workflow-sends/domain/announce-templates';
import { providerWebhookRoutes, statsRoutes, suppressionRoutes } from './webhooks/routes';

export interface Deps {
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  verifier: TokenVerifier;
  settings?: Partial<ServiceSettings>;
  /** the clock; tests move it to check windows and schedules */
  now?: () => Date;
  /** DNS for webhook targets' SSRF checks; tests give names answers of their own */
  resolveHost?: ResolveHost;
}

export interface NotificationApp extends HttpApp {
  /** the service's domain context, for tests that drive the relay or read the stores */
  context: ServiceContext;
  relay: Relay;
  /** the outgoing webhooks' dispatcher, for tests that run its passes after moving the clock */
  eventWebhooks: EventWebhookDispatcher;
}

/**
 * Builds the notification service without listening, so tests drive it with
 * `inject`. The database is ready before any route exists; the consumer and
 * relay start when the app is ready. The connections belong to the caller.
 */
export async function buildApp(deps: Deps): Promise<NotificationApp> {
  const settings = {
    ...defaultSettings,
    ...deps.settings,
    eventWebhooks: { ...defaultEventWebhookSettings, ...deps.settings?.eventWebhooks },
  };
  const now = deps.now ?? (() => new Date());
  const { ctx, allModels } = createServiceContext({ ...deps, log: deps.logger, settings, now });
  // Collections and indexes first (a migration racing their creation failed on a fresh database),
  // then the migration, then the notification indexes that must follow it (autoIndex is off).
  await prepareModels(allModels);
  await unsetReleasedLeaseOwners(ctx.models.notifications);
  await ctx.models.notifications.createIndexes();
  // Webhook signing secrets in plaintext (from before encryption) or sealed under an earlier
  // WEBHOOK_SECRETS_KEY: sealed anew under the current key, once, in place.
  const box = secretBoxFor(settings.eventWebhooks);
  const resealed = await resealStoredSecrets(ctx.models.eventWebhookEndpoints, box);
  if (resealed.resealed > 0)
    deps.logger.info(
      { endpoints: resealed.resealed, keyId: box.currentKeyId },
      'webhook signing secrets sealed under the current WEBHOOK_SECRETS_KEY',
    );
  if (resealed.unreadable.length > 0)
    deps.logger.error(
      { endpoints: resealed.unreadable, keyId: box.currentKeyId },
      'webhook signing secrets that open under no key: these endpoints cannot sign (and get nothing) until the key that sealed them is in WEBHOOK_SECRETS_PREVIOUS_KEYS',
    );
  // Before the first request or event: the verification flow needs verify-email.
  await seedSystemTemplates(ctx.templates, SYSTEM_TEMPLATES);
  await ctx.categories.seed(BUILT_IN_CATEGORIES);
  const relay = new Relay(ctx, [relayOutbox], [resumeBroadcasts, announceTemplates, resumeTopicSends]);

  const app = await createHttpApp({
    service: 'notification',
    description:
      'Notifications API: create, inbox, read state, delivery status, templates, provider webhooks',
    logger: deps.logger,
    trustProxy: settings.trustedProxies,
    readiness: { mongo: () => isMongoReady(deps.mongo), amqp: () => deps.amqp.isConnected() },
  });
  // commands by collection in /metrics when MONGO_URL asks the driver to report them (monitorCommands=true)
  countMongoCommands(deps.mongo, app.metrics);
  await app.register(authenticationPlugin, {
    verifier: verifyCurrentAccount(deps.verifier, ctx.currentUsers),
    apiKeys: ctx.apiKeys,
    apiKeyRateLimit: { perSecond: settings.apiKeyRateLimitPerSecond },
    now,
  });
  registerSendQuota(app, ctx.sendQuotas);
  const notifications = `${API_PREFIX}/notifications`;
  // Users, API keys and inbox tokens (subscribers); each route says which scope it needs.
  await app.register(
    authenticated(notificationRoutes(ctx), { principals: ['user', 'apikey', 'subscriber'] }),
    {
      prefix: notifications,
    },
  );
  await app.register(adminScope(broadcastRoutes(ctx)), { prefix: notifications });
  await app.register(authenticated(topicSendRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: `${API_PREFIX}/topic-sends`,
  });
  await app.register(adminScope(categoryRoutes(ctx.categories)), { prefix: `${API_PREFIX}/categories` });
  await app.register(authenticated(ownPreferenceRoutes(ctx), { principals: ['user', 'subscriber'] }), {
    prefix: `${API_PREFIX}/preferences`,
  });
  await app.register(authenticated(subscriberPreferenceRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: `${API_PREFIX}/preferences/subscribers`,
  });
  await app.register(authenticated(pushSubscriptionRoutes(ctx), { principals: ['user', 'subscriber'] }), {
    prefix: `${API_PREFIX}/push-subscriptions`,
  });
  await app.register(vapidKeyRoutes(ctx), { prefix: `${API_PREFIX}/push-subscriptions` });
  await app.register(adminScope(userPreferenceRoutes(ctx)), { prefix: `${API_PREFIX}/preferences/users` });
  await app.register(providerWebhookRoutes(ctx), { prefix: WebhookPaths.prefix });
  // public: the signed link is the credential (RFC 8058 one-click, no login)
  await app.register(unsubscribeRoutes(ctx), { prefix: `${API_PREFIX}/unsubscribe` });
  await app.register(adminScope(suppressionRoutes(ctx)), { prefix: `${API_PREFIX}/admin/suppressions` });
  await app.register(adminScope(statsRoutes(ctx)), { prefix: `${API_PREFIX}/admin/stats` });
  await app.register(authenticated(templateRoutes(ctx.templates, now), { principals: ['user', 'apikey'] }), {
    prefix: `${API_PREFIX}/templates`,
  });
  await app.register(deadLettersPlugin, {
    deadLetters: ctx.models.deadLetters,
    amqp: deps.amqp,
    log: deps.logger,
    notifications: ctx.models.notifications,
    drainTimeoutMs: settings.drainTimeoutMs,
    now,
    onChannelRequeued: announceRequeuedChannel(ctx),
  });
  await app.register(authenticated(eventWebhookRoutes(ctx), { principals: ['user', 'apikey'] }), {
    prefix: `${API_PREFIX}/event-webhooks`,
  });
  runWorkers(app, ctx, relay);
  const eventWebhooks = runEventWebhookDispatcher(app, ctx);

  return Object.assign(app, { context: ctx, relay, eventWebhooks }) as NotificationApp;
}

import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { EventRoutingKeys } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { cachedApiKeyDirectory, type CachedApiKeyDirectory } from '@herald/runtime/http';
import { type InitialisableModel } from '@herald/runtime/mongo';
import { apiKeyModel, ApiKeyReadModel, type ApiKeyModel } from '@herald/read-models';
import { confirmationLingerMs, type ServiceSettings } from '../config';
import { categoryModel, type CategoryModel } from '../categories/data/category-model';
import { Categories } from '../categories/domain/categories';
import { PreferenceDirectory } from '../preferences/data/preference-directory';
import { preferenceModel, type PreferenceModel } from '../preferences/data/preference-model';
import { broadcastModel, type BroadcastModel } from '../broadcasts/data/broadcast-model';
import { deadLetterModel, type DeadLetterModel } from '../dead-letters/data/model';
import { idempotencyModel, type IdempotencyModel } from '../notifications/data/idempotency-model';
import { notificationModel, type NotificationModel } from '../notifications/data/notification-model';
import { NotificationWrites } from '../notifications/data/notification-writes';
import { ConfirmationLog } from '../outbox/data/confirmation-log';
import { CreatedEvents } from '../outbox/domain/created-events';
import { publishEvent } from '../outbox/domain/publish-event';
import {
  outboxConfirmationModel,
  outboxRelayModel,
  type OutboxConfirmationModel,
  type OutboxRelayModel,
} from '../outbox/data/outbox-models';
import { BackgroundTasks } from '../outbox/domain/background-tasks';
import {
  pushSubscriptionModel,
  type PushSubscriptionModel,
} from '../push-subscriptions/data/push-subscription-model';
import {
  deliveryModel,
  endpointModel,
  type DeliveryModel,
  type EndpointModel,
} from '../event-webhooks/data/models';
import { EventWebhookRecorder } from '../event-webhooks/domain/recorder';
import { resolveWithDns, type ResolveHost } from '@herald/runtime/net';
import { quotaCounterModel, type QuotaCounterModel } from '../quotas/data/quota-counter-model';
import { QuotaCounters } from '../quotas/data/quota-counters';
import { SendQuotas } from '../quotas/domain/send-quota';
import { SubscriberDirectory } from '../subscribers/data/subscriber-directory';
import { subscriberModel, type SubscriberModel } from '../subscribers/data/subscriber-model';
import { templateModels } from '../templates/data/models';
import {
  topicModels,
  type TopicMemberModel,
  type TopicModel,
  type TopicSendModel,
} from '../topics/data/topic-models';
import { createTemplates, type Templates } from '../templates/domain/service';
import { UserDirectory } from '../users/data/user-directory';
import { userModel, type UserModel } from '../users/data/user-model';
import { CurrentUsers } from '../users/domain/current-users';
import {
  pendingEventModel,
  suppressionModel,
  webhookTokenModel,
  type PendingEventModel,
  type SuppressionModel,
  type WebhookTokenModel,
} from '../webhooks/data/webhook-models';
import {
  templateAnnouncementModel,
  type TemplateAnnouncementModel,
} from '../workflow-sends/data/announcement-model';

export interface Models {
  notifications: NotificationModel;
  users: UserModel;
  idempotencyKeys: IdempotencyModel;
  broadcasts: BroadcastModel;
  suppressions: SuppressionModel;
  pendingEvents: PendingEventModel;
  webhookTokens: WebhookTokenModel;
  deadLetters: DeadLetterModel;
  quotaCounters: QuotaCounterModel;
  apiKeys: ApiKeyModel;
  subscribers: SubscriberModel;
  categories: CategoryModel;
  preferences: PreferenceModel;
  /** browsers' Web Push subscriptions, by inbox owner */
  pushSubscriptions: PushSubscriptionModel;
  /** the outbox's group-committed confirmations */
  outboxConfirmations: OutboxConfirmationModel;
  /** the outbox relay's lease and watermark */
  outboxRelay: OutboxRelayModel;
  /** outgoing webhooks: the endpoints, and one delivery per endpoint and event */
  eventWebhookEndpoints: EndpointModel;
  eventWebhookDeliveries: DeliveryModel;
  /** which template versions the workflows service was told of (`template.changed`) */
  templateAnnouncements: TemplateAnnouncementModel;
  /** topics, their members (auth's events) and the sends to them */
  topics: TopicModel;
  topicMembers: TopicMemberModel;
  topicSends: TopicSendModel;
}

export function createModels(connection: Connection): Models {
  return {
    notifications: notificationModel(connection),
    users: userModel(connection),
    idempotencyKeys: idempotencyModel(connection),
    broadcasts: broadcastModel(connection),
    suppressions: suppressionModel(connection),
    pendingEvents: pendingEventModel(connection),
    webhookTokens: webhookTokenModel(connection),
    deadLetters: deadLetterModel(connection),
    quotaCounters: quotaCounterModel(connection),
    apiKeys: apiKeyModel(connection),
    subscribers: subscriberModel(connection),
    categories: categoryModel(connection),
    preferences: preferenceModel(connection),
    pushSubscriptions: pushSubscriptionModel(connection),
    outboxConfirmations: outboxConfirmationModel(connection),
    outboxRelay: outboxRelayModel(connection),
    eventWebhookEndpoints: endpointModel(connection),
    eventWebhookDeliveries: deliveryModel(connection),
    templateAnnouncements: templateAnnouncementModel(connection),
    ...topicModels(connection),
  };
}

/** Users by id, as the accept path reads them. */
export type UserLookup = Pick<UserDirectory, 'byId'>;

/** What the domain functions need, built once by the app and passed in (no module globals). */
export interface ServiceContext {
  models: Models;
  amqp: AmqpClient;
  log: Logger;
  settings: ServiceSettings;
  /** template store, cache and renderer */
  templates: Templates;
  /** the batched insert of the accept path */
  writes: NotificationWrites;
  /** the broker's confirmations, group-committed: one record per batch of confirmed notifications */
  confirmations: ConfirmationLog;
  /** the inboxes' `notification.created` events, group-published as `notifications.created` */
  createdEvents: CreatedEvents;
  /** users by id for the accept path, looked up in batches (see `UserDirectory`) */
  userDirectory: UserLookup;
  /** callers' accounts (disabled, role) for every authenticated request, cached for a short TTL */
  currentUsers: CurrentUsers;
  /**
   * API keys from auth's `apikey.upserted`, behind a cache of at most 2 s;
   * the consumer invalidates an entry as soon as this instance applies a change
   */
  apiKeys: CachedApiKeyDirectory;
  /** an application's subscribers by external id, for the accept path */
  subscribers: SubscriberDirectory;
  /** notification categories (cached a few seconds per instance) */
  categories: Categories;
  /** recipients' preferences for the accept path, looked up in batches */
  preferences: PreferenceDirectory;
  /** per-sender send quotas, counted in MongoDB across instances */
  sendQuotas: SendQuotas;
  /** work started by a request that finishes after the response (publishing, fan-out) */
  background: BackgroundTasks;
  /** records outgoing webhook events as deliveries, for the endpoints that want them */
  eventWebhooks: EventWebhookRecorder;
  /** DNS for the SSRF checks of webhook targets (tests give names their own answers) */
  resolveHost: ResolveHost;
  now: () => Date;
}

export interface ContextDeps {
  mongo: Connection;
  amqp: AmqpClient;
  log: Logger;
  settings: ServiceSettings;
  now: () => Date;
  resolveHost?: ResolveHost;
}

/** Every model of the service and the context the features share; touches no collection yet. */
export function createServiceContext(deps: ContextDeps): {
  ctx: ServiceContext;
  /** every model, for `prepareModels` */
  allModels: InitialisableModel[];
} {
  const models = createModels(deps.mongo);
  const templateStores = templateModels(deps.mongo);
  const userDirectory = new UserDirectory(models.users);
  const ctx: ServiceContext = {
    models,
    amqp: deps.amqp,
    log: deps.log,
    settings: deps.settings,
    templates: createTemplates(templateStores, deps.log, { cacheTtlMs: deps.settings.templateCacheTtlMs }),
    writes: new NotificationWrites(models.notifications),
    confirmations: new ConfirmationLog(
      models.outboxConfirmations,
      deps.now,
      confirmationLingerMs(deps.settings),
    ),
    createdEvents: new CreatedEvents(
      (message) => publishEvent(ctx, EventRoutingKeys.notificationsCreated, message),
      deps.now,
    ),
    userDirectory,
    currentUsers: new CurrentUsers(userDirectory, deps.settings.userCacheTtlMs, deps.now),
    apiKeys: cachedApiKeyDirectory(new ApiKeyReadModel(models.apiKeys), {
      ttlMs: deps.settings.apiKeyCacheMs,
      now: deps.now,
    }),
    subscribers: new SubscriberDirectory(models.subscribers),
    categories: new Categories(models.categories, deps.now),
    preferences: new PreferenceDirectory(models.preferences, {
      ttlMs: deps.settings.userCacheTtlMs,
      now: deps.now,
    }),
    sendQuotas: new SendQuotas(new QuotaCounters(models.quotaCounters), deps.settings.sendQuotas, deps.now),
    background: new BackgroundTasks(deps.log),
    eventWebhooks: new EventWebhookRecorder(models.eventWebhookEndpoints, models.eventWebhookDeliveries, {
      cacheMs: deps.settings.eventWebhooks.cacheMs,
      now: deps.now,
    }),
    resolveHost: deps.resolveHost ?? resolveWithDns,
    now: deps.now,
  };
  return { ctx, allModels: [...Object.values(models), templateStores.templates, templateStores.versions] };
}

import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { type ServiceSettings } from '../config';
import { type BroadcastModel } from '../broadcasts/data/broadcast-model';
import { type IdempotencyModel } from '../notifications/data/idempotency-model';
import { type NotificationModel } from '../notifications/data/notification-model';
import { type NotificationWrites } from '../notifications/data/notification-writes';
import { type UserDirectory } from '../users/data/user-directory';
import { type UserModel } from '../users/data/user-model';
import { type PendingEventModel, type SuppressionModel } from '../webhooks/data/webhook-models';
import { type Templates } from '../templates/domain/service';
import { type BackgroundTasks } from '../outbox/domain/background-tasks';

export interface Models {
  notifications: NotificationModel;
  users: UserModel;
  idempotencyKeys: IdempotencyModel;
  broadcasts: BroadcastModel;
  suppressions: SuppressionModel;
  pendingEvents: PendingEventModel;
}

/** What the domain functions need, built once by the app and passed in (no module globals). */
export interface ServiceContext {
  models: Models;
  amqp: AmqpClient;
  log: Logger;
  settings: ServiceSettings;
  /** template store, cache and renderer */
  templates: Templates;
  /** the batched writes of the accept path: a notification's insert and its lease release */
  writes: NotificationWrites;
  /** users by id for the accept path, looked up in batches */
  userDirectory: UserDirectory;
  /** work started by a request that finishes after the response (publishing, fan-out) */
  background: BackgroundTasks;
  now: () => Date;
}

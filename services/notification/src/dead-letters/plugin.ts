import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { adminScope, type HttpApp } from '@herald/runtime/http';
import { type NotificationModel } from '../notifications/data/notification-model';
import { DeadLetterDrain } from './consumers';
import { type DeadLetterModel } from './data/model';
import { type ReplayDeps } from './domain/replay';
import { type ChannelRequeued } from './domain/requeue-channel';
import { registerDeadLetterRoutes } from './routes';

export type { ChannelRequeued };

export interface DeadLettersOptions {
  /** prepared by the app with every other model */
  deadLetters: DeadLetterModel;
  amqp: AmqpClient;
  log: Logger;
  notifications: NotificationModel;
  /** how long shutdown waits for dead letters being stored */
  drainTimeoutMs: number;
  /** DLQ messages in flight at once (default 50) */
  prefetch?: number;
  /** a replay that crashed between its steps may be taken over after this long (default 60 s) */
  replayLeaseMs?: number;
  /** told once a replay moved a channel back to `queued`, e.g. to publish `notification.updated` */
  onChannelRequeued?: (change: ChannelRequeued) => Promise<void>;
  now?: () => Date;
}

/**
 * Dead letters you can act on: drains Herald's DLQ into the `dead_letters`
 * collection (from `onReady` until `onClose`, which lets in-flight inserts
 * finish) and serves `/api/v1/admin/dead-letters` to admins. Needs
 * `authenticationPlugin` registered on the parent.
 */
export async function deadLettersPlugin(app: HttpApp, options: DeadLettersOptions): Promise<void> {
  const { deadLetters } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log.child({ component: 'dead-letters' });
  const deps: ReplayDeps = {
    deadLetters,
    notifications: options.notifications,
    amqp: options.amqp,
    log,
    now,
    replayLeaseMs: options.replayLeaseMs ?? 60_000,
    ...(options.onChannelRequeued ? { onChannelRequeued: options.onChannelRequeued } : {}),
  };

  let drain: DeadLetterDrain | undefined;
  app.addHook('onReady', async () => {
    drain = new DeadLetterDrain({
      amqp: options.amqp,
      deadLetters,
      log,
      prefetch: options.prefetch ?? 50,
      now,
    });
  });
  app.addHook('onClose', async () => {
    await drain?.stop(options.drainTimeoutMs);
  });

  await app.register(
    adminScope((admin) => registerDeadLetterRoutes(admin, deps)),
    { prefix: '/api/v1/admin/dead-letters' },
  );
}

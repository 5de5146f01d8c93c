import { type ServiceContext } from '../../kernel/context';
import { publishNotificationUpdated } from '../../notifications/domain/events';
import { type ChannelRequeued } from './requeue-channel';

/** Tells the recipient's live views that a replayed channel is `queued` again (inbox owners only). */
export function announceRequeuedChannel(ctx: ServiceContext) {
  return async (change: ChannelRequeued): Promise<void> => {
    if (!change.userId) return;
    await publishNotificationUpdated(ctx, {
      userId: change.userId,
      notificationId: change.notificationId,
      correlationId: change.correlationId,
      change: {
        kind: 'status',
        channel: change.channel,
        status: 'queued',
        at: change.at.toISOString(),
        detail: { reason: 'replayed from the dead-letter queue' },
      },
    });
  };
}

import { Types } from 'mongoose';
import { PermanentError } from '@herald/runtime';
import { decideTransition, type DeliveryStatusMessage } from '@herald/contracts';
import {
  type ChannelDelivery,
  type HistoryEntry,
  type NotificationRecord,
} from '../../notifications/data/notification-model';
import { type ServiceContext } from '../../kernel/context';
import { normaliseProviderMessageId } from '../../notifications/data/provider-message-id';
import { publishNotificationUpdated } from '../../notifications/domain/events';

type Projected = Pick<NotificationRecord, '_id' | 'userId' | 'correlationId' | 'deliveries'>;

/** Concurrent reports on one notification retry the compare-and-set this many times before the message is retried. */
const MAX_CONFLICTS = 10;

/**
 * Applies a worker's report to a channel: only forwards (the contracts'
 * `decideTransition`), appended to the history with the reporting message's
 * id. The write is a compare-and-set on the status it was decided from, so
 * two reports racing on one notification cannot both apply against a stale
 * view. A redelivered report finds its own history entry and changes
 * nothing; it only republishes the event, in case the first publish was lost.
 */
export async function applyDeliveryStatus(
  ctx: ServiceContext,
  message: DeliveryStatusMessage,
  /** who reported it, for the history: the worker unless a webhook says otherwise */
  source?: string,
): Promise<boolean> {
  const report = message.payload;
  if (!Types.ObjectId.isValid(report.notificationId)) {
    throw new PermanentError('notification_not_found', 'The reported notification id is not one of ours');
  }
  const _id = new Types.ObjectId(report.notificationId);
  const log = ctx.log.child({
    notificationId: report.notificationId,
    channel: report.channel,
    correlationId: message.correlationId,
  });

  for (let conflict = 0; conflict < MAX_CONFLICTS; conflict += 1) {
    const record = await ctx.models.notifications
      .findById(_id, { userId: 1, correlationId: 1, deliveries: 1 })
      .lean<Projected>();
    if (!record) throw new PermanentError('notification_not_found', 'No such notification');
    const delivery = record.deliveries[report.channel];
    if (!delivery) throw new PermanentError('channel_not_requested', 'The notification has no such channel');

    const decision = decideTransition(delivery.status, report.status);
    // `retrying` again with a later attempt: the status stays, its attempt and next time move on.
    const laterAttempt =
      !decision.apply &&
      decision.reason === 'same' &&
      report.status === 'retrying' &&
      report.attempt > (delivery.attempt ?? 0);
    if (!decision.apply && !laterAttempt) {
      const alreadyApplied = await ctx.models.notifications.exists({
        _id,
        'history.messageId': message.messageId,
      });
      if (alreadyApplied) await publishStatusChange(ctx, record, message);
      else
        log.info(
          { current: delivery.status, reported: report.status, reason: decision.reason },
          'status report ignored',
        );
      return false;
    }

    const at = new Date(report.at);
    const entry: HistoryEntry = {
      channel: report.channel,
      status: report.status,
      at,
      source: source ?? (report.provider ? `worker:${report.provider}` : 'worker'),
      messageId: message.messageId,
      attempt: report.attempt,
      ...(report.nextAttemptAt ? { nextAttemptAt: new Date(report.nextAttemptAt) } : {}),
      ...(report.provider ? { provider: report.provider } : {}),
      ...(report.providerMessageId ? { providerMessageId: report.providerMessageId } : {}),
      ...(report.error ? { errorCode: report.error.code, reason: report.error.message } : {}),
    };
    const next: ChannelDelivery = {
      ...delivery,
      status: report.status,
      attempt: report.attempt,
      updatedAt: ctx.now(),
      ...(report.provider ? { provider: report.provider } : {}),
      ...(report.providerMessageId ? { providerMessageId: report.providerMessageId } : {}),
    };
    if (report.nextAttemptAt) next.nextAttemptAt = new Date(report.nextAttemptAt);
    else delete next.nextAttemptAt;
    if (report.error) Object.assign(next, { errorCode: report.error.code, reason: report.error.message });

    const path = `deliveries.${report.channel}`;
    const result = await ctx.models.notifications.updateOne(
      {
        _id,
        [`${path}.status`]: delivery.status,
        [`${path}.attempt`]: delivery.attempt ?? null,
        'history.messageId': { $ne: message.messageId },
      },
      {
        $set: { [path]: next },
        $push: { history: entry },
        ...(report.providerMessageId
          ? { $addToSet: { providerMessageIds: normaliseProviderMessageId(report.providerMessageId) } }
          : {}),
      },
    );
    if (result.matchedCount === 1) {
      log.info({ status: report.status, attempt: report.attempt }, 'delivery status applied');
      await publishStatusChange(ctx, record, message);
      return true;
    }
    // Someone changed the channel between our read and write: decide again on the fresh state.
  }
  throw new Error('delivery status kept conflicting; retrying the message later');
}

async function publishStatusChange(ctx: ServiceContext, record: Projected, message: DeliveryStatusMessage) {
  // Only an inbox owner has a live view to update; an address-only notification has none.
  if (!record.userId) return;
  const report = message.payload;
  await publishNotificationUpdated(ctx, {
    userId: record.userId,
    notificationId: report.notificationId,
    correlationId: message.correlationId,
    change: {
      kind: 'status',
      channel: report.channel,
      status: report.status,
      at: report.at,
      detail: {
        attempt: report.attempt,
        ...(report.nextAttemptAt ? { nextAttemptAt: report.nextAttemptAt } : {}),
        ...(report.error ? { errorCode: report.error.code, reason: report.error.message } : {}),
      },
    },
  });
}

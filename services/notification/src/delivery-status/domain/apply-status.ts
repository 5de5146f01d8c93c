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
import { publishNotificationUpdated, publishSenderStatus } from '../../notifications/domain/events';
import { webhookTypeOfStatus } from '../../event-webhooks/domain/event-types';

type Projected = Pick<
  NotificationRecord,
  | '_id'
  | 'userId'
  | 'senderId'
  | 'correlationId'
  | 'deliveries'
  | 'category'
  | 'tenant'
  | 'broadcastId'
  | 'workflowRunId'
>;

/** Concurrent reports on one notification retry the compare-and-set this many times before the message is retried. */
const MAX_CONFLICTS = 10;

/** A status change of one channel, whoever reports it: the worker's `delivery.status` payload. */
export type StatusReport = DeliveryStatusMessage['payload'];

/** Where a report came from. */
export interface ReportOrigin {
  /** the report's own id, kept in the history: a redelivered report finds its entry and changes nothing */
  messageId: string;
  /** who reported it, for the history (`worker:mailgun`, `webhook:twilio`) */
  source: string;
  /** published with `notification.updated`; by default the notification's own */
  correlationId?: string;
}

/**
 * Applies a worker's report to a channel: the worker's message carries the
 * notification's correlation id; see `applyStatusChange`.
 */
export function applyDeliveryStatus(ctx: ServiceContext, message: DeliveryStatusMessage): Promise<boolean> {
  const report = message.payload;
  return applyStatusChange(ctx, report, {
    messageId: message.messageId,
    source: report.provider ? `worker:${report.provider}` : 'worker',
    correlationId: message.correlationId,
  });
}

/**
 * Applies a reported status to a channel: only forwards (the contracts'
 * `decideTransition`), appended to the history with the report's id. The
 * write is a compare-and-set on the status it was decided from, so two
 * reports racing on one notification cannot both apply against a stale
 * view. A repeated report finds its own history entry and changes nothing;
 * it only republishes the event, in case the first publish was lost.
 */
export async function applyStatusChange(
  ctx: ServiceContext,
  report: StatusReport,
  origin: ReportOrigin,
): Promise<boolean> {
  if (!Types.ObjectId.isValid(report.notificationId)) {
    throw new PermanentError('notification_not_found', 'The reported notification id is not one of ours');
  }
  const _id = new Types.ObjectId(report.notificationId);
  let log = ctx.log.child({
    notificationId: report.notificationId,
    channel: report.channel,
    ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
  });

  for (let conflict = 0; conflict < MAX_CONFLICTS; conflict += 1) {
    const record = await ctx.models.notifications
      .findById(_id, {
        userId: 1,
        senderId: 1,
        correlationId: 1,
        deliveries: 1,
        category: 1,
        tenant: 1,
        broadcastId: 1,
        workflowRunId: 1,
      })
      .lean<Projected>();
    if (!record) throw new PermanentError('notification_not_found', 'No such notification');
    if (!origin.correlationId) log = log.child({ correlationId: record.correlationId });
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
        'history.messageId': origin.messageId,
      });
      if (alreadyApplied) {
        // The first try may have stopped before recording its outgoing webhook events: again (idempotent).
        await recordStatusEvents(ctx, record, report, origin);
        await publishStatusChange(ctx, record, report, origin);
      } else
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
      source: origin.source,
      messageId: origin.messageId,
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
        'history.messageId': { $ne: origin.messageId },
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
      await recordStatusEvents(ctx, record, report, origin);
      await publishStatusChange(ctx, record, report, origin);
      return true;
    }
    // Someone changed the channel between our read and write: decide again on the fresh state.
  }
  throw new Error('delivery status kept conflicting; retrying the message later');
}

/**
 * The outgoing webhook events of this change, recorded before the report is
 * acknowledged: a crash before this line leaves the report unacknowledged,
 * and its redelivery (finding its history entry) records them again under
 * the same ids.
 */
async function recordStatusEvents(
  ctx: ServiceContext,
  record: Projected,
  report: StatusReport,
  origin: ReportOrigin,
) {
  const type = webhookTypeOfStatus(report.status);
  if (!type) return;
  await ctx.eventWebhooks.record(
    {
      notificationId: report.notificationId,
      senderId: record.senderId,
      ...(record.category ? { category: record.category } : {}),
      ...(record.tenant ? { tenant: record.tenant } : {}),
    },
    [
      {
        type,
        key: `status:${origin.messageId}`,
        at: report.at,
        data: {
          channel: report.channel,
          status: report.status,
          attempt: report.attempt,
          ...(report.provider ? { provider: report.provider } : {}),
          ...(report.error ? { errorCode: report.error.code, reason: report.error.message } : {}),
        },
      },
    ],
  );
}

async function publishStatusChange(
  ctx: ServiceContext,
  record: Projected,
  report: StatusReport,
  origin: ReportOrigin,
) {
  const detail = {
    attempt: report.attempt,
    ...(report.nextAttemptAt ? { nextAttemptAt: report.nextAttemptAt } : {}),
    ...(report.error ? { errorCode: report.error.code, reason: report.error.message } : {}),
  };
  // A broadcast's thousands of notifications would flood its sender's sockets: the admin's
  // stats and the broadcast's own progress speak for it instead.
  if (!record.broadcastId) {
    await publishSenderStatus(ctx, {
      senderId: record.senderId,
      notificationId: report.notificationId,
      correlationId: origin.correlationId ?? record.correlationId,
      channel: report.channel,
      status: report.status,
      at: report.at,
      detail,
    });
  }
  // Only an inbox owner has a live view to update; an address-only notification has none.
  if (!record.userId) return;
  await publishNotificationUpdated(ctx, {
    userId: record.userId,
    notificationId: report.notificationId,
    correlationId: origin.correlationId ?? record.correlationId,
    workflowRunId: record.workflowRunId,
    change: {
      kind: 'status',
      channel: report.channel,
      status: report.status,
      at: report.at,
      detail,
    },
  });
}

import { ConflictError, NotFoundError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type NotificationRecord } from '../data/notification-model';
import { type ServiceContext } from '../../kernel/context';
import { channelStatuses } from './summaries';

/*
 * Cancelling what has not gone out. A notification's jobs are published
 * when it is due: at once for an immediate one (then the worker has them
 * and nothing can call them back), at `sendAt` for a scheduled one. So what
 * can be cancelled is a scheduled notification before its time: each
 * channel still `queued` ends `cancelled`, `cancelledAt` is set, and the
 * outbox owes nothing for it any more (`owedMessages`), so the relay
 * publishes nothing when its time comes.
 */

/** The answer to a cancel: where each channel ended. */
export interface CancelOutcome {
  id: string;
  cancelled: boolean;
  cancelledAt?: string;
  statuses: ReturnType<typeof channelStatuses>;
}

const ATTEMPTS = 5;

/** A scheduled notification whose time has not come: its queued channels have not been published. */
function isPending(record: NotificationRecord, now: Date): boolean {
  return record.sendAt !== undefined && record.sendAt !== null && record.sendAt > now;
}

/**
 * Ends every still-queued channel of `record` as `cancelled` and stamps
 * `cancelledAt`, in one conditional write (each of those channels must still
 * be queued, and the notification still pending); re-read and retried when
 * a status report changed it in between. Returns the record as it ends, or
 * null when it is not pending any more.
 */
export async function cancelPending(
  ctx: ServiceContext,
  id: NotificationRecord['_id'],
  source: 'sender' | 'deleted' | 'transaction',
): Promise<NotificationRecord | null> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const now = ctx.now();
    const record = await ctx.models.notifications.findById(id, { history: 0 }).lean<NotificationRecord>();
    if (!record) return null;
    if (record.cancelledAt) return record;
    if (!isPending(record, now)) return null;
    const queued = record.channels.filter((channel) => record.deliveries[channel]?.status === 'queued');
    const set: Record<string, unknown> = { cancelledAt: now, updatedAt: now };
    const filter: Record<string, unknown> = { _id: record._id, cancelledAt: { $exists: false } };
    for (const channel of queued) {
      filter[`deliveries.${channel}.status`] = 'queued';
      set[`deliveries.${channel}.status`] = 'cancelled';
      set[`deliveries.${channel}.reason`] = source;
      set[`deliveries.${channel}.updatedAt`] = now;
    }
    const history = queued.map((channel: Channel) => ({
      channel,
      status: 'cancelled',
      at: now,
      source: 'cancel',
      reason: source,
    }));
    const result = await ctx.models.notifications.collection.updateOne(filter, {
      $set: set,
      ...(history.length > 0 ? { $push: { history: { $each: history } } } : {}),
    } as object);
    if (result.modifiedCount === 1) {
      ctx.log.info(
        { notificationId: record._id, channels: queued, source },
        'pending notification cancelled',
      );
      return ctx.models.notifications.findById(id, { history: 0 }).lean<NotificationRecord>();
    }
  }
  throw new ConflictError(
    'cancel_contended',
    'The notification changed while it was being cancelled; try again',
  );
}

function outcome(record: NotificationRecord): CancelOutcome {
  return {
    id: record._id.toHexString(),
    cancelled: Boolean(record.cancelledAt),
    ...(record.cancelledAt ? { cancelledAt: record.cancelledAt.toISOString() } : {}),
    statuses: channelStatuses(record),
  };
}

/** Who may cancel: the sender (the user, or the API key that sent it) or an admin; anyone else sees 404. */
function senderFilter(sender: AuthenticatedUser): Record<string, unknown> {
  return sender.role === 'admin' ? {} : { senderId: sender.id };
}

/**
 * `POST /notifications/{id}/cancel`. A notification already gone out is
 * 409 `not_pending` (its jobs are the worker's now); a cancelled one
 * answers as it stands.
 */
export async function cancelNotification(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  id: string,
): Promise<CancelOutcome> {
  const found = await ctx.models.notifications
    .findOne({ _id: id, ...senderFilter(sender) }, { _id: 1 })
    .lean<Pick<NotificationRecord, '_id'>>();
  if (!found) throw new NotFoundError('notification_not_found', 'No such notification');
  const record = await cancelPending(ctx, found._id, 'sender');
  if (!record) {
    throw new ConflictError('not_pending', 'The notification has gone out already; only pending ones cancel');
  }
  return outcome(record);
}

/** The most notifications one transaction cancel looks at (a batch send names at most 1,000). */
const TRANSACTION_LIMIT = 5_000;

/**
 * `POST /notifications/cancel` with a `transactionId`: every pending
 * notification the caller sent under it (an admin: anyone's) ends
 * cancelled. Returns the ids it cancelled; those already gone out stay as
 * they are.
 */
export async function cancelTransaction(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  transactionId: string,
): Promise<{ cancelled: string[] }> {
  const candidates = await ctx.models.notifications
    .find({ ...senderFilter(sender), transactionId, sendAt: { $gt: ctx.now() } }, { _id: 1 })
    .limit(TRANSACTION_LIMIT)
    .lean<Pick<NotificationRecord, '_id'>[]>();
  const cancelled: string[] = [];
  for (const candidate of candidates) {
    const record = await cancelPending(ctx, candidate._id, 'transaction');
    if (record?.cancelledAt) cancelled.push(record._id.toHexString());
  }
  return { cancelled };
}

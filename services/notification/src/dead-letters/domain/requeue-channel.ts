import { Types } from 'mongoose';
import { decideTransition, type Channel } from '@herald/contracts';
import { ConflictError, type Logger } from '@herald/runtime';
import {
  type ChannelDelivery,
  type HistoryEntry,
  type NotificationModel,
} from '../../notifications/data/notification-model';
import { type DeadLetterRecord } from '../data/model';

export interface ChannelRequeued {
  applied: boolean;
  notificationId: string;
  channel: Channel;
  userId: string | null;
  correlationId: string;
  /** the channel before the replay, to put back if the publish fails */
  previous?: ChannelDelivery;
  at: Date;
}

interface RequeueDeps {
  notifications: NotificationModel;
  log: Logger;
  now: () => Date;
}

type Projected = {
  _id: Types.ObjectId;
  userId: string | null;
  correlationId: string;
  deliveries: Partial<Record<Channel, ChannelDelivery>>;
};

/** Concurrent status reports on one notification retry the compare-and-set this many times. */
const MAX_CONFLICTS = 10;

/**
 * Moves the dead letter's notification channel back to `queued`, through the
 * contracts' `decideTransition(…, { replay: true })`: only a `failed` or
 * `dead` channel may be replayed. A channel still in progress (its `failed`
 * report not applied yet) or already sent is a 409: replaying it could send
 * twice or leave the status stuck. A dead letter that names no notification
 * of ours (another message type, a deleted record) is replayed without a
 * status change. Repeating this after a crash finds its own history entry.
 */
export async function requeueChannel(
  deps: RequeueDeps,
  deadLetter: DeadLetterRecord,
  replay: { marker: string; adminId: string },
): Promise<ChannelRequeued | undefined> {
  const { notificationId } = deadLetter;
  const channel = deadLetter.channel as Channel | null;
  if (!notificationId || !channel || !Types.ObjectId.isValid(notificationId)) return undefined;
  const _id = new Types.ObjectId(notificationId);
  const path = `deliveries.${channel}`;

  for (let conflict = 0; conflict < MAX_CONFLICTS; conflict += 1) {
    const record = await deps.notifications
      .findById(_id, { userId: 1, correlationId: 1, deliveries: 1 })
      .lean<Projected>();
    const delivery = record?.deliveries[channel];
    if (!record || !delivery) {
      deps.log.warn(
        { notificationId, channel },
        'replaying a dead letter whose notification channel is gone',
      );
      return undefined;
    }
    const at = deps.now();
    const base = { notificationId, channel, userId: record.userId, correlationId: record.correlationId, at };
    if (
      delivery.status === 'queued' &&
      (await deps.notifications.exists({ _id, 'history.messageId': replay.marker }))
    ) {
      return { ...base, applied: false };
    }
    const decision = decideTransition(delivery.status, 'queued', { replay: true });
    if (!decision.apply) {
      throw new ConflictError(
        'status_not_replayable',
        `The notification's ${channel} status is ${delivery.status}; only failed or dead deliveries are replayed`,
      );
    }
    const next: ChannelDelivery = {
      status: 'queued',
      updatedAt: at,
      ...(delivery.jobId ? { jobId: delivery.jobId } : {}),
    };
    const entry: HistoryEntry = {
      channel,
      status: 'queued',
      at,
      source: `admin:${replay.adminId}`,
      messageId: replay.marker,
      reason: 'replayed from the dead-letter queue',
    };
    const result = await deps.notifications.updateOne(
      { _id, [`${path}.status`]: delivery.status, [`${path}.updatedAt`]: delivery.updatedAt },
      { $set: { [path]: next }, $push: { history: entry } },
    );
    if (result.matchedCount === 1) return { ...base, applied: true, previous: delivery };
  }
  throw new ConflictError('status_changing', 'The notification is changing right now; try again');
}

/** Undoes `requeueChannel` when the publish failed, unless the channel has moved on since. */
export async function restoreChannel(
  deps: RequeueDeps,
  requeued: ChannelRequeued,
  marker: string,
): Promise<void> {
  if (!requeued.previous) return;
  const path = `deliveries.${requeued.channel}`;
  await deps.notifications.updateOne(
    {
      _id: new Types.ObjectId(requeued.notificationId),
      [`${path}.status`]: 'queued',
      'history.messageId': marker,
    },
    { $set: { [path]: requeued.previous }, $pull: { history: { messageId: marker } } },
  );
}

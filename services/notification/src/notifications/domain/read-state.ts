import { type Types } from 'mongoose';
import { NotFoundError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type NotificationRecord } from '../data/notification-model';
import { type InboxItem, type ReadStateChange } from './types';
import { type ServiceContext } from '../../kernel/context';
import { cancelPending } from './cancel';
import { publishUpdatedLater, type NotificationUpdate } from './events';
import { inboxFilter, unreadCount } from './unread-count';
import { inboxItem } from './views';
import { subjectOf } from '../../event-webhooks/domain/notification-events';

/** Read state belongs to the recipient: only they change it, so anyone else gets 404. */
const ownFilter = (user: AuthenticatedUser, id: string) => ({ _id: id, userId: user.id, deletedAt: null });

function notFound(): NotFoundError {
  return new NotFoundError('notification_not_found', 'No such notification');
}

export async function updateNotification(
  ctx: ServiceContext,
  user: AuthenticatedUser,
  id: string,
  input: ReadStateChange,
  correlationId: string,
): Promise<InboxItem> {
  const now = ctx.now();
  const set: Record<string, unknown> = {};
  const unset: Record<string, ''> = {};
  if (input.read !== undefined) {
    set.read = input.read;
    if (input.read) set.readAt = now;
    else unset.readAt = '';
  }
  if (input.archived !== undefined) {
    set.archived = input.archived;
    if (input.archived) set.archivedAt = now;
    else unset.archivedAt = '';
  }
  const before = await ctx.models.notifications
    .findOneAndUpdate(
      ownFilter(user, id),
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      {
        returnDocument: 'before',
        projection: { history: 0, outbox: 0 },
      },
    )
    .lean<NotificationRecord>();
  if (!before) throw notFound();

  const after: NotificationRecord = { ...before, ...set } as NotificationRecord;
  if (input.read === false) delete after.readAt;
  const at = now.toISOString();
  const notificationId = before._id.toHexString();
  const updates: NotificationUpdate[] = [];
  // Only real changes are events: marking a read notification read again tells nobody anything.
  if (input.read !== undefined && input.read !== before.read) {
    updates.push({
      userId: user.id,
      notificationId,
      change: { kind: 'read', read: input.read, at },
      correlationId,
      workflowRunId: before.workflowRunId,
    });
  }
  if (input.archived !== undefined && input.archived !== before.archived) {
    updates.push({
      userId: user.id,
      notificationId,
      change: { kind: 'archived', archived: input.archived, at },
      correlationId,
    });
  }
  if (input.read === true && !before.read) await recordRead(ctx, [before], now);
  publishUpdatedLater(ctx, updates);
  return inboxItem(after);
}

export async function deleteNotification(
  ctx: ServiceContext,
  user: AuthenticatedUser,
  id: string,
  correlationId: string,
): Promise<void> {
  const now = ctx.now();
  const record = await ctx.models.notifications
    .findOneAndUpdate(ownFilter(user, id), { $set: { deletedAt: now } }, { projection: { _id: 1 } })
    .lean<{ _id: Types.ObjectId }>();
  if (!record) throw notFound();
  // A scheduled notification deleted before its time: nothing of it goes out (issue 18).
  await cancelPending(ctx, record._id, 'deleted');
  publishUpdatedLater(ctx, [
    {
      userId: user.id,
      notificationId: id,
      change: { kind: 'deleted', at: now.toISOString() },
      correlationId,
    },
  ]);
}

const READ_ALL_BATCH = 500;

type ReadFacts = Pick<NotificationRecord, '_id' | 'senderId' | 'category' | 'tenant' | 'workflowRunId'>;

/**
 * `notification.read` for each notification just marked read, recorded
 * before the caller is answered. Once per notification: marking it unread
 * and read again tells the application nothing new.
 */
async function recordRead(ctx: ServiceContext, records: readonly ReadFacts[], at: Date): Promise<void> {
  await ctx.eventWebhooks.recordAll(
    records.map((record) => ({
      subject: subjectOf(record),
      events: [{ type: 'notification.read', key: 'read', at: at.toISOString(), data: { channel: 'in_app' } }],
    })),
  );
}

/**
 * Marks every unread inbox notification read, in batches streamed from a
 * cursor (an inbox can be large). One `notification.updated` per changed
 * notification, each with the final unread count.
 */
export async function markAllRead(
  ctx: ServiceContext,
  user: AuthenticatedUser,
  correlationId: string,
): Promise<{ updated: number; unreadCount: number }> {
  const now = ctx.now();
  const unread = { ...inboxFilter(user.id, now), read: false };
  const changed: string[] = [];
  let batch: Types.ObjectId[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await ctx.models.notifications.updateMany(
      { _id: { $in: batch }, read: false },
      { $set: { read: true, readAt: now } },
    );
    changed.push(...batch.map((id) => id.toHexString()));
    batch = [];
  };
  const facts: ReadFacts[] = [];
  const runOf = new Map<string, string>();
  const cursor = ctx.models.notifications
    .find(unread, { _id: 1, senderId: 1, category: 1, tenant: 1, workflowRunId: 1 })
    .lean<ReadFacts[]>()
    .cursor();
  for await (const doc of cursor) {
    const read = doc as unknown as ReadFacts;
    batch.push(read._id);
    facts.push(read);
    if (read.workflowRunId) runOf.set(read._id.toHexString(), read.workflowRunId);
    if (batch.length >= READ_ALL_BATCH) {
      await flush();
      await recordRead(ctx, facts.splice(0), now);
    }
  }
  await flush();
  await recordRead(ctx, facts, now);
  const count = await unreadCount(ctx, user.id);
  const at = now.toISOString();
  publishUpdatedLater(
    ctx,
    changed.map((notificationId) => ({
      userId: user.id,
      notificationId,
      change: { kind: 'read' as const, read: true, at },
      correlationId,
      workflowRunId: runOf.get(notificationId),
    })),
    count,
  );
  return { updated: changed.length, unreadCount: count };
}

import { type QueryFilter } from 'mongoose';
import { NotFoundError } from '@herald/runtime';
import { hasScope, Scopes, type AuthenticatedUser } from '@herald/runtime/http';
import { decodeTimeIdCursor, encodeTimeIdCursor, olderThan } from '@herald/runtime/mongo';
import { DeliveryChannels, PageLimits, type CursorPage } from '@herald/contracts';
import { type NotificationRecord } from '../data/notification-model';
import { type InboxItem, type InboxQuery } from './types';
import { type ServiceContext } from '../../kernel/context';
import { inboxFilter } from './unread-count';
import { inboxItem } from './views';

export async function listInbox(
  ctx: ServiceContext,
  user: AuthenticatedUser,
  query: InboxQuery,
): Promise<CursorPage<InboxItem>> {
  const limit = query.limit ?? PageLimits.default;
  const filter: QueryFilter<NotificationRecord> = { ...inboxFilter(user.id, ctx.now()) };
  if (query.read !== undefined) filter.read = query.read;
  if (query.archived !== undefined) filter.archived = query.archived;
  if (query.channel) filter.channels = query.channel;
  if (query.category) filter.category = query.category;
  if (query.since) {
    // Exclusive: a client polls with the newest createdAt it has and must not get that one again.
    // On deliverAt, which is createdAt unless scheduled: a scheduled notification enters the
    // inbox when it comes due, so one created before `since` but due after it is new to the
    // client too (its catch-up would miss it on createdAt).
    filter.deliverAt = { $lte: ctx.now(), $gt: new Date(query.since) };
  }
  const and: QueryFilter<NotificationRecord>[] = [];
  if (query.status) {
    and.push({
      $or: ['in_app', ...DeliveryChannels].map((channel) => ({
        [`deliveries.${channel}.status`]: query.status,
      })),
    });
  }
  if (query.cursor) {
    and.push(olderThan('createdAt', decodeTimeIdCursor(query.cursor)));
  }
  if (and.length) filter.$and = and;

  const records = await ctx.models.notifications
    .find(filter, { history: 0, outbox: 0 })
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit + 1)
    .lean<NotificationRecord[]>();
  const page = records.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(inboxItem),
    nextCursor:
      records.length > limit && last ? encodeTimeIdCursor({ at: last.createdAt, id: last._id }) : null,
  };
}

/**
 * A user or subscriber sees their own notifications (deleted ones are gone);
 * an admin sees any, for support, and so does an application's key with
 * `notifications:read` (the status of what it sent).
 */
export async function findVisible(
  ctx: ServiceContext,
  user: AuthenticatedUser,
  id: string,
): Promise<NotificationRecord> {
  const readsAny =
    user.role === 'admin' || (user.kind === 'apikey' && hasScope(user, Scopes.notificationsRead));
  const filter: QueryFilter<NotificationRecord> = readsAny
    ? { _id: id }
    : { _id: id, userId: user.id, deletedAt: null };
  const record = await ctx.models.notifications.findOne(filter, { outbox: 0 }).lean<NotificationRecord>();
  // Someone else's notification is "not found": its existence is not the caller's business.
  if (!record) throw new NotFoundError('notification_not_found', 'No such notification');
  return record;
}

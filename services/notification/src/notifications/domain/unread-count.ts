import { type ServiceContext } from '../../kernel/context';

/** The inbox filter every listing and count shares: not deleted, and already due. */
export function inboxFilter(userId: string, now: Date) {
  return { userId, deletedAt: null, deliverAt: { $lte: now } };
}

/** Unread and not archived: what the badge shows. */
export async function unreadCount(ctx: ServiceContext, userId: string): Promise<number> {
  return ctx.models.notifications.countDocuments({
    ...inboxFilter(userId, ctx.now()),
    read: false,
    archived: false,
  });
}

import { ServerEvents } from '@herald/contracts';
import { AppError, type Logger } from '@herald/runtime';
import { type CatchUpEvent } from '../sockets/protocol';
import { type RealtimeSocket } from '../sockets/socket-types';
import { type CatchUpItem, type NotificationFeed } from './notification-feed';

export interface ReplayOptions {
  feed: NotificationFeed;
  maxItems: number;
  log: Logger;
  /** the notification API says the account is disabled: the socket must go */
  onAccountDisabled(socket: RealtimeSocket): void;
}

/**
 * Replays what a reconnecting client missed: every notification created
 * after its `since`, oldest first, as `notification:new` with
 * `catchUp: true`, then one `catch-up` event with the outcome.
 *
 * The socket has already joined its room, so an event published while the
 * replay runs is pushed live too: the client may see a notification twice
 * (it dedupes by id) but never misses one in the gap.
 *
 * Why not Socket.IO's connection-state recovery: it buffers missed packets
 * in the memory of the instance that served the socket, for one short
 * window. A restart, a deploy or a client reconnecting through the load
 * balancer to another instance loses that buffer, which is exactly when
 * catch-up matters. The notification store holds the truth, so replay
 * reads it.
 */
export async function replayMissed(socket: RealtimeSocket, options: ReplayOptions): Promise<void> {
  const { since, token, user } = socket.data;
  if (!since) return;
  const log = options.log.child({ userId: user.id, socketId: socket.id });
  let outcome: CatchUpEvent;
  let missed: CatchUpItem[] = [];
  try {
    const read = await readMissed(options.feed, token, since, options.maxItems);
    missed = read.items;
    outcome = { status: read.truncated ? 'truncated' : 'complete', count: missed.length };
  } catch (error) {
    if (error instanceof AppError && error.code === 'account_disabled') {
      if (socket.connected) options.onAccountDisabled(socket);
      return;
    }
    log.warn({ err: error }, 'catch-up failed; the client is told to reload its inbox');
    outcome = { status: 'failed', count: 0 };
  }
  if (!socket.connected) return;
  // The API pages newest first; the client gets them in the order they happened.
  for (const notification of missed.reverse()) {
    socket.emit(ServerEvents.notificationNew, {
      notification,
      occurredAt: notification.createdAt,
      catchUp: true,
    });
  }
  socket.emit(ServerEvents.catchUp, outcome);
  log.debug({ ...outcome, since }, 'catch-up sent');
}

async function readMissed(
  feed: NotificationFeed,
  token: string,
  since: string,
  maxItems: number,
): Promise<{ items: CatchUpItem[]; truncated: boolean }> {
  const items: CatchUpItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await feed.pageSince(token, since, cursor);
    items.push(...page.items);
    if (items.length > maxItems) return { items: items.slice(0, maxItems), truncated: true };
    if (!page.nextCursor || page.items.length === 0) return { items, truncated: false };
    if (items.length === maxItems) return { items, truncated: true };
    cursor = page.nextCursor;
  }
}

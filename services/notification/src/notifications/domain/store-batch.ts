import { isDuplicateKeyError, writeErrorsOf } from '@herald/runtime/mongo';
import { type NotificationRecord } from '../data/notification-model';
import { type ServiceContext } from '../../kernel/context';
import { acceptedEvents, subjectOf } from '../../event-webhooks/domain/notification-events';
import { mutedChannels, quietHold } from '../../preferences/domain/preferences';
import { fillLinks } from '../../unsubscribe/domain/links';
import { suppressedChannels } from './suppression';
import {
  buildNotification,
  keepAheadOfRelay,
  withoutMuted,
  type NotificationDraft,
} from './create-notification';

/** A fan-out's draft: its dedupe key says who it is for in which fan-out, so a batch redone stores nobody twice. */
export type FanOutDraft = NotificationDraft & { dedupeKey: string };

/**
 * Stores one batch of a fan-out (a broadcast's page of users, a topic send's
 * page of members) as `storeNotification` stores a single send: each
 * recipient's own unsubscribe links in templated content, suppressions (one
 * query for the batch), preferences and quiet hours due now, the documents
 * built whole and inserted through the driver in one unordered
 * `insertMany`, their `notification.created` (and in-app `delivered`)
 * events recorded for the outgoing webhooks, and each kept ahead of the
 * relay's watermark.
 *
 * A batch redone after a crash: the drafts stored before are duplicates
 * (their dedupe key), not stored again, and the relay owns their messages;
 * their events are recorded again (an event's id derives from its
 * notification and kind, so a second record adds nothing), as the crash may
 * have come before. Returns the records stored now; the caller publishes
 * their messages.
 */
export async function storeNotificationBatch(
  ctx: ServiceContext,
  batch: readonly FanOutDraft[],
): Promise<NotificationRecord[]> {
  if (batch.length === 0) return [];
  const drafts = await Promise.all(
    batch.map((draft) =>
      fillLinks(ctx, draft, { recipientId: draft.recipient.userId, category: draft.category }),
    ),
  );
  const now = ctx.now();
  const [suppressed, muted, held] = await Promise.all([
    suppressedChannels(ctx, drafts),
    Promise.all(drafts.map((draft) => mutedChannels(ctx, draft))),
    Promise.all(drafts.map((draft) => quietHold(ctx, draft, now))),
  ]);
  const stamped = ctx.now();
  // non-null lease owner: the caller publishes each at once (the relay covers it if that fails)
  const records = drafts.map((draft, index) =>
    buildNotification(
      ctx,
      draft,
      'fan-out',
      { suppressed: suppressed[index], muted: muted[index], held: withoutMuted(held[index], muted[index]!) },
      stamped,
    ),
  );
  // Through the driver, as a single send stores its notification: the documents are built whole,
  // and mongoose's casting and validation of hundreds of them was most of a fan-out's CPU.
  const failures = await writeErrorsOf(
    ctx.models.notifications.collection.insertMany(records, { ordered: false, ignoreUndefined: true }),
  );
  for (const failure of failures.values()) if (!isDuplicateKeyError(failure)) throw failure;
  const inserted = records.filter((_, index) => !failures.has(index));
  const storedBefore =
    failures.size > 0
      ? await ctx.models.notifications
          .find({
            dedupeKey: { $in: records.filter((_, index) => failures.has(index)).map((r) => r.dedupeKey) },
          })
          .lean<NotificationRecord[]>()
      : [];
  await ctx.eventWebhooks.recordAll(
    [...inserted, ...storedBefore].map((record) => ({
      subject: subjectOf(record),
      events: acceptedEvents(record),
    })),
  );
  // As for a single send: a batch acknowledged late must not land behind the relay's watermark.
  await Promise.all(inserted.map((record) => keepAheadOfRelay(ctx, record)));
  return inserted;
}

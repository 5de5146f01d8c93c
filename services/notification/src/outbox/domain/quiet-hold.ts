import { type Types } from 'mongoose';
import { type ChannelDelivery, type NotificationRecord } from '../../notifications/data/notification-model';
import { type ServiceContext } from '../../kernel/context';

/*
 * Quiet hours in the outbox. A notification accepted inside its recipient's
 * quiet window is stored as usual, its email and SMS `queued` with
 * `heldUntil` (the window's end): the accepting request (or the relay)
 * publishes what is not held (the in-app event, another channel) and,
 * instead of logging the notification as confirmed, re-dates its
 * `outboxDueAt` to the hold's end and marks the in-app event published
 * (`createdPublishedAt`). The relay looks at it again at that time, from the
 * database: a restart in between loses nothing, and the held jobs leave once,
 * with their stable job ids.
 */

/** A job held by quiet hours until a time still to come. */
export function isHeld(delivery: Pick<ChannelDelivery, 'heldUntil'> | undefined, now: Date): boolean {
  return delivery?.heldUntil !== undefined && delivery.heldUntil !== null && delivery.heldUntil > now;
}

/** The earliest end of a hold still to come among a notification's queued jobs, if any. */
export function nextHoldEnd(record: Pick<NotificationRecord, 'deliveries'>, now: Date): Date | undefined {
  let next: Date | undefined;
  for (const delivery of Object.values(record.deliveries)) {
    if (delivery?.status !== 'queued' || !isHeld(delivery, now)) continue;
    if (!next || delivery.heldUntil! < next) next = delivery.heldUntil!;
  }
  return next;
}

/**
 * After everything a notification owed now was confirmed: the ones with a
 * hold still to come are due again at its end (`$max`: never earlier than a
 * re-date already made) with their in-app event marked published; the
 * others are returned, for the confirmation log.
 */
export async function deferHeld<R extends NotificationRecord>(
  ctx: ServiceContext,
  records: R[],
  now: Date,
): Promise<R[]> {
  const settled: R[] = [];
  await Promise.all(
    records.map(async (record) => {
      const end = nextHoldEnd(record, now);
      if (!end) {
        settled.push(record);
        return;
      }
      await ctx.models.notifications.collection.updateOne({ _id: record._id as Types.ObjectId }, {
        $max: { outboxDueAt: end },
        ...(record.userId ? { $min: { createdPublishedAt: now } } : {}),
      } as object);
    }),
  );
  return settled;
}

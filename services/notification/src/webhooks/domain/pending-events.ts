import { type PendingEventRecord } from '../data/webhook-models';
import { type ServiceContext } from '../../kernel/context';
import { applyProviderEvent, type ProviderEvent } from './provider-events';
import { normaliseProviderMessageId } from '../../notifications/data/provider-message-id';

/** How long an event for an unknown send waits for its `sent` report. */
const PENDING_FOR_MS = 24 * 3_600_000;

export async function keepPending(ctx: ServiceContext, event: ProviderEvent): Promise<void> {
  const now = ctx.now();
  await ctx.models.pendingEvents.updateOne(
    { _id: `${event.provider}:${event.eventId}` },
    {
      $setOnInsert: {
        providerMessageId: normaliseProviderMessageId(event.providerMessageId),
        event: { ...event, at: event.at.toISOString() },
        at: event.at,
        expiresAt: new Date(now.getTime() + PENDING_FOR_MS),
      },
    },
    { upsert: true },
  );
}

/**
 * Called once the worker reports a send with its provider id: applies the
 * events that arrived before it, oldest first, then forgets them. Expired
 * ones are skipped explicitly (the TTL index only cleans up).
 */
export async function applyPendingEvents(ctx: ServiceContext, providerMessageId: string): Promise<void> {
  const pending = await ctx.models.pendingEvents
    .find({ providerMessageId: normaliseProviderMessageId(providerMessageId), expiresAt: { $gt: ctx.now() } })
    .sort({ at: 1 })
    .lean<PendingEventRecord[]>();
  for (const entry of pending) {
    const stored = entry.event as unknown as ProviderEvent & { at: string };
    const outcome = await applyProviderEvent(ctx, { ...stored, at: new Date(stored.at) });
    if (outcome !== 'unknown_message') await ctx.models.pendingEvents.deleteOne({ _id: entry._id });
  }
}

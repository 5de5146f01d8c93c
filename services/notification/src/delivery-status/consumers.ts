import { type DeliveryStatusMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyPendingEvents } from '../webhooks/domain/pending-events';
import { applyDeliveryStatus } from './domain/apply-status';

/** The worker's `delivery.status` report, validated by the queue's consumer. */
export async function onDeliveryStatus(ctx: ServiceContext, message: DeliveryStatusMessage): Promise<void> {
  await applyDeliveryStatus(ctx, message);
  // Provider events that beat this report were kept for it.
  if (message.payload.providerMessageId && message.payload.status === 'sent')
    await applyPendingEvents(ctx, message.payload.providerMessageId);
}

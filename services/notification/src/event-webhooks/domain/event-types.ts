import { type DeliveryStatus, type EventWebhookType, type ProviderEngagementKind } from '@herald/contracts';

/**
 * Which delivery statuses are an outgoing event. The steps on the way
 * (`queued`, `sending`, `retrying`) are not: an application wants outcomes.
 * `dead` (retries exhausted) is a failure to the application, as `failed` is.
 */
const eventOfStatus: Partial<Record<DeliveryStatus, EventWebhookType>> = {
  sent: 'notification.sent',
  delivered: 'notification.delivered',
  failed: 'notification.failed',
  dead: 'notification.failed',
  bounced: 'notification.bounced',
};

export function webhookTypeOfStatus(status: DeliveryStatus): EventWebhookType | undefined {
  return eventOfStatus[status];
}

const eventOfEngagement: Record<ProviderEngagementKind, EventWebhookType> = {
  opened: 'notification.opened',
  clicked: 'notification.clicked',
  complained: 'notification.complained',
  unsubscribed: 'notification.unsubscribed',
};

export function webhookTypeOfEngagement(kind: ProviderEngagementKind): EventWebhookType {
  return eventOfEngagement[kind];
}

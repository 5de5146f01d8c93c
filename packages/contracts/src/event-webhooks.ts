import { type Static } from '@sinclair/typebox';
import { LiteralUnion } from './literal-union';

/*
 * Outgoing webhooks (issue 25): the event types an application's endpoint can
 * subscribe to. Public contract, like socket event names: add, never rename.
 * Each is signed and delivered following the Standard Webhooks specification
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the body is
 * `{ type, timestamp, data }`.
 */
export const EventWebhookTypes = [
  'notification.created',
  'notification.sent',
  'notification.delivered',
  'notification.failed',
  'notification.bounced',
  'notification.read',
  'notification.opened',
  'notification.clicked',
  'notification.complained',
  'notification.unsubscribed',
  'workflow.run.started',
  'workflow.run.completed',
  'workflow.run.cancelled',
  'workflow.run.failed',
] as const;
export const EventWebhookType = LiteralUnion(EventWebhookTypes);
export type EventWebhookType = Static<typeof EventWebhookType>;

/** The Standard Webhooks headers, lowercase as HTTP/2 and Node give them. */
export const EventWebhookHeaders = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** The prefix of an endpoint's signing secret; the rest is the key, base64. */
export const EVENT_WEBHOOK_SECRET_PREFIX = 'whsec_';

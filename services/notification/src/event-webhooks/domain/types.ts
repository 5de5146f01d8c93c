import { type EventWebhookType } from '@herald/contracts';

/** A new endpoint, as the caller describes it. */
export interface EndpointInput {
  url: string;
  eventTypes: EventWebhookType[];
  description?: string;
  /** only notifications of these categories; empty or absent: all */
  categories?: string[];
  /** only notifications of these tenants; empty or absent: all */
  tenants?: string[];
}

export type EndpointChange = Partial<EndpointInput>;

export interface EndpointView {
  id: string;
  url: string;
  description?: string;
  eventTypes: string[];
  categories?: string[];
  tenants?: string[];
  disabled: boolean;
  disabledAt?: string;
  disabledReason?: string;
  failingSince?: string;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

export interface AttemptView {
  at: string;
  statusCode?: number;
  latencyMs: number;
  responseExcerpt?: string;
  error?: string;
}

export interface DeliveryView {
  /** the `webhook-id` the receiver dedupes on */
  id: string;
  eventType: string;
  notificationId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt?: string;
  deliveredAt?: string;
  createdAt: string;
  /** the body as sent */
  payload: unknown;
  log: AttemptView[];
}

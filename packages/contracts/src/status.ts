import { type Static } from '@sinclair/typebox';
import { LiteralUnion } from './literal-union';

/**
 * Where one channel of one notification stands. Progress runs
 * `queued → sent → delivered`; `retrying` alternates with `sending` while
 * attempts repeat. The worker reports `sending` only when it says something
 * `sent` will not: a retry's attempt, or a move to the next provider of the
 * channel's chain (with why the last one failed); a first attempt's first
 * call goes from `queued` straight to its outcome. The rest are outcomes
 * that end the delivery:
 * - `failed`: a permanent error before the provider accepted the message
 * - `bounced`: the provider accepted it, then reported it undeliverable
 * - `suppressed`: the address is on the suppression list; the provider was never called
 * - `skipped`: the recipient muted the channel (its `reason` says `preference`); never queued
 * - `dead`: retries exhausted; the job sits in the dead-letter queue
 * - `cancelled`: cancelled (or deleted) by its sender before it went out; never published
 */
export const DeliveryStatuses = [
  'queued',
  'sending',
  'retrying',
  'sent',
  'delivered',
  'failed',
  'bounced',
  'suppressed',
  'skipped',
  'dead',
  'cancelled',
] as const;
export const DeliveryStatus = LiteralUnion(DeliveryStatuses);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const TerminalStatuses = [
  'failed',
  'bounced',
  'suppressed',
  'skipped',
  'dead',
  'cancelled',
] as const satisfies readonly DeliveryStatus[];
export type TerminalStatus = (typeof TerminalStatuses)[number];
export type ProgressStatus = Exclude<DeliveryStatus, TerminalStatus>;

export function isTerminal(status: DeliveryStatus): status is TerminalStatus {
  return (TerminalStatuses as readonly DeliveryStatus[]).includes(status);
}

/**
 * Engagement is tracked apart from the delivery status, as timestamps that
 * can overlap (an email can be opened and clicked and later complained
 * about). `seen`, `read`, `archived` come from the in-app inbox; `opened`,
 * `clicked`, `complained`, `unsubscribed` from email and SMS providers.
 */
export const EngagementKinds = [
  'seen',
  'read',
  'archived',
  'opened',
  'clicked',
  'complained',
  'unsubscribed',
] as const;
export const EngagementKind = LiteralUnion(EngagementKinds);
export type EngagementKind = Static<typeof EngagementKind>;

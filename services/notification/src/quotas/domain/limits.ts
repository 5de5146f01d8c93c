import { type Channel } from '@herald/contracts';

/** Sends allowed per window; 0 means unlimited. */
export interface ChannelQuota {
  perMinute: number;
  perDay: number;
}

export type SendQuotaLimits = Record<Channel, ChannelQuota>;

/**
 * For a self-hosted platform: far above what a person sends by hand, low
 * enough that a stolen account or a runaway script is stopped within a
 * minute. SMS are the tightest (each costs money, and SMS pumping is the
 * classic abuse), email next (the platform's sender reputation).
 */
export const DEFAULT_SEND_QUOTAS: SendQuotaLimits = {
  in_app: { perMinute: 120, perDay: 5_000 },
  email: { perMinute: 30, perDay: 500 },
  sms: { perMinute: 5, perDay: 50 },
  // a push costs nothing to send, but each one interrupts someone on every device they subscribed
  push: { perMinute: 60, perDay: 1_000 },
};

export type QuotaWindow = 'minute' | 'day';

export const WINDOW_MS: Record<QuotaWindow, number> = { minute: 60_000, day: 86_400_000 };

/** Fixed windows aligned on the epoch (days are UTC days). */
export function windowStart(window: QuotaWindow, at: Date): Date {
  const length = WINDOW_MS[window];
  return new Date(Math.floor(at.getTime() / length) * length);
}

export function limitOf(quota: ChannelQuota, window: QuotaWindow): number {
  return window === 'minute' ? quota.perMinute : quota.perDay;
}

import { Counter, Histogram, type HttpApp } from '@herald/runtime/http';

export type DeliveryOutcome = 'sent' | 'already_sent' | 'retry' | 'failed' | 'dead';

/** What an operator watches: outcomes per channel and provider, and how long providers take to answer. */
export interface DeliveryMetrics {
  outcome(channel: string, provider: string, outcome: DeliveryOutcome): void;
  sendDuration(channel: string, provider: string, result: 'accepted' | 'error', seconds: number): void;
}

export function createDeliveryMetrics(registry: HttpApp['metrics']): DeliveryMetrics {
  const outcomes = new Counter({
    name: 'herald_delivery_outcomes_total',
    help: 'Delivery job outcomes by channel, provider and outcome',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'herald_provider_send_duration_seconds',
    help: 'Time from calling the provider to its answer',
    labelNames: ['channel', 'provider', 'result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    outcome: (channel, provider, outcome) => outcomes.inc({ channel, provider, outcome }),
    sendDuration: (channel, provider, result, seconds) =>
      duration.observe({ channel, provider, result }, seconds),
  };
}

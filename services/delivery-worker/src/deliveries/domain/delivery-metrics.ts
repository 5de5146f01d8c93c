import { Counter, Gauge, Histogram, type HttpApp } from '@herald/runtime/http';
import { type CircuitState } from '../../failover/circuit-breaker';

export type DeliveryOutcome = 'sent' | 'already_sent' | 'reconciled' | 'retry' | 'failed' | 'dead';
export type ReconciliationResult = 'accepted' | 'not_found' | 'unknowable' | 'error';

/**
 * What an operator watches: outcomes per channel and provider, how long providers take to answer,
 * and per provider its calls, failures, circuit state and reconciliations.
 */
export interface DeliveryMetrics {
  outcome(channel: string, provider: string, outcome: DeliveryOutcome): void;
  sendDuration(channel: string, provider: string, result: 'accepted' | 'error', seconds: number): void;
  providerAttempt(channel: string, provider: string): void;
  providerFailure(channel: string, provider: string, code: string): void;
  /** a send skipped this provider because its circuit is open */
  circuitRejected(channel: string, provider: string): void;
  reconciliation(channel: string, provider: string, result: ReconciliationResult): void;
}

const CIRCUIT_VALUES: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export function createDeliveryMetrics(
  registry: HttpApp['metrics'],
  circuits: () => { channel: string; provider: string; state: CircuitState }[] = () => [],
): DeliveryMetrics {
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
  const attempts = new Counter({
    name: 'herald_provider_attempts_total',
    help: 'Sends handed to each provider',
    labelNames: ['channel', 'provider'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'herald_provider_failures_total',
    help: 'Failed sends per provider, by Herald error code',
    labelNames: ['channel', 'provider', 'code'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'herald_provider_circuit_rejections_total',
    help: 'Sends that skipped a provider because its circuit was open',
    labelNames: ['channel', 'provider'] as const,
    registers: [registry],
  });
  const reconciliations = new Counter({
    name: 'herald_provider_reconciliations_total',
    help: 'Unclear sends looked up at the provider before any resend, by what it said',
    labelNames: ['channel', 'provider', 'result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'herald_provider_circuit_state',
    help: "Each provider's circuit: 0 closed, 1 half-open, 2 open",
    labelNames: ['channel', 'provider'] as const,
    registers: [registry],
    collect() {
      for (const { channel, provider, state } of circuits())
        this.set({ channel, provider }, CIRCUIT_VALUES[state]);
    },
  });
  return {
    outcome: (channel, provider, outcome) => outcomes.inc({ channel, provider, outcome }),
    sendDuration: (channel, provider, result, seconds) =>
      duration.observe({ channel, provider, result }, seconds),
    providerAttempt: (channel, provider) => attempts.inc({ channel, provider }),
    providerFailure: (channel, provider, code) => failures.inc({ channel, provider, code }),
    circuitRejected: (channel, provider) => rejected.inc({ channel, provider }),
    reconciliation: (channel, provider, result) => reconciliations.inc({ channel, provider, result }),
  };
}

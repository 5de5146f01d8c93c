import { type DeliveryChannel } from '@herald/contracts';
import { ProviderPermanentError, ProviderTransientError } from '../deliveries/domain/delivery-errors';
import { type Provider } from '../providers/provider';
import { CircuitBreaker, type BreakerSettings, type CircuitState } from './circuit-breaker';

export interface ChainLink<J> {
  provider: Provider<J>;
  breaker: CircuitBreaker;
}

/**
 * A channel's providers in order of preference, each behind its own circuit
 * breaker. The first is the one used while it is healthy; a send moves down
 * the chain only when a provider definitely did not take it (see
 * `definitelyRefused`) or its circuit is open.
 */
export class ProviderChain<J> {
  readonly links: readonly ChainLink<J>[];

  constructor(
    readonly channel: DeliveryChannel,
    providers: Provider<J>[],
    breakers: BreakerSettings,
    clock: { now(): number },
    onCircuitChange: (provider: string, state: CircuitState) => void = () => undefined,
  ) {
    if (providers.length === 0) throw new Error(`the ${channel} chain has no provider`);
    this.links = providers.map((provider) => ({
      provider,
      breaker: new CircuitBreaker(breakers, clock, (state) => onCircuitChange(provider.name, state)),
    }));
  }

  get primary(): Provider<J> {
    return this.links[0]!.provider;
  }

  get names(): string[] {
    return this.links.map((link) => link.provider.name);
  }

  find(name: string): Provider<J> | undefined {
    return this.links.find((link) => link.provider.name === name)?.provider;
  }

  /** The provider a send would try first right now: the first whose circuit lets calls through. */
  firstAvailable(): Provider<J> {
    return (this.links.find((link) => link.breaker.permitsCalls) ?? this.links[0]!).provider;
  }
}

/** Codes of failures that say the provider, not the message, is the problem: they count against its circuit. */
const PROVIDER_FAILURES = new Set([
  'provider_unavailable',
  'provider_rate_limited',
  'provider_timeout',
  'provider_unreachable',
  'provider_error',
  'provider_auth_failed',
]);

export function countsAgainstProvider(error: unknown): boolean {
  return (
    (error instanceof ProviderTransientError || error instanceof ProviderPermanentError) &&
    PROVIDER_FAILURES.has(error.code)
  );
}

/** Socket errors raised before a single byte of the request could reach the provider. */
const NEVER_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/**
 * Whether the provider certainly did not take the message, so another
 * provider may send it without risking two copies: it answered with a
 * refusal (an HTTP or SMTP error status: 429, 5xx, 401/403, 4xx/5xx SMTP
 * replies), or the connection was never made. A timeout, a reset or a
 * dropped connection after the request went out is not certain: the
 * provider may have taken it, and only asking it (reconciliation) can tell.
 */
export function definitelyRefused(error: unknown): boolean {
  if (!(error instanceof ProviderTransientError || error instanceof ProviderPermanentError)) return false;
  if (error.providerCode !== undefined) return true;
  if (error.code !== 'provider_unreachable') return false;
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  return NEVER_CONNECTED.test(`${String(cause?.code ?? '')} ${String(cause?.message ?? '')}`);
}

/** A failure after which the send may move to the next provider of the chain. */
export function movesToNextProvider(error: unknown): boolean {
  if (!definitelyRefused(error)) return false;
  if (error instanceof ProviderTransientError) return true;
  // our credentials refused by this provider: the next one may well take the message
  return error instanceof ProviderPermanentError && error.code === 'provider_auth_failed';
}

import { Counter, Gauge, type HttpApp } from '@herald/runtime/http';
import { type AuthModels } from './models';

export type LoginOutcome = 'success' | 'invalid_credentials' | 'throttled' | 'disabled';

/** What an operator watches on auth: credential stuffing, stolen refresh tokens, a stuck outbox. */
export function authMetrics(registry: HttpApp['metrics'], models: AuthModels, now: () => Date) {
  return {
    logins: new Counter({
      name: 'auth_logins_total',
      help: 'Login attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refreshReuse: new Counter({
      name: 'auth_refresh_token_reuse_total',
      help: 'Refresh tokens presented a second time (a session revoked as stolen)',
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'auth_outbox_pending_users',
      help: 'Users holding events not yet confirmed by the broker',
      registers: [registry],
      async collect() {
        this.set(await models.users.countDocuments({ 'outbox.createdAt': { $lte: now() } }));
      },
    }),
    applicationOutboxPending: new Gauge({
      name: 'auth_outbox_pending_documents',
      help: 'API keys, subscribers and topics holding events not yet confirmed by the broker',
      labelNames: ['collection'] as const,
      registers: [registry],
      async collect() {
        const pending = { 'outbox.createdAt': { $lte: now() } };
        this.set({ collection: 'api_keys' }, await models.apiKeys.countDocuments(pending));
        this.set({ collection: 'subscribers' }, await models.subscribers.countDocuments(pending));
        this.set({ collection: 'topics' }, await models.topics.countDocuments(pending));
      },
    }),
  };
}
export type AuthMetrics = ReturnType<typeof authMetrics>;

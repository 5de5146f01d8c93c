import { Counter, Gauge, type HttpApp } from '@herald/runtime/http';
import { type UserModel } from './accounts/data/user-model';

export type LoginOutcome = 'success' | 'invalid_credentials' | 'throttled' | 'disabled';

/** What an operator watches on auth: credential stuffing, stolen refresh tokens, a stuck outbox. */
export function authMetrics(registry: HttpApp['metrics'], users: UserModel, now: () => Date) {
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
        this.set(await users.countDocuments({ 'outbox.createdAt': { $lte: now() } }));
      },
    }),
  };
}
export type AuthMetrics = ReturnType<typeof authMetrics>;

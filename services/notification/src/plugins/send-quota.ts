import { type Channel } from '@herald/contracts';
import { Counter, type AuthenticatedUser, type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import {
  QuotaExceededError,
  userSender,
  type ChannelSends,
  type SenderKey,
  type QuotaCharge,
  type SendQuotas,
} from '../quotas/domain/send-quota';

/** What the preHandler reads of a request (a FastifyRequest after `authenticate` and validation). */
interface SendingRequest {
  user: AuthenticatedUser;
  body: unknown;
}

/** What each request in flight was charged; weak, so a finished request's charge is forgotten. */
const charges = new WeakMap<object, QuotaCharge>();

/** Whose quota a request counts against: `user:<id>`, or `apikey:<keyId>` for an application's key. */
export function senderKeyOf(principal: AuthenticatedUser): SenderKey {
  return principal.kind === 'apikey' ? `apikey:${principal.id}` : userSender(principal.id);
}

/**
 * A preHandler for a route that sends: charges the caller's send quota with
 * what `sendsOf` says the (validated) body would send, or refuses the
 * request whole with 429 `quota_exceeded` before anything is stored.
 * Admins are exempt: admin users and keys with the `admin` scope.
 */
export function chargeSendQuota<Body>(
  ctx: ServiceContext,
  sendsOf: (body: Body) => ChannelSends[] | Promise<ChannelSends[]>,
) {
  return async (request: SendingRequest): Promise<void> => {
    if (request.user.role === 'admin') return;
    const sends = await sendsOf(request.body as Body);
    const charge = await ctx.sendQuotas.charge(senderKeyOf(request.user), sends);
    charges.set(request, charge);
  };
}

/** Each requested channel once per recipient (one, or a batch): `POST /notifications` to people. */
export const recipientSends = (body: { channels: Channel[]; recipients?: unknown[] }): ChannelSends[] =>
  body.channels.map((channel) => ({ channel, count: body.recipients?.length ?? 1 }));

/**
 * The app-wide half of the send quotas; register before the routes that
 * send. Counts refusals by channel on `/metrics`, and gives back the charge
 * of a request answered 4xx after it was charged (a bad recipient, an
 * idempotency conflict: nothing stored), so what counts is what was
 * accepted. A 5xx keeps its charge: its notification may have been stored.
 */
export function registerSendQuota(app: HttpApp, quotas: SendQuotas): void {
  const refusals = new Counter({
    name: 'notification_quota_refusals_total',
    help: "Requests refused because the sender's send quota was used up, by channel",
    labelNames: ['channel'] as const,
    registers: [app.metrics],
  });

  app.addHook('onError', async (_request, _reply, error) => {
    if (!(error instanceof QuotaExceededError)) return;
    for (const channel of error.channels) refusals.inc({ channel });
  });

  app.addHook('onResponse', async (request, reply) => {
    const charge = charges.get(request);
    if (!charge) return;
    charges.delete(request);
    if (reply.statusCode < 400 || reply.statusCode >= 500) return;
    await quotas.refund(charge).catch((error: unknown) => {
      request.log.warn({ err: error }, 'could not give back a refused request’s send quota');
    });
  });
}

import { Type, type Static } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { ValidationError } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { type NotificationModel } from '../notifications/data/notification-model';

const StatsQuery = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  channel: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('sms')], { default: 'email' })),
});

const Counts = Type.Object({
  total: Type.Integer(),
  sent: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  opened: Type.Integer(),
  clicked: Type.Integer(),
  complained: Type.Integer(),
});
const Stats = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  channel: Type.String(),
  counts: Counts,
  /** shares of `sent` (delivered, failed) and of `delivered` (opened, clicked, complained); 0 when the base is 0 */
  rates: Type.Object({
    delivered: Type.Number(),
    failed: Type.Number(),
    opened: Type.Number(),
    clicked: Type.Number(),
    complained: Type.Number(),
  }),
});
type Counts = Static<typeof Counts>;

/** Reached the provider: accepted, then perhaps delivered or bounced. */
const SENT = ['sent', 'delivered', 'bounced'];
/** Never reached the recipient: refused by us or the provider, retries exhausted, or bounced. */
const FAILED = ['failed', 'dead', 'bounced'];

const countIf = (condition: unknown) => ({ $sum: { $cond: [condition, 1, 0] } });
const ratio = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;

/** One aggregation over the `{ createdAt, channels }` index: notifications created in the period. */
export async function engagementStats(
  notifications: NotificationModel,
  from: Date,
  to: Date,
  channel: 'email' | 'sms',
): Promise<Counts> {
  const status = `$deliveries.${channel}.status`;
  const [row] = await notifications.aggregate<Counts>([
    { $match: { createdAt: { $gte: from, $lt: to }, channels: channel } },
    {
      $group: {
        _id: null,
        total: { $sum: 1 },
        sent: countIf({ $in: [status, SENT] }),
        delivered: countIf({ $eq: [status, 'delivered'] }),
        failed: countIf({ $in: [status, FAILED] }),
        opened: countIf({ $gt: ['$engagement.openedAt', null] }),
        clicked: countIf({ $gt: ['$engagement.clickedAt', null] }),
        complained: countIf({ $gt: ['$engagement.complainedAt', null] }),
      },
    },
  ]);
  const { _id, ...counts } = (row ?? {
    total: 0,
    sent: 0,
    delivered: 0,
    failed: 0,
    opened: 0,
    clicked: 0,
    complained: 0,
  }) as Counts & { _id?: unknown };
  return counts;
}

export function registerStatsRoute(app: HttpApp, notifications: NotificationModel): void {
  app.get(
    '/',
    {
      schema: {
        tags: ['stats'],
        security: AUTHENTICATED_SECURITY,
        summary: 'Delivery and engagement counts and rates for notifications created in a period (admin)',
        querystring: StatsQuery,
        response: { 200: Stats, 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails },
      },
    },
    async (request) => {
      const from = new Date(request.query.from);
      const to = new Date(request.query.to);
      if (!(from < to)) throw new ValidationError('`from` must be before `to`', [], 'invalid_period');
      const channel = request.query.channel ?? 'email';
      const counts = await engagementStats(notifications, from, to, channel);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        channel,
        counts,
        rates: {
          delivered: ratio(counts.delivered, counts.sent),
          failed: ratio(counts.failed, counts.sent),
          opened: ratio(counts.opened, counts.delivered),
          clicked: ratio(counts.clicked, counts.delivered),
          complained: ratio(counts.complained, counts.delivered),
        },
      };
    },
  );
}

import { Type } from '@sinclair/typebox';
import { CursorPage, CursorQuery, PageLimits, ProblemDetails } from '@herald/contracts';
import { NotFoundError } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { decodeCursor, encodeCursor } from '@herald/runtime/mongo';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { suppressionKey, type SuppressionModel, type SuppressionRecord } from './data/webhook-models';

const Suppression = Type.Object({
  address: Type.String(),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  reason: Type.Union([Type.Literal('bounced'), Type.Literal('complained'), Type.Literal('unsubscribed')]),
  provider: Type.String(),
  notificationId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});
const SuppressionPage = CursorPage(Suppression);
const AddressParams = Type.Object({ address: Type.String({ minLength: 1, maxLength: 320 }) });

const tags = ['suppressions'];
const security = AUTHENTICATED_SECURITY;
const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails };

// The cursor is the last address of the page: the list walks the `_id` index in order.

/** The admin's view of the suppression list; registered behind `authenticate` + `requireRole('admin')`. */
export function registerSuppressionRoutes(app: HttpApp, suppressions: SuppressionModel): void {
  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Suppressed addresses and numbers, by address (admin)',
        querystring: CursorQuery,
        response: { 200: SuppressionPage, ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? PageLimits.default;
      const filter = request.query.cursor
        ? { _id: { $gt: decodeCursor(request.query.cursor, ['string'])[0] } }
        : {};
      const records = await suppressions
        .find(filter)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .lean<SuppressionRecord[]>();
      const page = records.slice(0, limit);
      return {
        items: page.map(({ _id, createdAt, ...rest }) => ({
          address: _id,
          ...rest,
          createdAt: createdAt.toISOString(),
        })),
        nextCursor: records.length > limit ? encodeCursor([page.at(-1)!._id]) : null,
      };
    },
  );

  app.delete(
    '/:address',
    {
      schema: {
        tags,
        security,
        summary: 'Allow sending to an address again (admin)',
        params: AddressParams,
        response: { 204: Type.Null(), ...errors, 404: ProblemDetails },
      },
    },
    async (request, reply) => {
      const removed = await suppressions.deleteOne({ _id: suppressionKey(request.params.address) });
      if (removed.deletedCount === 0)
        throw new NotFoundError('suppression_not_found', 'The address is not suppressed');
      return reply.status(204).send(null);
    },
  );
}

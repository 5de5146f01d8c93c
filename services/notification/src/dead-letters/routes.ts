import { ProblemDetails } from '@herald/contracts';
import { type HttpApp } from '@herald/runtime/http';
import {
  deadLetterDetail,
  deadLetterSummary,
  discardDeadLetter,
  findDeadLetter,
  listDeadLetters,
} from './domain/queries';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { replayDeadLetter, type ReplayDeps } from './domain/replay';
import {
  DeadLetterDetail,
  DeadLetterIdParams,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterSummary,
} from './schemas';

const tags = ['dead letters'];
const security = AUTHENTICATED_SECURITY;
const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails };

/** The admin's view of the DLQ; registered behind `authenticate` + `requireRole('admin')`. */
export function registerDeadLetterRoutes(app: HttpApp, deps: ReplayDeps): void {
  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Dead letters, newest first (admin)',
        querystring: DeadLetterListQuery,
        response: { 200: DeadLetterPage, ...errors },
      },
    },
    async (request) => listDeadLetters(deps.deadLetters, request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'One dead letter with its headers and exact body (admin)',
        params: DeadLetterIdParams,
        response: { 200: DeadLetterDetail, ...errors },
      },
    },
    async (request) => deadLetterDetail(await findDeadLetter(deps.deadLetters, request.params.id)),
  );

  app.post(
    '/:id/replay',
    {
      schema: {
        tags,
        security,
        summary: 'Send it back to where it failed, attempts reset (admin)',
        params: DeadLetterIdParams,
        response: {
          200: DeadLetterSummary,
          ...errors,
          409: ProblemDetails,
          422: ProblemDetails,
          503: ProblemDetails,
        },
      },
    },
    async (request) => deadLetterSummary(await replayDeadLetter(deps, request.params.id, request.user.id)),
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Discard it for good (admin)',
        params: DeadLetterIdParams,
        response: { 204: { type: 'null', description: 'discarded' }, ...errors, 409: ProblemDetails },
      },
    },
    async (request, reply) => {
      const discarded = await discardDeadLetter(deps.deadLetters, request.params.id);
      request.log.warn(
        {
          deadLetterId: request.params.id,
          adminId: request.user.id,
          messageId: discarded.messageId,
          reason: discarded.reason,
          notificationId: discarded.notificationId,
          channel: discarded.channel,
        },
        'dead letter discarded',
      );
      return reply.code(204).send();
    },
  );
}

import { ForbiddenError } from '@herald/runtime';
import {
  requireScope,
  Scopes,
  type AuthenticatedUser,
  type HttpApp,
  type ScopeRoutes,
} from '@herald/runtime/http';
import { ProblemDetails } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { topicSendStats } from './domain/stats';
import { cancelTopicSend, listTopicSends } from './domain/topic-send';
import {
  TopicSendAccepted,
  TopicSendList,
  TopicSendListQuery,
  TopicSendParams,
  TopicSendStats,
} from './schemas';

const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails };

/** Campaign numbers are the senders': applications (keys) and admins, never a person's own token. */
async function applicationsOrAdmins(request: { user: AuthenticatedUser }): Promise<void> {
  if (request.user.kind === 'apikey' || request.user.role === 'admin') return;
  throw new ForbiddenError(
    'principal_not_allowed',
    'Sends to topics are read by applications (API keys) and admins',
  );
}

/**
 * `GET /api/v1/topic-sends`: the sends the caller sees, newest first;
 * `GET /api/v1/topic-sends/:id`: progress and campaign stats;
 * `POST /api/v1/topic-sends/:id/cancel`: a scheduled send, before it starts.
 * Mount inside `authenticated` (users, keys).
 */
export const topicSendRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app: HttpApp) => {
    app.get(
      '/',
      {
        preHandler: [applicationsOrAdmins, requireScope(Scopes.notificationsSend, Scopes.notificationsRead)],
        schema: {
          tags: ['topics'],
          security: AUTHENTICATED_SECURITY,
          summary:
            "Sends to topics, newest first, a page at a time: an admin's and a key with notifications:read see every send, a key that only sends sees its own",
          querystring: TopicSendListQuery,
          response: { 200: TopicSendList, ...errors },
        },
      },
      async (request) => listTopicSends(ctx, request.user, request.query),
    );

    app.get(
      '/:id',
      {
        preHandler: [applicationsOrAdmins, requireScope(Scopes.notificationsSend, Scopes.notificationsRead)],
        schema: {
          tags: ['topics'],
          security: AUTHENTICATED_SECURITY,
          summary:
            "A send to a topic: its fan-out's progress and its numbers per channel (recipients, sent, delivered, bounced, opened, clicked, unsubscribed, complained) with rates",
          params: TopicSendParams,
          response: { 200: TopicSendStats, ...errors },
        },
      },
      async (request) => topicSendStats(ctx, request.user, request.params.id),
    );

    app.post(
      '/:id/cancel',
      {
        preHandler: [applicationsOrAdmins, requireScope(Scopes.notificationsSend)],
        schema: {
          tags: ['topics'],
          security: AUTHENTICATED_SECURITY,
          summary:
            'Cancel a scheduled send to a topic before it starts (its sender or an admin; 409 once it has started)',
          params: TopicSendParams,
          response: { 200: TopicSendAccepted, ...errors, 409: ProblemDetails },
        },
      },
      async (request) => cancelTopicSend(ctx, request.user, request.params.id),
    );
  };

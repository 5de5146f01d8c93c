import { ForbiddenError } from '@herald/runtime';
import { Scopes, requireScope, type AuthenticatedUser, type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { issueInboxToken } from './domain/inbox-tokens';
import { leaveAllTopics } from '../topics/domain/members';
import { deleteSubscriber, getSubscriber, listSubscribers, upsertSubscriber } from './domain/subscribers';
import {
  InboxTokenView,
  SubscriberBody,
  SubscriberList,
  SubscriberListQuery,
  SubscriberParams,
  SubscriberView,
} from './schemas';

/**
 * An application's subscribers; `buildApp` registers it inside
 * `authenticated(..., { principals: ['user', 'apikey'] })`: keys with the
 * scope, and admin users. Inbox tokens never get in.
 */
export function subscriberRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['subscribers'];
    const security: Record<string, string[]>[] = [{ apiKeyAuth: [] }, { bearerAuth: [] }];
    const writer = requireScope(Scopes.subscribersWrite);

    app.put(
      '/:externalId',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: SubscriberParams,
          body: SubscriberBody,
          response: { 200: SubscriberView, 201: SubscriberView, ...problems(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        const { subscriber, created } = await upsertSubscriber(
          ctx,
          request.params.externalId,
          request.body,
          String(request.id),
        );
        return reply.code(created ? 201 : 200).send(subscriber);
      },
    );

    app.get(
      '/',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          querystring: SubscriberListQuery,
          response: { 200: SubscriberList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => listSubscribers(ctx, request.query),
    );

    app.get(
      '/:externalId',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: SubscriberParams,
          response: { 200: SubscriberView, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => getSubscriber(ctx, request.params.externalId),
    );

    app.delete(
      '/:externalId',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: SubscriberParams,
          response: { 204: { type: 'null' }, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await deleteSubscriber(ctx, request.params.externalId, String(request.id));
        await leaveAllTopics(ctx, request.params.externalId, String(request.id));
        return reply.code(204).send();
      },
    );

    app.post(
      '/:externalId/inbox-token',
      {
        // Applications mint inbox tokens for their subscribers: an API key, or an admin. A person's
        // own `notifications:send` (every user has it, to notify themself) must not count here, or any
        // user could open any subscriber's inbox.
        preHandler: [applicationsOnly, requireScope(Scopes.subscribersWrite, Scopes.notificationsSend)],
        schema: {
          tags,
          security,
          params: SubscriberParams,
          response: { 200: InboxTokenView, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        const issued = await issueInboxToken(ctx, request.params.externalId);
        return reply.header('cache-control', 'no-store').send(issued);
      },
    );
  };
}

/** Only an application (API key) or an admin user; a person's or a subscriber's token is refused. */
async function applicationsOnly(request: { user: AuthenticatedUser }): Promise<void> {
  if (request.user.kind === 'apikey' || (request.user.kind === 'user' && request.user.role === 'admin'))
    return;
  throw new ForbiddenError(
    'principal_not_allowed',
    'Inbox tokens are minted by applications (an API key) or admins, not by a personal account',
  );
}

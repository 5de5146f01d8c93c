import { ProblemDetails } from '@herald/contracts';
import { requireScope, Scopes, type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { listSubscriptions, subscribe, unsubscribe, vapidPublicKey } from './domain/push-subscriptions';
import {
  CreatePushSubscriptionBody,
  DeletePushSubscriptionBody,
  PushSubscriptionList,
  PushSubscriptionView,
  VapidPublicKey,
} from './schemas';

const tags = ['push'];
const security = AUTHENTICATED_SECURITY;
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
  422: ProblemDetails,
  503: ProblemDetails,
};
/** The caller's own browsers: a user (access token) or a subscriber (inbox token); never an API key. */
const ownSubscriptions = requireScope(Scopes.inbox);

/** `/api/v1/push-subscriptions`: the caller's own browser subscriptions. */
export function pushSubscriptionRoutes(ctx: ServiceContext): ScopeRoutes {
  return (app: HttpApp) => {
    app.post(
      '/',
      {
        onRequest: ownSubscriptions,
        schema: {
          tags,
          security,
          summary: "Subscribe one of the caller's browsers to Web Push",
          body: CreatePushSubscriptionBody,
          response: { 201: PushSubscriptionView, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await subscribe(ctx, request.user.id, request.body)),
    );
    app.get(
      '/',
      {
        onRequest: ownSubscriptions,
        schema: {
          tags,
          security,
          summary: "The caller's push subscriptions",
          response: { 200: PushSubscriptionList, ...errors },
        },
      },
      async (request) => ({ subscriptions: await listSubscriptions(ctx, request.user.id) }),
    );
    app.delete(
      '/',
      {
        onRequest: ownSubscriptions,
        schema: {
          tags,
          security,
          summary: "Remove one of the caller's push subscriptions, by endpoint",
          body: DeletePushSubscriptionBody,
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        await unsubscribe(ctx, request.user.id, request.body.endpoint);
        return reply.code(204).send();
      },
    );
  };
}

/** `GET /api/v1/push-subscriptions/vapid-public-key`: public, so a page can subscribe before anything else. */
export function vapidKeyRoutes(ctx: ServiceContext) {
  return async (app: HttpApp) => {
    app.get(
      '/vapid-public-key',
      {
        schema: {
          tags,
          summary: 'The application server key browsers subscribe with',
          response: { 200: VapidPublicKey, 503: ProblemDetails },
        },
      },
      async () => vapidPublicKey(ctx),
    );
  };
}

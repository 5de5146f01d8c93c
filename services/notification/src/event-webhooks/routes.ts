import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { Scopes, type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
} from './domain/endpoints';
import {
  CreateEndpointBody,
  CreatedEndpoint,
  DeliveriesQuery,
  DeliveryList,
  DeliveryParams,
  DeliveryView,
  EndpointList,
  EndpointParams,
  EndpointView,
  ListQuery,
  RotatedSecret,
  UpdateEndpointBody,
} from './schemas';

const tags = ['event-webhooks'];
const security = AUTHENTICATED_SECURITY;
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
};

function registerRoutes(app: HttpApp, ctx: ServiceContext): void {
  // Admin users have every scope; keys need `webhooks:write` (or `admin`); normal users and inbox tokens 403.
  app.addHook('preHandler', app.requireScope(Scopes.webhooksWrite));

  app.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Register an endpoint; the answer holds its signing secret, shown once',
        body: CreateEndpointBody,
        response: { 201: CreatedEndpoint, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await createEndpoint(ctx, request.user, request.body)),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'The endpoints the caller may see',
        querystring: ListQuery,
        response: { 200: EndpointList, ...errors },
      },
    },
    async (request) => listEndpoints(ctx, request.user, request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'One endpoint',
        params: EndpointParams,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => getEndpoint(ctx, request.user, request.params.id),
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Change an endpoint (URL, event types, filters, description)',
        params: EndpointParams,
        body: UpdateEndpointBody,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => updateEndpoint(ctx, request.user, request.params.id, request.body),
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an endpoint and its pending deliveries',
        params: EndpointParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteEndpoint(ctx, request.user, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/:id/rotate-secret',
    {
      schema: {
        tags,
        security,
        summary: 'A new signing secret; the old one keeps signing during the grace period',
        params: EndpointParams,
        response: { 200: RotatedSecret, ...errors },
      },
    },
    async (request) => rotateSecret(ctx, request.user, request.params.id),
  );

  app.post(
    '/:id/disable',
    {
      schema: {
        tags,
        security,
        summary: 'Disable an endpoint by hand: no new events until it is enabled; what was pending waits',
        params: EndpointParams,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => disableEndpoint(ctx, request.user, request.params.id),
  );

  app.post(
    '/:id/enable',
    {
      schema: {
        tags,
        security,
        summary: 'Enable an endpoint disabled after sustained failure; its pending deliveries resume',
        params: EndpointParams,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => enableEndpoint(ctx, request.user, request.params.id),
  );

  app.get(
    '/:id/deliveries',
    {
      schema: {
        tags,
        security,
        summary:
          "An endpoint's deliveries with their attempts log (status, latency, answer excerpt), newest first",
        params: EndpointParams,
        querystring: DeliveriesQuery,
        response: { 200: DeliveryList, ...errors },
      },
    },
    async (request) =>
      listDeliveries(ctx, request.user, request.params.id, {
        limit: request.query.limit,
        ...(request.query.cursor ? { cursor: Number(request.query.cursor) } : {}),
        ...(request.query.status ? { status: request.query.status } : {}),
        ...(request.query.notificationId ? { notificationId: request.query.notificationId } : {}),
      }),
  );

  app.post(
    '/:id/deliveries/:deliveryId/replay',
    {
      schema: {
        tags,
        security,
        summary: 'Send a delivery again (same webhook-id), now',
        params: DeliveryParams,
        response: { 202: DeliveryView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await replayDelivery(ctx, request.user, request.params.id, request.params.deliveryId)),
  );
}

/** `/api/v1/event-webhooks`; mount with `authenticated(…, { principals: ['user', 'apikey'] })`. */
export const eventWebhookRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerRoutes(app, ctx);

import { ProblemDetails } from '@herald/contracts';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { getBroadcast, startBroadcast } from './domain/broadcast';
import { type ServiceContext } from '../kernel/context';
import { BroadcastBody, BroadcastProgress } from './schemas';
import { Type } from '@sinclair/typebox';

const tags = ['broadcasts'];
const security = AUTHENTICATED_SECURITY;
const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails };

/** Admin-only fan-out to every user or to a role; registered in the authenticated context. */
export function registerBroadcastRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.post(
    '/broadcast',
    {
      preHandler: app.requireRole('admin'),
      schema: {
        tags,
        security,
        summary: 'Notify every user, or every user of a role (202: the fan-out runs in the background)',
        body: BroadcastBody,
        response: { 202: BroadcastProgress, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await startBroadcast(ctx, request.user, request.body, String(request.id))),
  );

  app.get(
    '/broadcast/:id',
    {
      preHandler: app.requireRole('admin'),
      schema: {
        tags,
        security,
        summary: "A broadcast's progress",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: BroadcastProgress, ...errors },
      },
    },
    async (request) => getBroadcast(ctx, request.params.id),
  );
}

/** Mount inside `adminScope` (admin users and `admin` keys), below the notifications prefix. */
export const broadcastRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerBroadcastRoutes(app, ctx);

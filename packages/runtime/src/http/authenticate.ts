import fp from 'fastify-plugin';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { bearerToken, type AuthenticatedUser, type Role, type TokenVerifier } from '../jwt';

declare module 'fastify' {
  interface FastifyRequest {
    /** set by `authenticate`; routes in the authenticated context can rely on it */
    user: AuthenticatedUser;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireRole: (role: Role) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/**
 * Decorates the app with `authenticate` (verifies the bearer token and sets
 * `request.user`) and `requireRole`. Services add `authenticate` as an
 * `onRequest` hook on the encapsulated context of their authenticated routes,
 * never as a URL skip list.
 */
export const authenticationPlugin = fp<{ verifier: TokenVerifier }>(
  async (app, { verifier }) => {
    app.decorateRequest('user', null as unknown as AuthenticatedUser);

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthorizedError('missing_token', 'A bearer access token is required');
      request.user = await verifier.verify(token);
    });

    app.decorate('requireRole', (role: Role) => async (request: FastifyRequest) => {
      if (!request.user) throw new UnauthorizedError('missing_token', 'A bearer access token is required');
      if (request.user.role !== role) throw new ForbiddenError('forbidden', `This needs the ${role} role`);
    });
  },
  { name: 'herald-authentication' },
);

/** What goes inside a scope: register its routes on the encapsulated instance. */
export type ScopeRoutes = (scope: FastifyInstance) => Promise<void> | void;

/**
 * The one way a service opens an authenticated context: every route
 * registered inside `routes` runs `authenticate` first. Needs
 * `authenticationPlugin` registered on the app.
 *
 *   await app.register(authenticated(notificationRoutes(ctx)), { prefix: '/api/v1/notifications' });
 */
export function authenticated(routes: ScopeRoutes) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook('onRequest', scope.authenticate);
    await routes(scope);
  };
}

/** As `authenticated`, and the caller must be an admin. */
export function adminScope(routes: ScopeRoutes) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook('onRequest', scope.authenticate);
    scope.addHook('onRequest', scope.requireRole('admin'));
    await routes(scope);
  };
}

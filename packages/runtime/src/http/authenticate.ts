import fp from 'fastify-plugin';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../errors';
import {
  bearerToken,
  hasScope,
  type AuthenticatedUser,
  type PrincipalKind,
  type Role,
  type TokenVerifier,
} from '../jwt';
import {
  API_KEY_PREFIX,
  createKeyRateLimiter,
  refuseApiKeyInQuery,
  verifyApiKey,
  type ApiKeyDirectory,
} from './api-keys';

declare module 'fastify' {
  interface FastifyRequest {
    /** set by `authenticate`; routes in the authenticated context can rely on it */
    user: AuthenticatedUser;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireRole: (role: Role) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    requireScope: (...anyOf: string[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export interface AuthenticationOptions {
  /** access tokens and inbox tokens */
  verifier: TokenVerifier;
  /** API keys (`Bearer hk_…`); without it every key is 401 `invalid_api_key` */
  apiKeys?: ApiKeyDirectory;
  /** requests per second per key, in this process (token bucket); absent: no limit */
  apiKeyRateLimit?: { perSecond: number; burst?: number };
  /** key expiry, revocation and the rate limit are judged on this clock */
  now?: () => Date;
}

/**
 * Decorates the app with `authenticate` (verifies the bearer token or API key
 * and sets `request.user`), `requireRole` and `requireScope`. Services add
 * `authenticate` as an `onRequest` hook on the encapsulated context of their
 * authenticated routes, never as a URL skip list.
 */
export const authenticationPlugin = fp<AuthenticationOptions>(
  async (app, { verifier, apiKeys, apiKeyRateLimit, now = () => new Date() }) => {
    app.decorateRequest('user', null as unknown as AuthenticatedUser);
    const limiter = apiKeyRateLimit && createKeyRateLimiter({ ...apiKeyRateLimit, now });

    app.decorate('authenticate', async (request: FastifyRequest) => {
      refuseApiKeyInQuery(request.url);
      const token = bearerToken(request.headers.authorization);
      if (!token)
        throw new UnauthorizedError('missing_token', 'A bearer access token or API key is required');
      if (!token.startsWith(API_KEY_PREFIX)) {
        request.user = await verifier.verify(token);
        return;
      }
      const at = now();
      const principal = await verifyApiKey(apiKeys, token, at);
      limiter?.take(principal.id);
      request.user = principal;
      try {
        apiKeys?.recordUse?.(principal.id, at);
      } catch {
        // recording use is best effort; the request goes on
      }
    });

    app.decorate('requireRole', (role: Role) => async (request: FastifyRequest) => {
      if (!request.user) throw new UnauthorizedError('missing_token', 'A bearer access token is required');
      if (request.user.role !== role) throw new ForbiddenError('forbidden', `This needs the ${role} role`);
    });

    app.decorate('requireScope', requireScope);
  },
  { name: 'herald-authentication' },
);

/**
 * A hook that lets a request through when its principal has one of
 * `anyOf` (an admin user or an `admin` key has all); otherwise 403
 * `missing_scope` naming the scope. Use after `authenticate`.
 */
export function requireScope(...anyOf: string[]) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.user) throw new UnauthorizedError('missing_token', 'A bearer access token is required');
    if (anyOf.some((scope) => hasScope(request.user, scope))) return;
    throw new ForbiddenError('missing_scope', `This needs the ${anyOf.join(' or ')} scope`);
  };
}

/** 403 `principal_not_allowed` for a principal of a kind the scope does not admit. */
function admitKinds(kinds: readonly PrincipalKind[]) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!kinds.includes(request.user.kind)) {
      throw new ForbiddenError(
        'principal_not_allowed',
        request.user.kind === 'subscriber'
          ? 'An inbox token opens only the inbox'
          : `These routes do not accept ${request.user.kind === 'apikey' ? 'API keys' : 'this credential'}`,
      );
    }
  };
}

export interface ScopeOptions {
  /**
   * The principal kinds let in. `authenticated` admits only users unless
   * told otherwise, so no route accepts an API key or an inbox token before
   * its service decides it should; `adminScope` admits admin users and keys
   * with the `admin` scope.
   */
  principals?: readonly PrincipalKind[];
}

/** What goes inside a scope: register its routes on the encapsulated instance. */
export type ScopeRoutes = (scope: FastifyInstance) => Promise<void> | void;

/**
 * The one way a service opens an authenticated context: every route
 * registered inside `routes` runs `authenticate` first. Needs
 * `authenticationPlugin` registered on the app.
 *
 *   await app.register(authenticated(notificationRoutes(ctx)), { prefix: '/api/v1/notifications' });
 */
export function authenticated(routes: ScopeRoutes, options: ScopeOptions = {}) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook('onRequest', scope.authenticate);
    scope.addHook('onRequest', admitKinds(options.principals ?? ['user']));
    await routes(scope);
  };
}

/** As `authenticated`, and the caller must be an admin. */
export function adminScope(routes: ScopeRoutes, options: ScopeOptions = {}) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook('onRequest', scope.authenticate);
    scope.addHook('onRequest', admitKinds(options.principals ?? ['user', 'apikey']));
    scope.addHook('onRequest', scope.requireRole('admin'));
    await routes(scope);
  };
}

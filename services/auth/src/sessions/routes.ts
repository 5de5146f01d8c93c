import { authenticated, type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { logout, refresh, revokeSessions } from './domain/sessions';
import { RefreshBody, TokenPairView } from './schemas';

/** Refresh and logout prove themselves with the refresh token; logout-all needs the access token. */
export function sessionRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['auth'];

    app.post(
      '/refresh',
      { schema: { tags, body: RefreshBody, response: { 200: TokenPairView, ...problems(400, 401, 403) } } },
      async (request) => refresh(ctx, request.body.refreshToken),
    );

    app.post(
      '/logout',
      { schema: { tags, body: RefreshBody, response: { 204: { type: 'null' }, ...problems(400) } } },
      async (request, reply) => {
        await logout(ctx, request.body.refreshToken);
        return reply.code(204).send();
      },
    );

    await app.register(
      authenticated(async (signedIn: HttpApp) => {
        signedIn.post(
          '/logout-all',
          {
            schema: {
              tags: ['account'],
              security: [{ bearerAuth: [] }],
              response: { 204: { type: 'null' }, ...problems(401) },
            },
          },
          async (request, reply) => {
            await revokeSessions(ctx, request.user.id);
            return reply.code(204).send();
          },
        );
      }),
    );
  };
}

import { type HttpApp } from '@herald/runtime/http';
import { UserView } from '../accounts/schemas';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { changeUserAsAdmin, listUsers } from './domain/users-admin';
import { AdminUserChangeBody, UserIdParams, UserList, UserListQuery } from './schemas';

/** User administration; `buildApp` registers it inside `adminScope`. */
export function userAdminRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['users'];
    const security = [{ bearerAuth: [] }];

    app.get(
      '/',
      {
        schema: {
          tags,
          security,
          querystring: UserListQuery,
          response: { 200: UserList, ...problems(400, 401, 403) },
        },
      },
      async (request) => listUsers(ctx, request.query),
    );

    app.patch(
      '/:id',
      {
        schema: {
          tags,
          security,
          params: UserIdParams,
          body: AdminUserChangeBody,
          response: { 200: UserView, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        changeUserAsAdmin(ctx, request.user.id, request.params.id, request.body, String(request.id)),
    );
  };
}
